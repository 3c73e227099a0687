/**
 * Partition heads as this process last saw them (the commit point reads and claims them). A cached head is
 * only a guess: every claim is conditional on its version, and a lost race or an unknown outcome drops it.
 */
import type { CoreContext } from '../context';
import { headCodec, type StoredHead } from './partition-index';
import { metaKeys } from './keys';

export class PartitionHeads {
  private readonly heads = new Map<string, StoredHead>();

  constructor(private readonly ctx: CoreContext) {}

  /** The head of partition key `pk`: cached, or read. */
  async get(pk: string): Promise<StoredHead> {
    const cached = this.heads.get(pk);
    if (cached) return cached;
    const head = headCodec.decode(await this.ctx.meta.get(pk, metaKeys.headSk));
    this.heads.set(pk, head);
    return head;
  }

  set(pk: string, head: StoredHead): void {
    this.heads.set(pk, head);
  }

  /** Drops cached heads (a lost race, an unknown outcome, or maintenance changing them out of band). */
  forget(...pks: string[]): void {
    for (const pk of pks) this.heads.delete(pk);
  }
}
