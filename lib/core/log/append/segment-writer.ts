/**
 * The upload half of a flush: one immutable segment object (one batch per partition) written to R distinct
 * object stores with create-if-absent, and the index entries that will point at it (offsets still unset).
 */
import type { ObjectStore } from '../../../ports/object-store';
import type { CoreContext } from '../../context';
import { FerryError } from '../../../protocol/errors';
import { encodeSegment } from '../../codec/segment';
import { objectKeys } from '../../storage/keys';
import type { IndexEntry, TopicConfig } from '../../model';
import type { PartitionBatch } from './requests';

export class SegmentWriter {
  private storeCursor = 0;

  constructor(private readonly ctx: CoreContext) {}

  /** Encodes and uploads the batches; answers one index entry per batch (baseOffset 0 until committed). */
  async write(topic: TopicConfig, batches: PartitionBatch[], startedAt: number): Promise<IndexEntry[]> {
    const segment = encodeSegment(batches.map((b) => b.records));
    const objectKey = objectKeys.segment(topic.topicId, this.ctx.ids.timeOrderedId(startedAt));
    const replicas = this.pickStores(topic.replicationFactor);
    await upload(replicas, objectKey, segment.body);
    return batches.map((b, i) => ({
      baseOffset: 0n,
      count: b.records.length,
      objectKey,
      byteStart: segment.batches[i].byteStart,
      byteLength: segment.batches[i].byteLength,
      maxTimestamp: b.records.reduce((m, r) => Math.max(m, r.timestamp), 0),
      replicas: replicas.map((s) => s.name),
    }));
  }

  /** R distinct stores, rotating the first one so a cluster with R < N spreads its writes. */
  private pickStores(r: number): ObjectStore[] {
    const stores = this.ctx.stores;
    if (r > stores.length) {
      throw new FerryError('invalid', `replicationFactor ${r} exceeds the ${stores.length} object stores`);
    }
    const start = this.storeCursor++ % stores.length;
    return Array.from({ length: r }, (_, i) => stores[(start + i) % stores.length]);
  }
}

async function upload(stores: ObjectStore[], key: string, body: Uint8Array): Promise<void> {
  const results = await Promise.all(stores.map((s) => s.putIfAbsent(key, body)));
  if (results.some((r) => !r.created)) {
    // Ids are unique: an existing key means the id source is broken. Never overwrite.
    throw new FerryError('unavailable', `segment ${key} already exists; refusing to overwrite it`);
  }
}
