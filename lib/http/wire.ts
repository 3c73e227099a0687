/**
 * Wire formats of HTTP API v1 (DESIGN.md §4): keys and values as JSON or `{"base64": "..."}`, offsets as
 * decimal strings, strict numbers in query strings.
 */
import type { TopicInfo } from '../protocol/v1';
import { invalid } from '../protocol/errors';
import type { FetchedRecord, Headers, Payload, PartitionState, TopicConfig } from '../core/model';
import type { Limits } from '../core/settings';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Header names that could reach an object prototype; refused although headers live in null-prototype maps. */
const RESERVED_HEADER_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

function isBinary(v: unknown): v is { base64: string } {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0] === 'base64';
}

/** A wire key or value → stored payload. Binary must be strict, canonical base64. */
export function toPayload(v: unknown, where: string): Payload {
  if (isBinary(v)) {
    const s = v.base64;
    if (typeof s !== 'string' || !BASE64.test(s)) throw invalid(`${where}: "base64" must be a standard base64 string`);
    const bytes = Buffer.from(s, 'base64');
    if (bytes.toString('base64') !== s) throw invalid(`${where}: "base64" is not canonical base64`);
    return { encoding: 'binary', bytes };
  }
  return { encoding: 'json', bytes: Buffer.from(JSON.stringify(v), 'utf8') };
}

/** Stored payload → JSON text for the wire (JSON payloads are spliced in as stored). */
export function payloadJson(p: Payload | null): string {
  if (p === null) return 'null';
  const b = Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength);
  return p.encoding === 'json' ? b.toString('utf8') : `{"base64":"${b.toString('base64')}"}`;
}

/** Validates record headers into a null-prototype map. */
export function toHeaders(v: unknown, where: string, limits: Limits): Headers {
  const out: Headers = Object.create(null);
  if (v === undefined || v === null) return out;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`${where}.headers must be an object of string values`);
  const names = Object.keys(v);
  if (names.length > limits.maxHeadersPerRecord) {
    throw invalid(`${where} has ${names.length} headers; at most ${limits.maxHeadersPerRecord} are allowed`);
  }
  for (const name of names) {
    const value = (v as Record<string, unknown>)[name];
    if (RESERVED_HEADER_NAMES.has(name)) throw invalid(`${where}: header name "${name}" is reserved`);
    if (name.length === 0) throw invalid(`${where}: header names must not be empty`);
    if (Buffer.byteLength(name) > limits.maxHeaderNameBytes) {
      throw invalid(`${where}: header name longer than ${limits.maxHeaderNameBytes} bytes`);
    }
    if (typeof value !== 'string') throw invalid(`${where}: header "${name}" must have a string value`);
    if (Buffer.byteLength(value) > limits.maxHeaderValueBytes) {
      throw invalid(`${where}: header "${name}" is longer than ${limits.maxHeaderValueBytes} bytes`);
    }
    out[name] = value;
  }
  return out;
}

export function fetchedRecordJson(r: FetchedRecord): string {
  return (
    `{"offset":"${r.offset}","timestamp":${r.timestamp},"key":${payloadJson(r.key)},` +
    `"value":${payloadJson(r.value)},"headers":${JSON.stringify(r.headers)}}`
  );
}

export function topicJson(t: TopicConfig, partitions?: PartitionState[]): TopicInfo {
  return {
    name: t.name,
    topicId: t.topicId,
    partitionCount: t.partitionCount,
    replicationFactor: t.replicationFactor,
    retentionMs: t.retentionMs,
    retentionBytes: t.retentionBytes,
    maxRecordBytes: t.maxRecordBytes,
    createdAt: new Date(t.createdAt).toISOString(),
    ...(partitions && {
      partitions: partitions.map((p) => ({
        partition: p.partition,
        logStartOffset: p.logStartOffset.toString(),
        highWatermark: p.highWatermark.toString(),
      })),
    }),
  };
}

/**
 * Query parameters: each at most once, only the known ones. Returns a plain map of single values.
 */
export function queryParams(url: URL, known: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = Object.create(null);
  for (const name of new Set(url.searchParams.keys())) {
    if (!known.includes(name)) {
      throw invalid(`unknown query parameter "${name}"; this route takes ${known.map((k) => `"${k}"`).join(', ') || 'none'}`);
    }
    const values = url.searchParams.getAll(name);
    if (values.length > 1) throw invalid(`query parameter "${name}" is given ${values.length} times; give it once`);
    out[name] = values[0];
  }
  return out;
}

/** A non-negative decimal integer no larger than 2^53 - 1 (no sign, fraction, exponent or hex). */
export function parseCount(raw: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d{1,16}$/.test(raw)) throw invalid(`${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  const n = Number(raw);
  if (n < min || n > max) throw invalid(`${name} must be from ${min} to ${max} (got ${raw})`);
  return n;
}

/** An offset from a query string or JSON: a decimal string or a safe integer, ≥ 0, ≤ 2^53 - 1. */
export function parseOffset(raw: unknown, name = 'offset'): bigint {
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) return BigInt(raw);
  if (typeof raw === 'string' && /^\d{1,16}$/.test(raw) && Number(raw) <= Number.MAX_SAFE_INTEGER) return BigInt(raw);
  throw invalid(`${name} must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER} (got ${JSON.stringify(raw)})`);
}

/** A partition number from a path: decimal, no sign or leading zeros beyond "0". */
export function parsePartition(raw: string, max: number): number {
  if (!/^(0|[1-9]\d{0,5})$/.test(raw) || Number(raw) >= max) {
    throw invalid(`partition must be a whole number from 0 to ${max - 1} (got ${JSON.stringify(raw)})`);
  }
  return Number(raw);
}

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(:(\d{2})(\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/;

/**
 * An ISO-8601 date-time with a zone (`2030-01-01T09:00:00Z`, `…+02:00`) → epoch ms; NaN when it is not one or
 * names no real time (Date.parse would roll 2026-11-31 over to December 1st).
 */
export function parseIsoTime(text: string): number {
  const m = ISO_8601.exec(text);
  if (!m) return Number.NaN;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[7] ?? '0'].map(Number);
  const calendar = new Date(Date.UTC(year, month - 1, day));
  const valid =
    calendar.getUTCFullYear() === year &&
    calendar.getUTCMonth() === month - 1 &&
    calendar.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 60 &&
    (m[10] === undefined || (Number(m[10]) < 24 && Number(m[11]) < 60));
  return valid ? Date.parse(text) : Number.NaN;
}

/**
 * `deliverAt` (epoch ms or an ISO-8601 date-time with a zone) or `deliverAfterMs` (relative to `now`) → epoch ms.
 * The core judges whether the time is acceptable.
 */
export function parseDeliverAt(
  at: number | string | undefined,
  afterMs: number | undefined,
  now: number,
  where: string,
): number | undefined {
  if (at !== undefined && afterMs !== undefined) throw invalid(`${where}: give deliverAt or deliverAfterMs, not both`);
  if (afterMs !== undefined) return now + afterMs;
  if (at === undefined) return undefined;
  if (typeof at === 'number') {
    if (!Number.isSafeInteger(at) || at < 0) throw invalid(`${where}.deliverAt must be epoch milliseconds or an ISO-8601 time`);
    return at;
  }
  const ms = parseIsoTime(at);
  if (Number.isNaN(ms)) {
    throw invalid(
      `${where}.deliverAt ${JSON.stringify(at.slice(0, 40))} is not a time: use epoch milliseconds or ISO-8601 like 2030-01-01T00:00:00Z`,
    );
  }
  return ms;
}
