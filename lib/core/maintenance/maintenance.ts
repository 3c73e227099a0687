/**
 * Maintenance: retention, garbage collection, deleted-topic cleanup, replica repair and delayed-record moves.
 * Locally the dev server runs it on timers; on AWS a scheduled Lambda does. Every step is safe to run
 * concurrently with producers, readers and other maintenance runs.
 */
import type { WriteOp } from '../../ports/metadata-store';
import type { ObjectStore } from '../../ports/object-store';
import type { CoreContext } from '../context';
import { decodeBatch } from '../codec/segment';
import { entryItem, headItem, topicItem } from '../storage/items';
import { idTime, metaKeys, objectKeys } from '../storage/keys';
import type { IndexEntry, TopicConfig } from '../model';
import type { Log } from '../log/log';
import { RETRY, withRetry, type Attempt } from '../storage/cas';

export interface MaintenanceReport {
  entriesDeleted: number;
  objectsDeleted: number;
  topicsPurged: number;
  copiesRepaired: number;
  delayedMoved: number;
}

export const emptyReport = (): MaintenanceReport => ({
  entriesDeleted: 0,
  objectsDeleted: 0,
  topicsPurged: 0,
  copiesRepaired: 0,
  delayedMoved: 0,
});

export class Maintenance {
  private readonly ctx: CoreContext;

  constructor(private readonly log: Log) {
    this.ctx = log.ctx;
  }

  /** One full pass over every topic. */
  async run(options: { repair?: boolean } = {}): Promise<MaintenanceReport> {
    const started = this.ctx.clock.now();
    const report = emptyReport();
    for (const topic of await this.log.topics.list()) {
      report.delayedMoved += await this.log.scheduler.moveDue(topic);
      this.ctx.metrics?.set('DelayedPending', (await this.queryAll(metaKeys.duePk(topic.topicId))).length, { Topic: topic.name });
      report.entriesDeleted += await this.applyRetention(topic);
      if (options.repair) report.copiesRepaired += await this.repair(topic);
      report.objectsDeleted += await this.collectGarbage(topic);
    }
    report.topicsPurged += await this.purgeDeletedTopics();
    this.ctx.metrics?.set('MaintenanceDuration', this.ctx.clock.now() - started, {});
    return report;
  }

  /** Publishes every group's lag per topic (records, and the age of the oldest unconsumed record). */
  async reportGroupLag(): Promise<void> {
    const metrics = this.ctx.metrics;
    if (!metrics) return;
    for (const g of await this.log.groups.list()) {
      const d = await this.log.groups.describe(g.groupId);
      const byTopic = new Map<string, { records: bigint; seconds: number }>();
      for (const o of d.offsets) {
        const t = byTopic.get(o.topic) ?? { records: 0n, seconds: 0 };
        t.records += o.lag;
        t.seconds = Math.max(t.seconds, o.lagSeconds);
        byTopic.set(o.topic, t);
      }
      for (const [topic, lag] of byTopic) {
        metrics.set('GroupLagRecords', Number(lag.records), { Group: g.groupId, Topic: topic });
        metrics.set('GroupLagSeconds', lag.seconds, { Group: g.groupId, Topic: topic });
      }
    }
  }

  /** Moves every due delayed record of every topic. */
  async moveDue(): Promise<number> {
    let moved = 0;
    for (const topic of await this.log.topics.list()) moved += await this.log.scheduler.moveDue(topic);
    return moved;
  }

  /**
   * Deletes whole index entries past retention (age by their newest record, or beyond `retentionBytes`
   * counted from the newest), advancing `logStartOffset` first in the same atomic write.
   */
  async applyRetention(topic: TopicConfig): Promise<number> {
    if (topic.retentionMs === -1 && topic.retentionBytes === -1) return 0;
    let deleted = 0;
    for (let p = 0; p < topic.partitionCount; p++) deleted += await this.retainPartition(topic, p);
    return deleted;
  }

