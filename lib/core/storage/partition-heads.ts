/**
 * Partition heads as this process last saw them (the commit point reads and claims them). A cached head is
 * only a guess: every claim is conditional on its version, and a lost race or an unknown outcome drops it.
 */
import type { PartitionIndex, StoredHead } from './partition-index';

export class PartitionHeads {
  private readonly heads = new Map<string, StoredHead>();

  constructor(private readonly index: PartitionIndex) {}

  /** The head of partition key `pk`: cached, or read. */
  async get(pk: string): Promise<StoredHead> {
    const cached = this.heads.get(pk);
    if (cached) return cached;
    const head = await this.index.head(pk);
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
