/**
 * A push consumer's dead-letter topic: records that failed past `maxRetries` (or aged past `maxRecordAgeMs`,
 * or too large to deliver) are produced there with their origin and the error in headers.
 */
import { FerryError } from '../../protocol/errors';
import type { FetchedRecord, RecordInput, TopicConfig } from '../model';
import type { Log } from '../log/log';
import type { ConsumerConfig } from './config';

/** Produces `records` of `topic`'s `partition` to the consumer's dead-letter topic (created if missing). */
export async function sendToDeadLetterTopic(
  log: Log,
  config: ConsumerConfig,
  topic: TopicConfig,
  partition: number,
  records: FetchedRecord[],
  error: string,
): Promise<void> {
  const dlq = await ensureDeadLetterTopic(log, config, topic);
  // Same partition number when the dead-letter topic has it, so its order follows the source partition.
  const target = partition < dlq.partitionCount ? partition : undefined;
  const inputs: RecordInput[] = records.map((r) => ({
    partition: target,
    key: r.key,
    value: r.value,
    timestamp: r.timestamp,
    headers: Object.assign(Object.create(null), r.headers, {
      'ferry-error': error.slice(0, 1000),
      'ferry-source-topic': topic.name,
      'ferry-source-partition': String(partition),
      'ferry-source-offset': r.offset.toString(),
    }),
  }));
  await log.produce(config.deadLetterTopic, inputs);
}

async function ensureDeadLetterTopic(log: Log, config: ConsumerConfig, topic: TopicConfig): Promise<TopicConfig> {
  try {
    return await log.topics.get(config.deadLetterTopic);
  } catch (e) {
    if (!(e instanceof FerryError && e.kind === 'not_found')) throw e;
    try {
      return await log.topics.create({
        name: config.deadLetterTopic,
        partitions: topic.partitionCount,
        replicationFactor: topic.replicationFactor,
      });
    } catch (again) {
      if (!(again instanceof FerryError && again.kind === 'conflict')) throw again;
      return log.topics.get(config.deadLetterTopic);
    }
  }
}
