/**
 * The segment codec. A segment object is a header followed by one batch per partition; an index entry points
 * at one batch (byteStart, byteLength), so a reader fetches only its partition's bytes.
 *
 * Object header (8 bytes): "FSEG" u8 version u8[3] reserved.
 * Batch: "FB" u8 version u8 flags | u32 crc32c | u32 count | u32 payloadLength | payload
 *        The CRC covers everything after itself (count, length, payload).
 * Record: f64 timestamp | u8 keyType | u32 keyLength | key | u8 valueType | u32 valueLength | value
 *         | u16 headerCount | (u16 nameLength | name | u32 valueLength | value)*
 *         keyType 0 = no key, 1 = JSON, 2 = binary; valueType 1 = JSON, 2 = binary. Names/values UTF-8.
 * No absolute offsets are stored: they are assigned at commit by the metadata store, so a batch whose commit
 * loses a race is committed again as is, never re-uploaded.
 */
import { FerryError } from '../../protocol/errors';
import type { Headers, Payload, StoredRecord } from '../model';
import { crc32c } from './crc32c';

export const SEGMENT_VERSION = 1;
export const OBJECT_HEADER_BYTES = 8;
export const BATCH_HEADER_BYTES = 16;

const OBJECT_MAGIC = [0x46, 0x53, 0x45, 0x47]; // FSEG
const BATCH_MAGIC = [0x46, 0x42]; // FB

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

const TYPE: Record<Payload['encoding'], number> = { json: 1, binary: 2 };

function payloadSize(p: Payload | null): number {
  return 1 + 4 + (p ? p.bytes.length : 0);
}

/** Encoded header entries of a record, reused between sizing and writing. */
function encodeHeaders(headers: Headers): Array<[Uint8Array, Uint8Array]> {
  const out: Array<[Uint8Array, Uint8Array]> = [];
  for (const name of Object.keys(headers)) out.push([utf8.encode(name), utf8.encode(headers[name])]);
  return out;
}

/** Bytes a record takes in a batch (what limits and retention count). */
export function recordSize(r: StoredRecord): number {
  let n = 8 + payloadSize(r.key) + payloadSize(r.value) + 2;
  for (const name of Object.keys(r.headers)) {
    n += 2 + Buffer.byteLength(name) + 4 + Buffer.byteLength(r.headers[name]);
  }
  return n;
}

/** Bytes `encodeBatchInto` will write for these records (their encoded headers given). */
function batchSize(records: readonly StoredRecord[], headers: Array<Array<[Uint8Array, Uint8Array]>>): number {
  let size = BATCH_HEADER_BYTES;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    size += 8 + payloadSize(r.key) + payloadSize(r.value) + 2;
    for (const [n, v] of headers[i]) size += 2 + n.length + 4 + v.length;
  }
  return size;
}

const NO_HEADERS: Array<[Uint8Array, Uint8Array]> = [];

function headersOf(records: readonly StoredRecord[]): Array<Array<[Uint8Array, Uint8Array]>> {
  return records.map((r) => {
    for (const _ in r.headers) return encodeHeaders(r.headers);
    return NO_HEADERS;
  });
}

/** Writes one batch at `buf[at .. at + size)`. */
function encodeBatchInto(
  buf: Buffer,
  at: number,
  size: number,
  records: readonly StoredRecord[],
  headers: Array<Array<[Uint8Array, Uint8Array]>>,
): void {
  buf[at] = BATCH_MAGIC[0];
  buf[at + 1] = BATCH_MAGIC[1];
  buf[at + 2] = SEGMENT_VERSION;
  buf[at + 3] = 0;
  buf.writeUInt32BE(records.length, at + 8);
  buf.writeUInt32BE(size - BATCH_HEADER_BYTES, at + 12);
  let o = at + BATCH_HEADER_BYTES;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    buf.writeDoubleBE(r.timestamp, o);
    o += 8;
    for (const p of [r.key, r.value]) {
      buf[o] = p ? TYPE[p.encoding] : 0;
      buf.writeUInt32BE(p ? p.bytes.length : 0, o + 1);
      o += 5;
      if (p) {
        buf.set(p.bytes, o);
        o += p.bytes.length;
      }
    }
    const hs = headers[i];
    buf.writeUInt16BE(hs.length, o);
    o += 2;
    for (const [n, v] of hs) {
      buf.writeUInt16BE(n.length, o);
      buf.set(n, o + 2);
      o += 2 + n.length;
      buf.writeUInt32BE(v.length, o);
      buf.set(v, o + 4);
      o += 4 + v.length;
    }
  }
  buf.writeUInt32BE(crc32c(buf.subarray(at + 8, at + size)), at + 4);
}

/** Encodes one partition's records as a self-checking batch. */
export function encodeBatch(records: readonly StoredRecord[]): Uint8Array {
  const headers = headersOf(records);
  const size = batchSize(records, headers);
  const buf = Buffer.allocUnsafe(size);
  encodeBatchInto(buf, 0, size, records, headers);
  return buf;
}

