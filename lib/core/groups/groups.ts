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
import { assign, type Assignment } from './assignor';
import type { CoreContext } from '../context';
import { FerryError, invalid, notFound } from '../../protocol/errors';
import { mapLimit, type Fetcher } from '../log/fetch';
import {
  groupStateItem,
  memberItem,
  offsetItem,
  registryItem,
  type CommittedOffset,
  type GroupMember,
  type GroupState,
  type MemberTopicAssignment,
} from '../storage/group-items';
import { entryItem } from '../storage/items';
import { backoff, isConflict } from '../storage/cas';
import { GroupOffsets, staleGeneration, type CommittedPosition, type FenceScope } from './offsets';
import { groupKeys, isMemberId, metaKeys, validateGroupId, validateTopicName } from '../storage/keys';
import type { TopicConfig } from '../model';
import type { Topics } from '../log/topics';
import type { Expect, Item, WriteOp } from '../../ports/metadata-store';

/** Kafka's default was 10 s before 3.0 (45 s since); 10 s keeps a dead member's partitions idle briefly. */
export const DEFAULT_SESSION_TIMEOUT_MS = 10_000;
export const MIN_SESSION_TIMEOUT_MS = 500;
export const MAX_SESSION_TIMEOUT_MS = 300_000;
/** Bounds the state item (DynamoDB items are at most 400 KB). */
export const MAX_MEMBERS = 1_000;
export const MAX_TOPICS_PER_MEMBER = 100;
/** How long a commit refused by a fence ahead of the state waits before catching the state up to it. */
const CATCH_UP_DELAY_MS = 1_000;
/** Attempts at a conditional group write before answering `unavailable`. */
const ATTEMPTS = 16;

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

/** What join, heartbeat and leave answer. */
export interface MemberView {
  memberId: string;
  generation: number;
  assignments: TopicPartitions[];
}

export interface JoinInput {
  topics: string[];
  sessionTimeoutMs?: number;
  /** Where partitions without a committed offset start: `earliest` (default, DESIGN §4) or `latest`. */
  from?: 'earliest' | 'latest';
}

export interface CommitInput {
  memberId: string;
  generation: number;
  offsets: Array<{ topic: string; partition: number; offset: bigint }>;
}

export type SeekTarget = 'earliest' | 'latest' | { offset: bigint } | { timestamp: number };

export interface SeekInput {
  topic: string;
  partition?: number;
  to: SeekTarget;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** `null`: nothing committed yet (the group starts at `logStartOffset`). */
  committedOffset: bigint | null;
  logStartOffset: bigint;
  highWatermark: bigint;
  /** Records not yet consumed: highWatermark − (committed offset, or logStartOffset). */
  lag: bigint;
  /** Age in seconds of the oldest unconsumed record (0 when there is none). */
  lagSeconds: number;
  owner: string | null;
}

export interface GroupDescription {
  groupId: string;
  generation: number;
  state: 'stable' | 'empty';
  members: Array<{
    memberId: string;
    topics: string[];
    sessionTimeoutMs: number;
    joinedAt: number;
    heartbeatAt: number;
    assignments: TopicPartitions[];
  }>;
  offsets: PartitionLag[];
  totalLag: bigint;
}

export interface GroupSummary {
  groupId: string;
  generation: number;
  members: number;
  state: 'stable' | 'empty';
}

/** What a mutation writes; `next`: the new generation it makes (fenced first); `set`: a seek's offsets. */
interface Plan<T> {
  ops: WriteOp[];
  result: T;
  next?: GroupState;
  set?: Map<string, { topic: TopicConfig; offset: bigint }>;
}

interface Snapshot {
  groupId: string;
  pk: string;
  state: GroupState | undefined;
  version: Expect;
  /** Heartbeat items by member id. */
  heartbeats: Map<string, { heartbeatAt: number; version: number }>;
}

export class Groups {
  private readonly offsets: GroupOffsets;

  constructor(
    private readonly ctx: CoreContext,
    private readonly topics: Topics,
    private readonly fetcher: Fetcher,
  ) {
    this.offsets = new GroupOffsets(ctx, topics, fetcher);
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
      await this.startAtLatest(groupId, topics);
    }

