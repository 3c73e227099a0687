/** The event a push consumer's handler receives, and how many records of a batch fit one invocation. */
import { payloadToJson } from '../codec/payload';
import { fitPrefix } from '../codec/payload-cap';
import type { FetchedRecord } from '../model';
import type { ConsumerEvent } from '../../ports/invoker';

/** `{"records":[` … `]}` around an event's records. */
const EVENT_OVERHEAD = 16;

export function consumerEvent(topic: string, partition: number, records: FetchedRecord[]): ConsumerEvent {
  return {
    records: records.map((r) => ({
      topic,
      partition,
      offset: r.offset.toString(),
      key: payloadToJson(r.key),
      value: payloadToJson(r.value),
      headers: { ...r.headers },
      timestamp: r.timestamp,
    })),
  };
}

/**
 * How many records from the start of `records` fit an event of at most `maxEventBytes` (0: not even the first,
 * whose size is then `firstBytes`).
 */
export function recordsThatFit(
  topic: string,
  partition: number,
  records: FetchedRecord[],
  maxEventBytes: number,
): { fit: number; firstBytes: number } {
  const sizes = consumerEvent(topic, partition, records).records.map((r) => Buffer.byteLength(JSON.stringify(r)));
  return { fit: fitPrefix(sizes, maxEventBytes, EVENT_OVERHEAD), firstBytes: sizes[0] };
}
