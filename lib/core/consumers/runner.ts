/** Runs push consumers' dispatchers on timers until stopped. */
import type { TopicConfig } from '../model';
import type { Log } from '../log/log';
import { metaKeys } from '../storage/keys';
import type { Dispatcher, TickOutcome } from './dispatcher';

/**
 * Runs dispatchers on timers until stopped: each partition loops on `tick`, sleeping when idle (woken by
 * commits in this process) or until a retry is due.
 */
export class ConsumerRunner {
  private stopped = false;
  private readonly loops = new Map<string, { dispatcher: Dispatcher; partition: number; lane: number; done: Promise<void> }>();
  private readonly abort = new AbortController();
  /** Per loop: since when its partition has been idle (undefined: busy, or not yet looked at). */
  private readonly idleSince = new Map<string, number | undefined>();

  constructor(
    private readonly log: Log,
    readonly dispatchers: Dispatcher[],
    private readonly options: {
      idlePollMs?: number;
      onError?: (e: unknown, consumer: string) => void;
      /** Hears of every failed delivery (to be retried) and every dead-lettered batch, for the server's log. */
      onOutcome?: (d: Dispatcher, partition: number, outcome: Extract<TickOutcome, { kind: 'failed' | 'dead-lettered' }>) => void;
    } = {},
  ) {}

  /** Starts (and, as partitions are added, extends) the loops. */
  async start(): Promise<void> {
    for (const d of this.dispatchers) {
      const topic = await this.log.topics.get(d.config.topic);
      for (let p = 0; p < topic.partitionCount; p++) {
        for (let lane = 0; lane < d.lanes; lane++) {
          const key = `${d.config.topic}/${d.config.name}/${p}~${lane}`;
          if (this.loops.has(key)) continue;
          this.idleSince.set(key, undefined);
          this.loops.set(key, { dispatcher: d, partition: p, lane, done: this.loop(d, topic, p, lane, key) });
        }
      }
    }
  }

  /**
   * How long every partition has been idle (drained, nothing to retry, or served elsewhere): 0 while any is
   * busy. A dispatcher run ends when this passes its idle limit (dispatch-run.ts).
   */
  quietForMs(): number {
    let latest = -Infinity;
    for (const since of this.idleSince.values()) {
      if (since === undefined) return 0;
      latest = Math.max(latest, since);
    }
    return latest === -Infinity ? 0 : this.log.ctx.clock.now() - latest;
  }

  private markIdle(key: string, idle: boolean): void {
    if (!idle) this.idleSince.set(key, undefined);
    else if (this.idleSince.get(key) === undefined) this.idleSince.set(key, this.log.ctx.clock.now());
  }

  private async loop(d: Dispatcher, topic: TopicConfig, partition: number, lane: number, key: string): Promise<void> {
    const clock = this.log.ctx.clock;
    const idle = this.options.idlePollMs ?? 250;
    const pk = metaKeys.partitionPk(topic.topicId, partition);
    while (!this.stopped) {
      let wait = 0;
      try {
        const out = await d.tick(partition, lane);
        this.markIdle(key, out.kind === 'idle' || out.kind === 'leased-elsewhere' || out.kind === 'paused');
        if (out.kind === 'failed' || out.kind === 'dead-lettered') this.options.onOutcome?.(d, partition, out);
        if (out.kind === 'idle') {
          await this.log.notifier.wait(pk, idle);
          continue;
        }
        if (out.kind === 'waiting') wait = out.until - clock.now();
        if (out.kind === 'failed' || out.kind === 'throttled') wait = out.retryAt - clock.now();
        if (out.kind === 'leased-elsewhere' || out.kind === 'fenced' || out.kind === 'paused') wait = idle;
      } catch (e) {
        this.markIdle(key, false);
        this.options.onError?.(e, d.config.name);
        wait = 1000;
      }
      if (wait > 0 && !this.stopped) await clock.sleep(Math.min(wait, 5000), this.abort.signal);
    }
  }

  /** Stops every loop, waits for in-flight batches, and releases the leases. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await Promise.all([...this.loops.values()].map((l) => l.done));
    await Promise.all([...this.loops.values()].map((l) => l.dispatcher.release(l.partition, l.lane).catch(() => undefined)));
  }
}
