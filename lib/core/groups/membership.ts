/**
 * Group membership (DESIGN §3): join, heartbeat, leave — each a new generation when the members or their
 * topics' partition counts change — and the generation fencing of commits.
 *
 * Every membership change is one conditional write (mutate-group.ts). Expired members are removed lazily by
 * whoever touches the group next, judged by `Clock.now()`. The hot paths share no item: a heartbeat writes
 * only its member's item, a commit only the offset items (fenced by generation: offsets.ts).
 *
 * A member that is unknown (never joined, left, or expired and removed) is answered with `fenced`
 * (`details.reason: "unknown_member"`), as Kafka answers UNKNOWN_MEMBER_ID: the client must join again.
 */
import type { CoreContext } from '../context';
import { FerryError, invalid, notFound } from '../../protocol/errors';
import type { Topics } from '../log/topics';
import { groupStateItem, memberItem, registryItem, type GroupMember, type GroupState } from '../storage/group-items';
import { groupKeys, validateGroupId, validateTopicName } from '../storage/keys';
import type { WriteOp } from '../../ports/metadata-store';
import { checkMemberId, emptyState, liveMembers, putState, removeOps, unknownMember, view, type Plan, type Snapshot } from './group-state';
import { mutateGroup } from './mutate-group';
import { staleGeneration, type GroupOffsets, type OffsetCommit } from './offsets';
import type { Positions } from './positions';
import type { Rebalancer } from './rebalance';
import {
  DEFAULT_SESSION_TIMEOUT_MS,
  MAX_MEMBERS,
  MAX_SESSION_TIMEOUT_MS,
  MAX_TOPICS_PER_MEMBER,
  MIN_SESSION_TIMEOUT_MS,
  type JoinInput,
  type MemberView,
} from './types';

/** How long a commit refused by a fence ahead of the state waits before catching the state up to it. */
const CATCH_UP_DELAY_MS = 1_000;

export class Membership {
  constructor(
    private readonly ctx: CoreContext,
    private readonly topics: Topics,
    private readonly offsets: GroupOffsets,
    private readonly positions: Positions,
    private readonly rebalancer: Rebalancer,
  ) {}

  /** Adds a member: a new generation whose assignment covers its topics. */
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

  /**
   * The group state in which `memberId` may commit `offsets`: it is live, in `generation`, and owns every
   * partition named. Plain reads: nothing here joins a transaction; the offset items' fences make the checks
   * hold at the write (offsets.ts).
   */
  async committerState(groupId: string, memberId: string, generation: number, offsets: OffsetCommit[]): Promise<GroupState> {
    const pk = groupKeys.groupPk(groupId);
    const [stateItem, beatItem] = await Promise.all([
      this.ctx.meta.get(pk, groupKeys.stateSk),
      this.ctx.meta.get(pk, groupKeys.memberSk(memberId)),
    ]);
    const now = this.ctx.clock.now();
    const state = stateItem && groupStateItem.decode(stateItem);
    const member = state?.members.find((m) => m.memberId === memberId);
    if (!state || !member || !beatItem || now - memberItem.decode(beatItem).heartbeatAt > member.sessionTimeoutMs) {
      throw unknownMember(groupId, memberId);
    }
    if (generation !== state.generation) throw staleGeneration(groupId, generation, state.generation);
    for (const o of offsets) {
      const owns = state.assignments.some((a) => a.memberId === memberId && a.topic === o.topic && a.partitions.includes(o.partition));
      if (!owns) {
        throw new FerryError(
          'fenced',
          `member ${memberId} does not own ${o.topic} partition ${o.partition} in generation ${state.generation} of group "${groupId}"`,
          { reason: 'not_owner', groupId, generation: state.generation, topic: o.topic, partition: o.partition },
        );
      }
    }
    return state;
  }

  /**
   * A fence ahead of the state: a rebalance raised it and has not written its generation yet — or never will
   * (its process died in between). Moving the state up to the fence (same members and assignment) lets members
   * rejoin the live generation instead of being refused forever; if the rebalance is still in flight, it
   * loses its race, reads this state and makes the next generation.
   */
  async catchUp(groupId: string, fence: number): Promise<void> {
    // A live rebalance writes its generation milliseconds after its fences: give it time to, rather than
    // costing it a lost race and the group an extra generation.
    await this.ctx.clock.sleep(CATCH_UP_DELAY_MS);
    await this.mutate(groupId, async (snap, now) => {
      if (!snap.state || snap.state.generation >= fence) return { ops: [], result: undefined };
      const next: GroupState = { ...snap.state, generation: fence, updatedAt: now };
      return { ops: [putState(snap, next)], result: undefined, next };
    });
  }

  private mutate<T>(groupId: string, plan: (snap: Snapshot, now: number) => Promise<Plan<T>>): Promise<T> {
    return mutateGroup(this.ctx, this.offsets, groupId, plan);
  }
}
