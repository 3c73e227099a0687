/**
 * The registry item of a push consumer (AWS: `topic.addConsumer` through the topic's custom resource). Decoding
 * checks the shape — every field of a ConsumerConfig, of its type — so a damaged item is a `data` error naming
 * it, never a consumer misread; the consumer rules (ranges, names) are the registry's to apply on top.
 */
import { FerryError } from '../../protocol/errors';
import type { ConsumerConfig, StartingPosition } from '../consumers/config';
import type { Item, ItemData } from '../../ports/metadata-store';

/** A `data` error naming the registry item and what is wrong with it. */
export function damagedConsumer(item: Pick<Item, 'pk' | 'sk'>, problem: string): FerryError {
  return new FerryError('data', `metadata item ${item.pk} / ${item.sk} is not a valid push consumer: ${problem}`, {
    pk: item.pk,
    sk: item.sk,
  });
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function isStartingPosition(v: unknown): v is StartingPosition {
  if (v === 'earliest' || v === 'latest') return true;
  return typeof v === 'object' && v !== null && isNumber((v as { timestamp?: unknown }).timestamp);
}

/** The fields that are missing or of the wrong type, by name. */
function shapeProblems(d: ItemData): string[] {
  const wrong: string[] = [];
  for (const f of ['topic', 'name', 'handler', 'deadLetterTopic'] as const) if (typeof d[f] !== 'string') wrong.push(f);
  for (const f of ['batchSize', 'maxBatchingWindowMs', 'maxRetries', 'maxRecordAgeMs'] as const) if (!isNumber(d[f])) wrong.push(f);
  for (const f of ['maxRecordsPerSecond', 'maxConcurrency', 'timeoutMs', 'parallelizationFactor'] as const)
    if (d[f] !== undefined && !isNumber(d[f])) wrong.push(f);
  if (typeof d.bisectOnError !== 'boolean') wrong.push('bisectOnError');
  if (d.filters !== undefined && !Array.isArray(d.filters)) wrong.push('filters');
  if (!isStartingPosition(d.startingPosition)) wrong.push('startingPosition');
  return wrong;
}

export const consumerItem = {
  /** The config as it is (validated by the registry before it is written). */
  encode(c: ConsumerConfig): ItemData {
    return { ...c };
  },
  decode(item: Item): ConsumerConfig {
    const d = item.data;
    const wrong = shapeProblems(d);
    if (wrong.length) throw damagedConsumer(item, `${wrong.join(', ')} missing or of the wrong type`);
    const c = d as unknown as ConsumerConfig;
    return {
      topic: c.topic,
      name: c.name,
      handler: c.handler,
      batchSize: c.batchSize,
      maxBatchingWindowMs: c.maxBatchingWindowMs,
      startingPosition: typeof c.startingPosition === 'object' ? { timestamp: c.startingPosition.timestamp } : c.startingPosition,
      maxRetries: c.maxRetries,
      maxRecordAgeMs: c.maxRecordAgeMs,
      bisectOnError: c.bisectOnError,
      deadLetterTopic: c.deadLetterTopic,
      ...(c.maxRecordsPerSecond !== undefined && { maxRecordsPerSecond: c.maxRecordsPerSecond }),
      ...(c.maxConcurrency !== undefined && { maxConcurrency: c.maxConcurrency }),
      ...(c.timeoutMs !== undefined && { timeoutMs: c.timeoutMs }),
      ...(c.filters !== undefined && { filters: c.filters }),
      ...(c.parallelizationFactor !== undefined && { parallelizationFactor: c.parallelizationFactor }),
    };
  },
};
