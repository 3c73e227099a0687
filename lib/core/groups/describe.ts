/** Describing and listing groups: members, assignments, committed offsets and lag, from reads only. */
import type { CoreContext } from '../context';
import { FerryError, notFound } from '../../protocol/errors';
import { mapLimit, type Fetcher } from '../log/fetch';
import { registryItem, type GroupState } from '../storage/group-items';
import type { StoredHead } from '../storage/partition-index';
import { groupKeys, metaKeys, validateGroupId } from '../storage/keys';
import type { TopicConfig } from '../model';
import type { Topics } from '../log/topics';
import { assignmentsOf, liveMembers, loadGroup } from './group-state';
import type { GroupOffsets } from './offsets';
import type { GroupDescription, GroupSummary, PartitionLag } from './types';

export class GroupReader {
  constructor(
    private readonly ctx: CoreContext,
    private readonly topics: Topics,
    private readonly fetcher: Fetcher,
    private readonly offsets: GroupOffsets,
  ) {}

  /** Members, assignments, committed offsets and lag (records and seconds), from reads only. */
  async describe(groupId: string): Promise<GroupDescription> {
    validateGroupId(groupId);
    const snap = await loadGroup(this.ctx, groupId);
    if (!snap.state) throw notFound(`consumer group "${groupId}" does not exist`, { groupId });
    // A read never writes (DESIGN §4c): members whose session expired are left out here, and their partitions
    // shown without an owner; the next heartbeat or join removes them and rebalances.
    const liveIds = new Set(liveMembers(snap, this.ctx.clock.now()).map((m) => m.memberId));
    const stored = snap.state;
    const state: GroupState = {
      ...stored,
      members: stored.members.filter((m) => liveIds.has(m.memberId)),
      assignments: stored.assignments.filter((a) => liveIds.has(a.memberId)),
    };
    const committed = await this.offsets.items(groupId);
    const topicNames = new Set<string>([...state.members.flatMap((m) => m.topics), ...committed.keys()]);
    const owners = new Map<string, string>();
    for (const a of state.assignments) for (const p of a.partitions) owners.set(`${a.topic}#${p}`, a.memberId);
    const now = this.ctx.clock.now();
    const offsets: PartitionLag[] = [];
    for (const name of [...topicNames].sort()) {
      let topic: TopicConfig;
      try {
        topic = await this.topics.get(name);
      } catch (e) {
        if (e instanceof FerryError && e.kind === 'not_found') continue;
        throw e;
      }
      const rows = await mapLimit(
        Array.from({ length: topic.partitionCount }, (_, p) => p),
        16,
        async (partition) => {
          const head = await this.fetcher.head(topic, partition);
          const c = committed.get(name)?.get(partition);
          const committedOffset = c && c.topicId === topic.topicId ? c.offset : null;
          let from = committedOffset ?? head.logStartOffset;
          if (from < head.logStartOffset) from = head.logStartOffset;
          const lag = head.nextOffset > from ? head.nextOffset - from : 0n;
          const lagSeconds = lag > 0n ? await this.lagSeconds(topic, partition, head, from, now) : 0;
          return {
            topic: name,
            partition,
            committedOffset,
            logStartOffset: head.logStartOffset,
            highWatermark: head.nextOffset,
            lag,
            lagSeconds,
            owner: owners.get(`${name}#${partition}`) ?? null,
          };
        },
      );
      offsets.push(...rows);
    }
    return {
      groupId,
      generation: state.generation,
      state: state.members.length ? 'stable' : 'empty',
      members: state.members.map((m) => ({
        memberId: m.memberId,
        topics: [...m.topics],
        sessionTimeoutMs: m.sessionTimeoutMs,
        joinedAt: m.joinedAt,
        heartbeatAt: snap.heartbeats.get(m.memberId)?.heartbeatAt ?? m.joinedAt,
        assignments: assignmentsOf(state, m.memberId),
      })),
      offsets,
      totalLag: offsets.reduce((s, o) => s + o.lag, 0n),
    };
  }

  /**
   * Age in seconds of the oldest unconsumed record, from the index alone (the groups function has no object
   * access on AWS): the entry holding `from` knows its batch's newest timestamp, so this is exact for a
   * one-record batch and otherwise low by at most the batch's time span (one flush).
   */
  private async lagSeconds(topic: TopicConfig, partition: number, head: StoredHead, from: bigint, now: number): Promise<number> {
    const e = await this.fetcher.index.entryAt(metaKeys.partitionPk(topic.topicId, partition), head, from);
    return e ? Math.max(0, (now - e.maxTimestamp) / 1000) : 0;
  }

  /** Every group, in id order. Members whose session expired are not counted. */
  async list(): Promise<GroupSummary[]> {
    const entries = await this.ctx.meta.query(groupKeys.registryPk, { prefix: groupKeys.registrySkPrefix });
    const now = this.ctx.clock.now();
    return mapLimit(entries, 16, async (e) => {
      registryItem.decode(e);
      const groupId = e.sk.slice(groupKeys.registrySkPrefix.length);
      const snap = await loadGroup(this.ctx, groupId);
      const members = snap.state ? liveMembers(snap, now).length : 0;
      return { groupId, generation: snap.state?.generation ?? 0, members, state: members ? 'stable' : 'empty' } as GroupSummary;
    });
  }
}
