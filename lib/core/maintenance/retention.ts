/** Retention: whole index entries past a topic's age or size limit go, `logStartOffset` first. */
import type { WriteOp } from '../../ports/metadata-store';
import type { CoreContext } from '../context';
import { entryItem, headItem } from '../storage/items';
import { metaKeys } from '../storage/keys';
import { RETRY, withRetry, type Attempt } from '../storage/cas';
import type { TopicConfig } from '../model';
import type { Log } from '../log/log';

export class Retention {
  private readonly ctx: CoreContext;

  constructor(private readonly log: Log) {
    this.ctx = log.ctx;
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
      while (drop < live.length && (live[drop].maxTimestamp < cutoff || (topic.retentionBytes !== -1 && bytes > topic.retentionBytes))) {
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
}
