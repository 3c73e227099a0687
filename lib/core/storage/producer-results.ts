/** The offsets an idempotent request got, stored with it so a retry answers them again. */
import { FerryError } from '../../protocol/errors';
import type { ProduceResult } from '../model';

/**
 * Stored results of an idempotent request. A request's records to one partition get consecutive offsets, so
 * the results are one `[partition, firstOffset, count]` per partition (`parts`: 12 partitions stay a few
 * hundred bytes however the records interleave); the retry, which partitions its records the same way, puts
 * each record back at its offset. Older slots hold `runs` of consecutive results in request order.
 */
export function encodeResults(
  results: ProduceResult[],
): { parts: Array<[number, string, number]> } | { runs: Array<[number, string, number]> } {
  const parts = new Map<number, { first: bigint; next: bigint; count: number }>();
  let consecutive = true;
  for (const r of results) {
    const p = parts.get(r.partition);
    if (!p) parts.set(r.partition, { first: r.offset, next: r.offset + 1n, count: 1 });
    else if (p.next !== r.offset) consecutive = false;
    else {
      p.next++;
      p.count++;
    }
  }
  if (consecutive) return { parts: [...parts].map(([partition, p]) => [partition, p.first.toString(), p.count]) };
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

/**
 * The stored results, in request order. `partitions`: the partition of each record of the retry (needed for
 * `parts`); a retry whose records fall differently from the stored request's is `conflict`.
 */
export function decodeResults(data: Record<string, unknown>, partitions?: readonly number[]): ProduceResult[] {
  if (Array.isArray(data.parts)) {
    const bases = new Map<number, { next: bigint; left: number }>();
    for (const [partition, first, count] of data.parts as Array<[number, string, number]>)
      bases.set(Number(partition), { next: BigInt(first), left: count });
    const stored = [...bases.values()].reduce((n, b) => n + b.left, 0);
    if (!partitions) throw new FerryError('data', 'internal: stored results need the request partitions');
    if (partitions.length !== stored) {
      throw new FerryError('conflict', `this sequence was stored with ${stored} records; this retry has ${partitions.length}`, {
        storedRecords: stored,
      });
    }
    const out: ProduceResult[] = [];
    for (const partition of partitions) {
      const b = bases.get(partition);
      if (!b || b.left === 0) {
        throw new FerryError(
          'conflict',
          `this retry puts its records on other partitions than the stored request (it had ${stored} records)`,
          {
            storedRecords: stored,
          },
        );
      }
      out.push({ partition, offset: b.next });
      b.next++;
      b.left--;
    }
    return out;
  }
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
