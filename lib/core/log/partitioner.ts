/**
 * Partitioning as Kafka's default partitioner does it: murmur2 of the key bytes, made positive, modulo the
 * partition count — so a key lands on the same partition number a Kafka producer would choose.
 * Records without a key are spread round-robin from a random start.
 */

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils#murmur2), as a signed 32-bit int. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  const r = 24;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  if (rest === 3) h ^= data[tail + 2] << 16;
  if (rest >= 2) h ^= data[tail + 1] << 8;
  if (rest >= 1) {
    h ^= data[tail];
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner picks for these key bytes. */
export function partitionForKey(keyBytes: Uint8Array, partitionCount: number): number {
  return (murmur2(keyBytes) & 0x7fffffff) % partitionCount;
}

/** Spreads keyless records evenly: round-robin per topic, starting at a random partition. */
export class RoundRobin {
  private readonly next = new Map<string, number>();

  constructor(private readonly random: () => number) {}

  partition(topicId: string, partitionCount: number): number {
    let n = this.next.get(topicId);
    if (n === undefined) n = Math.floor(this.random() * partitionCount);
    this.next.set(topicId, (n + 1) % 1_000_000_007);
    return n % partitionCount;
  }
}

const utf8 = new TextEncoder();

/**
 * Round robin for the unkeyed records of one idempotent request, starting where its (producer, epoch,
 * sequence) hashes to: the same partitions on every retry while the partition count stays.
 */
export function idempotentSpread(ref: { id: string; epoch: number; sequence: number }, partitionCount: number): () => number {
  let n = partitionForKey(utf8.encode(`${ref.id}:${ref.epoch}:${ref.sequence}`), partitionCount);
  return () => n++ % partitionCount;
}

/**
 * The bytes hashed for a key (DESIGN.md §4): a JSON string → its UTF-8 bytes; binary → its bytes; any other
 * JSON value → the UTF-8 bytes of its JSON text. `keyJsonText` is the stored JSON text of a JSON key.
 */
export function keyHashBytes(key: { encoding: 'json' | 'binary'; bytes: Uint8Array }): Uint8Array {
  if (key.encoding === 'binary') return key.bytes;
  const text = Buffer.from(key.bytes.buffer, key.bytes.byteOffset, key.bytes.byteLength).toString('utf8');
  if (text.startsWith('"')) return utf8.encode(JSON.parse(text) as string);
  return key.bytes;
}
