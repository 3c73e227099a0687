/** Retention: whole index entries past a topic's age or size limit go, `logStartOffset` first. */
import type { WriteOp } from '../../ports/metadata-store';
import type { CoreContext } from '../context';
import { metaKeys } from '../storage/keys';
import { mapLimit } from '../log/fetch';
import { headPut, withoutArchived } from '../storage/partition-index';
import { RETRY, withRetry, type Attempt } from '../storage/cas';
import type { TopicConfig } from '../model';
import type { Log } from '../log/log';

export class Retention {
  private readonly ctx: CoreContext;

  constructor(private readonly log: Log) {
    this.ctx = log.ctx;
  }

  /**
   * Drops whole index entries past retention (age by their newest record, or beyond `retentionBytes` counted
   * from the newest): `logStartOffset` moves first (one conditional write of the head, which also drops those
   * entries from its tail), then the chunks wholly below it are deleted, one single-item delete each.
   * Answers how many entries this pass dropped.
   */
  async applyRetention(topic: TopicConfig): Promise<number> {
    if (topic.retentionMs === -1 && topic.retentionBytes === -1) return 0;
    let deleted = 0;
    for (let p = 0; p < topic.partitionCount; p++) deleted += await this.retainPartition(topic, p);
    return deleted;
  }

  private async retainPartition(topic: TopicConfig, partition: number): Promise<number> {
    const pk = metaKeys.partitionPk(topic.topicId, partition);
    const index = this.log.index;
    // A producer committing meanwhile is a lost race: look again; a partition that stays busy is retained on
    // the next pass.
    const moved = await withRetry(
      this.ctx,
      { busy: '', exhausted: () => undefined },
      async (): Promise<Attempt<{ start: bigint; dropped: number } | undefined>> => {
        const head = await index.head(pk);
        if (head.version === 0) return { done: undefined };
        const live = await index.entries(pk, head);
        const cutoff = topic.retentionMs === -1 ? -Infinity : this.ctx.clock.now() - topic.retentionMs;
        let bytes = live.reduce((n, e) => n + e.byteLength, 0);
        let drop = 0;
        while (drop < live.length && (live[drop].maxTimestamp < cutoff || (topic.retentionBytes !== -1 && bytes > topic.retentionBytes))) {
          bytes -= live[drop].byteLength;
          drop++;
        }
        if (drop === 0) return { done: { start: head.logStartOffset, dropped: 0 } };
        const newStart = live[drop - 1].baseOffset + BigInt(live[drop - 1].count);
        const next = withoutArchived({ ...head, logStartOffset: newStart }, newStart);
        const res = await this.ctx.meta.write([headPut(pk, head, next)]).finally(() => this.log.appender.forgetHead(pk));
        return res.ok ? { done: { start: newStart, dropped: drop } } : RETRY;
      },
    );
    if (moved === undefined) return 0;
    // Below logStartOffset nobody reads: whole chunks there go without conditions (a chunk that reaches above
    // it stays until retention passes its end).
    const gone: WriteOp[] = [];
    for (const c of await index.chunks(pk)) {
      if (c.end > moved.start) break;
      gone.push({ op: 'delete', pk, sk: c.sk });
    }
    if (this.ctx.meta.multiItemWrites === 'cheap') {
      for (let i = 0; i < gone.length; i += this.ctx.meta.maxOpsPerWrite)
        await this.ctx.meta.write(gone.slice(i, i + this.ctx.meta.maxOpsPerWrite));
    } else {
      await mapLimit(gone, 16, (op) => this.ctx.meta.write([op])); // single-item deletes, a few in flight
    }
    return moved.dropped;
  }
}
