/**
 * One bounded retry loop for the read-modify-write protocols (after slatedb's `maybe_apply_update`): read,
 * plan, write conditionally; on a lost race (a failed condition, or a store reporting a conflict with another
 * in-flight transaction) pause with jittered exponential backoff and go again, at most `attempts` times.
 */
import type { CoreContext } from '../context';
import { FerryError } from '../../protocol/errors';

/** What one attempt answers: done (with the result), or lost a race and should be tried again. */
export type Attempt<T> = { done: T } | { retry: true };

export const RETRY: { retry: true } = { retry: true };

export interface RetryOptions<T = unknown> {
  /** Default: settings.commitAttempts. */
  attempts?: number;
  /** The `unavailable` message when every attempt lost its race. */
  busy: string;
  details?: Record<string, unknown>;
  /**
   * What to answer when every attempt lost its race, instead of throwing `unavailable` (for background work
   * that simply tries again on its next run).
   */
  exhausted?: () => T;
}

/**
 * Runs `attempt` until it answers `done`, backing off between lost races. A store's conflict report
 * (`unavailable` with `details.reason: "conflict"`, see isConflict) counts as a lost race too.
 */
export async function withRetry<T>(ctx: CoreContext, options: RetryOptions<T>, attempt: (n: number) => Promise<Attempt<T>>): Promise<T> {
  const attempts = options.attempts ?? ctx.settings.commitAttempts;
  for (let n = 1; ; n++) {
    let outcome: Attempt<T>;
    try {
      outcome = await attempt(n);
    } catch (e) {
      if (!isConflict(e) || n >= attempts) throw e;
      outcome = RETRY;
    }
    if ('done' in outcome) return outcome.done;
    if (n >= attempts) {
      if (options.exhausted) return options.exhausted();
      throw new FerryError('unavailable', options.busy, options.details ?? {});
    }
    await backoff(ctx, n);
  }
}

/** Full-jitter exponential backoff between half and all of min(200 ms, 5 ms · 2^(n−1)). */
export async function backoff(ctx: CoreContext, n: number): Promise<void> {
  const step = Math.min(200, 5 * 2 ** (n - 1));
  await ctx.clock.sleep(Math.floor(step / 2 + (ctx.ids.random() * step) / 2));
}

/**
 * A write the store refused because another in-flight transaction held one of its items (DynamoDB's
 * `TransactionConflict`): nothing was applied, so it is a race like a failed condition, safe to try again.
 */
export function isConflict(e: unknown): boolean {
  return e instanceof FerryError && e.kind === 'unavailable' && e.details.reason === 'conflict';
}
