import type { Clock } from '../../lib/ports/clock';

/**
 * Simulated time for core tests: `now()` only moves when a test sets it or something sleeps (a sleep jumps the
 * clock forward by its duration), so retention, grace periods and due times are driven exactly.
 */
export class SimClock implements Clock {
  constructor(public t = 1_800_000_000_000) {}

  now(): number {
    return this.t;
  }

  advance(ms: number): void {
    this.t += ms;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    this.t += Math.max(0, ms);
    await new Promise((r) => setImmediate(r));
  }
}
