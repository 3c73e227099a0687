/**
 * A partition's index as stored (DESIGN.md §3, "the head carries the tail"): one *head* item that is the
 * partition's commit point — `nextOffset`, `logStartOffset`, the garbage-collection horizon, the newest index
 * entries (the *tail*) and the idempotent producers' last requests — plus immutable *chunk* items holding older
 * entries, several per item, keyed by their first offset.
 *
 * A commit is one conditional single-item put of the head (version as read): it claims the offsets, adds the
 * entry, and, because the horizon lives in the same item, cannot land after garbage collection raised it
 * (gc-fence.ts). When the tail grows past `ARCHIVE_AT_BYTES`, the writer first stores the tail as a chunk and
 * then commits a head without those entries, so an entry is always in the head, in a chunk, or both (chunks are
 * written only from a head that was read or written, so each states committed facts; a stale writer may write
 * a chunk that overlaps another, and readers skip what they have already seen).
 *
 * Old stores (one item per entry, `i#<offset>` with the entry's fields) read as one-entry chunks.
 */
import type { CoreContext } from '../context';
import { FerryError } from '../../protocol/errors';
import type { Item, ItemData, WriteOp } from '../../ports/metadata-store';
import type { IndexEntry, PartitionHead } from '../model';
import { metaKeys, objectKeys } from './keys';

/** Past this many bytes of JSON, the head's tail moves to a chunk (a head stays under one 1 KB write unit). */
export const ARCHIVE_AT_BYTES = 640;
/** Idempotent producers whose last request a head remembers (the newest first). */
export const PRODUCERS_KEPT = 8;

/** An idempotent producer's last request that touched this partition: a retry finds its offsets here. */
export interface ProducerState {
  epoch: number;
  sequence: number;
  base: bigint;
  count: number;
}

export interface StoredHead extends PartitionHead {
  /** Objects born at or before this (ms) may have been collected: never commit one of those. */
  horizon: number;
  /** Offset of the tail's first entry (= `nextOffset` when the tail is empty). */
  tailBase: bigint;
  tail: IndexEntry[];
  producers: Record<string, ProducerState>;
}

export interface Chunk {
  sk: string;
  entries: IndexEntry[];
  /** One past the chunk's last offset. */
  end: bigint;
}

function damaged(what: string, item: { pk: string; sk: string }): FerryError {
  return new FerryError('data', `metadata item ${item.pk} / ${item.sk} is not a valid ${what}`, { pk: item.pk, sk: item.sk });
}

