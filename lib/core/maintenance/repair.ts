/** Replica repair: every store an index entry names must hold an intact copy of its object. */
import type { CoreContext } from '../context';
import { decodeBatch } from '../codec/segment';
import type { IndexEntry, TopicConfig } from '../model';
import type { Log } from '../log/log';
import { listAll, partitionEntries } from './index-scan';
import { objectKeys } from '../storage/keys';

export class ReplicaRepair {
  private readonly ctx: CoreContext;

  constructor(private readonly log: Log) {
    this.ctx = log.ctx;
  }

  /**
   * Restores copies that are missing from a store, found by listing each store (no object is read unless a
   * copy is missing; then the source copy's referenced batches are checked before it is copied). What
   * maintenance runs on every pass for topics with R ≥ 2; `repair` also reads and checks every copy.
   */
  async repairMissing(topic: TopicConfig): Promise<number> {
    const want = new Map<string, IndexEntry[]>();
    for (let p = 0; p < topic.partitionCount; p++) {
      for (const e of await partitionEntries(this.log.index, topic, p)) {
        const list = want.get(e.objectKey) ?? [];
        list.push(e);
        want.set(e.objectKey, list);
      }
    }
    if (want.size === 0) return 0;
    const present = new Map<string, Set<string>>();
    for (const store of this.ctx.stores) {
      const keys = new Set<string>();
      for await (const { key } of listAll(store, objectKeys.topicPrefix(topic.topicId))) keys.add(key);
      present.set(store.name, keys);
    }
    let repaired = 0;
    for (const [key, entries] of want) {
      const names = [...new Set(entries.flatMap((e) => e.replicas))].filter((n) => present.has(n));
      const missing = names.filter((n) => !present.get(n)!.has(key));
      if (missing.length === 0) continue;
      let body: Uint8Array | undefined;
      for (const name of names.filter((n) => present.get(n)!.has(key))) {
        const copy = await this.ctx.stores
          .find((s) => s.name === name)!
          .get(key)
          .catch(() => undefined);
        if (copy && intact(copy, entries)) {
          body = copy;
          break;
        }
      }
      if (!body) continue; // no intact copy to restore from: reads report `data`, `ferry repair` names it
      for (const name of missing) {
        await this.ctx.stores.find((s) => s.name === name)!.putIfAbsent(key, body);
        repaired++;
      }
    }
    return repaired;
  }

  /**
   * Restores missing or damaged copies (each referenced batch must pass its CRC) from the first intact replica;
   * returns how many were written. `onLost` hears of every batch with no intact copy left (reads of it answer
   * `data`).
   */
  async repair(
    topic: TopicConfig,
    onLost?: (lost: { partition: number; baseOffset: bigint; count: number; objectKey: string }) => void,
  ): Promise<number> {
    const byObject = new Map<string, IndexEntry[]>();
    const partitionOf = new Map<IndexEntry, number>();
    for (let p = 0; p < topic.partitionCount; p++) {
      for (const e of await partitionEntries(this.log.index, topic, p)) {
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
}

function intact(body: Uint8Array, entries: IndexEntry[]): boolean {
  try {
    for (const e of entries) decodeBatch(body.subarray(e.byteStart, e.byteStart + e.byteLength), e.count);
    return true;
  } catch {
    return false;
  }
}
