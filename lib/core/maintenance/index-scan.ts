/** What maintenance's jobs share: the partition index and listing a store's objects page by page. */
import type { ObjectStore } from '../../ports/object-store';
import { metaKeys } from '../storage/keys';
import type { PartitionIndex } from '../storage/partition-index';
import type { IndexEntry, TopicConfig } from '../model';

/** Every readable index entry of a partition (from `logStartOffset`), in offset order. */
export async function partitionEntries(index: PartitionIndex, topic: TopicConfig, partition: number): Promise<IndexEntry[]> {
  const pk = metaKeys.partitionPk(topic.topicId, partition);
  return index.entries(pk, await index.head(pk));
}

/**
 * Every object key the partition's index items name — chunks below `logStartOffset` and overlapping copies
 * included — read head first: an entry that moves from the head's tail to a chunk meanwhile is in the head
 * read, and one committed after the read can only name an object the collector's fence already protects.
 */
export async function referencedObjects(index: PartitionIndex, topic: TopicConfig, partition: number, into: Set<string>): Promise<void> {
  const pk = metaKeys.partitionPk(topic.topicId, partition);
  const head = await index.head(pk);
  for (const e of head.tail) into.add(e.objectKey);
  for (const c of await index.chunks(pk)) for (const e of c.entries) into.add(e.objectKey);
}

export async function* listAll(store: ObjectStore, prefix: string): AsyncGenerator<{ key: string; size: number }> {
  let startAfter: string | undefined;
  for (;;) {
    const page = await store.list(prefix, { startAfter, limit: 1000 });
    for (const o of page.objects) yield o;
    if (!page.next) return;
    startAfter = page.next;
  }
}
