/**
 * The power-loss layer itself (powercut.c + LazyDisk), validated before anything relies on it: a writer that
 * acknowledges without fsync loses data under it; one that fsyncs file and directory loses nothing — for
 * Node's fs and for SQLite (better-sqlite3), the two ways Ferry writes.
 */
import { once } from 'node:events';
import { promises as fs, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { spawnTracked } from '../helpers/processes';
import { LazyDisk } from './lazy-disk';

/** Runs `script` (CommonJS) under the layer until it printed `n` acks, then kill -9s it; returns the acks. */
async function runThenKill(disk: LazyDisk, script: string, args: string[], n: number): Promise<string[]> {
  const child = spawnTracked(process.execPath, ['-e', script, ...args], {
    env: { ...process.env, ...disk.env() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acks: string[] = [];
  let buf = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        acks.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
        if (acks.length === n) resolve();
      }
    });
    child.once('exit', (code) =>
      acks.length >= n ? resolve() : reject(new Error(`writer exited (${code}) after ${acks.length} acks:\n${err}`)),
    );
  });
  child.kill('SIGKILL');
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  return acks;
}

const FS_WRITER = `
const fs = require('node:fs'), path = require('node:path');
const [dir, mode] = process.argv.slice(1);
const syncDir = () => { const d = fs.openSync(dir, 'r'); fs.fsyncSync(d); fs.closeSync(d); };
if (mode === 'overwrite') {
  fs.writeFileSync(path.join(dir, 'base'), 'v1'); const fd = fs.openSync(path.join(dir, 'base'), 'r+'); fs.fdatasyncSync(fd); fs.closeSync(fd); syncDir();
  fs.writeFileSync(path.join(dir, 'base'), 'v2 longer'); console.log('overwritten');
  setInterval(() => {}, 1000);
} else {
  let i = 0;
  const next = () => {
    const f = path.join(dir, 'f' + i);
    if (mode === 'nosync') fs.writeFileSync(f, 'record ' + i);
    else {
      const fd = fs.openSync(f, 'wx'); fs.writeSync(fd, 'record ' + i); fs.fdatasyncSync(fd); fs.closeSync(fd);
      if (mode === 'sync') syncDir();
    }
    console.log(String(i++)); setImmediate(next);
  };
  next();
}`;

const SQLITE_WRITER = `
const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
const [file, sync] = process.argv.slice(1);
const db = new Database(file); db.pragma('journal_mode = WAL'); db.pragma('synchronous = ' + sync);
db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)');
const ins = db.prepare('INSERT INTO t (id, v) VALUES (?, ?)');
let i = 0;
const next = () => { ins.run(i, 'value ' + i); console.log(String(i++)); setImmediate(next); };
next();`;

describe('LazyDisk (the power-loss layer)', () => {
  let root: string;
  let disk: LazyDisk;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(tmpdir(), 'ferry-lazy-'));
    disk = await LazyDisk.create(path.join(root, 'disk'));
  });
  afterEach(async () => {
    await disk.dispose();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('keeps every file whose bytes and directory entry were fsynced', async () => {
    const acks = await runThenKill(disk, FS_WRITER, [disk.root, 'sync'], 200);
    await disk.cut();
    for (const i of acks) expect(await fs.readFile(path.join(disk.root, `f${i}`), 'utf8')).toBe(`record ${i}`);
  });

  it('loses files a writer acknowledged without fsync (as a power cut does; kill -9 alone would keep them)', async () => {
    const acks = await runThenKill(disk, FS_WRITER, [disk.root, 'nosync'], 200);
    expect(existsSync(path.join(disk.root, 'f0'))).toBe(true); // still there after kill -9: the page cache outlives the process
    await disk.cut();
    expect(acks.length).toBeGreaterThanOrEqual(200);
    expect(await fs.readdir(disk.root)).toEqual([]);
  });

  it('loses the name of a file whose bytes were synced but whose directory was not', async () => {
    await runThenKill(disk, FS_WRITER, [disk.root, 'nodirsync'], 50);
    await disk.cut();
    expect(await fs.readdir(disk.root)).toEqual([]);
  });

  it('brings back the last synced bytes of a file overwritten without fsync', async () => {
    await runThenKill(disk, FS_WRITER, [disk.root, 'overwrite'], 1);
    expect(await fs.readFile(path.join(disk.root, 'base'), 'utf8')).toBe('v2 longer');
    await disk.cut();
    expect(await fs.readFile(path.join(disk.root, 'base'), 'utf8')).toBe('v1');
  });

  it('keeps every SQLite commit with synchronous=FULL, and loses them with synchronous=OFF', async () => {
    const Database = (await import('better-sqlite3')).default;
    const file = path.join(disk.root, 'db.sqlite');
    const acked = await runThenKill(disk, SQLITE_WRITER, [file, 'FULL'], 300);
    await disk.cut();
    const db = new Database(file);
    const ids = new Set(
      db
        .prepare('SELECT id FROM t')
        .all()
        .map((r) => (r as { id: number }).id),
    );
    db.close();
    for (const i of acked) expect(ids.has(Number(i))).toBe(true);

    const lost = path.join(disk.root, 'lost.sqlite');
    const ackedOff = await runThenKill(disk, SQLITE_WRITER, [lost, 'OFF'], 300);
    await disk.cut();
    const db2 = new Database(lost);
    db2.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)');
    const kept = (db2.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
    db2.close();
    expect(kept).toBeLessThan(ackedOff.length);
  });
});
