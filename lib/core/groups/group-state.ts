/**
 * A consumer group as read in one go (its `state` item and members' heartbeat items), and the pure helpers
 * that plan a change of it: live members, the ops that remove expired ones, the conditional state put.
 */
import type { CoreContext } from '../context';
import { FerryError, invalid } from '../../protocol/errors';
import { groupStateItem, memberItem, type GroupMember, type GroupState } from '../storage/group-items';
import { groupKeys, isMemberId } from '../storage/keys';
import type { TopicConfig } from '../model';
import type { FenceScope } from './offsets';
import type { MemberView, TopicPartitions } from './types';
import type { Expect, WriteOp } from '../../ports/metadata-store';

export interface Plan<T> {
  ops: WriteOp[];
  result: T;
  next?: GroupState;
  set?: Map<string, { topic: TopicConfig; offset: bigint }>;
}

export interface Snapshot {
  groupId: string;
  pk: string;
  state: GroupState | undefined;
  version: Expect;
  /** Heartbeat items by member id. */
  heartbeats: Map<string, { heartbeatAt: number; version: number }>;
}

export async function loadGroup(ctx: CoreContext, groupId: string): Promise<Snapshot> {
  const pk = groupKeys.groupPk(groupId);
  const [stateItem, beats] = await Promise.all([
    ctx.meta.get(pk, groupKeys.stateSk),
    ctx.meta.query(pk, { prefix: groupKeys.memberSkPrefix }),
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

/** Members whose session has not expired at `now`. */
export function liveMembers(snap: Snapshot, now: number): GroupMember[] {
  if (!snap.state) return [];
  return snap.state.members.filter((m) => {
    const beat = snap.heartbeats.get(m.memberId);
    return beat !== undefined && now - beat.heartbeatAt <= m.sessionTimeoutMs;
  });
}

/** Deletes the heartbeat items of members not in `live`, each at the version read (a fresh heartbeat wins). */
export function removeOps(snap: Snapshot, live: GroupMember[]): WriteOp[] {
  const keep = new Set(live.map((m) => m.memberId));
  const ops: WriteOp[] = [];
  for (const [memberId, beat] of snap.heartbeats) {
    if (!keep.has(memberId)) ops.push({ op: 'delete', pk: snap.pk, sk: groupKeys.memberSk(memberId), expect: beat.version });
  }
  return ops;
}

export function putState(snap: Snapshot, next: GroupState): WriteOp {
  return { op: 'put', pk: snap.pk, sk: groupKeys.stateSk, data: groupStateItem.encode(next), expect: snap.version };
}

/** Every partition of every topic the old or the new generation assigns (the largest count seen of each). */
export function fenceScope(before: GroupState | undefined, next: GroupState): FenceScope[] {
  const counts = new Map<string, number>();
  for (const c of [...(before?.partitionCounts ?? []), ...next.partitionCounts])
    counts.set(c.topic, Math.max(c.count, counts.get(c.topic) ?? 0));
  for (const a of [...(before?.assignments ?? []), ...next.assignments]) {
    for (const p of a.partitions) counts.set(a.topic, Math.max(p + 1, counts.get(a.topic) ?? 0));
  }
  return [...counts].map(([topic, partitions]) => ({ topic, partitions }));
}

export function emptyState(now: number): GroupState {
  return { generation: 0, members: [], assignments: [], partitionCounts: [], createdAt: now, updatedAt: now };
}

export function assignmentsOf(state: GroupState, memberId: string): TopicPartitions[] {
  return state.assignments
    .filter((a) => a.memberId === memberId && a.partitions.length > 0)
    .map((a) => ({ topic: a.topic, partitions: [...a.partitions] }));
}

export function view(state: GroupState, memberId: string): MemberView {
  return { memberId, generation: state.generation, assignments: assignmentsOf(state, memberId) };
}

export function checkMemberId(memberId: string): void {
  if (!isMemberId(memberId))
    throw invalid(`member id ${JSON.stringify(String(memberId).slice(0, 80))} is not valid`, { field: 'memberId' });
}

export function unknownMember(groupId: string, memberId: string): FerryError {
  return new FerryError('fenced', `member ${memberId} is not in group "${groupId}" (it left, or its session expired): join again`, {
    reason: 'unknown_member',
    groupId,
    memberId,
  });
}
