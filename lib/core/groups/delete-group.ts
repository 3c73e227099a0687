/**
 * Deleting a consumer group (Kafka's DeleteGroups): only an empty group — no member whose session is live —
 * may go. One conditional write removes the state item (at the version read, so a member joining meanwhile
 * wins and the delete is refused) and the registry entry; the group is gone from then on. Its offset and
 * expired heartbeat items are removed after, in pages, unless the group is made again meanwhile.
 */
import type { CoreContext } from '../context';
import { FerryError, notFound } from '../../protocol/errors';
import { RETRY, withRetry } from '../storage/cas';
import { offsetItem } from '../storage/group-items';
import { groupKeys, validateGroupId } from '../storage/keys';
import type { WriteOp } from '../../ports/metadata-store';
import { liveMembers, loadGroup } from './group-state';

export interface DeletedGroup {
  groupId: string;
  /** Committed offsets removed with it. */
  offsets: number;
}

export async function deleteGroup(ctx: CoreContext, groupId: string): Promise<DeletedGroup> {
  validateGroupId(groupId);
  const busy = `group "${groupId}" is being changed concurrently; try again`;
  await withRetry(ctx, { busy, details: { groupId } }, async () => {
    const snap = await loadGroup(ctx, groupId);
    if (!snap.state) throw notFound(`consumer group "${groupId}" does not exist`, { groupId });
    const live = liveMembers(snap, ctx.clock.now());
    if (live.length) {
      throw new FerryError(
        'conflict',
        `group "${groupId}" has ${live.length} live member${live.length === 1 ? '' : 's'}: stop them (or wait for their sessions to expire) before deleting it`,
        {
          groupId,
          members: live.map((m) => m.memberId),
        },
      );
    }
    const res = await ctx.meta.write([
      { op: 'delete', pk: snap.pk, sk: groupKeys.stateSk, expect: snap.version },
      { op: 'delete', pk: groupKeys.registryPk, sk: groupKeys.registrySk(groupId) },
    ]);
    return res.ok ? { done: undefined } : RETRY;
  });
  // The rest of the group's items: offsets and expired heartbeats nobody reads any more. A group made again
  // under the same name meanwhile (its state item is back) keeps whatever is left.
  const pk = groupKeys.groupPk(groupId);
  let offsets = 0;
  for (;;) {
    if (await ctx.meta.get(pk, groupKeys.stateSk)) break;
    const items = (await ctx.meta.query(pk, { limit: 100 })).filter((i) => i.sk !== groupKeys.stateSk);
    if (items.length === 0) break;
    offsets += items.filter((i) => i.sk.startsWith(groupKeys.offsetSkPrefix) && offsetItem.decode(i).offset !== null).length;
    const ops: WriteOp[] = items.map((i) => ({ op: 'delete', pk, sk: i.sk }));
    for (let i = 0; i < ops.length; i += ctx.meta.maxOpsPerWrite) await ctx.meta.write(ops.slice(i, i + ctx.meta.maxOpsPerWrite));
    if (items.length < 100) break;
  }
  return { groupId, offsets };
}
