import * as fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { keyHashBytes, partitionForKey, RoundRobin } from '../../lib/core/log/partitioner';

/** kafkajs's own DefaultPartitioner (Java-compatible murmur2) is the oracle: no hand-copied vectors. */
const kafka = Partitioners.DefaultPartitioner();
const kafkaPartition = (key: Buffer | string, partitions: number) =>
  kafka({
    topic: 't',
    partitionMetadata: Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0 })) as never,
    message: { key, value: null },
  });

describe('partitioner', () => {
  it.each(['u1', 'order-42', '', 'ümlaut', '𝄞 clef', 'a', 'ab', 'abc', 'abcd', 'abcde'])(
    'puts string key %j where a Kafka producer would',
    (key) => {
      for (const n of [1, 3, 12, 100, 10_000]) {
        expect(partitionForKey(Buffer.from(key, 'utf8'), n)).toBe(kafkaPartition(key, n));
      }
    },
  );

  it('agrees with kafkajs on any key bytes and partition count', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 10_000 }), (bytes, n) => {
        expect(partitionForKey(bytes, n)).toBe(kafkaPartition(Buffer.from(bytes), n));
      }),
      { numRuns: 2000 },
    );
  });

  it('hashes a JSON string key as its UTF-8 text, other JSON keys as their JSON text', () => {
    const json = (v: unknown) => ({ encoding: 'json' as const, bytes: Buffer.from(JSON.stringify(v)) });
    expect(Buffer.from(keyHashBytes(json('u1'))).toString()).toBe('u1');
    expect(Buffer.from(keyHashBytes(json('say "hi"\n'))).toString()).toBe('say "hi"\n');
    expect(Buffer.from(keyHashBytes(json(42))).toString()).toBe('42');
    expect(Buffer.from(keyHashBytes(json({ a: 1 }))).toString()).toBe('{"a":1}');
    const bin = { encoding: 'binary' as const, bytes: Buffer.from([0, 1, 255]) };
    expect([...keyHashBytes(bin)]).toEqual([0, 1, 255]);
  });

  it('spreads keyless records round-robin from a random start', () => {
    const rr = new RoundRobin(() => 0.5);
    expect(Array.from({ length: 6 }, () => rr.partition('t', 4))).toEqual([2, 3, 0, 1, 2, 3]);
    expect(rr.partition('other', 4)).toBe(2);
  });
});
