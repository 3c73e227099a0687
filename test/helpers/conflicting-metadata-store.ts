/**
 * A MetadataStore wrapper that cancels writes as DynamoDB does (DESIGN §4c): while a multi-op write (a
 * transaction) is in flight it holds its items for `holdMs`, and any other write touching one of them — a
 * transaction, or a single-item write — is refused with the conflict the AWS adapter reports
 * (`unavailable`, `details.reason: "conflict"`), nothing applied. Counts conflicts by the kind of item.
 */
import { FerryError } from '../../lib/protocol/errors';
import type { MetadataStore, WriteOp, WriteResult } from '../../lib/ports/metadata-store';
import { ForwardingMetadataStore } from './forwarding-metadata-store';

/** Shared by every process's wrapper of one store (the held items are the table's, not a process's). */
export class ConflictTable {
  readonly held = new Set<string>();
  readonly conflicts = new Map<string, number>();

  get total(): number {
    return [...this.conflicts.values()].reduce((a, b) => a + b, 0);
  }
}

/** The kind of item a key names, for the counts: `f` (GC fence), `p` (partition head/entry), `g … state`, … */
function kind(pk: string, sk: string): string {
  if (pk.startsWith('g#')) return `group ${sk.split('#')[0]}`;
  return pk.split('#')[0];
}

export class ConflictingMetadataStore extends ForwardingMetadataStore {
  constructor(
    inner: MetadataStore,
    readonly table: ConflictTable,
    readonly holdMs = 3,
  ) {
    super(inner);
  }

  override async write(ops: WriteOp[]): Promise<WriteResult> {
    const keys = ops.map((o) => `${o.pk}\u0000${o.sk}`);
    const clashes = ops.filter((o, i) => this.table.held.has(keys[i]));
    if (clashes.length) {
      // Counted once, by the item that makes it inevitable: two writers of one partition's head always clash.
      const clash = clashes.find((o) => o.pk.startsWith('p#')) ?? clashes[0];
      const k = kind(clash.pk, clash.sk);
      this.table.conflicts.set(k, (this.table.conflicts.get(k) ?? 0) + 1);
      throw new FerryError('unavailable', `conflict on ${clash.pk} / ${clash.sk}`, { reason: 'conflict' });
    }
    if (ops.length === 1) return this.inner.write(ops);
    for (const k of keys) this.table.held.add(k);
    try {
      await new Promise((r) => setTimeout(r, this.holdMs));
      return await this.inner.write(ops);
    } finally {
      for (const k of keys) this.table.held.delete(k);
    }
  }
}
