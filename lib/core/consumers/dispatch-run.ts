/**
 * One dispatcher run where runs are started on demand (AWS, DESIGN.md §4c "Push delivery"): woken by a producer
 * (wake.ts), by its predecessor, or by the 5-minute sweep. It takes the run lease, dispatches every push
 * consumer's partitions until all of them have been idle for `idleEndMs` (or the deadline comes), releases its
 * leases, waits `RUN_LINGER_MS` and looks once more: records committed meanwhile start another round, so a
 * producer that trusted the lease is never stranded (wake.ts says why). A sweep first checks, with reads only,
 * whether anything is to do, so an idle cluster costs one short invocation every 5 minutes and no writes.
 */
import type { Core } from '../create-core';
import type { Invoker } from '../../ports/invoker';
import type { ConsumerConfig } from './config';
import { Dispatcher, type DispatchSettings, type TickOutcome } from './dispatcher';
import { ConsumerRunner } from './runner';
import { hasWork } from './pending';
import { DispatchRunLease, type RunLease } from './run-lease';
import { RUN_LINGER_MS } from './wake';

export interface DispatchRunOptions {
  /** This run's identity in leases. */
  owner: string;
  invoker: Invoker;
  /** When the run must have stopped dispatching (ms since the epoch). */
  deadline: number;
  /** `sweep`: only run if something is to do; `wake`: run (a producer or a predecessor asked). */
  reason: 'sweep' | 'wake';
  /** How long every partition must be idle before the run ends (default 3 s). */
  idleEndMs?: number;
  idlePollMs?: number;
  settings?: DispatchSettings;
  onError?: (e: unknown, consumer: string) => void;
  onOutcome?: (d: Dispatcher, partition: number, outcome: Extract<TickOutcome, { kind: 'failed' | 'dead-lettered' }>) => void;
}

export interface DispatchRunReport {
  consumers: number;
  /** Why nothing was dispatched, if nothing was. */
  skipped?: 'no-consumers' | 'running' | 'nothing-to-do';
  /** Rounds dispatched (a round ends when every partition is idle). */
  rounds: number;
  /** True when the deadline came with work left: the caller should start a successor. */
  unfinished: boolean;
}

/** Lease of the run item; renewed every third of it while dispatching. */
const RUN_LEASE_MS = 60_000;

export async function runDispatch(core: Core, options: DispatchRunOptions): Promise<DispatchRunReport> {
  const clock = core.ctx.clock;
  const consumers = await core.consumers.list();
  const report: DispatchRunReport = { consumers: consumers.length, rounds: 0, unfinished: false };
  if (consumers.length === 0) return { ...report, skipped: 'no-consumers' };
  const lease = new DispatchRunLease(core.ctx);
  const dispatchers = () =>
    consumers.map((c: ConsumerConfig) => new Dispatcher(core.log, options.invoker, c, options.owner, options.settings));
  const anyWork = async () => {
    for (const d of dispatchers()) if (await hasWork(d)) return true;
    return false;
  };
  if (options.reason === 'sweep') {
    if (await lease.live()) return { ...report, skipped: 'running' };
    if (!(await anyWork())) return { ...report, skipped: 'nothing-to-do' };
  }
  for (;;) {
    let held = await lease.acquire(options.owner, RUN_LEASE_MS);
    if (!held) return { ...report, skipped: report.rounds ? undefined : 'running' };
    report.rounds++;
    held = await dispatchRound(core, options, dispatchers(), lease, held);
    if (held) await lease.release(held);
    if (clock.now() >= options.deadline) {
      report.unfinished = await anyWork();
      return report;
    }
    await clock.sleep(RUN_LINGER_MS);
    if (!(await anyWork())) return report;
  }
}

/** Dispatches until every partition is idle for `idleEndMs` or the deadline; answers the lease still held. */
async function dispatchRound(
  core: Core,
  options: DispatchRunOptions,
  dispatchers: Dispatcher[],
  lease: DispatchRunLease,
  held: RunLease,
): Promise<RunLease | undefined> {
  const clock = core.ctx.clock;
  const runner = new ConsumerRunner(core.log, dispatchers, {
    idlePollMs: options.idlePollMs,
    onError: options.onError,
    onOutcome: options.onOutcome,
  });
  await runner.start();
  const idleEndMs = options.idleEndMs ?? 3_000;
  let current: RunLease | undefined = held;
  try {
    while (clock.now() < options.deadline && runner.quietForMs() < idleEndMs) {
      await clock.sleep(Math.min(250, Math.max(1, options.deadline - clock.now())));
      if (current && current.until - clock.now() < (RUN_LEASE_MS * 2) / 3) {
        current = (await lease.renew(current, RUN_LEASE_MS).catch(() => current)) ?? undefined;
        if (!current) break; // another run took over (this one was presumed dead): leave it the work
      }
    }
  } finally {
    await runner.stop();
  }
  return current;
}
