/** Ferry's data model (DESIGN.md §3). Offsets are `bigint` in code and decimal strings on the wire. */

export type Encoding = 'json' | 'binary';

/** A key or value as stored: JSON text (UTF-8) or raw bytes, so it comes back exactly as sent. */
export interface Payload {
  encoding: Encoding;
  bytes: Uint8Array;
}

/** Header names map to string values; kept in null-prototype objects. */
export type Headers = Record<string, string>;

/** A record as a producer hands it to the core (already validated and encoded). */
export interface RecordInput {
  key: Payload | null;
  value: Payload;
  headers: Headers;
  /** Producer-supplied timestamp (ms), or undefined for the commit time. */
  timestamp?: number;
  partition?: number;
  /** Epoch ms: hold the record until then (delayed delivery). */
  deliverAt?: number;
}

/** A record as stored in a segment batch. */
export interface StoredRecord {
  key: Payload | null;
  value: Payload;
  headers: Headers;
  timestamp: number;
}

export interface FetchedRecord extends StoredRecord {
  offset: bigint;
}

export interface TopicConfig {
  name: string;
  /** Given at creation: a topic deleted and created again never meets the old one's data. */
  topicId: string;
  partitionCount: number;
  replicationFactor: number;
  /** -1: keep forever. */
  retentionMs: number;
  /** -1: no size limit. */
  retentionBytes: number;
  maxRecordBytes: number;
  createdAt: number;
}

export interface PartitionHead {
  nextOffset: bigint;
  logStartOffset: bigint;
  /** Metadata item version (0: the item does not exist yet). */
  version: number;
}

/** Where one committed batch lives. */
export interface IndexEntry {
  baseOffset: bigint;
  count: number;
  objectKey: string;
  byteStart: number;
  byteLength: number;
  maxTimestamp: number;
  /** Names of the object stores that hold the segment. */
  replicas: string[];
}

export interface PartitionState {
  partition: number;
  logStartOffset: bigint;
  highWatermark: bigint;
}

export interface ProduceResult {
  partition: number;
  offset: bigint;
}

export interface FetchResult {
  records: FetchedRecord[];
  nextOffset: bigint;
  highWatermark: bigint;
  logStartOffset: bigint;
}
