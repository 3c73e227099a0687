/**
 * Every process a test starts goes through here, so none outlives its test file: each child runs in its own
 * process group (`detached`), is remembered, and its whole group is killed when the file ends — passed,
 * failed or timed out — or when the jest process exits. `test/helpers/process-guard.ts` (jest
 * `setupFilesAfterEnv`) does the killing and fails the file loudly, naming the command, if anything it
 * started was still running after the file's own hooks.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

interface Tracked {
  child: ChildProcess;
  label: string;
  /** Its owner kills it on purpose later (a server started in beforeAll): not a leak while the file runs. */
  started: number;
}

const live = new Set<Tracked>();

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGKILL a child's whole process group (the child and everything it started). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** `spawn` in a process group of its own, remembered until it exits. */
export function spawnTracked(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, { ...options, detached: true });
  const entry: Tracked = { child, label: [command, ...args].join(' ').slice(0, 300), started: Date.now() };
  live.add(entry);
  child.once('exit', () => live.delete(entry));
  child.once('error', () => live.delete(entry));
  return child;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export interface RunError extends Error {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion (like `promisify(execFile)`): resolves with its output on exit 0, rejects with
 * `{code, stdout, stderr}` otherwise. After `timeoutMs` its process group is killed and the error says so,
 * naming the command, instead of waiting forever.
 */
export function runTracked(
  command: string,
  args: string[],
  options: SpawnOptions & { input?: string; timeoutMs?: number } = {},
): Promise<RunResult> & { child: ChildProcess } {
  const { input, timeoutMs = 45_000, ...spawnOptions } = options;
  const child = spawnTracked(command, args, { ...spawnOptions, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  child.stderr!.on('data', (c: Buffer) => err.push(c));
  if (input !== undefined) child.stdin!.end(input);
  else child.stdin!.end();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child);
  }, timeoutMs);
  const done = new Promise<RunResult>((resolve, reject) => {
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      if (code === 0 && !timedOut) return resolve({ stdout, stderr });
      const why = timedOut ? `did not finish in ${timeoutMs} ms (killed)` : `exited with ${code ?? signal}`;
      const e = new Error(`${[command, ...args].join(' ')} ${why}\n${stderr}`) as RunError;
      Object.assign(e, { code, signal, stdout, stderr });
      reject(e);
    });
  });
  return Object.assign(done, { child });
}

/** Kills every remembered process that is still running; returns what it killed. */
export function killAllTracked(): string[] {
  const killed: string[] = [];
  for (const t of live) {
    if (alive(t.child)) {
      killed.push(`${t.label} (pid ${t.child.pid}, running ${Math.round((Date.now() - t.started) / 1000)} s)`);
      killGroup(t.child);
    }
    live.delete(t);
  }
  return killed;
}

process.once('exit', () => {
  killAllTracked();
});
