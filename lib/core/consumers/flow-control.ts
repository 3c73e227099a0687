/** Flow control for push consumers: a records-per-second limit and a cap on concurrent invocations. */
import type { CoreContext } from '../context';

/** A token bucket driven by the Clock port: admits at most `rate` records a second (burst: one second). */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ctx: Pick<CoreContext, 'clock'>,
    readonly rate: number,
  ) {
    this.tokens = rate;
    this.last = ctx.clock.now();
  }

  /** Waits until `n` records may go (n is capped at the rate); true if it had to wait (a throttle). */
  async take(n: number): Promise<boolean> {
    const need = Math.min(n, this.rate);
    for (let waited = false; ; waited = true) {
      const now = this.ctx.clock.now();
      this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) * this.rate) / 1000);
      this.last = now;
      if (this.tokens >= need) {
        this.tokens -= need;
        return waited;
      }
      await this.ctx.clock.sleep(Math.ceil(((need - this.tokens) * 1000) / this.rate));
    }
  }
}

/** Caps concurrent invocations of one consumer. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(readonly max: number) {}
  async acquire(): Promise<() => void> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    return () => {
      this.active--;
      this.waiting.shift()?.();
    };
  }
}
