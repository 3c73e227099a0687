/**
 * Who is dispatching push consumers right now, where runs are started on demand (AWS): one item
 * (`dispatch` / `run`) holding the live run's owner and expiry. One run at a time holds it; producers read it
 * to decide whether a run must be woken (wake.ts). Conditional single-item writes.
 */
import type { CoreContext } from '../context';
import { metaKeys } from '../storage/keys';

export interface RunLease {
  owner: string;
  until: number;
  version: number;
}

export class DispatchRunLease {
  constructor(private readonly ctx: CoreContext) {}

  /** The live run's lease, if one holds it now. */
  async live(): Promise<RunLease | undefined> {
    const item = await this.ctx.meta.get(metaKeys.dispatchRunPk, metaKeys.dispatchRunSk);
    const until = item?.data.until;
    if (!item || typeof until !== 'number' || until <= this.ctx.clock.now()) return undefined;
    return { owner: String(item.data.owner), until, version: item.version };
  }

  /** Takes the lease for `ms` (or renews this owner's), or undefined while another run holds it. */
  async acquire(owner: string, ms: number): Promise<RunLease | undefined> {
    const now = this.ctx.clock.now();
    const item = await this.ctx.meta.get(metaKeys.dispatchRunPk, metaKeys.dispatchRunSk);
    const until = item?.data.until;
    if (item && item.data.owner !== owner && typeof until === 'number' && until > now) return undefined;
    return this.put(owner, now + ms, item ? item.version : 'absent');
  }

  /** Extends a held lease; undefined if it was lost. */
  renew(lease: RunLease, ms: number): Promise<RunLease | undefined> {
    return this.put(lease.owner, this.ctx.clock.now() + ms, lease.version);
  }

  /** Ends the run's hold (until = 0), so the next producer wakes a new run. */
  async release(lease: RunLease): Promise<void> {
    await this.put(lease.owner, 0, lease.version);
  }

  private async put(owner: string, until: number, expect: number | 'absent'): Promise<RunLease | undefined> {
    const res = await this.ctx.meta.write([
      { op: 'put', pk: metaKeys.dispatchRunPk, sk: metaKeys.dispatchRunSk, data: { owner, until }, expect },
    ]);
    return res.ok ? { owner, until, version: expect === 'absent' ? 1 : expect + 1 } : undefined;
  }
}
