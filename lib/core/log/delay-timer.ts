/**
 * The delay timer for a home without a timer of its own (AWS Lambda). Reads never move due records (the fetch
 * role is read-only), so something must: a scheduled run (every minute on AWS) looks ahead `windowMs`; while a
 * delayed record of any topic falls due inside the window it sleeps until that time — re-checking at least
 * every `pollMs`, for records scheduled meanwhile — and moves it; it ends as soon as nothing is due before the
 * window closes. An idle cluster costs one query per topic per run, and a run with nothing due ends at once.
 *
 * Moves are the Scheduler's (one atomic write per record batch, conditional on the due item): runs that
 * overlap, or overlap the full maintenance pass, still move each record exactly once, never early (G9).
 *
 * @example
 *   const moved = await runDelayTimer(log, { windowMs: 55_000 }); // what lambda/maintenance.ts runs each minute
 */
import type { Log } from './log';

export interface DelayTimerOptions {
  /** How long this run may keep watching. */
  windowMs: number;
  /** Longest sleep between looks at the due-time index (records scheduled during the run). Default 1 000. */
  pollMs?: number;
}

/** Moves due delayed records for up to `windowMs`; answers how many it moved. */
export async function runDelayTimer(log: Log, { windowMs, pollMs = 1_000 }: DelayTimerOptions): Promise<number> {
  const { clock } = log.ctx;
  const end = clock.now() + windowMs;
  let moved = 0;
  for (;;) {
    let next = Infinity;
    for (const topic of await log.topics.list()) {
      moved += await log.scheduler.moveDue(topic);
      const due = await log.scheduler.nextDue(topic);
      if (due !== undefined && due < next) next = due;
    }
    const now = clock.now();
    if (next > end || now >= end) return moved;
    // At least a few ms: a due record that could not be moved this round (a lost race) is not spun on.
    await clock.sleep(Math.max(10, Math.min(next - now, pollMs, end - now)));
  }
}
