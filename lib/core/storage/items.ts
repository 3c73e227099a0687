/**
 * Encode / decode pairs for every metadata item the core stores. Offsets are decimal strings inside items
 * (JSON-safe, exact beyond 2^53); decoding checks shapes so a damaged item is reported, not misread.
 */
import { FerryError } from '../../protocol/errors';
import type { TopicConfig } from '../model';
import type { Item, ItemData } from '../../ports/metadata-store';

function damaged(what: string, item: { pk: string; sk: string }): FerryError {
  return new FerryError('data', `metadata item ${item.pk} / ${item.sk} is not a valid ${what}`, {
    pk: item.pk,
    sk: item.sk,
  });
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

export const topicItem = {
  encode(t: TopicConfig): ItemData {
    return { ...t };
  },
  decode(item: Item): TopicConfig {
    const d = item.data;
    if (
      typeof d.name !== 'string' ||
      typeof d.topicId !== 'string' ||
      !isInt(d.partitionCount) ||
      !isInt(d.replicationFactor) ||
      !isInt(d.retentionMs) ||
      !isInt(d.retentionBytes) ||
      !isInt(d.maxRecordBytes) ||
      !isInt(d.createdAt)
    ) {
      throw damaged('topic', item);
    }
    return {
      name: d.name,
      topicId: d.topicId,
      partitionCount: d.partitionCount,
      replicationFactor: d.replicationFactor,
      retentionMs: d.retentionMs,
      retentionBytes: d.retentionBytes,
      maxRecordBytes: d.maxRecordBytes,
      createdAt: d.createdAt,
    };
  },
};

/** An idempotent producer: its current epoch (every `POST /v1/producers` with its id moves it on). */
export const producerItem = {
  encode(p: { epoch: number; createdAt: number }): ItemData {
    return { epoch: p.epoch, createdAt: p.createdAt };
  },
  decode(item: Item): { epoch: number } {
    if (!isInt(item.data.epoch) || item.data.epoch < 0) throw damaged('producer', item);
    return { epoch: item.data.epoch };
  },
};

/** A partition's garbage-collection fence (gc-fence.ts): objects born at or before `horizon` may be gone. */
export const gcFenceItem = {
  encode(horizon: number): ItemData {
    return { horizon };
  },
  decode(item: Item): { horizon: number } {
    if (typeof item.data.horizon !== 'number' || Number.isNaN(item.data.horizon)) throw damaged('garbage-collection fence', item);
    return { horizon: item.data.horizon };
  },
};

/** A delayed record waiting for its due time: where its one-record batch is, and when it is due. */
export interface DueRecord {
  sk: string;
  version: number;
  partition: number;
  deliverAt: number;
  objectKey: string;
  byteStart: number;
  byteLength: number;
  maxTimestamp: number;
  replicas: string[];
}

export const dueItem = {
  encode(d: Omit<DueRecord, 'sk' | 'version'> & { createdAt: number }): ItemData {
    return { ...d, replicas: [...d.replicas] };
  },
  decode(item: Item): DueRecord {
    const d = item.data;
    const replicas = d.replicas ?? [];
    if (
      !isInt(d.partition) ||
      typeof d.deliverAt !== 'number' ||
      typeof d.objectKey !== 'string' ||
      !isInt(d.byteStart) ||
      !isInt(d.byteLength) ||
      typeof d.maxTimestamp !== 'number' ||
      !Array.isArray(replicas) ||
      !replicas.every((r) => typeof r === 'string')
    ) {
      throw damaged('delayed record', item);
    }
    return {
      sk: item.sk,
      version: item.version,
      partition: d.partition,
      deliverAt: d.deliverAt,
      objectKey: d.objectKey,
      byteStart: d.byteStart,
      byteLength: d.byteLength,
      maxTimestamp: d.maxTimestamp,
      replicas: replicas as string[],
    };
  },
};