    const now = this.ctx.clock.now();
    const memberId = this.ctx.ids.timeOrderedId(now);
    return this.mutate(groupId, async (snap, now) => {
      const state = snap.state ?? emptyState(now);
      const live = this.liveMembers(snap, now);
      if (live.length >= MAX_MEMBERS) {
        throw new FerryError('conflict', `group "${groupId}" has ${live.length} members, the most a group may have`);
      }
      const member: GroupMember = { memberId, topics: topicNames, sessionTimeoutMs, joinedAt: now };
      const next = await this.rebalance(state, [...live, member], now);
      const ops: WriteOp[] = [
        this.putState(snap, next),
        { op: 'put', pk: snap.pk, sk: groupKeys.memberSk(memberId), data: memberItem.encode({ heartbeatAt: now }), expect: 'absent' },
        ...this.removeOps(snap, live),
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
      const live = this.liveMembers(snap, now);
      const me = live.find((m) => m.memberId === memberId);
      if (!snap.state || !me) throw unknownMember(groupId, memberId);
      const beat: WriteOp = {
        op: 'put',
        pk: snap.pk,
        sk: groupKeys.memberSk(memberId),
        data: memberItem.encode({ heartbeatAt: now }),
        expect: snap.heartbeats.get(memberId)!.version,
      };
      const changed = live.length !== snap.state.members.length || (await this.countsChanged(snap.state, live));
      // The common case is one single-item write on the member's own item: heartbeats of different members
      // never conflict. The answer may trail a rebalance that lands meanwhile; the next beat or commit tells.
      if (!changed) return { ops: [beat], result: view(snap.state, memberId) };
      const next = await this.rebalance(snap.state, live, now);
      return { ops: [this.putState(snap, next), beat, ...this.removeOps(snap, live)], result: view(next, memberId), next };
    });
  }