/** One segment object holding one batch per record list, encoded in place (no intermediate copies). */
export function encodeSegment(batches: ReadonlyArray<readonly StoredRecord[]>): EncodedSegment {
  const headers = batches.map(headersOf);
  const sizes = batches.map((b, i) => batchSize(b, headers[i]));
  let total = OBJECT_HEADER_BYTES;
  for (const n of sizes) total += n;
  const body = Buffer.allocUnsafe(total);
  body.set(objectHeader(), 0);
  let o = OBJECT_HEADER_BYTES;
  const positions = batches.map((b, i) => {
    encodeBatchInto(body, o, sizes[i], b, headers[i]);
    const pos = { byteStart: o, byteLength: sizes[i] };
    o += sizes[i];
    return pos;
  });
  return { body, batches: positions };
}

function corrupt(message: string, details: Record<string, unknown> = {}): FerryError {
  return new FerryError('data', `corrupt segment batch: ${message}`, details);
}

/**
 * Decodes a batch, verifying its magic, version, CRC and every length. Throws a `data` FerryError on any
 * damage; never returns partial or wrong records.
 */
export function decodeBatch(bytes: Uint8Array, expectedCount?: number): StoredRecord[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < BATCH_HEADER_BYTES) throw corrupt(`truncated header (${buf.length} bytes)`);
  if (buf[0] !== BATCH_MAGIC[0] || buf[1] !== BATCH_MAGIC[1]) throw corrupt('bad magic');
  if (buf[2] !== SEGMENT_VERSION) throw corrupt(`unsupported version ${buf[2]}`);
  if (buf[3] !== 0) throw corrupt(`unknown flags ${buf[3]}`);
  const crc = buf.readUInt32BE(4);
  const count = buf.readUInt32BE(8);
  const length = buf.readUInt32BE(12);
  if (length !== buf.length - BATCH_HEADER_BYTES) {
    throw corrupt(`length ${length} does not match ${buf.length - BATCH_HEADER_BYTES} bytes read`);
  }
  if (crc32c(buf.subarray(8)) !== crc) throw corrupt('CRC32C mismatch');
  if (expectedCount !== undefined && count !== expectedCount) {
    throw corrupt(`holds ${count} records, the index says ${expectedCount}`);
  }
  const end = buf.length;
  let o = BATCH_HEADER_BYTES;
  const need = (n: number) => {
    if (o + n > end) throw corrupt('record runs past the end of the batch');
  };
  const readPayload = (allowNone: boolean): Payload | null => {
    need(5);
    const type = buf[o];
    const len = buf.readUInt32BE(o + 1);
    o += 5;
    if (type === 0 && allowNone) {
      if (len !== 0) throw corrupt('absent key with a length');
      return null;
    }
    if (type !== 1 && type !== 2) throw corrupt(`unknown payload type ${type}`);
    need(len);
    const p: Payload = { encoding: type === 1 ? 'json' : 'binary', bytes: buf.subarray(o, o + len) };
    o += len;
    return p;
  };
  const records: StoredRecord[] = new Array(count);
  for (let i = 0; i < count; i++) {
    need(8);
    const timestamp = buf.readDoubleBE(o);
    o += 8;
    const key = readPayload(true);
    const value = readPayload(false) as Payload;
    need(2);
    const headerCount = buf.readUInt16BE(o);
    o += 2;
    const headers: Headers = Object.create(null);
    for (let h = 0; h < headerCount; h++) {
      need(2);
      const nl = buf.readUInt16BE(o);
      need(2 + nl + 4);
      const name = utf8Decoder.decode(buf.subarray(o + 2, o + 2 + nl));
      o += 2 + nl;
      const vl = buf.readUInt32BE(o);
      need(4 + vl);
      headers[name] = utf8Decoder.decode(buf.subarray(o + 4, o + 4 + vl));
      o += 4 + vl;
    }
    records[i] = { timestamp, key, value, headers };
  }
  if (o !== end) throw corrupt(`${end - o} trailing bytes after ${count} records`);
  return records;
}

/** The fixed header every segment object starts with. */
export function objectHeader(): Uint8Array {
  const h = new Uint8Array(OBJECT_HEADER_BYTES);
  h.set(OBJECT_MAGIC, 0);
  h[4] = SEGMENT_VERSION;
  return h;
}

export interface EncodedSegment {
  body: Uint8Array;
  /** Per input batch, where it sits inside `body`. */
  batches: Array<{ byteStart: number; byteLength: number }>;
}

/** Lays out one segment object from already encoded batches. */
export function assembleSegment(batches: readonly Uint8Array[]): EncodedSegment {
  let size = OBJECT_HEADER_BYTES;
  for (const b of batches) size += b.length;
  const body = Buffer.allocUnsafe(size);
  body.set(objectHeader(), 0);
  let o = OBJECT_HEADER_BYTES;
  const positions = batches.map((b) => {
    body.set(b, o);
    const pos = { byteStart: o, byteLength: b.length };
    o += b.length;
    return pos;
  });
  return { body, batches: positions };
}
