/**
 * Wake-up from the produce path (AWS): after records are committed to a topic that has push consumers, the
 * producer makes sure a dispatcher run will see them — it reads the run lease (run-lease.ts) and, when no run
 * holds it, wakes one (an asynchronous invocation of the dispatcher function).
 *
 * Why no record is stranded: a run ends by releasing its lease, waiting `RUN_LINGER_MS`, then checking every
 * partition once more (dispatch-run.ts). A producer that saw the lease held at time r, or woke a run at r,
 * trusts that for `WAKE_TRUST_MS` < `RUN_LINGER_MS`; every commit it skips waking for happened before r +
 * `WAKE_TRUST_MS`, so before that run's (or the woken one's) last check. Lost wake-ups (a producer that died
 * between its commit and the wake) are found by the sweep every 5 minutes.
 */
import type { CoreContext } from '../context';
import type { DispatcherWake } from '../../ports/dispatcher-wake';
import type { ConsumerRegistry } from './registry';
import { DispatchRunLease } from './run-lease';

/** How long a producer trusts that a run is live (or woken) without reading the lease again. */
export const WAKE_TRUST_MS = 1_000;
/** How long a run waits after releasing its lease before its last look (must exceed WAKE_TRUST_MS). */
export const RUN_LINGER_MS = 1_500;
/** How long the list of topics with consumers is cached (a consumer added later is found by the sweep). */
const CONSUMER_TOPICS_MS = 30_000;

export class ProduceWake {
  private readonly lease: DispatchRunLease;
  private topics?: { names: Set<string>; at: number };
  private trustedUntil = 0;
  private inFlight?: Promise<void>;

  constructor(
    private readonly ctx: CoreContext,
    private readonly registry: ConsumerRegistry,
    private readonly wake: DispatcherWake,
  ) {
    this.lease = new DispatchRunLease(ctx);
  }

  /** After a commit to `topic`: wakes a run if the topic has consumers and no run is live. Never throws. */
  async committed(topic: string): Promise<void> {
    try {
      if (!(await this.hasConsumers(topic))) return;
      if (this.ctx.clock.now() < this.trustedUntil) return;
      // Concurrent requests of one instance share one look at the lease.
      this.inFlight ??= this.look(topic).finally(() => (this.inFlight = undefined));
      await this.inFlight;
    } catch (e) {
      this.ctx.warnings?.warn('could not wake the push-consumer dispatcher (the 5-minute sweep will)', {
        topic,
        error: (e as Error).message,
      });
    }
  }

  private async look(topic: string): Promise<void> {
    const seen = this.ctx.clock.now();
    if (!(await this.lease.live())) {
      await this.wake.wake();
      this.ctx.metrics?.add('DispatcherWakes', 1, { Topic: topic });
    }
    this.trustedUntil = seen + WAKE_TRUST_MS;
  }

  private async hasConsumers(topic: string): Promise<boolean> {
    const now = this.ctx.clock.now();
    if (!this.topics || now - this.topics.at > CONSUMER_TOPICS_MS) {
      const consumers = await this.registry.list();
      this.topics = { names: new Set(consumers.map((c) => c.topic)), at: now };
    }
    return this.topics.names.has(topic);
  }
}
