/**
 * Consumer groups over the MetadataStore port (DESIGN §3): membership, generations, sticky assignment,
 * session timeouts on the Clock, committed offsets fenced by generation and ownership, seek, and lag.
 *
 * Every membership change is one conditional write: the group's `state` item at the version read (or
 * absent), together with the member heartbeat items it adds or removes. Two processes (two Lambdas) that
 * change the same group race on that version; the loser re-reads and tries again. Expired members are removed
 * lazily by whoever touches the group next, judged by `Clock.now()`. The hot paths share no item: a heartbeat
 * writes only its member's item, a commit only the offset items (fenced by generation: group-offsets.ts).
 *
 * A member that is unknown (never joined, left, or expired and removed) is answered with `fenced`
 * (`details.reason: "unknown_member"`), as Kafka answers UNKNOWN_MEMBER_ID: the client must join again.
 */
import type { CoreContext } from '../context';
import { FerryError, invalid, notFound } from '../../protocol/errors';
import type { Fetcher } from '../log/fetch';
import type { Topics } from '../log/topics';
import { groupStateItem, memberItem, registryItem, type CommittedOffset, type GroupMember, type GroupState } from '../storage/group-items';
import { RETRY, withRetry } from '../storage/cas';
import { groupKeys, validateGroupId, validateTopicName } from '../storage/keys';
import type { TopicConfig } from '../model';
import type { WriteOp } from '../../ports/metadata-store';
import { deleteGroup, type DeletedGroup } from './delete-group';
import { GroupReader } from './describe';
import {
  checkMemberId,
  emptyState,
  fenceScope,
  liveMembers,
  loadGroup,
  putState,
  removeOps,
  unknownMember,
  view,
  type Plan,
  type Snapshot,
} from './group-state';
import { GroupOffsets, staleGeneration, type CommittedPosition } from './offsets';
import { Positions } from './positions';
import { Rebalancer } from './rebalance';
import {
  DEFAULT_SESSION_TIMEOUT_MS,
  MAX_MEMBERS,
  MAX_SESSION_TIMEOUT_MS,
  MAX_TOPICS_PER_MEMBER,
  MIN_SESSION_TIMEOUT_MS,
  type CommitInput,
  type GroupDescription,
  type GroupSummary,
  type JoinInput,
  type MemberView,
  type SeekInput,
} from './types';

/** How long a commit refused by a fence ahead of the state waits before catching the state up to it. */
const CATCH_UP_DELAY_MS = 1_000;
/** Attempts at a conditional group write before answering `unavailable`. */
const ATTEMPTS = 16;

export class Groups {
  private readonly offsets: GroupOffsets;
  private readonly reader: GroupReader;
  private readonly positions: Positions;
  private readonly rebalancer: Rebalancer;

  constructor(
    private readonly ctx: CoreContext,
    private readonly topics: Topics,
    fetcher: Fetcher,
  ) {
    this.offsets = new GroupOffsets(ctx, topics, fetcher);
    this.reader = new GroupReader(ctx, topics, fetcher, this.offsets);
    this.positions = new Positions(ctx, fetcher);
    this.rebalancer = new Rebalancer(topics);
  }

  // ---- membership -------------------------------------------------------------------------------------

