/**
 * The systems under test, each in its own process so the server's CPU and memory are its own:
 * Ferry's embedded server (`node bin/ferry.js dev`) and the Redis Streams peer (Debian `redis-server`,
 * installed here if missing, `appendonly yes` + `appendfsync always` like Ferry's durable ack).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import { freePort } from './net';
import { sleep } from './util';

const REPO = path.resolve(__dirname, '..', '..');

/** Resident set size now and at its peak (VmHWM), in bytes, from /proc. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (!(await waitForExit(child, 15_000))) {
    child.kill('SIGKILL');
    await waitForExit(child, 5_000);
  }
}

export interface FerryProcess {
  url: string;
  pid: number;
  memory(): { rss: number; peak: number };
  stop(): Promise<void>;
}

/** Starts `ferry dev` on a free loopback port; `cpuProfDir` runs it under `--cpu-prof`. */
export async function startFerry(dataDir: string, options: { cpuProfDir?: string } = {}): Promise<FerryProcess> {
  const nodeArgs = options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : [];
  // The server runs from the bundle (dist/ferry.cjs) like `npm start`: build it from the current sources.
  execFileSync('npm', ['run', '-s', 'prepare'], { cwd: REPO, stdio: 'inherit' });
  const child = spawn(process.execPath, [...nodeArgs, path.join(REPO, 'bin', 'ferry.js'), 'dev', '--port', '0', '--data', dataDir], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 20_000) err = err.slice(-10_000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ferry did not start in 30 s:\n${out}\n${err}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Ferry is running at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ferry exited (${code}) before it started:\n${out}\n${err}`));
    });
  });
  child.stdout!.resume();
  return {
    url,
    pid: child.pid!,
    memory: () => memoryOf(child.pid!),
    stop: () => stopChild(child),
  };
}

/** Installs Debian's redis-server if it is missing (we run as root; `apt-get update` first when needed). */
export function ensureRedisInstalled(log: (s: string) => void): string {
  const found = () => {
    const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : undefined;
  };
  let bin = found();
  if (bin) return bin;
  log('redis-server is missing: installing it with apt-get (Debian package redis-server)…');
  // policy-rc.d is not touched: no init system runs services in this container, and we stop only our own.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-q', 'redis-server'], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  let r = install();
  if (r.status !== 0) {
    log('apt-get install failed; running apt-get update and trying again…');
    spawnSync('apt-get', ['update', '-q'], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
    r = install();
  }
  bin = found();
  if (!bin) throw new Error(`could not install redis-server:\n${r.stdout}\n${r.stderr}`);
  return bin;
}

export interface RedisProcess {
  port: number;
  pid: number;
  version: string;
  client(): Redis;
  memory(): { rss: number; peak: number };
  stop(): Promise<void>;
}

/** Starts redis-server on a free loopback port with its own data dir, AOF on and fsync on every write. */
export async function startRedis(bin: string, dataDir: string): Promise<RedisProcess> {
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--protected-mode',
    'yes',
    '--dir',
    dataDir,
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    '--save',
    '',
    '--daemonize',
    'no',
    '--logfile',
    '',
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-10_000)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-10_000)));
  const clients: Redis[] = [];
  const client = () => {
    const c = new Redis({ host: '127.0.0.1', port, lazyConnect: false, maxRetriesPerRequest: 1, enableAutoPipelining: false });
    clients.push(c);
    return c;
  };
  const probe = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined); // refused connections while it starts are expected
  let version: string;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`redis-server exited:\n${out}`);
    try {
      await probe.connect();
      await probe.ping();
      version = /redis_version:(\S+)/.exec(await probe.info('server'))?.[1] ?? '?';
      const cfg = await probe.config('GET', 'appendfsync');
      if ((cfg as string[])[1] !== 'always') throw new Error('appendfsync is not "always"');
      break;
    } catch (e) {
      if (i > 100) throw new Error(`redis-server did not answer: ${(e as Error).message}\n${out}`, { cause: e });
      probe.disconnect();
      await sleep(100);
    }
  }
  probe.disconnect();
  return {
    port,
    pid: child.pid!,
    version,
    client,
    memory: () => memoryOf(child.pid!),
    async stop() {
      for (const c of clients) c.disconnect();
      await stopChild(child);
    },
  };
}