const isOffset = (v: unknown): v is string => typeof v === 'string' && /^\d{1,20}$/.test(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/** The topic id inside a partition key `p#<topicId>#<partition>`. */
function topicIdOf(pk: string): string {
  const m = /^p#([0-9a-z-]{1,64})#\d+$/.exec(pk);
  if (!m) throw new Error(`internal: ${pk} is not a partition key`);
  return m[1];
}

// ---- compact entries: [count, object, byteStart, byteLength, maxTimestamp, replicas] -------------------

type CompactEntry = [number, string, number, number, number, string[]];

function compact(e: IndexEntry, topicId: string): CompactEntry {
  const prefix = objectKeys.topicPrefix(topicId);
  const object = e.objectKey.startsWith(prefix) && e.objectKey.endsWith('.seg') ? e.objectKey.slice(prefix.length, -4) : `/${e.objectKey}`;
  return [e.count, object, e.byteStart, e.byteLength, e.maxTimestamp, [...e.replicas]];
}

function expand(c: unknown, baseOffset: bigint, topicId: string, item: Item, what: string): IndexEntry {
  if (
    !Array.isArray(c) ||
    c.length !== 6 ||
    !isInt(c[0]) ||
    c[0] < 1 ||
    typeof c[1] !== 'string' ||
    !isInt(c[2]) ||
    !isInt(c[3]) ||
    typeof c[4] !== 'number' ||
    !Array.isArray(c[5]) ||
    !c[5].every((r) => typeof r === 'string')
  ) {
    throw damaged(what, item);
  }
  const objectKey = c[1].startsWith('/') ? c[1].slice(1) : `${objectKeys.topicPrefix(topicId)}${c[1]}.seg`;
  return {
    baseOffset,
    count: c[0],
    objectKey,
    byteStart: c[2],
    byteLength: c[3],
    maxTimestamp: c[4],
    replicas: [...(c[5] as string[])],
  };
}

function expandAll(list: unknown, base: bigint, topicId: string, item: Item, what: string): IndexEntry[] {
  if (!Array.isArray(list)) throw damaged(what, item);
  const out: IndexEntry[] = [];
  let next = base;
  for (const c of list) {
    const e = expand(c, next, topicId, item, what);
    out.push(e);
    next += BigInt(e.count);
  }
  return out;
}

const endOf = (entries: IndexEntry[], base: bigint) =>
  entries.length ? entries[entries.length - 1].baseOffset + BigInt(entries[entries.length - 1].count) : base;

// ---- the head item --------------------------------------------------------------------------------------

export const headCodec = {
  encode(h: Omit<StoredHead, 'version'>, pk: string): ItemData {
    const topicId = topicIdOf(pk);
    const producers: Record<string, [number, number, string, number]> = {};
    for (const [id, p] of Object.entries(h.producers)) producers[id] = [p.epoch, p.sequence, p.base.toString(), p.count];
    return {
      nextOffset: h.nextOffset.toString(),
      logStartOffset: h.logStartOffset.toString(),
      ...(h.horizon !== -Infinity && { horizon: h.horizon }),
      tailBase: h.tailBase.toString(),
      tail: h.tail.map((e) => compact(e, topicId)),
      ...(Object.keys(producers).length > 0 && { producers }),
    };
  },

  /** An absent head is an empty partition at version 0. A head of an old store (no tail) has every entry in chunks. */
  decode(item: Item | undefined): StoredHead {
    if (!item) return { nextOffset: 0n, logStartOffset: 0n, version: 0, horizon: -Infinity, tailBase: 0n, tail: [], producers: {} };
    const d = item.data;
    if (!isOffset(d.nextOffset) || !isOffset(d.logStartOffset)) throw damaged('partition head', item);
    const nextOffset = BigInt(d.nextOffset);
    const logStartOffset = BigInt(d.logStartOffset);
    if (d.horizon !== undefined && typeof d.horizon !== 'number') throw damaged('partition head', item);
    const horizon = typeof d.horizon === 'number' ? d.horizon : -Infinity;
    if (d.tailBase === undefined) {
      return { nextOffset, logStartOffset, version: item.version, horizon, tailBase: nextOffset, tail: [], producers: {} };
    }
    if (!isOffset(d.tailBase)) throw damaged('partition head', item);
    const tailBase = BigInt(d.tailBase);
    const tail = expandAll(d.tail, tailBase, topicIdOf(item.pk), item, 'partition head');
    if (endOf(tail, tailBase) !== nextOffset) throw damaged('partition head (its tail does not end at nextOffset)', item);
    const producers: Record<string, ProducerState> = {};
    if (d.producers !== undefined) {
      if (typeof d.producers !== 'object' || d.producers === null) throw damaged('partition head', item);
      for (const [id, v] of Object.entries(d.producers)) {
        if (!Array.isArray(v) || v.length !== 4 || !isInt(v[0]) || !isInt(v[1]) || !isOffset(v[2]) || !isInt(v[3])) {
          throw damaged('partition head', item);
        }
        producers[id] = { epoch: v[0], sequence: v[1], base: BigInt(v[2]), count: v[3] };
      }
    }
    return { nextOffset, logStartOffset, version: item.version, horizon, tailBase, tail, producers };
  },
};

// ---- chunk items ----------------------------------------------------------------------------------------

export const chunkCodec = {
  encode(entries: IndexEntry[], pk: string): ItemData {
    const topicId = topicIdOf(pk);
    return { baseOffset: entries[0].baseOffset.toString(), entries: entries.map((e) => compact(e, topicId)) };
  },

  decode(item: Item): Chunk {
    const d = item.data;
    if (!isOffset(d.baseOffset) || metaKeys.entrySk(BigInt(d.baseOffset)) !== item.sk) throw damaged('index chunk', item);
    const base = BigInt(d.baseOffset);
    if (d.entries === undefined) {
      // An old store's entry item: one entry with named fields.
      if (
        !isInt(d.count) ||
        typeof d.objectKey !== 'string' ||
        !isInt(d.byteStart) ||
        !isInt(d.byteLength) ||
        typeof d.maxTimestamp !== 'number' ||
        !Array.isArray(d.replicas) ||
        !d.replicas.every((r) => typeof r === 'string')
      ) {
        throw damaged('index entry', item);
      }
      const e: IndexEntry = {
        baseOffset: base,
        count: d.count,
        objectKey: d.objectKey,
        byteStart: d.byteStart,
        byteLength: d.byteLength,
        maxTimestamp: d.maxTimestamp,
        replicas: d.replicas as string[],
      };
      return { sk: item.sk, entries: [e], end: base + BigInt(e.count) };
    }
    const entries = expandAll(d.entries, base, topicIdOf(item.pk), item, 'index chunk');
    if (entries.length === 0) throw damaged('index chunk', item);
    return { sk: item.sk, entries, end: endOf(entries, base) };
  },
};

// ---- appending ------------------------------------------------------------------------------------------

/**
 * A batch to append: an index entry without its offset, and the idempotent requests whose records it holds
 * (each from `skip` records into the batch, `count` of them).
 */
export interface NewEntry extends Omit<IndexEntry, 'baseOffset'> {
  producers?: Array<{ id: string; epoch: number; sequence: number; skip: number; count: number }>;
}

/** The head after appending `entries` (offsets from `head.nextOffset`), before any archiving. */
export function appended(head: StoredHead, entries: NewEntry[]): Omit<StoredHead, 'version'> {
  const tail = [...head.tail];
  const producers = { ...head.producers };
  let next = head.nextOffset;
  for (const { producers: requests, ...e } of entries) {
    tail.push({ ...e, baseOffset: next });
    for (const r of requests ?? []) {
      delete producers[r.id];
      producers[r.id] = { epoch: r.epoch, sequence: r.sequence, base: next + BigInt(r.skip), count: r.count };
    }
    next += BigInt(e.count);
  }
  // The newest producers are kept (insertion order is recency: each update re-inserts its key).
  const ids = Object.keys(producers);
  for (const id of ids.slice(0, Math.max(0, ids.length - PRODUCERS_KEPT))) delete producers[id];
  const tailBase = tail.length ? tail[0].baseOffset : next;
  return { nextOffset: next, logStartOffset: head.logStartOffset, horizon: head.horizon, tailBase, tail, producers };
}

/** Bytes of a head's JSON (the unit DynamoDB bills writes in is 1 KB of item). */
export const headBytes = (h: Omit<StoredHead, 'version'>, pk: string) => JSON.stringify(headCodec.encode(h, pk)).length;

/** The head without the tail's entries below `upTo` (they are in a chunk now, or past retention). */
export function withoutArchived(h: Omit<StoredHead, 'version'>, upTo: bigint): Omit<StoredHead, 'version'> {
  const tail = h.tail.filter((e) => e.baseOffset >= upTo);
  return { ...h, tail, tailBase: tail.length ? tail[0].baseOffset : h.nextOffset };
}

/** The put that commits `next` over the head `read`. */
export function headPut(pk: string, read: PartitionHead, next: Omit<StoredHead, 'version'>): WriteOp {
  return { op: 'put', pk, sk: metaKeys.headSk, data: headCodec.encode(next, pk), expect: read.version === 0 ? 'absent' : read.version };
}

// ---- reading --------------------------------------------------------------------------------------------

export class PartitionIndex {
  constructor(private readonly ctx: CoreContext) {}

  async head(pk: string): Promise<StoredHead> {
    return headCodec.decode(await this.ctx.meta.get(pk, metaKeys.headSk));
  }

  /**
   * Prepares the commit of `entries` over `head`: the ops of one atomic write (the head put, preceded by the
   * chunk put when the tail moves out and multi-item writes are cheap) and the head it leaves. Where multi-item
   * writes are costly (DynamoDB transactions), the chunk is written here first, on its own.
   */
  async prepare(pk: string, head: StoredHead, entries: NewEntry[]): Promise<{ ops: WriteOp[]; next: Omit<StoredHead, 'version'> }> {
    let next = appended(head, entries);
    const ops: WriteOp[] = [];
    if (head.tail.length > 0 && headBytes(next, pk) > ARCHIVE_AT_BYTES) {
      const chunk = chunkCodec.encode(head.tail, pk);
      const sk = metaKeys.entrySk(head.tailBase);
      if (this.ctx.meta.multiItemWrites === 'cheap') {
        // In the same atomic write as the head: it lands only if the head was current.
        ops.push({ op: 'put', pk, sk, data: chunk });
        next = withoutArchived(next, head.nextOffset);
      } else {
        const res = await this.ctx.meta.write([{ op: 'put', pk, sk, data: chunk, expect: 'absent' }]);
        // A chunk at that offset exists already (another writer archived first): what it covers may go.
        const covered = res.ok ? head.nextOffset : res.current ? chunkCodec.decode(res.current).end : head.tailBase;
        next = withoutArchived(next, covered < head.nextOffset ? covered : head.nextOffset);
      }
    }
    ops.push(headPut(pk, head, next));
    return { ops, next };
  }

  /** The partition's chunks in offset order (maintenance). */
  async chunks(pk: string): Promise<Chunk[]> {
    return (await this.ctx.meta.query(pk, { prefix: metaKeys.entrySkPrefix })).map(chunkCodec.decode);
  }

  /** Every index entry from `logStartOffset` (or from `from`) to the head, in offset order, each once. */
  async entries(pk: string, head: StoredHead, from: bigint = head.logStartOffset): Promise<IndexEntry[]> {
    return this.entriesFrom(pk, head, from, { maxRecords: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER });
  }

  /**
   * The entries covering `[offset, head.nextOffset)`, as many as the limits can use: chunks (found from the
   * one at or below `offset`), then the head's tail. Overlapping chunks are read once; a gap is `data`.
   */
  async entriesFrom(pk: string, head: StoredHead, offset: bigint, limits: { maxRecords: number; maxBytes: number }): Promise<IndexEntry[]> {
    const out: IndexEntry[] = [];
    let cursor = offset;
    let records = 0;
    let bytes = 0;
    /** Takes an entry if it is the next one; answers false once the limits are reached. */
    const take = (e: IndexEntry): boolean => {
      const end = e.baseOffset + BigInt(e.count);
      if (end <= cursor) return true; // seen already (an overlapping chunk) or below `offset`
      if (out.length === 0 ? e.baseOffset > cursor : e.baseOffset !== cursor) {
        throw new FerryError('data', `index of ${pk} has a gap: expected an entry at ${cursor}, found ${e.baseOffset}`);
      }
      out.push(e);
      records += Number(end - (offset > e.baseOffset ? offset : e.baseOffset));
      bytes += e.byteLength;
      cursor = end;
      return records < limits.maxRecords && bytes < limits.maxBytes;
    };
    if (offset < head.tailBase) {
      const prefix = metaKeys.entrySkPrefix;
      const [first] = await this.ctx.meta.query(pk, { prefix, lte: metaKeys.entrySk(offset), reverse: true, limit: 1 });
      if (!first) throw new FerryError('data', `index of ${pk} has no entry at or below offset ${offset} (below the high watermark)`);
      // The chunk holding `offset` came with the lookup; the next ones only if the limits reach past it.
      const chunkEntries = (item: Item) => chunkCodec.decode(item).entries.filter((e) => e.baseOffset < head.tailBase);
      for (const e of chunkEntries(first)) if (!take(e)) return out;
      let from = first.sk;
      while (cursor < head.tailBase) {
        const page = (await this.ctx.meta.query(pk, { prefix, gte: from, limit: 16 })).filter((item) => item.sk !== from);
        for (const item of page) {
          for (const e of chunkEntries(item)) if (!take(e)) return out;
          if (cursor >= head.tailBase) break;
        }
        if (page.length < 15) break;
        from = page[page.length - 1].sk;
      }
    }
    for (const e of head.tail) if (!take(e)) return out;
    if (cursor < head.nextOffset && out.length > 0) {
      throw new FerryError('data', `index of ${pk} has a gap: expected an entry at ${cursor}, found none`);
    }
    return out;
  }

  /** The entry holding `offset`, if the index has it. */
  async entryAt(pk: string, head: StoredHead, offset: bigint): Promise<IndexEntry | undefined> {
    if (offset < head.logStartOffset || offset >= head.nextOffset) return undefined;
    const [e] = await this.entriesFrom(pk, head, offset, { maxRecords: 1, maxBytes: 1 });
    return e;
  }
}
