/**
 * The fence between garbage collection and writers (G1 / G8). Collection may only delete an unreferenced
 * object after raising the topic's *horizon* past the object's birth time; every write that makes an object
 * referenced (a partition commit, a delayed record's due item) checks, in the same atomic metadata write, that
 * the fence item is still at the version the writer saw, and the writer never commits an object born at or
 * before the horizon it saw. So either the reference lands before the horizon moves — and collection, which
 * reads references only after moving it, sees it — or the writer's condition fails, it reads the new horizon
 * and refuses its (now possibly deleted) upload as `unavailable`. No clock comparison across processes.
 */
import type { WriteOp } from '../ports/metadata-store';
import type { CoreContext } from './context';
import { FerryError } from './errors';
import { metaKeys } from './keys';

export interface FenceState {
  /** 0: the fence item does not exist yet. */
  version: number;
  /** Objects born at or before this (ms) may have been collected. */
  horizon: number;
}

export class GcFence {
  private readonly cache = new Map<string, FenceState>();

  constructor(private readonly ctx: CoreContext) {}

  /** The fence as last seen by this process (read once, then refreshed when a condition on it fails). */
  async current(topicId: string): Promise<FenceState> {
    return this.cache.get(topicId) ?? this.refresh(topicId);
  }

  async refresh(topicId: string): Promise<FenceState> {
    const item = await this.ctx.meta.get(metaKeys.gcFencePk(topicId), metaKeys.gcFenceSk);
    const state = { version: item?.version ?? 0, horizon: item ? Number(item.data.horizon) : -Infinity };
    this.cache.set(topicId, state);
    return state;
  }

  /** The condition a referencing write carries. */
  check(topicId: string, state: FenceState): WriteOp {
    return { op: 'check', pk: metaKeys.gcFencePk(topicId), sk: metaKeys.gcFenceSk, expect: state.version === 0 ? 'absent' : state.version };
  }

  /** Throws `unavailable` when an upload born at `bornAt` may already have been collected. */
  ensureAlive(state: FenceState, bornAt: number, what: string): void {
    if (bornAt <= state.horizon) {
      throw new FerryError('unavailable', `${what} took longer than garbage collection waits for an upload; try again`);
    }
  }

  /** For collection: moves the horizon up to `horizon` (never down) before references are read. */
  async raise(topicId: string, horizon: number): Promise<void> {
    for (;;) {
      const state = await this.refresh(topicId);
      if (state.horizon >= horizon) return;
      const res = await this.ctx.meta.write([
        { op: 'put', pk: metaKeys.gcFencePk(topicId), sk: metaKeys.gcFenceSk, data: { horizon }, expect: state.version === 0 ? 'absent' : state.version },
      ]);
      if (res.ok) {
        this.cache.set(topicId, { version: state.version + 1, horizon });
        return;
      }
    }
  }
}
