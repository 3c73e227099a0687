/** Keys and values between the user's types and the wire (DESIGN §4): bytes ⇄ `{"base64": ...}`. */
import type { KafkaMessage, Message } from './types';

export interface WireRecord {
  key?: unknown;
  value: unknown;
  headers?: Record<string, string>;
  partition?: number;
  timestamp?: number;
}

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
  const out: WireRecord = { value: toWire(m.value) };
  if (m.key !== undefined && m.key !== null) out.key = toWire(m.key);
  if (m.headers) {
    const h: Record<string, string> = Object.create(null);
    for (const [k, v] of Object.entries(m.headers)) h[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
    out.headers = h;
  }
  if (m.partition !== undefined) out.partition = m.partition;
  if (m.timestamp !== undefined) out.timestamp = Number(m.timestamp);
  return out;
}

export interface WireFetched {
  offset: string;
  timestamp: number;
  key: unknown;
  value: unknown;
  headers: Record<string, string>;
}

export function decodeMessage(r: WireFetched): KafkaMessage {
  return { offset: r.offset, timestamp: r.timestamp, key: fromWire(r.key), value: fromWire(r.value), headers: r.headers ?? {} };
}
