/** What maintenance's jobs share: the partition index and listing a store's objects page by page. */
import type { ObjectStore } from '../../ports/object-store';
import type { CoreContext } from '../context';
import { entryItem } from '../storage/items';
import { metaKeys } from '../storage/keys';
import type { IndexEntry, TopicConfig } from '../model';

/** Every index entry of a partition, in offset order. */
export async function partitionEntries(ctx: CoreContext, topic: TopicConfig, partition: number): Promise<IndexEntry[]> {
  const pk = metaKeys.partitionPk(topic.topicId, partition);
  return (await ctx.meta.query(pk, { prefix: metaKeys.entrySkPrefix })).map(entryItem.decode);
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
