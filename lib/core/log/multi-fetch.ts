/**
 * Reading many partitions in one long poll (a group member's fetch, DESIGN.md §4b): one wait for the first
 * partition to have data, one index read per partition with data, and one object read per segment object —
 * the batches a flush wrote for several partitions sit side by side in one object, so they come in one ranged
 * GET instead of one each. A batch that the shared read cannot give intact goes through the per-batch path,
 * which falls back to the next replica.
 */
import type { CoreContext } from '../context';
import { decodeBatch, recordSize } from '../codec/segment';
import { metaKeys } from '../storage/keys';
import type { FetchResult, IndexEntry, StoredRecord, TopicConfig } from '../model';
import { assemble, checkRange, emptyAt, mapLimit, type Fetcher, type FetchOptions } from './fetch';
import type { Notifier } from './notifier';

export interface PartitionRead {
  topic: TopicConfig;
  partition: number;
  /** Default: the partition's log start. */
  from?: bigint;
}

export interface PartitionReadResult extends FetchResult {
  topic: string;
  partition: number;
}

export class MultiFetcher {
  constructor(
    private readonly ctx: CoreContext,
    private readonly notifier: Notifier,
    private readonly fetcher: Fetcher,
  ) {}

  /**
   * Records of every partition in `reads`, from each one's position, `opts` counted over all of them. Waits up
   * to `waitMs` while none has anything; partitions are served in an order that starts at a random one, so a
   * busy partition cannot starve the others of the budget.
   */
  async fetch(reads: PartitionRead[], opts: FetchOptions): Promise<PartitionReadResult[]> {
    const pks = reads.map((r) => metaKeys.partitionPk(r.topic.topicId, r.partition));
    const readHeads = () => mapLimit(reads, 16, (r) => this.fetcher.head(r.topic, r.partition));
    let heads = await readHeads();
    const offsets = reads.map((r, i) => r.from ?? heads[i].logStartOffset);
    reads.forEach((r, i) => checkRange(r.topic, r.partition, heads[i], offsets[i], true));
    const ready = () => heads.some((h, i) => h.nextOffset > offsets[i]);
    if (!ready() && opts.waitMs > 0 && reads.length > 0) {
      const deadline = this.ctx.clock.now() + opts.waitMs;
      for (;;) {
        const left = deadline - this.ctx.clock.now();
        if (left <= 0) break;
        await this.notifier.waitAny(pks, Math.min(left, this.ctx.settings.longPollIntervalMs));
        heads = await readHeads();
        if (ready()) break;
      }
    }
    // Which entries each partition needs: the budget is shared evenly among the partitions with records (so
    // one fetch takes the batches one flush wrote side by side: one object read), then what is left tops up
    // the partitions that have more, in an order that starts at a random one.
    const start = reads.length ? Math.floor(this.ctx.ids.random() * reads.length) : 0;
    const order = reads.map((_, k) => (start + k) % reads.length).filter((i) => heads[i].nextOffset > offsets[i]);
    const planned: Array<IndexEntry[] | undefined> = new Array(reads.length);
    const usable = new Array<number>(reads.length).fill(0);
    const plannedBytes = new Array<number>(reads.length).fill(0);
    let records = opts.maxRecords;
    let bytes = opts.maxBytes;
    /** Plans partition i with these limits, in whole batches that fit them (at least one batch). */
    const plan = async (i: number, maxRecords: number, maxBytes: number) => {
      const found = await this.fetcher.index.entriesFrom(pks[i], heads[i], offsets[i], { maxRecords, maxBytes });
      const entries: IndexEntry[] = [];
      let n = 0;
      let size = 0;
      for (const e of found) {
        const add = Number(e.baseOffset + BigInt(e.count) - (offsets[i] > e.baseOffset ? offsets[i] : e.baseOffset));
        // A batch that would overshoot the share stays for the next fetch (it would be read for a few records).
        if (entries.length > 0 && (n + add > maxRecords || size + e.byteLength > maxBytes)) break;
        entries.push(e);
        n += add;
        size += e.byteLength;
      }
      const took = Math.min(n, maxRecords);
      records -= took - usable[i];
      bytes -= size - plannedBytes[i];
      planned[i] = entries;
      usable[i] = took;
      plannedBytes[i] = size;
    };
    const shareRecords = Math.max(1, Math.ceil(records / Math.max(1, order.length)));
    const shareBytes = Math.max(1, Math.ceil(bytes / Math.max(1, order.length)));
    for (const i of order) {
      if (records <= 0 || bytes <= 0) break;
      await plan(i, Math.min(shareRecords, records), Math.min(shareBytes, bytes));
    }
    for (const i of order) {
      if (records <= 0 || bytes <= 0) break;
      const more = heads[i].nextOffset - offsets[i] > BigInt(usable[i]);
      if (more && planned[i]) await plan(i, usable[i] + records, plannedBytes[i] + bytes);
    }
    const batches = await this.readAll(reads, planned);
    // The budget again, on the records themselves: each partition at most what was planned for it.
    const left = { maxRecords: opts.maxRecords, maxBytes: opts.maxBytes };
    const out: PartitionReadResult[] = new Array(reads.length);
    for (let i = 0; i < reads.length; i++)
      out[i] = { topic: reads[i].topic.name, partition: reads[i].partition, ...emptyAt(heads[i], offsets[i]) };
    for (const i of order) {
      const entries = planned[i];
      if (!entries || left.maxRecords <= 0 || left.maxBytes <= 0) continue;
      const res = assemble(heads[i], offsets[i], entries, batches.get(i)!, {
        maxRecords: Math.min(left.maxRecords, usable[i]),
        maxBytes: left.maxBytes,
      });
      left.maxRecords -= res.records.length;
      for (const rec of res.records) left.maxBytes -= recordSize(rec);
      out[i] = { topic: reads[i].topic.name, partition: reads[i].partition, ...res };
    }
    return out;
  }

