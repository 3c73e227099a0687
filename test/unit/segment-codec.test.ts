import * as fc from 'fast-check';
import { assembleSegment, decodeBatch, encodeBatch, recordSize, OBJECT_HEADER_BYTES } from '../../lib/core/codec/segment';
import { isFerryError } from '../../lib/protocol/errors';
import type { StoredRecord } from '../../lib/core/model';

const payload = fc.oneof(
  fc.record({ encoding: fc.constant('json' as const), bytes: fc.json().map((j) => Buffer.from(j)) }),
  fc.record({ encoding: fc.constant('binary' as const), bytes: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) }),
);
const headers = fc
  .dictionary(
    fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.isWellFormed()),
    fc.string({ maxLength: 50 }).filter((s) => s.isWellFormed()),
    { maxKeys: 5 },
  )
  .map((d) => Object.assign(Object.create(null), d));
const record: fc.Arbitrary<StoredRecord> = fc.record({
  key: fc.option(payload, { nil: null }),
  value: payload,
  headers,
  timestamp: fc.integer({ min: 0, max: 8.64e15 }),
});

const norm = (records: StoredRecord[]) =>
  records.map((r) => ({
    ...r,
    headers: { ...r.headers },
    key: r.key && { encoding: r.key.encoding, bytes: [...r.key.bytes] },
    value: { encoding: r.value.encoding, bytes: [...r.value.bytes] },
  }));

const expectDataError = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    expect(isFerryError(e) && e.kind).toBe('data');
    return;
  }
  throw new Error('expected a data error, got none');
};

describe('segment codec', () => {
  it('round-trips any batch exactly', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 30 }), (records) => {
        const batch = encodeBatch(records);
        expect(norm(decodeBatch(batch, records.length))).toEqual(norm(records));
        expect(batch.length).toBe(16 + records.reduce((n, r) => n + recordSize(r), 0));
      }),
      { numRuns: 300 },
    );
  });

  it('lays batches out in one object and each can be read back by its byte range', () => {
    fc.assert(
      fc.property(fc.array(fc.array(record, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 6 }), (parts) => {
        const seg = assembleSegment(parts.map(encodeBatch));
        expect(seg.batches[0].byteStart).toBe(OBJECT_HEADER_BYTES);
        parts.forEach((records, i) => {
          const { byteStart, byteLength } = seg.batches[i];
          expect(norm(decodeBatch(seg.body.subarray(byteStart, byteStart + byteLength)))).toEqual(norm(records));
        });
      }),
      { numRuns: 100 },
    );
  });

  it('detects any flipped bit (CRC32C, magic, lengths), never returning wrong records', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 5 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (records, at, bit) => {
        const batch = Buffer.from(encodeBatch(records));
        const i = at % batch.length;
        batch[i] ^= 1 << bit;
        expectDataError(() => decodeBatch(batch, records.length));
      }),
      { numRuns: 500 },
    );
  });

  it('detects truncation and a count that disagrees with the index', () => {
    const batch = encodeBatch([
      { key: null, value: { encoding: 'json', bytes: Buffer.from('"v"') }, headers: Object.create(null), timestamp: 1 },
    ]);
    for (let n = 0; n < batch.length; n++) expectDataError(() => decodeBatch(batch.subarray(0, n)));
    expectDataError(() => decodeBatch(batch, 2));
  });
});
