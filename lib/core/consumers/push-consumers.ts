/**
 * Push consumers as resources (DESIGN.md §4b): list a topic's consumers, describe one per partition (committed
 * offset, lag in records and seconds, lease owner, retry state, paused), pause, resume and seek. The registry
 * (registry.ts) is where consumers are declared on both homes (the embedded server writes its config there).
 */
import type { CoreContext } from '../context';
import { notFound } from '../../protocol/errors';
import type { Log } from '../log/log';
import { mapLimit } from '../log/fetch';
import type { TopicConfig } from '../model';
import { Positions } from '../groups/positions';
import type { SeekTarget } from '../groups/types';
import { RETRY, withRetry, type Attempt } from '../storage/cas';
import { dispatchStateItem, type DispatchState } from '../storage/dispatch-items';
import { metaKeys } from '../storage/keys';
import type { ConsumerConfig } from './config';
import { readControl, writeControl } from './control';
import type { ConsumerRegistry } from './registry';

export interface PushConsumerPartition {
  partition: number;
  /** Null until the consumer first dispatched the partition. */
  committedOffset: bigint | null;
  logStartOffset: bigint;
  highWatermark: bigint;
  lag: bigint;
  /** Age of the oldest record not yet delivered (from the index: low by at most one batch's time span). */
  lagSeconds: number;
  /** The dispatcher holding the partition now (null: none). */
  leaseOwner: string | null;
  leaseUntil: number | null;
  /** The batch at the committed offset failed (or was throttled) and waits for `retryAt`. */
  retrying: { attempts: number; misses: number; retryAt: number } | null;
}

export interface PushConsumerDescription {
  config: ConsumerConfig;
  paused: boolean;
  pausedSince: number | null;
  partitions: PushConsumerPartition[];
  totalLag: bigint;
  maxLagSeconds: number;
}

export class PushConsumers {
  private readonly positions: Positions;

  constructor(
    private readonly log: Log,
    private readonly registry: ConsumerRegistry,
  ) {
    this.positions = new Positions(log.ctx, log.fetcher);
  }

  private get ctx(): CoreContext {
    return this.log.ctx;
  }

  /** The topic's consumers, each with its paused flag (404 if the topic does not exist). */
  async list(topicName: string): Promise<Array<{ config: ConsumerConfig; paused: boolean }>> {
    const topic = await this.log.topics.get(topicName);
    const consumers = (await this.registry.list()).filter((c) => c.topic === topic.name);
    return mapLimit(consumers, 8, async (config) => ({ config, paused: (await readControl(this.ctx, topic, config.name)).paused }));
  }

  async describe(topicName: string, name: string): Promise<PushConsumerDescription> {
    const { topic, config } = await this.find(topicName, name);
    const control = await readControl(this.ctx, topic, name);
    const items = await this.ctx.meta.query(metaKeys.dispatchPk(topic.topicId, name), { prefix: metaKeys.dispatchSkPrefix });
    // Lanes of a parallel consumer: the partition's committed offset is the lowest of its lanes'.
    const lanes = config.parallelizationFactor ?? 1;
    const states = new Map<number, DispatchState>();
    const owners = new Map<number, DispatchState>();
    for (const i of items) {
      const s = dispatchStateItem.decode(i);
      if (s.lane >= lanes) continue;
      const p = metaKeys.dispatchPartition(i.sk);
      const low = states.get(p);
      if (!low || s.offset < low.offset || (s.offset === low.offset && s.retryAt > low.retryAt)) states.set(p, s);
      if (s.leaseUntil > this.ctx.clock.now() && !owners.has(p)) owners.set(p, s);
    }
    const now = this.ctx.clock.now();
    const partitions = await mapLimit(
      Array.from({ length: topic.partitionCount }, (_, p) => p),
      16,
      async (partition): Promise<PushConsumerPartition> => {
        const head = await this.log.fetcher.head(topic, partition);
        const s = states.get(partition);
        const from = s ? (s.offset < head.logStartOffset ? head.logStartOffset : s.offset) : startOf(config, head);
        const lag = head.nextOffset > from ? head.nextOffset - from : 0n;
        let lagSeconds = 0;
        if (lag > 0n) {
          const e = await this.log.fetcher.index.entryAt(metaKeys.partitionPk(topic.topicId, partition), head, from);
          lagSeconds = e ? Math.max(0, (now - e.maxTimestamp) / 1000) : 0;
        }
        const held = owners.get(partition);
        return {
          partition,
          committedOffset: s ? s.offset : null,
          logStartOffset: head.logStartOffset,
          highWatermark: head.nextOffset,
          lag,
          lagSeconds,
          leaseOwner: held ? held.owner : null,
          leaseUntil: held ? held.leaseUntil : null,
          retrying: s && s.retryAt > 0 ? { attempts: s.attempts, misses: s.misses, retryAt: s.retryAt } : null,
        };
      },
    );
    return {
      config,
      paused: control.paused,
      pausedSince: control.paused ? control.since : null,
      partitions,
      totalLag: partitions.reduce((sum, p) => sum + p.lag, 0n),
      maxLagSeconds: Math.max(0, ...partitions.map((p) => p.lagSeconds)),
    };
  }

