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

/** The wire answers the client hands back as they are (lib/protocol/v1.ts). */
export type { CommittedOffsets, GroupInfo, TopicInfo, TopicPartitions } from '../protocol/v1';

export type SeekTo = 'earliest' | 'latest' | { offset: string | number | bigint } | { timestamp: number | string | Date };
