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
  private readonly loops = new Map<string, { dispatcher: Dispatcher; partition: number; done: Promise<void> }>();
  private readonly abort = new AbortController();

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
        const key = `${d.config.topic}/${d.config.name}/${p}`;
        if (!this.loops.has(key)) this.loops.set(key, { dispatcher: d, partition: p, done: this.loop(d, topic, p) });
      }
    }
  }

  private async loop(d: Dispatcher, topic: TopicConfig, partition: number): Promise<void> {
    const clock = this.log.ctx.clock;
    const idle = this.options.idlePollMs ?? 250;
    const pk = metaKeys.partitionPk(topic.topicId, partition);
    while (!this.stopped) {
      let wait = 0;
      try {
        const out = await d.tick(partition);
        if (out.kind === 'failed' || out.kind === 'dead-lettered') this.options.onOutcome?.(d, partition, out);
        if (out.kind === 'idle') {
          await this.log.notifier.wait(pk, idle);
          continue;
        }
        if (out.kind === 'waiting') wait = out.until - clock.now();
        if (out.kind === 'failed' || out.kind === 'throttled') wait = out.retryAt - clock.now();
        if (out.kind === 'leased-elsewhere' || out.kind === 'fenced') wait = idle;
      } catch (e) {
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
    await Promise.all([...this.loops.values()].map((l) => l.dispatcher.release(l.partition).catch(() => undefined)));
  }
}
