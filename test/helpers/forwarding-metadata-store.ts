/** A MetadataStore that forwards every call to `inner`: test doubles extend it and override what they change. */
import type { Item, MetadataStore, SkRange, WriteOp, WriteResult } from '../../lib/ports/metadata-store';

export class ForwardingMetadataStore implements MetadataStore {
  constructor(readonly inner: MetadataStore) {}

  get maxOpsPerWrite(): number {
    return this.inner.maxOpsPerWrite;
  }

  get multiItemWrites() {
    return this.inner.multiItemWrites;
  }

  get(pk: string, sk: string): Promise<Item | undefined> {
    return this.inner.get(pk, sk);
  }

  query(pk: string, range?: SkRange): Promise<Item[]> {
    return this.inner.query(pk, range);
  }

  write(ops: WriteOp[]): Promise<WriteResult> {
    return this.inner.write(ops);
  }
}
