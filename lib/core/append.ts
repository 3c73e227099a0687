/**
 * The commit protocol (DESIGN.md §3).
 *
 * Concurrent produce requests to one topic coalesce into one flush: one immutable segment object (one batch
 * per partition touched) written to the topic's R object stores, then one conditional metadata write per
 * group of partitions that, per partition, claims `[nextOffset, nextOffset + count)` only if the head is still
 * at the version read and adds the index entry. A producer is acknowledged only after every partition batch
 * of its request committed. Segment objects hold no absolute offsets, so a commit that loses a race is simply
 * retried against the new head, never re-uploaded.
 *
 * One flush per topic is in flight at a time; requests arriving meanwhile wait and go together in the next
 * one, so throughput grows with concurrency instead of with fsyncs (Kafka's linger, without a fixed wait).
 */
import type { ObjectStore } from '../ports/object-store';
import type { CoreContext } from './context';
import { FerryError } from './errors';
import { assembleSegment, encodeBatch, recordSize } from './codec/segment';
import { entryItem, headItem } from './items';
import { metaKeys, objectKeys } from './keys';
import type { IndexEntry, PartitionHead, ProduceResult, StoredRecord, TopicConfig } from './model';
import type { Notifier } from './notifier';
import type { WriteOp } from '../ports/metadata-store';

export interface AppendRecord {
  partition: number;
  record: StoredRecord;
}

interface Pending {
  topic: TopicConfig;
  records: AppendRecord[];
  bytes: number;
  resolve(results: ProduceResult[]): void;
  reject(error: unknown): void;
}

interface PartitionBatch {
  partition: number;
  records: StoredRecord[];
  /** For each record: which pending request and which index in it. */
  owners: Array<[Pending, number]>;
  base?: bigint;
}

export class Appender {
  private readonly queues = new Map<string, Pending[]>();
  private readonly flushing = new Set<string>();
  private readonly heads = new Map<string, PartitionHead>();
  private storeCursor = 0;

  constructor(
    private readonly ctx: CoreContext,
    private readonly notifier: Notifier,
  ) {}

  /** Appends records (partitions already chosen); resolves with their offsets, in input order. */
  append(topic: TopicConfig, records: AppendRecord[]): Promise<ProduceResult[]> {
    if (records.length === 0) return Promise.resolve([]);
    let bytes = 0;
    for (const r of records) bytes += recordSize(r.record);
    return new Promise((resolve, reject) => {
      const q = this.queues.get(topic.topicId) ?? [];
      this.queues.set(topic.topicId, q);
      q.push({ topic, records, bytes, resolve, reject });
      if (!this.flushing.has(topic.topicId)) void this.drain(topic.topicId);
    });
  }

  private async drain(topicId: string): Promise<void> {
    this.flushing.add(topicId);
    try {
      for (;;) {
        const q = this.queues.get(topicId);
        if (!q || q.length === 0) {
          this.queues.delete(topicId);
          return;
        }
        const take: Pending[] = [];
        let bytes = 0;
        while (q.length && (take.length === 0 || bytes + q[0].bytes <= this.ctx.settings.flushMaxBytes)) {
          const p = q.shift()!;
          bytes += p.bytes;
          take.push(p);
        }
        await this.flush(take);
      }
    } finally {
      this.flushing.delete(topicId);
    }
  }

  private async flush(requests: Pending[]): Promise<void> {
    // The newest config seen by any request (partitions may have been added meanwhile).
    const topic = requests.reduce((t, r) => (r.topic.partitionCount > t.partitionCount ? r.topic : t), requests[0].topic);
    const byPartition = new Map<number, PartitionBatch>();
    for (const req of requests) {
      req.records.forEach((r, i) => {
        let b = byPartition.get(r.partition);
        if (!b) byPartition.set(r.partition, (b = { partition: r.partition, records: [], owners: [] }));
        b.records.push(r.record);
        b.owners.push([req, i]);
      });
    }
    const batches = [...byPartition.values()].sort((a, b) => a.partition - b.partition);
    const failed = new Map<Pending, unknown>();
    try {
      const encoded = batches.map((b) => encodeBatch(b.records));
      const segment = assembleSegment(encoded);
      const objectKey = objectKeys.segment(topic.topicId, this.ctx.ids.timeOrderedId(this.ctx.clock.now()));
      const replicas = this.pickStores(topic.replicationFactor);
      await this.upload(replicas, objectKey, segment.body);
      const entries: IndexEntry[] = batches.map((b, i) => ({
        baseOffset: 0n,
        count: b.records.length,
        objectKey,
        byteStart: segment.batches[i].byteStart,
        byteLength: segment.batches[i].byteLength,
        maxTimestamp: b.records.reduce((m, r) => Math.max(m, r.timestamp), 0),
        replicas: replicas.map((s) => s.name),
      }));
      await this.commit(topic, batches, entries, failed);
    } catch (e) {
      for (const r of requests) r.reject(e);
      return;
    }
    for (const req of requests) {
      if (failed.has(req)) {
        req.reject(failed.get(req));
        continue;
      }
      const results: ProduceResult[] = new Array(req.records.length);
      for (const b of batches) {
        b.owners.forEach(([owner, i], pos) => {
          if (owner === req) results[i] = { partition: b.partition, offset: b.base! + BigInt(pos) };
        });
      }
      req.resolve(results);
    }
  }

