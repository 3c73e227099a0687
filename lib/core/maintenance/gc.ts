/** Garbage collection: unreferenced objects past the grace period, and what deleted topics left behind. */
import type { ObjectStore } from '../../ports/object-store';
import type { CoreContext } from '../context';
import { dueItem, topicItem } from '../storage/items';
import { idTime, metaKeys, objectKeys } from '../storage/keys';
import type { TopicConfig } from '../model';
import type { Log } from '../log/log';
import { listAll, referencedObjects } from './index-scan';
import { mapLimit } from '../log/fetch';

export class GarbageCollector {
  private readonly ctx: CoreContext;

  constructor(private readonly log: Log) {
    this.ctx = log.ctx;
  }

  /**
   * Deletes the topic's objects that no index entry and no delayed record references, once they are older
   * than the grace period. Before reading references it raises the GC fence of each of the topic's partitions past those objects, so a
   * writer still holding one can no longer index it (gc-fence.ts). Delayed records are read before the index:
   * a record moved in between is then seen in one or the other.
   */
  async collectGarbage(topic: TopicConfig, deadline = Number.POSITIVE_INFINITY): Promise<number> {
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
    for (const item of await this.ctx.meta.query(metaKeys.duePk(topic.topicId))) live.add(dueItem.decode(item).objectKey);
    for (let p = 0; p < current.partitionCount; p++) await referencedObjects(this.log.index, topic, p, live);
    let deleted = 0;
    let freed = 0;
    // Deletes in parallel (an object store takes thousands a second); past the deadline the rest goes on the
    // next pass (deletes are idempotent).
    await mapLimit(
      candidates.filter((c) => !live.has(c.key)),
      16,
      async ({ store, key, size }) => {
        if (this.ctx.clock.now() >= deadline) return;
        await store.delete(key);
        deleted++;
        freed += size;
      },
    );
    retained(deleted, freed);
    return deleted;
  }

  /** Removes what deleted topics left: their objects, index, heads and delayed records. */
  async purgeDeletedTopics(): Promise<number> {
    let purged = 0;
    for (const marker of await this.ctx.meta.query(metaKeys.gcPk)) {
      const topic = topicItem.decode(marker);
      for (const store of this.ctx.stores) {
        for await (const { key } of listAll(store, objectKeys.topicPrefix(topic.topicId))) await store.delete(key);
      }
      const pks = [metaKeys.duePk(topic.topicId)];
      for (let p = 0; p < topic.partitionCount; p++) pks.push(metaKeys.partitionPk(topic.topicId, p), metaKeys.gcFencePk(topic.topicId, p));
      for (const pk of pks) {
        const items = await this.ctx.meta.query(pk);
        for (let i = 0; i < items.length; i += this.ctx.meta.maxOpsPerWrite) {
          await this.ctx.meta.write(items.slice(i, i + this.ctx.meta.maxOpsPerWrite).map((it) => ({ op: 'delete', pk, sk: it.sk })));
        }
      }
      await this.ctx.meta.write([{ op: 'delete', pk: marker.pk, sk: marker.sk }]);
      purged++;
    }
    return purged;
  }
}
