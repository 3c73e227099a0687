/** Where a group's partitions start: at the high watermark for a new group, or where a seek points. */
import type { CoreContext } from '../context';
import { FerryError } from '../../protocol/errors';
import { mapLimit, type Fetcher } from '../log/fetch';
import { offsetItem } from '../storage/group-items';
import { groupKeys, metaKeys } from '../storage/keys';
import type { TopicConfig } from '../model';
import type { SeekTarget } from './types';

export class Positions {
  constructor(
    private readonly ctx: CoreContext,
    private readonly fetcher: Fetcher,
  ) {}

  /** A new group's (or a new partition's) start at the high watermark, never over a real commit. */
  async startAtLatest(groupId: string, topics: TopicConfig[]): Promise<void> {
    const pk = groupKeys.groupPk(groupId);
    const now = this.ctx.clock.now();
    for (const topic of topics) {
      await mapLimit(
        Array.from({ length: topic.partitionCount }, (_, p) => p),
        16,
        async (partition) => {
          const sk = groupKeys.offsetSk(topic.name, partition);
          const current = await this.ctx.meta.get(pk, sk);
          const stored = current && offsetItem.decode(current);
          if (stored && stored.topicId === topic.topicId && stored.offset !== null) return;
          const head = await this.fetcher.head(topic, partition);
          const data = offsetItem.encode({
            offset: head.nextOffset,
            fence: stored?.fence ?? 0,
            topicId: topic.topicId,
            generation: 0,
            memberId: null,
            committedAt: now,
          });
          // Lost race: someone else started it (or committed); either way an offset exists now.
          await this.ctx.meta.write([{ op: 'put', pk, sk, data, expect: current ? current.version : 'absent' }]);
        },
      );
    }
  }

  /** A seek target → an offset within [logStartOffset, highWatermark]. */
  async resolve(topic: TopicConfig, partition: number, to: SeekTarget): Promise<bigint> {
    const head = await this.fetcher.head(topic, partition);
    if (to === 'earliest') return head.logStartOffset;
    if (to === 'latest') return head.nextOffset;
    if ('offset' in to) {
      if (to.offset < head.logStartOffset || to.offset > head.nextOffset) {
        throw new FerryError(
          'offset_out_of_range',
          `offset ${to.offset} is outside partition ${partition} of "${topic.name}": valid offsets are ${head.logStartOffset} to ${head.nextOffset}`,
          { partition, logStartOffset: head.logStartOffset.toString(), highWatermark: head.nextOffset.toString() },
        );
      }
      return to.offset;
    }
    return this.offsetForTimestamp(topic, partition, to.timestamp, head.logStartOffset, head.nextOffset);
  }

  /**
   * The first offset whose record's timestamp is at or after `timestamp` (the high watermark if none): the
   * first index entry whose maxTimestamp reaches it holds the answer, found in its batch.
   */
  async offsetForTimestamp(
    topic: TopicConfig,
    partition: number,
    timestamp: number,
    logStart: bigint,
    highWatermark: bigint,
  ): Promise<bigint> {
    const pk = metaKeys.partitionPk(topic.topicId, partition);
    const head = await this.fetcher.head(topic, partition);
    for (const e of await this.fetcher.index.entries(pk, head, logStart > head.logStartOffset ? logStart : head.logStartOffset)) {
      const end = e.baseOffset + BigInt(e.count);
      if (end <= logStart) continue;
      if (e.baseOffset >= highWatermark) return highWatermark;
      if (e.maxTimestamp < timestamp) continue;
      const from = e.baseOffset < logStart ? logStart : e.baseOffset;
      const res = await this.fetcher.fetch(topic, partition, from, {
        maxRecords: Number(end - from),
        maxBytes: Number.MAX_SAFE_INTEGER,
        waitMs: 0,
      });
      const hit = res.records.find((r) => r.offset < end && r.timestamp >= timestamp);
      if (hit) return hit.offset;
    }
    return highWatermark;
  }
}
