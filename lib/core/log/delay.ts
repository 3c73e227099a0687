/**
 * Delayed delivery (DESIGN.md §3): a record with `deliverAt` is stored at once — its own batch in a segment
 * object, durable before the answer — and indexed by due time. When due, it is appended to its partition by
 * one atomic write that claims the offset, adds an index entry pointing at that same batch (nothing is
 * copied) and deletes the due item on the condition that it is still there. So a record is moved exactly
 * once however many movers run (G9), and never before its time.
 */
import type { WriteOp } from '../../ports/metadata-store';
import type { Appender } from './append/appender';
import type { CoreContext } from '../context';
import { FerryError, notFound } from '../../protocol/errors';
import { assembleSegment, encodeBatch } from '../codec/segment';
import { dueItem, type DueRecord } from '../storage/items';
import { idTime, metaKeys, objectKeys, scheduledId } from '../storage/keys';
import type { StoredRecord, TopicConfig } from '../model';
import type { Notifier } from './notifier';
import type { GcFence } from '../storage/gc-fence';
import type { PartitionIndex } from '../storage/partition-index';
import { RETRY, withRetry, type Attempt } from '../storage/cas';

export interface DelayedRecord {
  partition: number;
  record: StoredRecord;
  deliverAt: number;
}

export interface Scheduled {
  partition: number;
  scheduledId: string;
  deliverAt: number;
}

export class Scheduler {
  constructor(
    private readonly ctx: CoreContext,
    private readonly appender: Appender,
    private readonly notifier: Notifier,
    private readonly fence: GcFence,
    private readonly index: PartitionIndex,
    /** Told of a topic whose due records were just appended (consumers/wake.ts). */
    private readonly afterCommit?: (topic: string) => Promise<void>,
  ) {}

  /** Stores delayed records durably and indexes them by due time. */
  async schedule(topic: TopicConfig, records: DelayedRecord[]): Promise<Scheduled[]> {
    const now = this.ctx.clock.now();
    const segment = assembleSegment(records.map((r) => encodeBatch([r.record])));
    const objectKey = objectKeys.segment(topic.topicId, this.ctx.ids.timeOrderedId(now));
    const stores = this.ctx.stores.slice(0, topic.replicationFactor);
    const created = await Promise.all(stores.map((s) => s.putIfAbsent(objectKey, segment.body)));
    if (created.some((c) => !c.created)) throw new FerryError('unavailable', `segment ${objectKey} already exists`);
    const out: Scheduled[] = [];
    const ops: WriteOp[] = records.map((r, i) => {
      const id = scheduledId(r.deliverAt, this.ctx.ids);
      out.push({ partition: r.partition, scheduledId: id, deliverAt: r.deliverAt });
      return {
        op: 'put',
        pk: metaKeys.duePk(topic.topicId),
        sk: id,
        expect: 'absent',
        data: dueItem.encode({
          partition: r.partition,
          deliverAt: r.deliverAt,
          objectKey,
          byteStart: segment.batches[i].byteStart,
          byteLength: segment.batches[i].byteLength,
          maxTimestamp: r.record.timestamp,
          replicas: stores.map((s) => s.name),
          createdAt: now,
        }),
      };
    });
    // Each write carries the garbage-collection fences of the partitions it indexes records for: the batches
    // must still exist when they are indexed.
    const partitions = records.map((r) => r.partition);
    const perWrite = Math.max(1, Math.floor(this.ctx.meta.maxOpsPerWrite / 2));
    for (let i = 0; i < ops.length; i += perWrite) {
      const chunk = ops.slice(i, i + perWrite);
      const touched = [...new Set(partitions.slice(i, i + perWrite))];
      await withRetry(this.ctx, { busy: 'could not index delayed records; try again' }, async () => {
        const fences = await Promise.all(touched.map((p) => this.fence.current(topic.topicId, p)));
        for (const f of fences) this.fence.ensureAlive(f, now, `scheduling delayed records of "${topic.name}"`);
        const checks = touched.map((p, j) => this.fence.check(topic.topicId, p, fences[j]));
        const res = await this.ctx.meta.write([...checks, ...chunk]);
        if (res.ok) return { done: undefined };
        if (res.failedIndex < checks.length) {
          await this.fence.refresh(topic.topicId, touched[res.failedIndex]);
          return RETRY;
        }
        throw new FerryError('unavailable', 'could not index delayed records (a scheduled id is taken); try again');
      });
    }
    return out;
  }

