/** The offsets an idempotent request got, stored with it so a retry answers them again. */
import { FerryError } from '../../protocol/errors';
import type { ProduceResult } from '../model';

/**
 * Stored results of an idempotent request, as runs `[partition, firstOffset, count]` of consecutive records
 * (a request's records to one partition get consecutive offsets), so even 10 000 records stay small.
 */
export function encodeResults(results: ProduceResult[]): { runs: Array<[number, string, number]> } {
  const runs: Array<[number, string, number]> = [];
  let last: { partition: number; next: bigint; run: [number, string, number] } | undefined;
  for (const r of results) {
    if (last && last.partition === r.partition && last.next === r.offset) {
      last.run[2]++;
      last.next++;
    } else {
      const run: [number, string, number] = [r.partition, r.offset.toString(), 1];
      runs.push(run);
      last = { partition: r.partition, next: r.offset + 1n, run };
    }
  }
  return { runs };
}

export function decodeResults(data: Record<string, unknown>): ProduceResult[] {
  const runs = data.runs;
  if (!Array.isArray(runs)) throw new FerryError('data', 'a stored idempotent request has no results');
  const out: ProduceResult[] = [];
  for (const [partition, first, count] of runs as Array<[number, string, number]>) {
    for (let i = 0; i < count; i++) out.push({ partition: Number(partition), offset: BigInt(first) + BigInt(i) });
  }
  return out;
}

/** A retry must be the same batch: a different record count under a stored sequence is a client bug. */
export function sameBatch(stored: ProduceResult[], recordCount: number, ref: { id: string; sequence: number }): ProduceResult[] {
  if (stored.length !== recordCount) {
    throw new FerryError(
      'conflict',
      `sequence ${ref.sequence} of producer ${ref.id} was stored with ${stored.length} records; this retry has ${recordCount}`,
      { producerId: ref.id, sequence: ref.sequence, storedRecords: stored.length },
    );
  }
  return stored;
}

/** One slot of a producer's ring: which request it holds now, and that request's results. */
export interface RequestSlot {
  sk: string;
  version: number;
  sequence: number;
  data: Record<string, unknown>;
}

export function decodeSlot(item: { sk: string; version: number; data: Record<string, unknown> }): RequestSlot {
  const sequence = item.data.sequence;
  if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence))
    throw new FerryError('data', `producer request slot ${item.sk} has no sequence`);
  return { sk: item.sk, version: item.version, sequence, data: item.data };
}

/** Slots in a ring: one more than the requests kept, so a request's slot is never its predecessor's. */
export const ringSize = (kept: number) => kept + 1;