  /** Stops deliveries (a batch in flight finishes and commits); lag grows until `resume`. */
  async pause(topicName: string, name: string): Promise<PushConsumerDescription> {
    const { topic } = await this.find(topicName, name);
    await writeControl(this.ctx, topic, name, true);
    return this.describe(topicName, name);
  }

  /** Lets deliveries go on (where runs start on demand, a run is woken for them). */
  async resume(topicName: string, name: string): Promise<PushConsumerDescription> {
    const { topic } = await this.find(topicName, name);
    await writeControl(this.ctx, topic, name, false);
    await this.ctx.wake?.wake();
    return this.describe(topicName, name);
  }

  /**
   * Moves the committed offsets of the consumer's partitions (one, or all) to `to`. The write takes each
   * partition's lease away from whoever holds it (a new epoch), so a dispatcher mid-batch cannot commit
   * over the seek; the batch it is delivering may still complete once (at least once).
   */
  async seek(topicName: string, name: string, to: SeekTarget, partition?: number): Promise<PushConsumerDescription> {
    const { topic } = await this.find(topicName, name);
    if (partition !== undefined && (partition < 0 || partition >= topic.partitionCount)) {
      throw notFound(`partition ${partition} does not exist; topic "${topic.name}" has partitions 0 to ${topic.partitionCount - 1}`, {
        partition,
        partitionCount: topic.partitionCount,
      });
    }
    const partitions = partition !== undefined ? [partition] : Array.from({ length: topic.partitionCount }, (_, p) => p);
    const targets = await Promise.all(partitions.map(async (p) => [p, await this.positions.resolve(topic, p, to)] as const));
    const lanes = Array.from({ length: (await this.find(topicName, name)).config.parallelizationFactor ?? 1 }, (_, l) => l);
    await mapLimit(
      targets.flatMap(([p, offset]) => lanes.map((lane) => [p, lane, offset] as const)),
      16,
      ([p, lane, offset]) => this.setOffset(topic, name, p, lane, offset),
    );
    await this.ctx.wake?.wake();
    return this.describe(topicName, name);
  }

  private setOffset(topic: TopicConfig, name: string, partition: number, lane: number, offset: bigint): Promise<true> {
    const pk = metaKeys.dispatchPk(topic.topicId, name);
    const sk = metaKeys.dispatchSk(partition, lane);
    return withRetry(this.ctx, { busy: `could not seek consumer "${name}"; try again` }, async (): Promise<Attempt<true>> => {
      const item = await this.ctx.meta.get(pk, sk);
      const epoch = item ? dispatchStateItem.decode(item).epoch + 1 : 1;
      const data = dispatchStateItem.encode({ offset, epoch, owner: 'seek', leaseUntil: 0, attempts: 0, misses: 0, retryAt: 0, limit: 0 });
      const res = await this.ctx.meta.write([{ op: 'put', pk, sk, data, expect: item ? item.version : 'absent' }]);
      return res.ok ? { done: true } : RETRY;
    });
  }

  private async find(topicName: string, name: string): Promise<{ topic: TopicConfig; config: ConsumerConfig }> {
    const topic = await this.log.topics.get(topicName);
    const config = (await this.registry.list()).find((c) => c.topic === topic.name && c.name === name);
    if (!config) throw notFound(`topic "${topic.name}" has no push consumer "${name}"`, { topic: topic.name, consumer: name });
    return { topic, config };
  }
}

/** Where a consumer that never dispatched a partition will start (lag counts from there). */
function startOf(config: ConsumerConfig, head: { logStartOffset: bigint; nextOffset: bigint }): bigint {
  return config.startingPosition === 'latest' ? head.nextOffset : head.logStartOffset;
}
