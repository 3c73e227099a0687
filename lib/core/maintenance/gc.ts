/** Garbage collection: unreferenced objects past the grace period, and what deleted topics left behind. */
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
   * than the grace period. Before reading references it raises the GC fence of each of the topic's partitions
   * past those objects, so a writer still holding one can no longer index it (gc-fence.ts). Delayed records
   * are read before the index: a record moved in between is then seen in one or the other.
   *
   * Object keys sort by birth time, so each store's first listing page tells whether there is anything to
   * collect at all (an idle pass writes nothing), and deletes start while the listing goes on — a pass over
   * tens of thousands of objects spends its time deleting, and stops at `deadline` (the next pass resumes).
   */
  async collectGarbage(topic: TopicConfig, deadline = Number.POSITIVE_INFINITY): Promise<number> {
    const oldest = this.ctx.clock.now() - this.ctx.settings.orphanGraceMs;
    const prefix = objectKeys.topicPrefix(topic.topicId);
    const isCandidate = (key: string) => {
      const born = idTime(key);
      return !Number.isNaN(born) && born < oldest;
    };
    let objects = 0;
    let bytes = 0;
    let deleted = 0;
    let freed = 0;
    let complete = true;
    const firstPages = await Promise.all(this.ctx.stores.map((store) => store.list(prefix, { limit: 1000 })));
    const anything = firstPages.some((page) => page.objects.some((o) => isCandidate(o.key)));
    let live: Set<string> | undefined;
    if (anything) {
      // The partition count read after `oldest` was fixed: a partition added later can only reference uploads
      // born after that, which are not candidates.
      const current = await this.log.topics.get(topic.name, { fresh: true }).catch(() => undefined);
      if (!current || current.topicId !== topic.topicId) return 0; // deleted meanwhile: the purge removes it all
      await this.log.fence.raise(topic.topicId, current.partitionCount, oldest);
      live = new Set<string>();
      for (const item of await this.ctx.meta.query(metaKeys.duePk(topic.topicId))) live.add(dueItem.decode(item).objectKey);
      for (let p = 0; p < current.partitionCount; p++) await referencedObjects(this.log.index, topic, p, live);
    }
    for (let i = 0; i < this.ctx.stores.length; i++) {
      const store = this.ctx.stores[i];
      let page = firstPages[i];
      for (;;) {
        const doomed = page.objects.filter((o) => live && isCandidate(o.key) && !live.has(o.key));
        for (const o of page.objects) {
          objects++;
          bytes += o.size;
        }
        // Deletes in parallel (an object store takes thousands a second); past the deadline the rest goes on
        // the next pass (deletes are idempotent).
        await mapLimit(doomed, 16, async (o) => {
          if (this.ctx.clock.now() >= deadline) return;
          await store.delete(o.key);
          deleted++;
          freed += o.size;
        });
        if (!page.next) break;
        if (this.ctx.clock.now() >= deadline) {
          complete = false;
          break;
        }
        page = await store.list(prefix, { startAfter: page.next, limit: 1000 });
      }
    }
    if (complete) {
      this.ctx.metrics?.set('ObjectsRetained', objects - deleted, { Topic: topic.name });
      this.ctx.metrics?.set('BytesRetained', bytes - freed, { Topic: topic.name });
    }
    if (deleted) this.ctx.metrics?.add('ObjectsCollected', deleted, { Topic: topic.name });
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
