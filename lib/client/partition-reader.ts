/**
 * Reading one partition by offset, with no consumer group (a peek): nothing is committed and nothing is left
 * behind on the server.
 *
 * @example
 *   const page = await client.read('orders', 1, { offset: '0', maxRecords: 10 });
 *   for (const m of page.messages) console.log(m.offset, m.value);
 */
import { decodeMessage, type WireFetched } from './codec';
import type { Transport } from './http';
import type { KafkaMessage } from './types';

export interface ReadOptions {
  /** Decimal string or number; default: the partition's log start (the earliest retained record). */
  offset?: string | number;
  maxRecords?: number;
  maxBytes?: number;
  /** Long poll: wait up to this long for a record at `offset` (default 0: answer at once). */
  waitMs?: number;
  signal?: AbortSignal;
}

export interface PartitionPage {
  messages: KafkaMessage[];
  /** Where the next read starts. */
  nextOffset: string;
  highWatermark: string;
  logStartOffset: string;
}

export async function readPartition(transport: Transport, topic: string, partition: number, o: ReadOptions = {}): Promise<PartitionPage> {
  const res: { records: WireFetched[]; nextOffset: string; highWatermark: string; logStartOffset: string } = await transport.request({
    method: 'GET',
    path: `/v1/topics/${encodeURIComponent(topic)}/partitions/${partition}/records`,
    query: { offset: o.offset?.toString(), maxRecords: o.maxRecords, maxBytes: o.maxBytes, waitMs: o.waitMs },
    idempotent: true,
    waitMs: o.waitMs,
    signal: o.signal,
  });
  return {
    messages: res.records.map(decodeMessage),
    nextOffset: res.nextOffset,
    highWatermark: res.highWatermark,
    logStartOffset: res.logStartOffset,
  };
}