  private async retainPartition(topic: TopicConfig, partition: number): Promise<number> {
    const pk = metaKeys.partitionPk(topic.topicId, partition);
    // A producer committing meanwhile (or its transaction holding the head) is a lost race: look again; a
    // partition that stays busy is retained on the next pass.
    return withRetry(this.ctx, { busy: '', exhausted: () => 0 }, async (): Promise<Attempt<number>> => {
      const head = headItem.decode(await this.ctx.meta.get(pk, metaKeys.headSk));
      if (head.version === 0) return { done: 0 };
      const entries = (await this.ctx.meta.query(pk, { prefix: metaKeys.entrySkPrefix })).map(entryItem.decode);
      const live = entries.filter((e) => e.baseOffset >= head.logStartOffset);
      const cutoff = topic.retentionMs === -1 ? -Infinity : this.ctx.clock.now() - topic.retentionMs;
      let bytes = live.reduce((n, e) => n + e.byteLength, 0);
      let drop = 0;
      while (
        drop < live.length &&
        (live[drop].maxTimestamp < cutoff || (topic.retentionBytes !== -1 && bytes > topic.retentionBytes))
      ) {
        bytes -= live[drop].byteLength;
        drop++;
      }
      // Entries already below logStartOffset (a previous pass stopped early) are deleted too.
      const stale = entries.filter((e) => e.baseOffset < head.logStartOffset);
      if (drop === 0 && stale.length === 0) return { done: 0 };
      const gone = [...stale, ...live.slice(0, drop)];
      const newStart = drop > 0 ? live[drop - 1].baseOffset + BigInt(live[drop - 1].count) : head.logStartOffset;
      const deletes: WriteOp[] = gone.map((e) => ({ op: 'delete', pk, sk: metaKeys.entrySk(e.baseOffset) }));
      const first: WriteOp[] = [
        {
          op: 'put',
          pk,
          sk: metaKeys.headSk,
          data: headItem.encode({ nextOffset: head.nextOffset, logStartOffset: newStart }),
          expect: head.version,
        },
        ...deletes.slice(0, this.ctx.meta.maxOpsPerWrite - 1),
      ];
      const res = await this.ctx.meta.write(first).finally(() => this.log.appender.forgetHead(pk));
      if (!res.ok) return RETRY;
      // Below the new logStartOffset nobody reads: the rest can go without conditions.
      for (let i = this.ctx.meta.maxOpsPerWrite - 1; i < deletes.length; i += this.ctx.meta.maxOpsPerWrite) {
        await this.ctx.meta.write(deletes.slice(i, i + this.ctx.meta.maxOpsPerWrite));
      }
      return { done: gone.length };
    });
  }

  /**
   * Deletes the topic's objects that no index entry and no delayed record references, once they are older
   * than the grace period. Before reading references it raises the GC fence of each of the topic's partitions past those objects, so a
   * writer still holding one can no longer index it (gc-fence.ts). Delayed records are read before the index:
   * a record moved in between is then seen in one or the other.
   */
  async collectGarbage(topic: TopicConfig): Promise<number> {
    const oldest = this.ctx.clock.now() - this.ctx.settings.orphanGraceMs;
    const candidates: Array<{ store: ObjectStore; key: string; size: number }> = [];
    let objects = 0;
    let bytes = 0;
    const retained = (deleted: number, freed: number) => {
      this.ctx.metrics?.set('ObjectsRetained', objects - deleted, { Topic: topic.name });
      this.ctx.metrics?.set('BytesRetained', bytes - freed, { Topic: topic.name });
      if (deleted) this.ctx.metrics?.add('ObjectsCollected', deleted, { Topic: topic.name });
    };
    for (const store of this.ctx.stores) {
      for await (const { key, size } of listAll(store, objectKeys.topicPrefix(topic.topicId))) {
        objects++;
        bytes += size;
        const born = idTime(key);
        if (!Number.isNaN(born) && born < oldest) candidates.push({ store, key, size });
      }
    }
    if (candidates.length === 0) {
      retained(0, 0);
      return 0;
    }
    // The partition count read after `oldest` was fixed: a partition added later can only reference uploads
    // born after that, which are not candidates.
    const current = await this.log.topics.get(topic.name, { fresh: true }).catch(() => undefined);
    if (!current || current.topicId !== topic.topicId) return 0; // deleted meanwhile: the purge removes it all
    await this.log.fence.raise(topic.topicId, current.partitionCount, oldest);
    const live = new Set<string>();
    for (const item of await this.queryAll(metaKeys.duePk(topic.topicId))) live.add(String(item.data.objectKey));
    for (let p = 0; p < current.partitionCount; p++) {
      for (const e of await this.entries(topic, p)) live.add(e.objectKey);
    }
    let deleted = 0;
    let freed = 0;
    for (const { store, key, size } of candidates) {
      if (live.has(key)) continue;
      await store.delete(key);
      deleted++;
      freed += size;
    }
    retained(deleted, freed);
    return deleted;
  }

