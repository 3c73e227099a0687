import * as fc from 'fast-check';
import { entryItem, headItem, topicItem } from '../../lib/core/storage/items';
import { metaKeys, objectKeys, padOffset, validateGroupId, validateTopicName } from '../../lib/core/storage/keys';
import { decodeResults, encodeResults } from '../../lib/core/storage/producer-results';
import { isFerryError } from '../../lib/protocol/errors';

const offset = fc.bigInt({ min: 0n, max: 2n ** 63n - 1n });

describe('metadata item codecs', () => {
  it('round-trip a partition head', () => {
    fc.assert(
      fc.property(offset, offset, fc.integer({ min: 1, max: 1e9 }), (a, b, version) => {
        const data = headItem.encode({ nextOffset: a, logStartOffset: b });
        expect(headItem.decode({ pk: 'p', sk: 'head', version, data })).toEqual({ nextOffset: a, logStartOffset: b, version });
      }),
    );
    expect(headItem.decode(undefined)).toEqual({ nextOffset: 0n, logStartOffset: 0n, version: 0 });
  });

  it('round-trip an index entry (through JSON, as stores keep it)', () => {
    fc.assert(
      fc.property(
        fc.record({
          baseOffset: offset,
          count: fc.integer({ min: 1, max: 1e6 }),
          objectKey: fc.string(),
          byteStart: fc.nat(),
          byteLength: fc.nat(),
          maxTimestamp: fc.nat(),
          replicas: fc.array(fc.constantFrom('s0', 's1', 's2')),
        }),
        (e) => {
          const data = JSON.parse(JSON.stringify(entryItem.encode(e)));
          expect(entryItem.decode({ pk: 'p', sk: 'i', version: 1, data })).toEqual(e);
        },
      ),
    );
  });

  it('round-trip a topic and refuse a damaged one', () => {
    const t = {
      name: 'orders',
      topicId: '1-a',
      partitionCount: 3,
      replicationFactor: 1,
      retentionMs: -1,
      retentionBytes: -1,
      maxRecordBytes: 10,
      createdAt: 5,
    };
    expect(topicItem.decode({ pk: 'topics', sk: 't#orders', version: 1, data: topicItem.encode(t) })).toEqual(t);
    try {
      topicItem.decode({ pk: 'topics', sk: 't#orders', version: 1, data: { ...t, partitionCount: '3' } });
      throw new Error('no error');
    } catch (e) {
      expect(isFerryError(e) && e.kind).toBe('data');
    }
  });
});

describe('keys', () => {
  it('pads offsets so lexical order is numeric order', () => {
    fc.assert(
      fc.property(offset, offset, (a, b) => {
        expect(a < b).toBe(padOffset(a) < padOffset(b));
      }),
    );
  });

  it.each(['', '.', '..', 'a/b', 'a#b', 'a\u0000', 'x'.repeat(250), 'a b', '%2e%2e'])('refuses name %j', (n) => {
    expect(() => validateTopicName(n)).toThrow(/not valid/);
    expect(() => validateGroupId(n)).toThrow(/not valid/);
  });

  it('builds keys only from validated parts', () => {
    expect(metaKeys.topicSk('orders')).toBe('t#orders');
    expect(metaKeys.entrySk(42n)).toBe('i#00000000000000000042');
    expect(objectKeys.segment('001-ab', '002-cd')).toBe('topics/001-ab/002-cd.seg');
    expect(() => objectKeys.segment('../x', '1')).toThrow();
    expect(() => metaKeys.topicSk('../etc')).toThrow();
  });
});

describe('idempotent request results', () => {
  it('round-trip as runs, small for large requests', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ partition: fc.integer({ min: 0, max: 5 }), n: fc.integer({ min: 1, max: 50 }) }), { maxLength: 20 }),
        (groups) => {
          const next = new Map<number, bigint>();
          const results = groups.flatMap(({ partition, n }) =>
            Array.from({ length: n }, () => {
              const offset = next.get(partition) ?? 0n;
              next.set(partition, offset + 1n);
              return { partition, offset };
            }),
          );
          const stored = JSON.parse(JSON.stringify(encodeResults(results)));
          expect(decodeResults(stored)).toEqual(results);
        },
      ),
    );
    const big = Array.from({ length: 10_000 }, (_, i) => ({ partition: i % 2, offset: BigInt(Math.floor(i / 2)) }));
    expect(JSON.stringify(encodeResults(big)).length).toBeLessThan(300_000);
    const runs = Array.from({ length: 10_000 }, (_, i) => ({ partition: 3, offset: 100n + BigInt(i) }));
    expect(encodeResults(runs)).toEqual({ runs: [[3, '100', 10_000]] });
  });
});
