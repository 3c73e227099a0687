/**
 * The log: topics, produce and fetch over the ports. This is what the HTTP app (locally and in Lambda) calls.
 */
import type { Appender } from './append/appender';
import type { CoreContext } from '../context';
import { FerryError, invalid } from '../../protocol/errors';
import type { Groups } from '../groups/groups';
import type { Fetcher, FetchOptions } from './fetch';
import type { FetchResult, ProduceResult, RecordInput, StoredRecord, TopicConfig } from '../model';
import type { Notifier } from './notifier';
import type { GcFence } from '../storage/gc-fence';
import type { PartitionIndex } from '../storage/partition-index';
import { idempotentSpread, keyHashBytes, partitionForKey, RoundRobin } from './partitioner';
import type { Topics } from './topics';
import type { Producers, ProducerRef } from './producers';
import type { Scheduler, DelayedRecord, Scheduled } from './delay';
import type { AppendRecord } from './append/appender';

/** One record's answer: its offset, or — for a delayed record — its scheduled id and due time. */
export type ProduceAnswer = ProduceResult | Scheduled;

/** The services the log is made of (createCore builds them). */
export interface LogParts {
  topics: Topics;
  appender: Appender;
  fetcher: Fetcher;
  notifier: Notifier;
  fence: GcFence;
  index: PartitionIndex;
  groups: Groups;
  producers: Producers;
  scheduler: Scheduler;
  /** Told of every topic records were committed to, before the produce is answered (consumers/wake.ts). */
  afterCommit?: (topic: string) => Promise<void>;
}

export class Log {
  readonly topics: Topics;
  readonly appender: Appender;
  readonly fetcher: Fetcher;
  readonly notifier: Notifier;
  /** Between garbage collection and writers: see gc-fence.ts. */
  readonly fence: GcFence;
  /** The partitions' heads and index chunks: see storage/partition-index.ts. */
  readonly index: PartitionIndex;
  readonly groups: Groups;
  readonly producers: Producers;
  readonly scheduler: Scheduler;
  private readonly roundRobin: RoundRobin;
  private readonly afterCommit?: (topic: string) => Promise<void>;

  /** Built by createCore (lib/core/create-core.ts), which wires every service once. */
  constructor(
    readonly ctx: CoreContext,
    parts: LogParts,
  ) {
    ({
      topics: this.topics,
      appender: this.appender,
      fetcher: this.fetcher,
      notifier: this.notifier,
      fence: this.fence,
      index: this.index,
      groups: this.groups,
      producers: this.producers,
      scheduler: this.scheduler,
      afterCommit: this.afterCommit,
    } = parts);
    this.roundRobin = new RoundRobin(() => ctx.ids.random());
  }

  /**
   * Appends records to a topic. Every record is checked before anything is written: one bad record refuses
   * the whole batch, naming its index. Answers each record's (partition, offset) — or, for a record with a
   * future `deliverAt`, its (partition, scheduledId, deliverAt) — in request order. With `producer`, a retry
   * of a stored request answers its original offsets and stores nothing.
   */
  async produce(topicName: string, inputs: RecordInput[], options: { producer?: ProducerRef } = {}): Promise<ProduceAnswer[]> {
    let topic = await this.topics.get(topicName);
    if (inputs.some((r) => r.partition !== undefined && r.partition >= topic.partitionCount)) {
      topic = await this.topics.get(topicName, { fresh: true }); // partitions may have just been added
    }
    const now = this.ctx.clock.now();
    let bytes = 0;
    // An idempotent request spreads its unkeyed records the same way on every retry, so a retry meets the
    // partitions an earlier attempt may have committed to (each head remembers the producer's last request).
    const spread = options.producer && idempotentSpread(options.producer, topic.partitionCount);
    const immediate: Array<AppendRecord & { index: number }> = [];
    const delayed: Array<DelayedRecord & { index: number }> = [];
    inputs.forEach((input, index) => {
      const record = { key: input.key, value: input.value, headers: input.headers, timestamp: input.timestamp ?? now };
      const size = userBytes(record);
      bytes += size;
      if (size > topic.maxRecordBytes) {
        throw new FerryError(
          'too_large',
          `record ${index} is ${size} bytes; topic "${topic.name}" takes records of at most ${topic.maxRecordBytes} bytes`,
          { index, size, maxRecordBytes: topic.maxRecordBytes },
        );
      }
      const partition = this.partitionOf(topic, input, index, spread);
      const deliverAt = this.checkDeliverAt(input.deliverAt, now, index);
      if (deliverAt !== undefined && deliverAt > now) delayed.push({ index, partition, record, deliverAt });
      else immediate.push({ index, partition, record });
    });
    const answers: ProduceAnswer[] = new Array(inputs.length);
    const counted = () => this.countProduced(topic.name, inputs.length, bytes);
    if (options.producer) {
      if (delayed.length) throw invalid('an idempotent request cannot carry delayed records (deliverAt); send them separately');
      const touched = new Set(immediate.map((r) => r.partition)).size;
      if (touched > this.appender.maxIdempotentPartitions) {
        throw invalid(
          `an idempotent request may touch at most ${this.appender.maxIdempotentPartitions} partitions; this one touches ${touched}`,
        );
      }
      const claimed = await this.producers.claim(
        topic,
        options.producer,
        immediate.map((r) => r.partition),
      );
      if ('duplicate' in claimed) return claimed.duplicate;
      const stored = await this.appender.append(topic, immediate, claimed.claim);
      counted();
      await this.afterCommit?.(topic.name);
      return stored;
    }
    const [offsets, scheduled] = await Promise.all([
      immediate.length ? this.appender.append(topic, immediate) : [],
      delayed.length ? this.scheduler.schedule(topic, delayed) : [],
    ]);
    immediate.forEach((r, i) => (answers[r.index] = offsets[i]));
    delayed.forEach((r, i) => (answers[r.index] = scheduled[i]));
    counted();
    if (immediate.length) await this.afterCommit?.(topic.name);
    return answers;
  }