  /**
   * Adds a member: a new generation whose assignment covers its topics.
   *
   * @example
   *   const { memberId, generation, assignments } = await log.groups.join('billing', { topics: ['orders'] });
   */
  async join(groupId: string, input: JoinInput): Promise<MemberView> {
    validateGroupId(groupId);
    const topicNames = [...new Set(input.topics.map((t) => validateTopicName(t)))].sort();
    if (topicNames.length === 0) throw invalid('topics must name at least one topic', { field: 'topics' });
    if (topicNames.length > MAX_TOPICS_PER_MEMBER) {
      throw invalid(`a member may subscribe to at most ${MAX_TOPICS_PER_MEMBER} topics (got ${topicNames.length})`);
    }
    const sessionTimeoutMs = input.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    if (!Number.isSafeInteger(sessionTimeoutMs) || sessionTimeoutMs < MIN_SESSION_TIMEOUT_MS || sessionTimeoutMs > MAX_SESSION_TIMEOUT_MS) {
      throw invalid(`sessionTimeoutMs must be from ${MIN_SESSION_TIMEOUT_MS} to ${MAX_SESSION_TIMEOUT_MS} (got ${sessionTimeoutMs})`);
    }
    const topics = await Promise.all(topicNames.map((t) => this.topics.get(t, { fresh: true }))); // 404 for unknown
    // `from` applies to a new group only (as auto.offset.reset to a consumer without offsets): a member must
    // not move the start of partitions that existing members are reading from the earliest record.
    if (input.from === 'latest' && !(await this.ctx.meta.get(groupKeys.groupPk(groupId), groupKeys.stateSk))) {
      await this.positions.startAtLatest(groupId, topics);
    }

    const now = this.ctx.clock.now();
    const memberId = this.ctx.ids.timeOrderedId(now);
    return this.mutate(groupId, async (snap, now) => {
      const state = snap.state ?? emptyState(now);
      const live = liveMembers(snap, now);
      if (live.length >= MAX_MEMBERS) {
        throw new FerryError('conflict', `group "${groupId}" has ${live.length} members, the most a group may have`);
      }
      const member: GroupMember = { memberId, topics: topicNames, sessionTimeoutMs, joinedAt: now };
      const next = await this.rebalancer.rebalance(state, [...live, member], now);
      const ops: WriteOp[] = [
        putState(snap, next),
        { op: 'put', pk: snap.pk, sk: groupKeys.memberSk(memberId), data: memberItem.encode({ heartbeatAt: now }), expect: 'absent' },
        ...removeOps(snap, live),
      ];
      if (!snap.state) {
        ops.push({ op: 'put', pk: groupKeys.registryPk, sk: groupKeys.registrySk(groupId), data: registryItem.encode({ createdAt: now }) });
      }
      return { ops, result: view(next, memberId), next };
    });
  }

  /**
   * Keeps a member alive and tells it the current generation and its assignment; removes expired members and
   * rebalances when needed. Unknown or expired member: `fenced` (join again).
   */
  async heartbeat(groupId: string, memberId: string): Promise<MemberView> {
    validateGroupId(groupId);
    checkMemberId(memberId);
    return this.mutate(groupId, async (snap, now) => {
      const live = liveMembers(snap, now);
      const me = live.find((m) => m.memberId === memberId);
      if (!snap.state || !me) throw unknownMember(groupId, memberId);
      const beat: WriteOp = {
        op: 'put',
        pk: snap.pk,
        sk: groupKeys.memberSk(memberId),
        data: memberItem.encode({ heartbeatAt: now }),
        expect: snap.heartbeats.get(memberId)!.version,
      };
      const changed = live.length !== snap.state.members.length || (await this.rebalancer.countsChanged(snap.state, live));
      // The common case is one single-item write on the member's own item: heartbeats of different members
      // never conflict. The answer may trail a rebalance that lands meanwhile; the next beat or commit tells.
      if (!changed) return { ops: [beat], result: view(snap.state, memberId) };
      const next = await this.rebalancer.rebalance(snap.state, live, now);
      return { ops: [putState(snap, next), beat, ...removeOps(snap, live)], result: view(next, memberId), next };
    });
  }

