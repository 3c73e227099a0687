/**
 * Committed offsets of consumer groups, fenced by generation on their own items (DESIGN §3, §4c; G6, G7).
 *
 * The hot path is one single-item conditional write per partition: a commit reads the group state (a plain
 * read), checks that the member is live, in the current generation and owns the partition, then puts the
 * offset item on the condition that it is still at the version read. Commits and heartbeats of different
 * members therefore share no item, and none of them is part of a transaction (DynamoDB cancels transactions
 * that touch an item of another in-flight one).
 *
 * What keeps a stale generation out (G7): every offset item carries a `fence`, the lowest generation whose
 * commits it takes. A rebalance or a seek raises the fence of every partition item of the group's topics to
 * the new generation *before* it writes the new generation to the state item. So a commit that read generation
 * g either lands before the fence moved — and then before generation g + 1 existed — or its condition fails
 * (the fence bumped the item's version), it reads the item again and is refused. Like Kafka's OffsetCommit, a
 * commit of several partitions is applied per partition.
 */
import type { CoreContext } from '../context';
import { FerryError } from '../../protocol/errors';
import { mapLimit, type Fetcher } from '../log/fetch';
import { offsetItem, type CommittedOffset, type GroupState } from '../storage/group-items';
import { groupKeys, validateTopicName } from '../storage/keys';
import type { TopicConfig } from '../model';
import { RETRY, withRetry } from '../storage/cas';
import type { Topics } from '../log/topics';
import type { Item } from '../../ports/metadata-store';

export interface OffsetCommit {
  topic: string;
  partition: number;
  offset: bigint;
}

/** A committed offset as OffsetFetch answers it. */
export interface CommittedPosition {
  topic: string;
  partition: number;
  offset: bigint;
  committedAt: number;
}

/** Where a new generation must fence: every partition of these topics. */
export interface FenceScope {
  topic: string;
  partitions: number;
}

export class GroupOffsets {
  constructor(
    private readonly ctx: CoreContext,
    private readonly topics: Topics,
    private readonly fetcher: Fetcher,
  ) {}

  /**
   * Commits offsets for a member that `check` accepts in `state` (read by the caller; the fences make the
   * decision hold at the write). Answers the offsets committed.
   */
  async commit(groupId: string, state: GroupState, memberId: string, generation: number, offsets: OffsetCommit[]): Promise<OffsetCommit[]> {
    const pk = groupKeys.groupPk(groupId);
    await mapLimit(offsets, 16, (o) =>
      withRetry(
        this.ctx,
        { busy: `group "${groupId}" offsets are being changed concurrently; try again`, details: { groupId } },
        async () => {
          const topic = await this.topics.get(o.topic);
          const sk = groupKeys.offsetSk(o.topic, o.partition);
          const [current, head] = await Promise.all([this.ctx.meta.get(pk, sk), this.fetcher.head(topic, o.partition)]);
          const stored = current && offsetItem.decode(current);
          if (stored && stored.fence > generation) throw staleGeneration(groupId, generation, stored.fence);
          if (o.offset > head.nextOffset) {
            throw new FerryError(
              'offset_out_of_range',
              `offset ${o.offset} of ${o.topic} partition ${o.partition} is beyond its high watermark ${head.nextOffset}`,
              {
                topic: o.topic,
                partition: o.partition,
                logStartOffset: head.logStartOffset.toString(),
                highWatermark: head.nextOffset.toString(),
              },
            );
          }
          const same = stored && stored.topicId === topic.topicId ? stored.offset : null;
          if (same !== null && o.offset < same) {
            throw new FerryError(
              'conflict',
              `offset ${o.offset} of ${o.topic} partition ${o.partition} is below the committed offset ${same}; ` +
                'a committed offset moves back only by seek',
              { topic: o.topic, partition: o.partition, committedOffset: same.toString() },
            );
          }
          const data = offsetItem.encode({
            offset: o.offset,
            fence: stored?.fence ?? 0,
            topicId: topic.topicId,
            generation: state.generation,
            memberId,
            committedAt: this.ctx.clock.now(),
          });
          const res = await this.ctx.meta.write([{ op: 'put', pk, sk, data, expect: current ? current.version : 'absent' }]);
          return res.ok ? { done: undefined } : RETRY; // moved meanwhile (a fence, another commit): judge again
        },
      ),
    );
    return offsets;
  }

