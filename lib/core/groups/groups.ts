/**
 * Consumer groups over the MetadataStore port (DESIGN §3): membership, generations, sticky assignment,
 * session timeouts on the Clock, committed offsets fenced by generation and ownership, seek, and lag.
 *
 * The facade `log.groups` that HTTP, the embedded API and tests call; each job lives in its own file:
 * membership.ts (join, heartbeat, leave, commit fencing), mutate-group.ts (the conditional group write),
 * offsets.ts (offset items and their fences), describe.ts (describe, list, lag), positions.ts (seek targets),
 * rebalance.ts and assignor.ts (the next generation), delete-group.ts.
 */
import type { CoreContext } from '../context';
import { FerryError, invalid, notFound } from '../../protocol/errors';
import type { Fetcher } from '../log/fetch';
import type { MultiFetcher } from '../log/multi-fetch';
import type { Topics } from '../log/topics';
import { registryItem, type CommittedOffset, type GroupState } from '../storage/group-items';
import { groupKeys, validateGroupId, validateTopicName } from '../storage/keys';
import type { TopicConfig } from '../model';
import type { WriteOp } from '../../ports/metadata-store';
import { deleteGroup, type DeletedGroup } from './delete-group';
import { GroupReader } from './describe';
import { checkMemberId, emptyState, putState } from './group-state';
import { MemberFetch, type MemberFetchInput, type MemberFetchResult } from './member-fetch';
import { Membership } from './membership';
import { mutateGroup } from './mutate-group';
import { GroupOffsets, type CommittedPosition } from './offsets';
import { Positions } from './positions';
import { Rebalancer } from './rebalance';
import type { CommitInput, GroupDescription, GroupSummary, JoinInput, MemberView, SeekInput } from './types';

export class Groups {
  private readonly offsets: GroupOffsets;
  private readonly reader: GroupReader;
  private readonly positions: Positions;
  private readonly membership: Membership;

  private readonly reads: MemberFetch;

  constructor(
    private readonly ctx: CoreContext,
    private readonly topics: Topics,
    fetcher: Fetcher,
    multi: MultiFetcher,
  ) {
    this.offsets = new GroupOffsets(ctx, topics, fetcher);
    this.reads = new MemberFetch(ctx, topics, this.offsets, multi);
    this.reader = new GroupReader(ctx, topics, fetcher, this.offsets);
    this.positions = new Positions(ctx, fetcher);
    this.membership = new Membership(ctx, topics, this.offsets, this.positions, new Rebalancer(topics));
  }

  // ---- membership (membership.ts) ---------------------------------------------------------------------

  /**
   * Adds a member: a new generation whose assignment covers its topics.
   *
   * @example
   *   const { memberId, generation, assignments } = await log.groups.join('billing', { topics: ['orders'] });
   */
  join(groupId: string, input: JoinInput): Promise<MemberView> {
    return this.membership.join(groupId, input);
  }

  /**
   * Keeps a member alive and tells it the current generation and its assignment; removes expired members and
   * rebalances when needed. Unknown or expired member: `fenced` (join again).
   */
  heartbeat(groupId: string, memberId: string): Promise<MemberView> {
    return this.membership.heartbeat(groupId, memberId);
  }

  /** Removes a member (a clean leave) and rebalances the rest. Leaving twice is harmless. */
  leave(groupId: string, memberId: string): Promise<MemberView> {
    return this.membership.leave(groupId, memberId);
  }

  /**
   * The records of every partition the member owns (or of the positions it names), in one long poll
   * (member-fetch.ts). Unknown member: `fenced`; a position on a partition it does not own: `fenced`.
   *
   * @example
   *   const { partitions } = await log.groups.fetch('billing', memberId, { maxRecords: 500, maxBytes: 1 << 20, waitMs: 5000 });
   */
  fetch(groupId: string, memberId: string, input: MemberFetchInput): Promise<MemberFetchResult> {
    return this.reads.fetch(groupId, memberId, input);
  }

  // ---- offsets -------------------------------------------------------------------------------------------