  /** Removes a member (a clean leave) and rebalances the rest. Leaving twice is harmless. */
  async leave(groupId: string, memberId: string): Promise<MemberView> {
    validateGroupId(groupId);
    checkMemberId(memberId);
    return this.mutate(groupId, async (snap, now) => {
      if (!snap.state) throw notFound(`consumer group "${groupId}" does not exist`, { groupId });
      const live = liveMembers(snap, now).filter((m) => m.memberId !== memberId);
      const wasMember = snap.state.members.some((m) => m.memberId === memberId);
      if (!wasMember && live.length === snap.state.members.length) {
        return { ops: [], result: { memberId, generation: snap.state.generation, assignments: [] } };
      }
      const next = await this.rebalancer.rebalance(snap.state, live, now);
      return { ops: [putState(snap, next), ...removeOps(snap, live)], result: view(next, memberId), next };
    });
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
    const pk = groupKeys.groupPk(groupId);
    // Plain reads: nothing here joins a transaction; the offset items' fences make the checks hold (group-offsets.ts).
    const [stateItem, beatItem] = await Promise.all([
      this.ctx.meta.get(pk, groupKeys.stateSk),
      this.ctx.meta.get(pk, groupKeys.memberSk(input.memberId)),
    ]);
    const now = this.ctx.clock.now();
    const state = stateItem && groupStateItem.decode(stateItem);
    const member = state?.members.find((m) => m.memberId === input.memberId);
    if (!state || !member || !beatItem || now - memberItem.decode(beatItem).heartbeatAt > member.sessionTimeoutMs) {
      throw unknownMember(groupId, input.memberId);
    }
    if (input.generation !== state.generation) throw staleGeneration(groupId, input.generation, state.generation);
    for (const o of input.offsets) {
      const owns = state.assignments.some(
        (a) => a.memberId === input.memberId && a.topic === o.topic && a.partitions.includes(o.partition),
      );
      if (!owns) {
        throw new FerryError(
          'fenced',
          `member ${input.memberId} does not own ${o.topic} partition ${o.partition} in generation ${state.generation} of group "${groupId}"`,
          { reason: 'not_owner', groupId, generation: state.generation, topic: o.topic, partition: o.partition },
        );
      }
    }
    try {
      return await this.offsets.commit(groupId, state, input.memberId, input.generation, input.offsets);
    } catch (e) {
      const fence = e instanceof FerryError && e.details.reason === 'stale_generation' ? Number(e.details.generation) : 0;
      if (fence > state.generation) await this.catchUp(groupId, fence);
      throw e;
    }
  }

  /**
   * A fence ahead of the state: a rebalance raised it and has not written its generation yet — or never will
   * (its process died in between). Moving the state up to the fence (same members and assignment) lets members
   * rejoin the live generation instead of being refused forever; if the rebalance is still in flight, it
   * loses its race, reads this state and makes the next generation.
   */
  private async catchUp(groupId: string, fence: number): Promise<void> {
    // A live rebalance writes its generation milliseconds after its fences: give it time to, rather than
    // costing it a lost race and the group an extra generation.
    await this.ctx.clock.sleep(CATCH_UP_DELAY_MS);
    await this.mutate(groupId, async (snap, now) => {
      if (!snap.state || snap.state.generation >= fence) return { ops: [], result: undefined };
      const next: GroupState = { ...snap.state, generation: fence, updatedAt: now };
      return { ops: [putState(snap, next)], result: undefined, next };
    });
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
    const generation = await this.mutate(groupId, async (snap, now) => {
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

  // ---- internals ------------------------------------------------------------------------------------------

  /**
   * Reads, plans and writes conditionally, again on a lost race. A plan with no ops writes nothing. A plan
   * that moves to a new generation (`next`) first raises the fences of the partitions of both the old and the
   * new assignment to it (and sets a seek's offsets), so no commit of an older generation lands afterwards.
   */
  private async mutate<T>(groupId: string, plan: (snap: Snapshot, now: number) => Promise<Plan<T>>): Promise<T> {
    const busy = { attempts: ATTEMPTS, busy: `group "${groupId}" is being changed concurrently; try again`, details: { groupId } };
    return withRetry(this.ctx, busy, async () => {
      const snap = await loadGroup(this.ctx, groupId);
      const { ops, result, next, set } = await plan(snap, this.ctx.clock.now());
      if (ops.length === 0) return { done: result };
      if (ops.length > this.ctx.meta.maxOpsPerWrite) {
        throw new FerryError('unavailable', `group "${groupId}" change needs ${ops.length} writes, more than one transaction takes`);
      }
      if (next) await this.offsets.fence(groupId, fenceScope(snap.state, next), next.generation, set);
      // A store's conflict report (another in-flight transaction on one item) is a lost race too: withRetry.
      const res = await this.ctx.meta.write(ops);
      return res.ok ? { done: result } : RETRY;
    });
  }
}
