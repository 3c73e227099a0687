/**
 * Lambda as AWS runs it: each function is its own pool of instances; an instance is a child process with its
 * own module state and caches, running the function's deployed code (the CDK bundle) with the function's
 * environment from the template and credentials of its own (access key = the function's logical id). An
 * instance serves one invocation at a time; when every instance is busy a new one starts (a cold start).
 * Payloads over 6 MB either way fail as they do on Lambda; an invocation past the function's timeout kills
 * its instance.
 *
 * A function with reserved concurrency throttles invocations past it (429 TooManyRequestsException, "Rate
 * Exceeded."), as Lambda does; `limitConcurrency` sets such a cap from a test.
 *
 * Not emulated: cold-start and execution times (a process start is not a Lambda cold start), memory size,
 * freezing between invocations (timers keep running while idle), the account's concurrency limit.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FunctionModel } from './stack-model';

/** Lambda's limit for a synchronous invocation's request and response payloads. */
export const PAYLOAD_LIMIT = 6 * 1024 * 1024;

export type InvokeResult =
  { ok: true; payload: string } | { ok: false; status: number; errorType: string; errorMessage: string; functionError: boolean };

export interface PoolStats {
  invocations: number;
  coldStarts: number;
  maxConcurrent: number;
  errors: number;
  throttles: number;
}

interface Instance {
  child: ChildProcess;
  ready: Promise<void>;
  busy: boolean;
  pending?: { id: string; resolve(r: InvokeResult): void };
}

const RUNTIME = path.join(__dirname, 'lambda-runtime.cjs');

export class FunctionPool {
  readonly stats: PoolStats = { invocations: 0, coldStarts: 0, maxConcurrent: 0, errors: 0, throttles: 0 };
  private readonly instances: Instance[] = [];
  private closed = false;
  private concurrencyCap?: number;

  constructor(
    readonly fn: FunctionModel,
    private readonly env: Record<string, string>,
    private readonly logFile: string,
  ) {}

  async invoke(event: string): Promise<InvokeResult> {
    if (this.closed) throw new Error(`harness: ${this.fn.logicalId} is closed`);
    this.stats.invocations++;
    if (Buffer.byteLength(event) > PAYLOAD_LIMIT) {
      return this.fail({
        ok: false,
        status: 413,
        errorType: 'RequestEntityTooLargeException',
        errorMessage: `Request must be smaller than ${PAYLOAD_LIMIT} bytes for the InvokeFunction operation`,
        functionError: false,
      });
    }
    const cap = this.concurrencyCap ?? this.fn.reservedConcurrency;
    if (cap !== undefined && this.instances.filter((i) => i.busy).length >= cap) {
      this.stats.throttles++;
      return { ok: false, status: 429, errorType: 'TooManyRequestsException', errorMessage: 'Rate Exceeded.', functionError: false };
    }
    const instance = this.instances.find((i) => !i.busy) ?? this.start();
    instance.busy = true;
    this.stats.maxConcurrent = Math.max(this.stats.maxConcurrent, this.instances.filter((i) => i.busy).length);
    try {
      await instance.ready;
      const result = await this.run(instance, event);
      if (result.ok && Buffer.byteLength(result.payload) > PAYLOAD_LIMIT) {
        return this.fail({
          ok: false,
          status: 200,
          errorType: 'Function.ResponseSizeTooLarge',
          errorMessage: `Response payload size exceeded maximum allowed payload size (${PAYLOAD_LIMIT} bytes).`,
          functionError: true,
        });
      }
      return result.ok ? result : this.fail(result);
    } finally {
      instance.busy = false;
    }
  }

  private fail(r: InvokeResult): InvokeResult {
    this.stats.errors++;
    return r;
  }

  private run(instance: Instance, event: string): Promise<InvokeResult> {
    return new Promise((resolve) => {
      const id = randomUUID();
      const timer = setTimeout(() => {
        // Lambda ends the sandbox of a timed-out invocation: module state goes with it.
        this.remove(instance);
        resolve({
          ok: false,
          status: 200,
          errorType: 'Sandbox.Timedout',
          errorMessage: `Task timed out after ${(this.fn.timeoutMs / 1000).toFixed(2)} seconds`,
          functionError: true,
        });
      }, this.fn.timeoutMs);
      instance.pending = {
        id,
        resolve: (r) => {
          clearTimeout(timer);
          instance.pending = undefined;
          resolve(r);
        },
      };
      instance.child.send({
        type: 'invoke',
        id,
        event,
        requestId: randomUUID(),
        functionArn: this.fn.arn,
        deadline: Date.now() + this.fn.timeoutMs,
      });
    });
  }

  private start(): Instance {
    this.stats.coldStarts++;
    const out = fs.openSync(this.logFile, 'a');
    const child = fork(RUNTIME, [], {
      cwd: this.fn.codeDir,
      // Only what Lambda gives a function: its template environment plus the runtime's variables.
      env: { ...this.fn.env, ...this.env, LAMBDA_TASK_ROOT: this.fn.codeDir, _HANDLER: this.fn.handler },
      stdio: ['ignore', out, out, 'ipc'],
    });
    fs.closeSync(out);
    let markReady!: () => void;
    const instance: Instance = { child, busy: false, ready: new Promise<void>((r) => (markReady = r)) };
    child.on('message', (msg: { type: string; id?: string; payload?: string; error?: { errorType: string; errorMessage: string } }) => {
      if (msg.type === 'ready') markReady();
      const pending = instance.pending;
      if (msg.type !== 'done' || !pending || pending.id !== msg.id) return;
      pending.resolve(
        msg.error
          ? { ok: false, status: 200, errorType: msg.error.errorType, errorMessage: msg.error.errorMessage, functionError: true }
          : { ok: true, payload: msg.payload ?? 'null' },
      );
    });
    child.on('exit', (code, signal) => {
      markReady();
      this.remove(instance);
      instance.pending?.resolve({
        ok: false,
        status: 200,
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: x Error: Runtime exited with error: ${signal ?? `exit status ${code}`}`,
        functionError: true,
      });
    });
    this.instances.push(instance);
    return instance;
  }

  private remove(instance: Instance): void {
    const i = this.instances.indexOf(instance);
    if (i >= 0) this.instances.splice(i, 1);
    if (instance.child.exitCode === null && instance.child.signalCode === null) instance.child.kill('SIGKILL');
  }

  /** Caps concurrent invocations as reserved concurrency would (undefined: the template's setting). */
  limitConcurrency(cap: number | undefined): void {
    this.concurrencyCap = cap;
  }

  /** Ends every instance (as Lambda recycles them); the next invocation starts cold. */
  recycle(): void {
    for (const i of [...this.instances]) if (!i.busy) this.remove(i);
  }

  get size(): number {
    return this.instances.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.instances].map(
        (i) =>
          new Promise<void>((r) => {
            if (i.child.exitCode !== null || i.child.signalCode !== null) return r();
            i.child.once('exit', () => r());
            i.child.kill('SIGKILL');
          }),
      ),
    );
    this.instances.length = 0;
  }
}
