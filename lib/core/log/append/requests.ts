/** What a flush is made of: pending produce requests, grouped into one batch per partition. */
import type { Expect } from '../../../ports/metadata-store';
import type { ProduceResult, StoredRecord, TopicConfig } from '../../model';

export interface AppendRecord {
  partition: number;
  record: StoredRecord;
}

/** An idempotent request's identity, checked (and recorded) in the commit itself. */
export interface IdempotenceClaim {
  producerId: string;
  epoch: number;
  sequence: number;
  /** Version of the producer item when its epoch was read: a newer epoch changes it and fences this claim. */
  producerVersion: number;
  /** The ring slot this sequence overwrites, as read (a racing retry that stored it first changes it). */
  slotVersion: Expect;
  /** The slot holding sequence − 1, as read (absent for sequence 0). */
  previousVersion?: number;
}

export interface Pending {
  topic: TopicConfig;
  records: AppendRecord[];
  bytes: number;
  idem?: IdempotenceClaim;
  /** Flush this request on its own (it is already committed on some of its partitions). */
  alone?: boolean;
  resolve(results: ProduceResult[]): void;
  reject(error: unknown): void;
}

export interface PartitionBatch {
  partition: number;
  records: StoredRecord[];
  /** For each record: which pending request and which index in it. */
  owners: Array<[Pending, number]>;
  base?: bigint;
}

/** A partition batch's ops in a commit where the whole flush is one atomic write: its head, maybe a chunk. */
export const OPS_PER_PARTITION = 2;
/** An idempotent request's ops in a commit: producer epoch check, its ring slot, the previous slot's check. */
export const OPS_PER_IDEMPOTENT_REQUEST = 3;

/**
 * A condition of one idempotent request failed, or the heads show it already committed somewhere (`committed`):
 * settle it (or flush it again on its own), and flush the others again. Thrown only before anything was written.
 */
export class SettleRequest {
  constructor(
    readonly request: Pending,
    readonly what: 'producer' | 'sequence' | 'previous' | 'committed',
  ) {}
}

/** The requests' records grouped by partition, in partition order (each batch keeps request order). */
export function batchesOf(requests: Pending[]): PartitionBatch[] {
  const byPartition = new Map<number, PartitionBatch>();
  for (const req of requests) {
    req.records.forEach((r, i) => {
      let b = byPartition.get(r.partition);
      if (!b) byPartition.set(r.partition, (b = { partition: r.partition, records: [], owners: [] }));
      b.records.push(r.record);
      b.owners.push([req, i]);
    });
  }
  return [...byPartition.values()].sort((a, b) => a.partition - b.partition);
}

/** A request's (partition, offset) per record, in its order, once bases are known. */
export function resultsOf(req: Pending, batches: PartitionBatch[]): ProduceResult[] {
  const results: ProduceResult[] = new Array(req.records.length);
  for (const b of batches) {
    b.owners.forEach(([owner, i], pos) => {
      if (owner === req) results[i] = { partition: b.partition, offset: b.base! + BigInt(pos) };
    });
  }
  return results;
}

export function queuedBytes(q: Pending[]): number {
  let n = 0;
  for (const p of q) n += p.bytes;
  return n;
}
