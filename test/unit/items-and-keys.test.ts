import * as fc from 'fast-check';
import { topicItem } from '../../lib/core/storage/items';
import { chunkCodec, headCodec } from '../../lib/core/storage/partition-index';
import type { IndexEntry } from '../../lib/core/model';
import { metaKeys, objectKeys, padOffset, validateGroupId, validateTopicName } from '../../lib/core/storage/keys';
import { decodeResults, encodeResults } from '../../lib/core/storage/producer-results';
import { isFerryError } from '../../lib/protocol/errors';

const offset = fc.bigInt({ min: 0n, max: 2n ** 63n - 1n });

describe('metadata item codecs', () => {
  const pk = 'p#001-abc#3';
  const entry = (baseOffset: bigint) =>
    fc.record({
      baseOffset: fc.constant(baseOffset),
      count: fc.integer({ min: 1, max: 1e6 }),
      objectKey: fc.oneof(fc.constant('topics/001-abc/000000000000001-x1.seg'), fc.string()),
      byteStart: fc.nat(),
      byteLength: fc.nat(),
      maxTimestamp: fc.nat(),
      replicas: fc.array(fc.string(), { maxLength: 3 }),
    });
  const chain = (base: bigint, list: Array<Omit<IndexEntry, 'baseOffset'>>): IndexEntry[] => {
    let next = base;
    return list.map((e) => {
      const out = { ...e, baseOffset: next };
      next += BigInt(e.count);
      return out;
    });
  };

  it('round-trip a partition head with its tail, horizon and producers (through JSON, as stores keep it)', () => {
    fc.assert(
      fc.property(
        offset,
        fc.array(entry(0n), { maxLength: 5 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.integer({ min: 1, max: 1e9 }),
        (tailBase, list, horizon, version) => {
          const tail = chain(tailBase, list);
          const nextOffset = tail.length ? tail[tail.length - 1].baseOffset + BigInt(tail[tail.length - 1].count) : tailBase;
          const head = {
            nextOffset,
            logStartOffset: 0n,
            horizon: horizon ?? -Infinity,
            tailBase,
            tail,
            producers: { p1: { epoch: 2, sequence: 7, base: tailBase, count: 1 } },
          };
          const data = JSON.parse(JSON.stringify(headCodec.encode(head, pk)));
          expect(headCodec.decode({ pk, sk: 'head', version, data })).toEqual({ ...head, version });
        },
      ),
    );
    expect(headCodec.decode(undefined)).toMatchObject({ nextOffset: 0n, logStartOffset: 0n, version: 0, tail: [] });
    // A head of an earlier version (no tail): every entry is in index items.
    expect(headCodec.decode({ pk, sk: 'head', version: 4, data: { nextOffset: '9', logStartOffset: '2' } })).toMatchObject({
      nextOffset: 9n,
      tailBase: 9n,
      tail: [],
    });
  });

  it("round-trip an index chunk, and read an earlier version's one-entry item", () => {
    fc.assert(
      fc.property(offset, fc.array(entry(0n), { minLength: 1, maxLength: 8 }), (base, list) => {
        const entries = chain(base, list);
        const data = JSON.parse(JSON.stringify(chunkCodec.encode(entries, pk)));
        expect(chunkCodec.decode({ pk, sk: metaKeys.entrySk(base), version: 1, data }).entries).toEqual(entries);
      }),
    );
    const old = { baseOffset: '5', count: 2, objectKey: 'k', byteStart: 0, byteLength: 9, maxTimestamp: 1, replicas: ['s0'] };
    expect(chunkCodec.decode({ pk, sk: metaKeys.entrySk(5n), version: 1, data: old })).toMatchObject({
      end: 7n,
      entries: [{ baseOffset: 5n }],
    });
  });

  it('refuse damaged heads and chunks as data errors naming the item', () => {
    const bad = [
      { nextOffset: 'x', logStartOffset: '0' },
      { nextOffset: '3', logStartOffset: '0', tailBase: '0', tail: [] }, // the tail does not reach nextOffset
      { nextOffset: '1', logStartOffset: '0', tailBase: '0', tail: [[1, 'x', 0, 1, 0, 's0']] },
      { nextOffset: '1', logStartOffset: '0', tailBase: '0', tail: [[1, 'x', 0, 1, 0, []]], producers: { p: [1] } },
    ];
    for (const data of bad) {
      expect(() => headCodec.decode({ pk, sk: 'head', version: 1, data })).toThrow(expect.objectContaining({ kind: 'data' }));
    }
    expect(() =>
      chunkCodec.decode({ pk, sk: metaKeys.entrySk(1n), version: 1, data: { baseOffset: '2', entries: [[1, 'x', 0, 1, 0, []]] } }),
    ).toThrow(expect.objectContaining({ kind: 'data' }));
    expect(() => chunkCodec.decode({ pk, sk: metaKeys.entrySk(1n), version: 1, data: { baseOffset: '1', entries: [] } })).toThrow(
      expect.objectContaining({ kind: 'data' }),
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
  it('round-trip as one run per partition, small however the records interleave', () => {
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
          expect(
            decodeResults(
              stored,
              results.map((r) => r.partition),
            ),
          ).toEqual(results);
        },
      ),
    );
    // 1 000 records spread over 12 partitions: 12 parts (one write unit), not 1 000 runs (12 KB).
    const spread = Array.from({ length: 1000 }, (_, i) => ({ partition: i % 12, offset: BigInt(Math.floor(i / 12)) }));
    expect(JSON.stringify(encodeResults(spread)).length).toBeLessThan(300);
    const one = Array.from({ length: 10_000 }, (_, i) => ({ partition: 3, offset: 100n + BigInt(i) }));
    expect(encodeResults(one)).toEqual({ parts: [[3, '100', 10_000]] });
    // A retry whose records fall on other partitions is a conflict, not a wrong answer.
    expect(() => decodeResults(encodeResults(one), Array(10_000).fill(4))).toThrow(expect.objectContaining({ kind: 'conflict' }));
    // Slots written by earlier versions (runs in request order) still answer.
    expect(
      decodeResults({
        runs: [
          [1, '5', 2],
          [0, '9', 1],
        ],
      }),
    ).toEqual([
      { partition: 1, offset: 5n },
      { partition: 1, offset: 6n },
      { partition: 0, offset: 9n },
    ]);
  });
});