  /** R distinct stores, rotating the first one so a cluster with R < N spreads its writes. */
  private pickStores(r: number): ObjectStore[] {
    const stores = this.ctx.stores;
    if (r > stores.length) {
      throw new FerryError('invalid', `replicationFactor ${r} exceeds the ${stores.length} object stores`);
    }
    const start = this.storeCursor++ % stores.length;
    return Array.from({ length: r }, (_, i) => stores[(start + i) % stores.length]);
  }

  private async upload(stores: ObjectStore[], key: string, body: Uint8Array): Promise<void> {
    const results = await Promise.all(stores.map((s) => s.putIfAbsent(key, body)));
    if (results.some((r) => !r.created)) {
      // Ids are unique: an existing key means the id source is broken. Never overwrite.
      throw new FerryError('unavailable', `segment ${key} already exists; refusing to overwrite it`);
    }
  }

  /**
   * Commits each partition batch; groups of partitions share one atomic metadata write (as many as the store
   * takes). A group that keeps losing its race, or whose write fails, fails only the requests touching it.
   */
  private async commit(
    topic: TopicConfig,
    batches: PartitionBatch[],
    entries: IndexEntry[],
    failed: Map<Pending, unknown>,
  ): Promise<void> {
    const perWrite = Math.max(1, Math.floor(this.ctx.meta.maxOpsPerWrite / 2));
    for (let start = 0; start < batches.length; start += perWrite) {
      const group = batches.slice(start, start + perWrite);
      const groupEntries = entries.slice(start, start + perWrite);
      try {
        await this.commitGroup(topic, group, groupEntries);
      } catch (e) {
        for (const b of group) for (const [owner] of b.owners) if (!failed.has(owner)) failed.set(owner, e);
      }
    }
  }

  private async commitGroup(topic: TopicConfig, group: PartitionBatch[], entries: IndexEntry[]): Promise<void> {
    const pks = group.map((b) => metaKeys.partitionPk(topic.topicId, b.partition));
    const { commitAttempts } = this.ctx.settings;
    for (let attempt = 1; ; attempt++) {
      const heads = await Promise.all(pks.map((pk) => this.head(pk)));
      const ops: WriteOp[] = [];
      group.forEach((b, i) => {
        const h = heads[i];
        const entry = { ...entries[i], baseOffset: h.nextOffset };
        ops.push(
          {
            op: 'put',
            pk: pks[i],
            sk: metaKeys.headSk,
            data: headItem.encode({ nextOffset: h.nextOffset + BigInt(b.records.length), logStartOffset: h.logStartOffset }),
            expect: h.version === 0 ? 'absent' : h.version,
          },
          { op: 'put', pk: pks[i], sk: metaKeys.entrySk(h.nextOffset), data: entryItem.encode(entry), expect: 'absent' },
        );
      });
      let res;
      try {
        res = await this.ctx.meta.write(ops);
      } catch (e) {
        // Unknown outcome: forget cached heads so the next flush reads what really happened.
        for (const pk of pks) this.heads.delete(pk);
        throw e;
      }
      if (res.ok) {
        group.forEach((b, i) => {
          const h = heads[i];
          b.base = h.nextOffset;
          this.heads.set(pks[i], {
            nextOffset: h.nextOffset + BigInt(b.records.length),
            logStartOffset: h.logStartOffset,
            version: h.version + 1,
          });
          this.notifier.notify(pks[i]);
        });
        return;
      }
      // Lost a race (another writer, retention, a stale cache): re-read the heads and claim again.
      for (const pk of pks) this.heads.delete(pk);
      const failedPk = ops[res.failedIndex].pk;
      if (res.current && res.current.sk === metaKeys.headSk) this.heads.set(failedPk, headItem.decode(res.current));
      if (attempt >= commitAttempts) {
        throw new FerryError(
          'unavailable',
          `could not commit to topic "${topic.name}" after ${attempt} attempts (concurrent writers); try again`,
          { topic: topic.name },
        );
      }
      await this.ctx.clock.sleep(Math.floor(this.ctx.ids.random() * 5 * attempt));
    }
  }

  private async head(pk: string): Promise<PartitionHead> {
    const cached = this.heads.get(pk);
    if (cached) return cached;
    const head = headItem.decode(await this.ctx.meta.get(pk, metaKeys.headSk));
    this.heads.set(pk, head);
    return head;
  }

  /** Drops cached heads (after maintenance changed them out of band). */
  forgetHeads(): void {
    this.heads.clear();
  }
}
