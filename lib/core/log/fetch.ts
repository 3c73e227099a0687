/**
 * Reading a partition: find the index entries from an offset, read their batches (falling back to the next
 * replica when a copy is missing or damaged), and long-poll at the high watermark.
 */
import type { CoreContext } from '../context';
import { FerryError } from '../../protocol/errors';
import { decodeBatch, recordSize } from '../codec/segment';
import { metaKeys } from '../storage/keys';
import type { PartitionIndex, StoredHead } from '../storage/partition-index';
import type { FetchResult, FetchedRecord, IndexEntry, StoredRecord, TopicConfig } from '../model';
import type { Notifier } from './notifier';

export interface FetchOptions {
  maxRecords: number;
  maxBytes: number;
  waitMs: number;
}

/** Counters a caller can read (replica fallbacks are a sign of a store losing data). */
export interface FetchStats {
  replicaFallbacks: number;
}

export class Fetcher {
  readonly stats: FetchStats = { replicaFallbacks: 0 };

  constructor(
    private readonly ctx: CoreContext,
    private readonly notifier: Notifier,
    readonly index: PartitionIndex,
  ) {}

  async head(topic: TopicConfig, partition: number): Promise<StoredHead> {
    return this.index.head(metaKeys.partitionPk(topic.topicId, partition));
  }

  async fetch(topic: TopicConfig, partition: number, from: bigint | undefined, opts: FetchOptions): Promise<FetchResult> {
    const pk = metaKeys.partitionPk(topic.topicId, partition);
    let head = await this.head(topic, partition);
    const offset = from ?? head.logStartOffset;
    checkRange(topic, partition, head, offset);
    if (offset === head.nextOffset && opts.waitMs > 0) {
      const deadline = this.ctx.clock.now() + opts.waitMs;
      for (;;) {
        const left = deadline - this.ctx.clock.now();
        if (left <= 0) break;
        await this.notifier.wait(pk, Math.min(left, this.ctx.settings.longPollIntervalMs));
        head = await this.head(topic, partition);
        if (head.nextOffset > offset) break;
      }
    }
    if (offset >= head.nextOffset) return emptyAt(head, offset);
    const entries = await this.index.entriesFrom(pk, head, offset, opts);
    const batches = await mapLimit(entries, 8, (e) => this.readBatch(topic, partition, e));
    return assemble(head, offset, entries, batches, opts);
  }

  /** One batch, from the first replica that has an intact copy. */
  async readBatch(topic: TopicConfig, partition: number, e: IndexEntry): Promise<StoredRecord[]> {
    const problems: string[] = [];
    /** A store that failed to answer (not a missing or damaged copy): the read may succeed later. */
    let unreachable = false;
    for (const name of e.replicas) {
      const store = this.ctx.stores.find((s) => s.name === name);
      if (!store) {
        problems.push(`${name}: not configured`);
        continue;
      }
      let bytes: Uint8Array | undefined;
      let answered = true;
      try {
        bytes = await store.get(e.objectKey, { start: e.byteStart, length: e.byteLength });
      } catch (err) {
        answered = false;
        unreachable = true;
        problems.push(`${name}: ${(err as Error).message}`);
      }
      if (bytes) {
        try {
          return decodeBatch(bytes, e.count);
        } catch (err) {
          problems.push(`${name}: ${(err as Error).message}`);
        }
      } else if (answered) {
        problems.push(`${name}: object missing`);
      }
      this.stats.replicaFallbacks++;
      this.ctx.metrics?.add('ReplicaFallbacks', 1, { Topic: topic.name });
      this.ctx.warnings?.warn(`replica ${name} has no intact copy of a batch; reading the next replica (run ferry repair)`, {
        topic: topic.name,
        partition,
        baseOffset: e.baseOffset.toString(),
        objectKey: e.objectKey,
        replica: name,
        problem: problems[problems.length - 1],
      });
    }
    // `data` only when every copy was seen and none is intact; a store that did not answer makes it retriable.
    throw new FerryError(
      unreachable ? 'unavailable' : 'data',
      `no intact copy of offsets ${e.baseOffset}..${e.baseOffset + BigInt(e.count) - 1n} of "${topic.name}" ` +
        `partition ${partition} (${problems.join('; ')})`,
      { objectKey: e.objectKey, replicas: e.replicas, problems },
    );
  }
}

/** `offset_out_of_range` unless `offset` is within `[logStartOffset, nextOffset]` (`named`: details name the partition). */
export function checkRange(topic: TopicConfig, partition: number, head: StoredHead, offset: bigint, named = false): void {
  if (offset < head.logStartOffset || offset > head.nextOffset) {
    throw new FerryError(
      'offset_out_of_range',
      `offset ${offset} is outside partition ${partition} of "${topic.name}": ` +
        `valid offsets are ${head.logStartOffset} to ${head.nextOffset}`,
      {
        ...(named && { topic: topic.name, partition }),
        logStartOffset: head.logStartOffset.toString(),
        highWatermark: head.nextOffset.toString(),
      },
    );
  }
}

export const emptyAt = (head: StoredHead, offset: bigint): FetchResult => ({
  records: [],
  nextOffset: offset,
  highWatermark: head.nextOffset,
  logStartOffset: head.logStartOffset,
});

/** The records of `batches` (decoded `entries`) from `offset`, within the limits. */
export function assemble(
  head: StoredHead,
  offset: bigint,
  entries: IndexEntry[],
  batches: StoredRecord[][],
  opts: Pick<FetchOptions, 'maxRecords' | 'maxBytes'>,
): FetchResult {
  const records: FetchedRecord[] = [];
  let bytes = 0;
  outer: for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const batch = batches[i];
    for (let j = 0; j < batch.length; j++) {
      const o = e.baseOffset + BigInt(j);
      if (o < offset) continue;
      if (o >= head.nextOffset || records.length >= opts.maxRecords) break outer;
      const size = recordSize(batch[j]);
      if (records.length > 0 && bytes + size > opts.maxBytes) break outer;
      bytes += size;
      records.push({ ...batch[j], offset: o });
    }
  }
  const nextOffset = records.length ? records[records.length - 1].offset + 1n : offset;
  return { records, nextOffset, highWatermark: head.nextOffset, logStartOffset: head.logStartOffset };
}

/** Maps with at most `limit` calls in flight, keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
