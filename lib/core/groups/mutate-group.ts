/**
 * The one way a group's membership changes (DESIGN §3): read the group, plan, write conditionally — the
 * `state` item at the version read (or absent) with the heartbeat items the plan adds or removes — and go
 * again on a lost race. Two processes (two Lambdas) that change the same group race on that version.
 */
import type { CoreContext } from '../context';
import { FerryError } from '../../protocol/errors';
import { RETRY, withRetry } from '../storage/cas';
import { fenceScope, loadGroup, type Plan, type Snapshot } from './group-state';
import type { GroupOffsets } from './offsets';

/** Attempts at a conditional group write before answering `unavailable`. */
const ATTEMPTS = 16;

/**
 * Reads, plans and writes conditionally, again on a lost race. A plan with no ops writes nothing. A plan
 * that moves to a new generation (`next`) first raises the fences of the partitions of both the old and the
 * new assignment to it (and sets a seek's offsets), so no commit of an older generation lands afterwards.
 */
export function mutateGroup<T>(
  ctx: CoreContext,
  offsets: GroupOffsets,
  groupId: string,
  plan: (snap: Snapshot, now: number) => Promise<Plan<T>>,
): Promise<T> {
  const busy = { attempts: ATTEMPTS, busy: `group "${groupId}" is being changed concurrently; try again`, details: { groupId } };
  return withRetry(ctx, busy, async () => {
    const snap = await loadGroup(ctx, groupId);
    const { ops, result, next, set } = await plan(snap, ctx.clock.now());
    if (ops.length === 0) return { done: result };
    if (ops.length > ctx.meta.maxOpsPerWrite) {
      throw new FerryError('unavailable', `group "${groupId}" change needs ${ops.length} writes, more than one transaction takes`);
    }
    if (next) await offsets.fence(groupId, fenceScope(snap.state, next), next.generation, set);
    // A store's conflict report (another in-flight transaction on one item) is a lost race too: withRetry.
    const res = await ctx.meta.write(ops);
    return res.ok ? { done: result } : RETRY;
  });
}