  /**
   * Commits offsets (each the next offset to read). Accepted only from a live member of the current
   * generation that owns every partition named, in one write conditioned on the group state's version;
   * a committed offset never moves back here (only `seek` moves it back).
   */
  async commit(groupId: string, input: CommitInput): Promise<Array<{ topic: string; partition: number; offset: bigint }>> {
    validateGroupId(groupId);
    checkMemberId(input.memberId);
    if (input.offsets.length === 0) throw invalid('offsets must hold at least one entry');
    const seen = new Set<string>();
    for (const o of input.offsets) {
      validateTopicName(o.topic);
      const k = `${o.topic}#${o.partition}`;
      if (seen.has(k)) throw invalid(`offsets names ${o.topic} partition ${o.partition} twice`);
      seen.add(k);
    }
    const state = await this.membership.committerState(groupId, input.memberId, input.generation, input.offsets);
    try {
      return await this.offsets.commit(groupId, state, input.memberId, input.generation, input.offsets);
    } catch (e) {
      const fence = e instanceof FerryError && e.details.reason === 'stale_generation' ? Number(e.details.generation) : 0;
      if (fence > state.generation) await this.membership.catchUp(groupId, fence);
      throw e;
    }
  }

  /**
   * Moves committed offsets, backwards or forwards (the one way they may move back). The generation moves
   * on too, so members drop their positions (their next commit is fenced) and read the new offsets.
   */
  async seek(
    groupId: string,
    input: SeekInput,
  ): Promise<{ generation: number; offsets: Array<{ topic: string; partition: number; offset: bigint }> }> {
    validateGroupId(groupId);
    const topic = await this.topics.get(validateTopicName(input.topic), { fresh: true });
    if (input.partition !== undefined && (input.partition < 0 || input.partition >= topic.partitionCount)) {
      throw notFound(`partition ${input.partition} does not exist; topic "${topic.name}" has partitions 0 to ${topic.partitionCount - 1}`, {
        partition: input.partition,
        partitionCount: topic.partitionCount,
      });
    }
    const partitions = input.partition !== undefined ? [input.partition] : Array.from({ length: topic.partitionCount }, (_, p) => p);
    const targets = await Promise.all(
      partitions.map(async (p) => ({ partition: p, offset: await this.positions.resolve(topic, p, input.to) })),
    );
    const set = new Map(targets.map((t) => [`${topic.name}#${t.partition}`, { topic, offset: t.offset }]));
    const generation = await mutateGroup(this.ctx, this.offsets, groupId, async (snap, now) => {
      const state = snap.state ?? emptyState(now);
      const next: GroupState = { ...state, generation: state.generation + 1, updatedAt: now };
      const ops: WriteOp[] = [putState(snap, next)];
      if (!snap.state) {
        ops.push({ op: 'put', pk: groupKeys.registryPk, sk: groupKeys.registrySk(groupId), data: registryItem.encode({ createdAt: now }) });
      }
      return { ops, result: next.generation, next, set };
    });
    return { generation, offsets: targets.map((t) => ({ topic: topic.name, partition: t.partition, offset: t.offset })) };
  }

  /** Offset items of a group (fence-only ones hold `offset: null`), by topic and partition. */
  committed(groupId: string): Promise<Map<string, Map<number, CommittedOffset>>> {
    return this.offsets.items(groupId);
  }

  /**
   * Committed offsets only (Kafka's OffsetFetch): what a consumer starts from on every join or rebalance.
   * Metadata reads only, no lag. An unknown group has none.
   */
  async fetchOffsets(groupId: string, topic?: string): Promise<CommittedPosition[]> {
    validateGroupId(groupId);
    return this.offsets.committed(groupId, topic === undefined ? undefined : validateTopicName(topic));
  }

  // ---- describe and list (describe.ts) ----------------------------------------------------------------------

  /** Members, assignments, committed offsets and lag (records and seconds), from reads only. */
  describe(groupId: string): Promise<GroupDescription> {
    return this.reader.describe(groupId);
  }

  /** Every group, in id order. Members whose session expired are not counted. */
  list(): Promise<GroupSummary[]> {
    return this.reader.list();
  }

  /** Deletes an empty group and its committed offsets (delete-group.ts); `conflict` while a member is live. */
  delete(groupId: string): Promise<DeletedGroup> {
    return deleteGroup(this.ctx, groupId);
  }

  /** The first offset whose record's timestamp is at or after `timestamp` (positions.ts). */
  offsetForTimestamp(topic: TopicConfig, partition: number, timestamp: number, logStart: bigint, highWatermark: bigint): Promise<bigint> {
    return this.positions.offsetForTimestamp(topic, partition, timestamp, logStart, highWatermark);
  }
}
