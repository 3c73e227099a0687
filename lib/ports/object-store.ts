/**
 * An object store: one failure domain holding immutable objects (an S3 bucket, or a local directory).
 * Objects are written once and never overwritten; Ferry only ever creates, reads, lists and deletes them.
 */
export interface ObjectStore {
  /** Stable name of this store (what index entries record as a replica), e.g. `s0`. */
  readonly name: string;

  /**
   * Creates `key` with `body` only if no object has that key. Resolves once the object is durable.
   * `{ created: false }` means an object already existed and was left untouched.
   */
  putIfAbsent(key: string, body: Uint8Array): Promise<{ created: boolean }>;

  /** The object's bytes, or a byte range of them; `undefined` when the object does not exist. */
  get(key: string, range?: ByteRange): Promise<Uint8Array | undefined>;

  /** Deletes the object; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;

  /** Objects under `prefix` in key order, starting after `startAfter`, at most `limit` per page. */
  list(prefix: string, options?: { startAfter?: string; limit?: number }): Promise<ListPage>;
}

export interface ByteRange {
  start: number;
  length: number;
}

export interface ObjectInfo {
  key: string;
  size: number;
}

export interface ListPage {
  objects: ObjectInfo[];
  /** Pass as `startAfter` to read the next page; absent on the last page. */
  next?: string;
}