  /** The batches of every planned entry: one ranged GET per object (from its first replica), else per batch. */
  private async readAll(reads: PartitionRead[], planned: Array<IndexEntry[] | undefined>): Promise<Map<number, StoredRecord[][]>> {
    const byObject = new Map<string, Array<{ i: number; k: number; e: IndexEntry }>>();
    planned.forEach((entries, i) =>
      entries?.forEach((e, k) => {
        const key = `${e.replicas[0] ?? ''} ${e.objectKey}`;
        const list = byObject.get(key) ?? [];
        list.push({ i, k, e });
        byObject.set(key, list);
      }),
    );
    const out = new Map<number, StoredRecord[][]>();
    planned.forEach((entries, i) => entries && out.set(i, new Array(entries.length)));
    await mapLimit([...byObject.values()], 8, async (group) => {
      const shared = group.length > 1 ? await this.readRange(group.map((g) => g.e)) : undefined;
      await mapLimit(group, 8, async ({ i, k, e }) => {
        let batch: StoredRecord[] | undefined;
        if (shared) {
          try {
            batch = decodeBatch(shared.bytes.subarray(e.byteStart - shared.start, e.byteStart - shared.start + e.byteLength), e.count);
          } catch {
            batch = undefined; // damaged in this copy: the per-batch path tries every replica
          }
        }
        out.get(i)![k] = batch ?? (await this.fetcher.readBatch(reads[i].topic, reads[i].partition, e));
      });
    });
    return out;
  }

  /** The bytes covering every batch of `entries` (one object), from its first replica; undefined if that read fails. */
  private async readRange(entries: IndexEntry[]): Promise<{ start: number; bytes: Uint8Array } | undefined> {
    const store = this.ctx.stores.find((s) => s.name === entries[0].replicas[0]);
    if (!store) return undefined;
    const start = Math.min(...entries.map((e) => e.byteStart));
    const end = Math.max(...entries.map((e) => e.byteStart + e.byteLength));
    const bytes = await store.get(entries[0].objectKey, { start, length: end - start }).catch(() => undefined);
    return bytes && bytes.byteLength === end - start ? { start, bytes } : undefined;
  }
}
