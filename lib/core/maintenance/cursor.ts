/**
 * Where maintenance stopped, and who is running it: one item (`maintenance` / `run`) holding the last topic a
 * bounded run finished and, while a run holds it, a lease (owner, expiry). A run that finds a live lease of
 * another run does nothing; an expired one (a run that died) is taken over. Conditional single-item writes.
 */
import type { CoreContext } from '../context';
import { metaKeys } from '../storage/keys';

export interface CursorLease {
  version: number;
  owner: string;
  after?: string;
}

export class MaintenanceCursor {
  constructor(private readonly ctx: CoreContext) {}

  /** The topic the previous bounded run finished last (undefined: start at the first). */
  async read(): Promise<string | undefined> {
    const item = await this.ctx.meta.get(metaKeys.maintenancePk, metaKeys.maintenanceSk);
    return typeof item?.data.after === 'string' ? item.data.after : undefined;
  }

  /** Takes the lease for `ms`, or answers undefined while another run holds it. */
  async acquire(ms: number): Promise<CursorLease | undefined> {
    const now = this.ctx.clock.now();
    const item = await this.ctx.meta.get(metaKeys.maintenancePk, metaKeys.maintenanceSk);
    const held = item && typeof item.data.until === 'number' && item.data.until > now;
    if (held) return undefined;
    const owner = this.ctx.ids.timeOrderedId(now);
    const after = typeof item?.data.after === 'string' ? item.data.after : undefined;
    const res = await this.ctx.meta.write([
      {
        op: 'put',
        pk: metaKeys.maintenancePk,
        sk: metaKeys.maintenanceSk,
        data: { owner, until: now + ms, ...(after !== undefined && { after }) },
        expect: item ? item.version : 'absent',
      },
    ]);
    return res.ok ? { version: (item?.version ?? 0) + 1, owner, after } : undefined;
  }

  /** Stores where the run stopped (undefined: it finished) and releases its lease. */
  async save(after: string | undefined, lease: CursorLease | undefined): Promise<void> {
    const current = lease ? undefined : await this.ctx.meta.get(metaKeys.maintenancePk, metaKeys.maintenanceSk);
    if (!lease && current && typeof current.data.until === 'number' && current.data.until > this.ctx.clock.now()) return; // another run's
    if (!lease && (current?.data.after ?? undefined) === after) return; // nothing to change: no write
    await this.ctx.meta.write([
      {
        op: 'put',
        pk: metaKeys.maintenancePk,
        sk: metaKeys.maintenanceSk,
        data: after !== undefined ? { after } : {},
        expect: lease ? lease.version : current ? current.version : 'absent',
      },
    ]);
  }
}
