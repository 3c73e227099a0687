/**
 * The fetch answer's JSON, capped by its encoded size (lib/core/payload-cap.ts): as many whole records as fit
 * `maxBytes` once the body is escaped into a Lambda response; `nextOffset` then points at the first record left
 * out, so the consumer simply reads on. The first record always goes in if it fits alone; one that cannot is
 * `413 too_large` naming its offset (a clear error instead of a response Lambda would refuse) — with the AWS
 * home's limits (records ≤ 1 MiB, answers ≤ 5.8 MB) it cannot happen.
 */
import { FerryError } from '../protocol/errors';
import type { FetchResult } from '../core/model';
import { fitPrefix, jsonStringBytes } from '../core/codec/payload-cap';
import { fetchedRecordJson } from './wire';

/** Room for the Lambda result around the body: status code, headers, `isBase64Encoded`. */
const ENVELOPE_BYTES = 1024;

export function fetchAnswerJson(res: FetchResult, maxBytes: number): string {
  const parts = res.records.map(fetchedRecordJson);
  const tail = (next: bigint) =>
    `],"nextOffset":"${next}","highWatermark":"${res.highWatermark}","logStartOffset":"${res.logStartOffset}"}`;
  const overhead = ENVELOPE_BYTES + jsonStringBytes(`{"records":[${tail(res.nextOffset)}`);
  // Valid JSON at most doubles when escaped: below half the cap nothing needs measuring.
  let raw = overhead;
  for (const p of parts) raw += 2 * Buffer.byteLength(p) + 1;
  let fit = parts.length;
  if (raw > maxBytes) {
    const sizes = parts.map(jsonStringBytes);
    fit = fitPrefix(sizes, maxBytes, overhead);
    if (fit === 0 && parts.length > 0) {
      const offset = res.records[0].offset.toString();
      throw new FerryError(
        'too_large',
        `the record at offset ${offset} is ${sizes[0]} bytes once encoded, more than one answer carries (${maxBytes} bytes)`,
        { offset, encodedBytes: sizes[0], maxResponseBytes: maxBytes },
      );
    }
  }
  const next = fit < parts.length ? res.records[fit].offset : res.nextOffset;
  return `{"records":[${parts.slice(0, fit).join(',')}${tail(next)}`;
}

/**
 * A member fetch's answer: each partition's records as `fetchAnswerJson` writes them, the answer's byte cap
 * shared in order (a partition that no longer fits answers no records, its position unchanged).
 */
export function memberFetchJson(
  res: {
    generation: number;
    assignments: Array<{ topic: string; partitions: number[] }>;
    partitions: Array<FetchResult & { topic: string; partition: number }>;
  },
  maxBytes: number,
): string {
  let left = maxBytes - ENVELOPE_BYTES - 2 * Buffer.byteLength(JSON.stringify(res.assignments)) - 64;
  const parts: string[] = [];
  for (const p of res.partitions) {
    let piece: string;
    try {
      piece = fetchAnswerJson(p, left);
    } catch (e) {
      if (parts.length === 0 || !(e instanceof FerryError) || e.kind !== 'too_large') throw e;
      piece = fetchAnswerJson({ ...p, records: [], nextOffset: p.records[0].offset }, maxBytes);
    }
    left -= 2 * Buffer.byteLength(piece);
    parts.push(`{"topic":${JSON.stringify(p.topic)},"partition":${p.partition},${piece.slice(1)}`);
  }
  return `{"generation":${res.generation},"assignments":${JSON.stringify(res.assignments)},"partitions":[${parts.join(',')}]}`;
}
