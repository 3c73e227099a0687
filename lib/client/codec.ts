/** Keys and values between the user's types and the wire (DESIGN §4): bytes ⇄ `{"base64": ...}`. */
import type { FetchedRecord } from '../protocol/v1';
import type { KafkaMessage, Message } from './types';

export interface WireRecord {
  key?: unknown;
  value: unknown;
  headers?: Record<string, string>;
  partition?: number;
  timestamp?: number;
  deliverAt?: number | string;
  deliverAfterMs?: number;
}

const MESSAGE_FIELDS = new Set(['key', 'value', 'headers', 'partition', 'timestamp', 'deliverAt', 'deliverAfterMs']);

/** Whether a record waits for its due time (the server schedules it instead of appending it). */
export const isDelayed = (r: WireRecord) => r.deliverAt !== undefined || r.deliverAfterMs !== undefined;

function toWire(v: unknown): unknown {
  if (v instanceof Uint8Array) return { base64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  return v;
}

function fromWire(v: unknown): unknown {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === 'base64' && typeof (v as { base64: unknown }).base64 === 'string') {
      return Buffer.from((v as { base64: string }).base64, 'base64');
    }
  }
  return v;
}

export function encodeMessage(m: Message, index: number): WireRecord {
  if (m.value === undefined) throw new TypeError(`messages[${index}] has no value (null is a value; undefined is not)`);
  const unknown = Object.keys(m).filter((k) => !MESSAGE_FIELDS.has(k));
  if (unknown.length) {
    throw new TypeError(
      `messages[${index}] has unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; a message takes ${[...MESSAGE_FIELDS].join(', ')}`,
    );
  }
  const out: WireRecord = { value: toWire(m.value) };
  if (m.key !== undefined && m.key !== null) out.key = toWire(m.key);
  if (m.headers) {
    const h: Record<string, string> = Object.create(null);
    for (const [k, v] of Object.entries(m.headers)) h[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
    out.headers = h;
  }
  if (m.partition !== undefined) out.partition = m.partition;
  if (m.timestamp !== undefined) out.timestamp = Number(m.timestamp);
  if (m.deliverAt !== undefined) out.deliverAt = m.deliverAt instanceof Date ? m.deliverAt.getTime() : m.deliverAt;
  if (m.deliverAfterMs !== undefined) out.deliverAfterMs = m.deliverAfterMs;
  return out;
}

/** One record of a fetch answer, as it travels. */
export type WireFetched = FetchedRecord;

export function decodeMessage(r: WireFetched): KafkaMessage {
  return { offset: r.offset, timestamp: r.timestamp, key: fromWire(r.key), value: fromWire(r.value), headers: r.headers ?? {} };
}
