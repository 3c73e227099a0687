/** Shapes the client hands to and gets from the user (kafkajs names where they fit). */

/** A key or value: any JSON value, or bytes (sent as `{"base64": ...}`). */
export type Value = unknown;

export interface Message {
  key?: Value;
  value: Value;
  headers?: Record<string, string | Buffer>;
  partition?: number;
  /** Epoch milliseconds (default: the commit time). */
  timestamp?: number | string;
  /** Delayed delivery: visible from this time (epoch ms, ISO 8601 text or a Date) — or use `deliverAfterMs`. */
  deliverAt?: number | string | Date;
  /** Delayed delivery: visible this many milliseconds after the produce. */
  deliverAfterMs?: number;
}

export interface ProducerRecord {
  topic: string;
  messages: Message[];
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** Decimal string, as on the wire ('' for a delayed record: it has no offset until it is due). */
  offset: string;
  /** A delayed record's id (cancel it with `DELETE /v1/topics/{t}/scheduled/{id}`) and due time. */
  scheduledId?: string;
  deliverAt?: number;
}

export interface KafkaMessage {
  offset: string;
  timestamp: number;
  /** Binary keys / values come back as Buffers, JSON ones as their value. */
  key: Value;
  value: Value;
  headers: Record<string, string>;
}

export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: KafkaMessage;
  heartbeat(): Promise<void>;
}

export interface Batch {
  topic: string;
  partition: number;
  highWatermark: string;
  messages: KafkaMessage[];
  firstOffset(): string | null;
  lastOffset(): string;
}

export interface EachBatchPayload {
  batch: Batch;
  /** Marks everything up to and including `offset` as processed (committed even if the handler then throws). */
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping. */
  isRunning(): boolean;
  /** True once a rebalance took the batch's generation away (its commit will be refused). */
  isStale(): boolean;
}

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export interface TopicInfo {
  name: string;
  topicId: string;
  partitionCount: number;
  replicationFactor: number;
  retentionMs: number;
  retentionBytes: number;
  maxRecordBytes: number;
  createdAt: string;
  partitions?: Array<{ partition: number; logStartOffset: string; highWatermark: string }>;
}

/** `GET /v1/groups/{g}/offsets`: committed offsets only (Kafka's OffsetFetch). */
export interface CommittedOffsets {
  groupId: string;
  offsets: Array<{ topic: string; partition: number; offset: string }>;
}

export interface GroupInfo {
  groupId: string;
  generation: number;
  state: 'stable' | 'empty';
  members: Array<{
    memberId: string;
    topics: string[];
    sessionTimeoutMs: number;
    joinedAt: string;
    lastHeartbeat: string;
    assignments: TopicPartitions[];
  }>;
  offsets: Array<{
    topic: string;
    partition: number;
    committedOffset: string | null;
    logStartOffset: string;
    highWatermark: string;
    lag: string;
    lagSeconds: number;
    owner: string | null;
  }>;
  totalLag: string;
  maxLagSeconds: number;
}

export type SeekTo = 'earliest' | 'latest' | { offset: string | number | bigint } | { timestamp: number | string | Date };