  private countProduced(topic: string, records: number, bytes: number): void {
    this.ctx.metrics?.add('RecordsProduced', records, { Topic: topic });
    this.ctx.metrics?.add('BytesProduced', bytes, { Topic: topic });
  }

  /** A due time must be a time, not absurdly far in the past, and within the maximum delay. */
  private checkDeliverAt(deliverAt: number | undefined, now: number, index: number): number | undefined {
    if (deliverAt === undefined) return undefined;
    const { deliverAtPastToleranceMs, maxDeliveryDelayMs } = this.ctx.settings;
    if (!Number.isFinite(deliverAt)) throw invalid(`record ${index}: deliverAt is not a time`, { index });
    if (deliverAt < now - deliverAtPastToleranceMs) {
      throw invalid(
        `record ${index}: deliverAt ${new Date(deliverAt).toISOString()} is more than ${deliverAtPastToleranceMs} ms in the past`,
        { index },
      );
    }
    if (deliverAt > now + maxDeliveryDelayMs) {
      throw invalid(`record ${index}: deliverAt is more than ${maxDeliveryDelayMs} ms ahead (the maximum delay)`, { index });
    }
    return Math.ceil(deliverAt);
  }

  private partitionOf(topic: TopicConfig, input: RecordInput, index: number, spread?: () => number): number {
    if (input.partition !== undefined) {
      if (input.partition >= topic.partitionCount) {
        throw invalid(
          `record ${index}: partition ${input.partition} does not exist; topic "${topic.name}" has partitions 0 to ${topic.partitionCount - 1}`,
          { index, partition: input.partition, partitionCount: topic.partitionCount },
        );
      }
      return input.partition;
    }
    if (input.key) return partitionForKey(keyHashBytes(input.key), topic.partitionCount);
    return spread ? spread() : this.roundRobin.partition(topic.topicId, topic.partitionCount);
  }

  /**
   * Reads a partition from `offset` (default: its log start offset). A read never writes (the fetch role is
   * read-only on AWS): due delayed records are moved by maintenance's delay timer, not here.
   */
  async fetch(topicName: string, partition: number, offset: bigint | undefined, opts: FetchOptions): Promise<FetchResult> {
    let topic = await this.topics.get(topicName);
    if (partition >= topic.partitionCount) topic = await this.topics.get(topicName, { fresh: true });
    if (partition >= topic.partitionCount) {
      throw new FerryError(
        'not_found',
        `partition ${partition} does not exist; topic "${topic.name}" has partitions 0 to ${topic.partitionCount - 1}`,
        { partition, partitionCount: topic.partitionCount },
      );
    }
    const result = await this.fetcher.fetch(topic, partition, offset, opts);
    if (result.records.length) {
      this.ctx.metrics?.add('RecordsFetched', result.records.length, { Topic: topic.name });
      this.ctx.metrics?.add(
        'BytesFetched',
        result.records.reduce((n, r) => n + userBytes(r), 0),
        { Topic: topic.name },
      );
    }
    return result;
  }
}

/** What the record limit counts: the bytes of key, value, and header names and values (not the framing). */
function userBytes(r: StoredRecord): number {
  let n = (r.key ? r.key.bytes.length : 0) + r.value.bytes.length;
  for (const name of Object.keys(r.headers)) n += Buffer.byteLength(name) + Buffer.byteLength(r.headers[name]);
  return n;
}