  /** Removes what deleted topics left: their objects, index, heads and delayed records. */
  async purgeDeletedTopics(): Promise<number> {
    let purged = 0;
    for (const marker of await this.queryAll(metaKeys.gcPk)) {
      const topic = topicItem.decode(marker);
      for (const store of this.ctx.stores) {
        for await (const { key } of listAll(store, objectKeys.topicPrefix(topic.topicId))) await store.delete(key);
      }
      const pks = [metaKeys.duePk(topic.topicId)];
      for (let p = 0; p < topic.partitionCount; p++) pks.push(metaKeys.partitionPk(topic.topicId, p), metaKeys.gcFencePk(topic.topicId, p));
      for (const pk of pks) {
        const items = await this.queryAll(pk);
        for (let i = 0; i < items.length; i += this.ctx.meta.maxOpsPerWrite) {
          await this.ctx.meta.write(items.slice(i, i + this.ctx.meta.maxOpsPerWrite).map((it) => ({ op: 'delete', pk, sk: it.sk })));
        }
      }
      await this.ctx.meta.write([{ op: 'delete', pk: marker.pk, sk: marker.sk }]);
      purged++;
    }
    return purged;
  }

  /**
   * Restores missing or damaged copies: every store an index entry names must hold an intact copy of its
   * object (each referenced batch passes its CRC). Copies from the first intact replica.
   */
  /**
   * Restores missing or damaged copies from an intact one; returns how many were written. `onLost` hears of
   * every batch with no intact copy left (reads of it answer `data`).
   */
  async repair(topic: TopicConfig, onLost?: (lost: { partition: number; baseOffset: bigint; count: number; objectKey: string }) => void): Promise<number> {
    const byObject = new Map<string, IndexEntry[]>();
    const partitionOf = new Map<IndexEntry, number>();
    for (let p = 0; p < topic.partitionCount; p++) {
      for (const e of await this.entries(topic, p)) {
        const list = byObject.get(e.objectKey) ?? [];
        list.push(e);
        byObject.set(e.objectKey, list);
        partitionOf.set(e, p);
      }
    }
    let repaired = 0;
    for (const [key, entries] of byObject) {
      const names = [...new Set(entries.flatMap((e) => e.replicas))];
      const copies = await Promise.all(
        names.map(async (name) => {
          const store = this.ctx.stores.find((s) => s.name === name);
          const body = store ? await store.get(key).catch(() => undefined) : undefined;
          return { store, body, intact: body !== undefined && intact(body, entries) };
        }),
      );
      const good = copies.find((c) => c.intact);
      if (!good) {
        // Nothing to copy from: reads report `data`.
        for (const e of entries) onLost?.({ partition: partitionOf.get(e)!, baseOffset: e.baseOffset, count: e.count, objectKey: key });
        continue;
      }
      for (const c of copies) {
        if (c.intact || !c.store) continue;
        if (c.body) await c.store.delete(key);
        await c.store.putIfAbsent(key, good.body!);
        repaired++;
      }
    }
    return repaired;
  }

  private async entries(topic: TopicConfig, partition: number): Promise<IndexEntry[]> {
    const pk = metaKeys.partitionPk(topic.topicId, partition);
    return (await this.ctx.meta.query(pk, { prefix: metaKeys.entrySkPrefix })).map(entryItem.decode);
  }

  private async queryAll(pk: string) {
    return this.ctx.meta.query(pk);
  }
}

function intact(body: Uint8Array, entries: IndexEntry[]): boolean {
  try {
    for (const e of entries) decodeBatch(body.subarray(e.byteStart, e.byteStart + e.byteLength), e.count);
    return true;
  } catch {
    return false;
  }
}

async function* listAll(store: ObjectStore, prefix: string): AsyncGenerator<{ key: string; size: number }> {
  let startAfter: string | undefined;
  for (;;) {
    const page = await store.list(prefix, { startAfter, limit: 1000 });
    for (const o of page.objects) yield o;
    if (!page.next) return;
    startAfter = page.next;
  }
}