  /** Delayed records of a topic not yet due, soonest first. */
  async list(topic: TopicConfig, limit: number): Promise<Scheduled[]> {
    const items = await this.ctx.meta.query(metaKeys.duePk(topic.topicId), { limit });
    return items.map(dueItem.decode).map((d) => ({ partition: d.partition, scheduledId: d.sk, deliverAt: d.deliverAt }));
  }

  /** Cancels one delayed record; `not_found` once it was delivered or cancelled. */
  async cancel(topic: TopicConfig, id: string): Promise<void> {
    if (!/^\d{15}-[0-9a-z]{1,32}$/.test(id)) throw notFound(`no scheduled record ${JSON.stringify(id)} in "${topic.name}"`);
    const pk = metaKeys.duePk(topic.topicId);
    const item = await this.ctx.meta.get(pk, id);
    if (!item) throw notFound(`no scheduled record ${id} in "${topic.name}" (delivered, cancelled or never scheduled)`);
    const res = await this.ctx.meta.write([{ op: 'delete', pk, sk: id, expect: item.version }]);
    if (!res.ok) throw notFound(`scheduled record ${id} was delivered or cancelled meanwhile`);
  }

  /** The earliest due time of a topic's delayed records, if any. */
  async nextDue(topic: TopicConfig): Promise<number | undefined> {
    const [first] = await this.ctx.meta.query(metaKeys.duePk(topic.topicId), { limit: 1 });
    return first ? idTime(first.sk) : undefined;
  }

  /** Appends every record of `topic` due by now to its partition. Answers how many this call moved. */
  async moveDue(topic: TopicConfig, limit = 1000): Promise<number> {
    const now = this.ctx.clock.now();
    const pk = metaKeys.duePk(topic.topicId);
    const due = (await this.ctx.meta.query(pk, { lte: metaKeys.dueUpTo(now), limit })).map(dueItem.decode);
    const byPartition = new Map<number, DueRecord[]>();
    for (const d of due) {
      if (d.deliverAt > now) continue;
      const list = byPartition.get(d.partition) ?? [];
      list.push(d);
      byPartition.set(d.partition, list);
    }
    let moved = 0;
    // Per write: the head (and a chunk) plus one delete per record; a few dozen keep the head's tail small.
    const perWrite = Math.max(1, Math.min(32, this.ctx.meta.maxOpsPerWrite - 2));
    for (const [partition, items] of byPartition) {
      for (let i = 0; i < items.length; i += perWrite) moved += await this.movePartition(topic, partition, items.slice(i, i + perWrite));
    }
    if (moved) {
      const earliest = Math.min(...due.filter((d) => d.deliverAt <= now).map((d) => d.deliverAt));
      this.ctx.metrics?.set('DelayedLateness', Math.max(0, this.ctx.clock.now() - earliest), { Topic: topic.name });
      await this.afterCommit?.(topic.name);
    }
    return moved;
  }

  private async movePartition(topic: TopicConfig, partition: number, items: DueRecord[]): Promise<number> {
    const pk = metaKeys.partitionPk(topic.topicId, partition);
    const duePk = metaKeys.duePk(topic.topicId);
    let pending = items;
    // A producer's commit (or its transaction on the head) is a lost race; a due record moved or cancelled by
    // someone else is dropped. What stays busy is moved on the next run.
    return withRetry(this.ctx, { busy: '', exhausted: () => 0 }, async (): Promise<Attempt<number>> => {
      if (pending.length === 0) return { done: 0 };
      const head = await this.index.head(pk);
      // One entry per record, pointing at its own batch (nothing is copied); the due items go in the same write.
      const entries = pending.map((d) => ({
        count: 1,
        objectKey: d.objectKey,
        byteStart: d.byteStart,
        byteLength: d.byteLength,
        maxTimestamp: d.maxTimestamp,
        replicas: d.replicas,
      }));
      const { ops } = await this.index.prepare(pk, head, entries);
      for (const d of pending) ops.push({ op: 'delete', pk: duePk, sk: d.sk, expect: d.version });
      const res = await this.ctx.meta.write(ops).finally(() => this.appender.forgetHead(pk));
      if (res.ok) {
        this.notifier.notify(pk);
        return { done: pending.length };
      }
      const failed = ops[res.failedIndex];
      if (failed?.pk === duePk) pending = pending.filter((d) => d.sk !== failed.sk); // moved or cancelled elsewhere
      return RETRY;
    });
  }
}
