/**
 * Wrappers around the ports that count what the core asks of them (writes, PUTs, reads), and can make a
 * call fail as a crashed process would leave it. Shapes after slatedb's Recording / Flaky object stores.
 */
import type { Item, MetadataStore, SkRange, WriteOp, WriteResult } from '../../lib/ports/metadata-store';
import type { ByteRange, ListPage, ObjectStore } from '../../lib/ports/object-store';

export interface MetaCounts {
  gets: number;
  queries: number;
  /** `write` calls: one DynamoDB request each (a transaction when more than one op). */
  writes: number;
  ops: number;
}

export class RecordingMetadataStore implements MetadataStore {
  readonly counts: MetaCounts = { gets: 0, queries: 0, writes: 0, ops: 0 };
  /** Throws instead of writing while set (the process "crashes" before its commit). */
  failWrites?: Error;

  constructor(readonly inner: MetadataStore) {}

  get maxOpsPerWrite(): number {
    return this.inner.maxOpsPerWrite;
  }

  get multiItemWrites() {
    return this.inner.multiItemWrites;
  }

  get(pk: string, sk: string): Promise<Item | undefined> {
    this.counts.gets++;
    return this.inner.get(pk, sk);
  }

  query(pk: string, range?: SkRange): Promise<Item[]> {
    this.counts.queries++;
    return this.inner.query(pk, range);
  }

  async write(ops: WriteOp[]): Promise<WriteResult> {
    if (this.failWrites) throw this.failWrites;
    this.counts.writes++;
    this.counts.ops += ops.length;
    return this.inner.write(ops);
  }

  reset(): void {
    Object.assign(this.counts, { gets: 0, queries: 0, writes: 0, ops: 0 });
  }
}

export class RecordingObjectStore implements ObjectStore {
  readonly counts = { puts: 0, gets: 0, lists: 0, deletes: 0, putBytes: 0 };

  constructor(readonly inner: ObjectStore) {}

  get name(): string {
    return this.inner.name;
  }

  putIfAbsent(key: string, body: Uint8Array): Promise<{ created: boolean }> {
    this.counts.puts++;
    this.counts.putBytes += body.length;
    return this.inner.putIfAbsent(key, body);
  }

  get(key: string, range?: ByteRange): Promise<Uint8Array | undefined> {
    this.counts.gets++;
    return this.inner.get(key, range);
  }

  delete(key: string): Promise<void> {
    this.counts.deletes++;
    return this.inner.delete(key);
  }

  list(prefix: string, options?: { startAfter?: string; limit?: number }): Promise<ListPage> {
    this.counts.lists++;
    return this.inner.list(prefix, options);
  }

  reset(): void {
    Object.assign(this.counts, { puts: 0, gets: 0, lists: 0, deletes: 0, putBytes: 0 });
  }
}
