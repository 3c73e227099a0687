/** Runs the real `ferry dev` server as a child process (so tests can SIGKILL / SIGSTOP it). */
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { killGroup, spawnTracked } from './processes';

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Everything the server printed so far (stdout and stderr; the last MiB). */
  output(): string;
}

const BIN = path.join(__dirname, '..', '..', 'bin', 'ferry.js');

export async function startServerProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const child = spawnTracked(process.execPath, [BIN, 'dev', '--port', '0', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 20 s:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-(1 << 20));
      const m = /Ferry is running at (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-(1 << 20))));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before starting:\n${output}`));
    });
  });
  return {
    url,
    child,
    exited,
    output: () => output,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) killGroup(child, signal);
      await exited;
    },
  };
}
