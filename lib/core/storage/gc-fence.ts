/**
 * The fence between garbage collection and writers (G1 / G8). Collection may only delete an unreferenced
 * object after raising the *horizon* of every partition of its topic past the object's birth time; every write
 * that makes an object referenced checks, in the same atomic metadata write, that the item holding the horizon
 * it saw is still at the version it saw, and the writer never commits an object born at or before that
 * horizon. So either the reference lands before the horizon moves — and collection, which reads references
 * only after moving it, sees it — or the writer's condition fails, it reads the new horizon and refuses its
 * (now possibly deleted) upload as `unavailable`. No clock comparison across processes.
 *
 * Two items hold a partition's horizon, one per kind of writer: the partition's head (a produce commit is a
 * put of the head on its version, so the horizon costs it nothing: storage/partition-index.ts), and a fence
 * item that delayed records' due items check (their writes must not conflict with every produce commit of the
 * partition). Collection raises both before it reads references. Per partition, not per topic: writers to
 * different partitions share no item (DESIGN §4c).
 */
import type { WriteOp } from '../../ports/metadata-store';
import type { CoreContext } from '../context';
import { FerryError } from '../../protocol/errors';
import { mapLimit } from '../log/fetch';
import { gcFenceItem } from './items';
import { metaKeys } from './keys';
import { RETRY, withRetry } from './cas';
import { headPut, type PartitionIndex } from './partition-index';

export interface FenceState {
  /** 0: the fence item does not exist yet. */
  version: number;
  /** Objects born at or before this (ms) may have been collected. */
  horizon: number;
}

export class GcFence {
  private readonly cache = new Map<string, FenceState>();

  constructor(
    private readonly ctx: CoreContext,
    private readonly index: PartitionIndex,
  ) {}

  /** The fence as last seen by this process (read once, then refreshed when a condition on it fails). */
  async current(topicId: string, partition: number): Promise<FenceState> {
    return this.cache.get(metaKeys.gcFencePk(topicId, partition)) ?? this.refresh(topicId, partition);
  }

  async refresh(topicId: string, partition: number): Promise<FenceState> {
    const pk = metaKeys.gcFencePk(topicId, partition);
    const item = await this.ctx.meta.get(pk, metaKeys.gcFenceSk);
    const state = { version: item?.version ?? 0, horizon: item ? gcFenceItem.decode(item).horizon : -Infinity };
    this.cache.set(pk, state);
    return state;
  }

  /** The condition a referencing write carries. */
  check(topicId: string, partition: number, state: FenceState): WriteOp {
    return {
      op: 'check',
      pk: metaKeys.gcFencePk(topicId, partition),
      sk: metaKeys.gcFenceSk,
      expect: state.version === 0 ? 'absent' : state.version,
    };
  }

  /** Throws `unavailable` when an upload born at `bornAt` may already have been collected. */
  ensureAlive(state: FenceState, bornAt: number, what: string): void {
    if (bornAt <= state.horizon) {
      throw new FerryError('unavailable', `${what} took longer than garbage collection waits for an upload; try again`);
    }
  }

  /**
   * For collection: moves the horizon of every partition up to `horizon` (never down), in its fence item and
   * in its head, before references are read. Each is its own single-item conditional write; a lost race (a
   * producer's commit, a concurrent raise, a store conflict) is tried again, a bounded number of times.
   */
  async raise(topicId: string, partitionCount: number, horizon: number): Promise<void> {
    const partitions = Array.from({ length: partitionCount }, (_, p) => p);
    await mapLimit(partitions, 16, async (partition) => {
      await this.raiseItem(topicId, partition, horizon);
      await this.raiseHead(topicId, partition, horizon);
    });
  }

  private raiseHead(topicId: string, partition: number, horizon: number): Promise<void> {
    const pk = metaKeys.partitionPk(topicId, partition);
    return withRetry(this.ctx, { busy: `the head of partition ${partition} is contended; try again` }, async () => {
      const head = await this.index.head(pk);
      if (head.horizon >= horizon) return { done: undefined };
      const res = await this.ctx.meta.write([headPut(pk, head, { ...head, horizon })]);
      return res.ok ? { done: undefined } : RETRY;
    });
  }

  private raiseItem(topicId: string, partition: number, horizon: number): Promise<void> {
    return withRetry(this.ctx, { busy: `the garbage-collection fence of partition ${partition} is contended; try again` }, async () => {
      const state = await this.refresh(topicId, partition);
      if (state.horizon >= horizon) return { done: undefined };
      const pk = metaKeys.gcFencePk(topicId, partition);
      const res = await this.ctx.meta.write([
        {
          op: 'put',
          pk,
          sk: metaKeys.gcFenceSk,
          data: gcFenceItem.encode(horizon),
          expect: state.version === 0 ? 'absent' : state.version,
        },
      ]);
      if (!res.ok) return RETRY;
      this.cache.set(pk, { version: state.version + 1, horizon });
      return { done: undefined };
    });
  }
}
