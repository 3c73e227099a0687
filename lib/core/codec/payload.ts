/** Stored payload → the JSON value users see (HTTP answers, consumer events): JSON as is, binary as base64. */
import type { Payload } from '../model';

export function payloadToJson(p: Payload | null): unknown {
  if (p === null) return null;
  const b = Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength);
  return p.encoding === 'json' ? JSON.parse(b.toString('utf8')) : { base64: b.toString('base64') };
}

/** A JSON value → stored JSON payload. */
export function jsonToPayload(v: unknown): Payload {
  return { encoding: 'json', bytes: Buffer.from(JSON.stringify(v), 'utf8') };
}
