/** The consumer's settings (what `consumer()`, `subscribe()` and `run()` take) and their defaults. */
import type { EachBatchPayload, EachMessagePayload } from './types';

export interface ConsumerConfig {
  groupId: string;
  /** A member silent this long is removed and its partitions reassigned (default 10 000 ms). */
  sessionTimeoutMs?: number;
  /** Default: a third of the session timeout. */
  heartbeatIntervalMs?: number;
  /** Longest long-poll of one fetch (default 5 000 ms). */
  maxWaitTimeInMs?: number;
  /** Records per fetch (default 500). */
  maxRecords?: number;
  /** Bytes per fetch (default 1 MiB). */
  maxBytesPerPartition?: number;
  /** Handlers running at once, across partitions (default 1: one at a time, as kafkajs). */
  partitionsConsumedConcurrently?: number;
  /** Leave the group cleanly on SIGINT / SIGTERM, then let the signal take its course (default true). */
  handleSignals?: boolean;
  /** Backoff after a handler error before the batch is retried (default 1 000 ms, doubling to 30 s). */
  retryBackoffMs?: number;
}

export interface RunConfig {
  eachMessage?: (payload: EachMessagePayload) => Promise<void>;
  eachBatch?: (payload: EachBatchPayload) => Promise<void>;
  /** Commit after each successful batch (default true). */
  autoCommit?: boolean;
  /** eachBatch: count the whole batch as processed when the handler returns (default true); false commits only `resolveOffset`s. */
  eachBatchAutoResolve?: boolean;
}

export interface SubscribeConfig {
  topics?: string[];
  topic?: string;
  /**
   * Where partitions without a committed offset start. Unset or true: the earliest retained record (Ferry's
   * default, DESIGN §4). False: the end (kafkajs' default).
   */
  fromBeginning?: boolean;
}

/** Every setting but the group id, defaults filled in. */
export type ResolvedConsumerConfig = Required<Omit<ConsumerConfig, 'groupId'>>;

export function resolveConsumerConfig(config: ConsumerConfig): ResolvedConsumerConfig {
  const sessionTimeoutMs = config.sessionTimeoutMs ?? 10_000;
  return {
    sessionTimeoutMs,
    heartbeatIntervalMs: config.heartbeatIntervalMs ?? Math.max(100, Math.floor(sessionTimeoutMs / 3)),
    maxWaitTimeInMs: config.maxWaitTimeInMs ?? 5_000,
    maxRecords: config.maxRecords ?? 500,
    maxBytesPerPartition: config.maxBytesPerPartition ?? 1024 * 1024,
    partitionsConsumedConcurrently: config.partitionsConsumedConcurrently ?? 1,
    handleSignals: config.handleSignals ?? true,
    retryBackoffMs: config.retryBackoffMs ?? 1_000,
  };
}
