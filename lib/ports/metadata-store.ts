/**
 * The metadata store: small items addressed by (pk, sk), read consistently, written with compare-and-set.
 *
 * Every item carries a `version` that the store increments on each write; a write may require the item to be
 * absent or at an exact version. That one primitive is all the core needs for its commit point (claim
 * `[nextOffset, nextOffset + count)` only if the head is still as read), for fencing stale epochs and
 * generations, and for leases. Adapters translate it (SQLite transaction, DynamoDB conditional write /
 * TransactWriteItems); the logic stays in `lib/core`.
 */
export interface MetadataStore {
  /** Consistent read of one item. */
  get(pk: string, sk: string): Promise<Item | undefined>;

  /** Items of one partition key with `sk` in the range, in `sk` order (or reverse). Consistent. */
  query(pk: string, range?: SkRange): Promise<Item[]>;

  /**
   * Applies every op atomically, or none: all conditions hold and all writes land, or nothing changes and
   * the answer names the first op whose condition failed with that item's current state.
   * At most `maxOpsPerWrite` ops per call.
   */
  write(ops: WriteOp[]): Promise<WriteResult>;

  /** Largest number of ops one `write` accepts (DynamoDB transactions: 100). */
  readonly maxOpsPerWrite: number;

  /**
   * What a multi-item write costs: `cheap` where it is one local transaction (SQLite), `costly` where it is a
   * DynamoDB transaction (twice the write units, cancelled by any concurrent write to one of its items). The
   * core writes single items on hot paths where it is costly, and groups independent writes where it is cheap.
   */
  readonly multiItemWrites: 'cheap' | 'costly';

  close?(): Promise<void>;
}

/** Item attributes: JSON-safe plain data. Offsets are decimal strings. */
export type ItemData = Record<string, unknown>;

export interface Item {
  pk: string;
  sk: string;
  version: number;
  data: ItemData;
}

export interface SkRange {
  /** Inclusive lower bound. */
  gte?: string;
  /** Inclusive upper bound. */
  lte?: string;
  /** Only items whose sk starts with this. Combined with the bounds. */
  prefix?: string;
  reverse?: boolean;
  limit?: number;
}

/** `absent`: the item must not exist. A number: the item must exist at exactly that version. */
export type Expect = 'absent' | number;

export type WriteOp =
  | { op: 'put'; pk: string; sk: string; data: ItemData; expect?: Expect }
  | { op: 'delete'; pk: string; sk: string; expect?: Expect }
  /** A condition only: nothing is written. */
  | { op: 'check'; pk: string; sk: string; expect: Expect };

export type WriteResult = { ok: true } | { ok: false; failedIndex: number; current: Item | undefined };