  /** Removes a member (a clean leave) and rebalances the rest. Leaving twice is harmless. */
  async leave(groupId: string, memberId: string): Promise<MemberView> {
    validateGroupId(groupId);
    checkMemberId(memberId);
    return this.mutate(groupId, async (snap, now) => {
      if (!snap.state) throw notFound(`consumer group "${groupId}" does not exist`, { groupId });
      const live = this.liveMembers(snap, now).filter((m) => m.memberId !== memberId);
      const wasMember = snap.state.members.some((m) => m.memberId === memberId);
      if (!wasMember && live.length === snap.state.members.length) {
        return { ops: [], result: { memberId, generation: snap.state.generation, assignments: [] } };
      }
      const next = await this.rebalance(snap.state, live, now);
      return { ops: [this.putState(snap, next), ...this.removeOps(snap, live)], result: view(next, memberId), next };
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
    const [stateItem, beatItem] = await Promise.all([this.ctx.meta.get(pk, groupKeys.stateSk), this.ctx.meta.get(pk, groupKeys.memberSk(input.memberId))]);
    const now = this.ctx.clock.now();
    const state = stateItem && groupStateItem.decode(stateItem);
    const member = state?.members.find((m) => m.memberId === input.memberId);
    if (!state || !member || !beatItem || now - memberItem.decode(beatItem).heartbeatAt > member.sessionTimeoutMs) {
      throw unknownMember(groupId, input.memberId);
    }
    if (input.generation !== state.generation) throw staleGeneration(groupId, input.generation, state.generation);
    for (const o of input.offsets) {
      const owns = state.assignments.some((a) => a.memberId === input.memberId && a.topic === o.topic && a.partitions.includes(o.partition));
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
      return { ops: [this.putState(snap, next)], result: undefined, next };
    });
  }

  /**
   * Moves committed offsets, backwards or forwards (the one way they may move back). The generation moves
   * on too, so members drop their positions (their next commit is fenced) and read the new offsets.
   */
  async seek(groupId: string, input: SeekInput): Promise<{ generation: number; offsets: Array<{ topic: string; partition: number; offset: bigint }> }> {
    validateGroupId(groupId);
    const topic = await this.topics.get(validateTopicName(input.topic), { fresh: true });
    if (input.partition !== undefined && (input.partition < 0 || input.partition >= topic.partitionCount)) {
      throw notFound(`partition ${input.partition} does not exist; topic "${topic.name}" has partitions 0 to ${topic.partitionCount - 1}`, {
        partition: input.partition,
        partitionCount: topic.partitionCount,
      });
    }
    const partitions = input.partition !== undefined ? [input.partition] : Array.from({ length: topic.partitionCount }, (_, p) => p);
    const targets = await Promise.all(partitions.map(async (p) => ({ partition: p, offset: await this.resolve(topic, p, input.to) })));
    const set = new Map(targets.map((t) => [`${topic.name}#${t.partition}`, { topic, offset: t.offset }]));
    const generation = await this.mutate(groupId, async (snap, now) => {
      const state = snap.state ?? emptyState(now);
      const next: GroupState = { ...state, generation: state.generation + 1, updatedAt: now };
      const ops: WriteOp[] = [this.putState(snap, next)];
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

  // ---- describe and list ------------------------------------------------------------------------------------

  /** Members, assignments, committed offsets and lag (records and seconds), from reads only. */
  async describe(groupId: string): Promise<GroupDescription> {
    validateGroupId(groupId);
    const snap = await this.load(groupId);
    if (!snap.state) throw notFound(`consumer group "${groupId}" does not exist`, { groupId });
    // A read never writes (DESIGN §4c): members whose session expired are left out here, and their partitions
    // shown without an owner; the next heartbeat or join removes them and rebalances.
    const liveIds = new Set(this.liveMembers(snap, this.ctx.clock.now()).map((m) => m.memberId));
    const stored = snap.state;
    const state: GroupState = {
      ...stored,
      members: stored.members.filter((m) => liveIds.has(m.memberId)),
      assignments: stored.assignments.filter((a) => liveIds.has(a.memberId)),
    };
    const committed = await this.committed(groupId);
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
      const rows = await mapLimit(Array.from({ length: topic.partitionCount }, (_, p) => p), 16, async (partition) => {
        const head = await this.fetcher.head(topic, partition);
        const c = committed.get(name)?.get(partition);
        const committedOffset = c && c.topicId === topic.topicId ? c.offset : null;
        let from = committedOffset ?? head.logStartOffset;
        if (from < head.logStartOffset) from = head.logStartOffset;
        const lag = head.nextOffset > from ? head.nextOffset - from : 0n;
        const lagSeconds = lag > 0n ? await this.lagSeconds(topic, partition, from, now) : 0;
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
      });
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
  private async lagSeconds(topic: TopicConfig, partition: number, from: bigint, now: number): Promise<number> {
    const pk = metaKeys.partitionPk(topic.topicId, partition);
    const [item] = await this.ctx.meta.query(pk, { prefix: metaKeys.entrySkPrefix, lte: metaKeys.entrySk(from), reverse: true, limit: 1 });
    return item ? Math.max(0, (now - entryItem.decode(item).maxTimestamp) / 1000) : 0;
  }

  /** Every group, in id order. Members whose session expired are not counted. */
  async list(): Promise<GroupSummary[]> {
    const entries = await this.ctx.meta.query(groupKeys.registryPk, { prefix: groupKeys.registrySkPrefix });
    const now = this.ctx.clock.now();
    return mapLimit(entries, 16, async (e) => {
      registryItem.decode(e);
      const groupId = e.sk.slice(groupKeys.registrySkPrefix.length);
      const snap = await this.load(groupId);
      const members = snap.state ? this.liveMembers(snap, now).length : 0;
      return { groupId, generation: snap.state?.generation ?? 0, members, state: members ? 'stable' : 'empty' } as GroupSummary;
    });
  }

  // ---- internals ------------------------------------------------------------------------------------------

  private async load(groupId: string): Promise<Snapshot> {
    const pk = groupKeys.groupPk(groupId);
    const [stateItem, beats] = await Promise.all([
      this.ctx.meta.get(pk, groupKeys.stateSk),
      this.ctx.meta.query(pk, { prefix: groupKeys.memberSkPrefix }),
    ]);
    const heartbeats = new Map<string, { heartbeatAt: number; version: number }>();
    for (const b of beats) heartbeats.set(b.sk.slice(groupKeys.memberSkPrefix.length), { ...memberItem.decode(b), version: b.version });
    return {
      groupId,
      pk,
      state: stateItem && groupStateItem.decode(stateItem),
      version: stateItem ? stateItem.version : 'absent',
      heartbeats,
    };
  }

  /**
   * Reads, plans and writes conditionally, again on a lost race. A plan with no ops writes nothing. A plan
   * that moves to a new generation (`next`) first raises the fences of the partitions of both the old and the
   * new assignment to it (and sets a seek's offsets), so no commit of an older generation lands afterwards.
   */
  private async mutate<T>(groupId: string, plan: (snap: Snapshot, now: number) => Promise<Plan<T>>): Promise<T> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const snap = await this.load(groupId);
      const { ops, result, next, set } = await plan(snap, this.ctx.clock.now());
      if (ops.length === 0) return result;
      if (ops.length > this.ctx.meta.maxOpsPerWrite) {
        throw new FerryError('unavailable', `group "${groupId}" change needs ${ops.length} writes, more than one transaction takes`);
      }
      if (next) await this.offsets.fence(groupId, fenceScope(snap.state, next), next.generation, set);
      const res = await this.ctx.meta.write(ops).catch((e) => {
        if (isConflict(e)) return { ok: false as const }; // another in-flight transaction on one item: a lost race
        throw e;
      });
      if (res.ok) return result;
      await backoff(this.ctx, attempt + 1);
    }
    throw busy(groupId);
  }

  /** Members whose session has not expired at `now`. */
  private liveMembers(snap: Snapshot, now: number): GroupMember[] {
    if (!snap.state) return [];
    return snap.state.members.filter((m) => {
      const beat = snap.heartbeats.get(m.memberId);
      return beat !== undefined && now - beat.heartbeatAt <= m.sessionTimeoutMs;
    });
  }

  /** Deletes the heartbeat items of members not in `live`, each at the version read (a fresh heartbeat wins). */
  private removeOps(snap: Snapshot, live: GroupMember[]): WriteOp[] {
    const keep = new Set(live.map((m) => m.memberId));
    const ops: WriteOp[] = [];
    for (const [memberId, beat] of snap.heartbeats) {
      if (!keep.has(memberId)) ops.push({ op: 'delete', pk: snap.pk, sk: groupKeys.memberSk(memberId), expect: beat.version });
    }
    return ops;
  }

  private putState(snap: Snapshot, next: GroupState): WriteOp {
    return { op: 'put', pk: snap.pk, sk: groupKeys.stateSk, data: groupStateItem.encode(next), expect: snap.version };
  }

  private async partitionCounts(members: GroupMember[]): Promise<Map<string, number>> {
    const names = [...new Set(members.flatMap((m) => m.topics))].sort();
    const counts = new Map<string, number>();
    for (const name of names) {
      try {
        counts.set(name, (await this.topics.get(name)).partitionCount);
      } catch (e) {
        if (!(e instanceof FerryError && e.kind === 'not_found')) throw e;
        counts.set(name, 0); // deleted: nothing to assign
      }
    }
    return counts;
  }

  private async countsChanged(state: GroupState, members: GroupMember[]): Promise<boolean> {
    const now = await this.partitionCounts(members);
    const before = new Map(state.partitionCounts.map((c) => [c.topic, c.count]));
    return [...now].some(([t, c]) => before.get(t) !== c);
  }

  /** The next generation for `members`: a sticky, even assignment computed from the current one. */
  private async rebalance(state: GroupState, members: GroupMember[], now: number): Promise<GroupState> {
    const counts = await this.partitionCounts(members);
    const previous: Assignment = new Map();
    for (const a of state.assignments) {
      if (!previous.has(a.memberId)) previous.set(a.memberId, new Map());
      previous.get(a.memberId)!.set(a.topic, a.partitions);
    }
    const next = assign(members, counts, previous);
    const assignments: MemberTopicAssignment[] = [];
    for (const [memberId, topics] of next) {
      for (const [topic, partitions] of topics) assignments.push({ memberId, topic, partitions });
    }
    return {
      generation: state.generation + 1,
      members,
      assignments,
      partitionCounts: [...counts].map(([topic, count]) => ({ topic, count })),
      createdAt: state.createdAt,
      updatedAt: now,
    };
  }

  /** A new group's (or a new partition's) start at the high watermark, never over a real commit. */
  private async startAtLatest(groupId: string, topics: TopicConfig[]): Promise<void> {
    const pk = groupKeys.groupPk(groupId);
    const now = this.ctx.clock.now();
    for (const topic of topics) {
      await mapLimit(Array.from({ length: topic.partitionCount }, (_, p) => p), 16, async (partition) => {
        const sk = groupKeys.offsetSk(topic.name, partition);
        const current = await this.ctx.meta.get(pk, sk);
        const stored = current && offsetItem.decode(current);
        if (stored && stored.topicId === topic.topicId && stored.offset !== null) return;
        const head = await this.fetcher.head(topic, partition);
        const data = offsetItem.encode({ offset: head.nextOffset, fence: stored?.fence ?? 0, topicId: topic.topicId, generation: 0, memberId: null, committedAt: now });
        // Lost race: someone else started it (or committed); either way an offset exists now.
        await this.ctx.meta.write([{ op: 'put', pk, sk, data, expect: current ? current.version : 'absent' }]);
      });
    }
  }

  /** A seek target → an offset within [logStartOffset, highWatermark]. */
  private async resolve(topic: TopicConfig, partition: number, to: SeekTarget): Promise<bigint> {
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
  async offsetForTimestamp(topic: TopicConfig, partition: number, timestamp: number, logStart: bigint, highWatermark: bigint): Promise<bigint> {
    const pk = metaKeys.partitionPk(topic.topicId, partition);
    let gte: string | undefined;
    for (;;) {
      const page: Item[] = await this.ctx.meta.query(pk, { prefix: metaKeys.entrySkPrefix, ...(gte && { gte }), limit: 256 });
      for (const item of page) {
        if (item.sk === gte) continue;
        const e = entryItem.decode(item);
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
      if (page.length < 256) return highWatermark;
      gte = page[page.length - 1].sk;
    }
  }
}

// ---- helpers --------------------------------------------------------------------------------------------

/** Every partition of every topic the old or the new generation assigns (the largest count seen of each). */
function fenceScope(before: GroupState | undefined, next: GroupState): FenceScope[] {
  const counts = new Map<string, number>();
  for (const c of [...(before?.partitionCounts ?? []), ...next.partitionCounts]) counts.set(c.topic, Math.max(c.count, counts.get(c.topic) ?? 0));
  for (const a of [...(before?.assignments ?? []), ...next.assignments]) {
    for (const p of a.partitions) counts.set(a.topic, Math.max(p + 1, counts.get(a.topic) ?? 0));
  }
  return [...counts].map(([topic, partitions]) => ({ topic, partitions }));
}

function emptyState(now: number): GroupState {
  return { generation: 0, members: [], assignments: [], partitionCounts: [], createdAt: now, updatedAt: now };
}

function assignmentsOf(state: GroupState, memberId: string): TopicPartitions[] {
  return state.assignments
    .filter((a) => a.memberId === memberId && a.partitions.length > 0)
    .map((a) => ({ topic: a.topic, partitions: [...a.partitions] }));
}

function view(state: GroupState, memberId: string): MemberView {
  return { memberId, generation: state.generation, assignments: assignmentsOf(state, memberId) };
}

function checkMemberId(memberId: string): void {
  if (!isMemberId(memberId)) throw invalid(`member id ${JSON.stringify(String(memberId).slice(0, 80))} is not valid`, { field: 'memberId' });
}

function unknownMember(groupId: string, memberId: string): FerryError {
  return new FerryError(
    'fenced',
    `member ${memberId} is not in group "${groupId}" (it left, or its session expired): join again`,
    { reason: 'unknown_member', groupId, memberId },
  );
}

function busy(groupId: string): FerryError {
  return new FerryError('unavailable', `group "${groupId}" is being changed concurrently; try again`, { groupId });
}
