/**
 * The log: topics, produce and fetch over the ports. This is what the HTTP app (locally and in Lambda) calls.
 */
import { Appender } from './append';
import type { CoreContext } from './context';
import { FerryError, invalid } from './errors';
import { Fetcher, type FetchOptions } from './fetch';
import { recordSize } from './codec/segment';
import type { FetchResult, ProduceResult, RecordInput, TopicConfig } from './model';
import { Notifier } from './notifier';
import { keyHashBytes, partitionForKey, RoundRobin } from './partitioner';
import { Topics } from './topics';

export class Log {
  readonly topics: Topics;
  readonly appender: Appender;
  readonly fetcher: Fetcher;
  readonly notifier: Notifier;
  private readonly roundRobin: RoundRobin;

  constructor(readonly ctx: CoreContext) {
    this.topics = new Topics(ctx);
    this.notifier = new Notifier(ctx.clock);
    this.appender = new Appender(ctx, this.notifier);
    this.fetcher = new Fetcher(ctx, this.notifier);
    this.roundRobin = new RoundRobin(() => ctx.ids.random());
  }

  /**
   * Appends records to a topic. Every record is checked before anything is written: one bad record refuses
   * the whole batch, naming its index. Answers each record's (partition, offset), in request order.
   */
  async produce(topicName: string, inputs: RecordInput[]): Promise<ProduceResult[]> {
    let topic = await this.topics.get(topicName);
    if (inputs.some((r) => r.partition !== undefined && r.partition >= topic.partitionCount)) {
      topic = await this.topics.get(topicName, { fresh: true }); // partitions may have just been added
    }
    const now = this.ctx.clock.now();
    const records = inputs.map((input, index) => {
      const record = {
        key: input.key,
        value: input.value,
        headers: input.headers,
        timestamp: input.timestamp ?? now,
      };
      const size = recordSize(record);
      if (size > topic.maxRecordBytes) {
        throw new FerryError(
          'too_large',
          `record ${index} is ${size} bytes; topic "${topic.name}" takes records of at most ${topic.maxRecordBytes} bytes`,
          { index, size, maxRecordBytes: topic.maxRecordBytes },
        );
      }
      return { partition: this.partitionOf(topic, input, index), record };
    });
    return this.appender.append(topic, records);
  }

  private partitionOf(topic: TopicConfig, input: RecordInput, index: number): number {
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
    return this.roundRobin.partition(topic.topicId, topic.partitionCount);
  }

  /** Reads a partition from `offset` (default: its log start offset). */
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
    return this.fetcher.fetch(topic, partition, offset, opts);
  }
}