  /**
   * Raises the fence of every partition item in `scope` to `generation` (never lowers it), optionally setting
   * the offset too (a seek). Must finish before `generation` is written to the state item.
   */
  async fence(
    groupId: string,
    scope: FenceScope[],
    generation: number,
    set?: Map<string, { topic: TopicConfig; offset: bigint }>,
  ): Promise<void> {
    const pk = groupKeys.groupPk(groupId);
    const targets: Array<{ topic: string; partition: number }> = [];
    for (const s of scope) for (let p = 0; p < s.partitions; p++) targets.push({ topic: s.topic, partition: p });
    for (const key of set?.keys() ?? []) {
      const [topic, partition] = splitKey(key);
      if (!targets.some((t) => t.topic === topic && t.partition === partition)) targets.push({ topic, partition });
    }
    await mapLimit(targets, 16, ({ topic, partition }) =>
      withRetry(this.ctx, { busy: `group "${groupId}" is being changed concurrently; try again`, details: { groupId } }, async () => {
        const sk = groupKeys.offsetSk(topic, partition);
        const current = await this.ctx.meta.get(pk, sk);
        const stored = current && offsetItem.decode(current);
        const target = set?.get(`${topic}#${partition}`);
        if (!target && stored && stored.fence >= generation) return { done: undefined };
        let topicId = target?.topic.topicId ?? stored?.topicId;
        if (!topicId) {
          const config = await this.topics.get(topic).catch(() => undefined);
          if (!config) return { done: undefined }; // deleted: nothing can commit to it
          topicId = config.topicId;
        }
        const data = offsetItem.encode({
          offset: target ? target.offset : (stored?.offset ?? null),
          fence: Math.max(generation, stored?.fence ?? 0),
          topicId,
          generation: target ? generation : (stored?.generation ?? 0),
          memberId: target ? null : (stored?.memberId ?? null),
          committedAt: target ? this.ctx.clock.now() : (stored?.committedAt ?? this.ctx.clock.now()),
        });
        const res = await this.ctx.meta.write([{ op: 'put', pk, sk, data, expect: current ? current.version : 'absent' }]);
        return res.ok ? { done: undefined } : RETRY;
      }),
    );
  }

  /** Every offset item of a group (fence-only items included), by topic and partition. */
  async items(groupId: string, topic?: string): Promise<Map<string, Map<number, CommittedOffset>>> {
    const prefix = topic === undefined ? groupKeys.offsetSkPrefix : `${groupKeys.offsetSkPrefix}${validateTopicName(topic)}#`;
    const items: Item[] = await this.ctx.meta.query(groupKeys.groupPk(groupId), { prefix });
    const out = new Map<string, Map<number, CommittedOffset>>();
    for (const item of items) {
      const [name, partition] = splitKey(item.sk.slice(groupKeys.offsetSkPrefix.length));
      if (!out.has(name)) out.set(name, new Map());
      out.get(name)!.set(partition, offsetItem.decode(item));
    }
    return out;
  }

  /**
   * Committed offsets only (Kafka's OffsetFetch): metadata reads, no object read, no lag. Offsets of a topic
   * deleted and created again (another topic id) are not the new topic's and are left out.
   */
  async committed(groupId: string, topic?: string): Promise<CommittedPosition[]> {
    const out: CommittedPosition[] = [];
    for (const [name, partitions] of await this.items(groupId, topic)) {
      const config = await this.topics.get(name).catch(() => undefined);
      if (!config) continue;
      for (const [partition, c] of [...partitions].sort((a, b) => a[0] - b[0])) {
        if (c.offset !== null && c.topicId === config.topicId)
          out.push({ topic: name, partition, offset: c.offset, committedAt: c.committedAt });
      }
    }
    return out;
  }
}

/** `topic#partition` (the offset sk without its prefix) → its parts; topic names never hold `#`. */
function splitKey(key: string): [string, number] {
  const cut = key.lastIndexOf('#');
  return [key.slice(0, cut), Number(key.slice(cut + 1))];
}

export function staleGeneration(groupId: string, generation: number, current: number): FerryError {
  return new FerryError(
    'fenced',
    `generation ${generation} of group "${groupId}" is stale; the current generation is ${current}: join or heartbeat again`,
    { reason: 'stale_generation', groupId, generation: current },
  );
}
