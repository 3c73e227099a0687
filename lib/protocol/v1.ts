/**
 * HTTP API v1's answers as they travel (DESIGN.md §4): the shapes the server writes (lib/http) and the client
 * reads (lib/client). Offsets are decimal strings, times ISO 8601 or epoch milliseconds as named; keys and
 * values are JSON values, or `{"base64": …}` for bytes.
 */

/** A key or value on the wire: any JSON value, or `{"base64": "..."}` for bytes. */
export type WireValue = unknown;

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

/** `GET /v1/topics/{t}`, `POST` / `PATCH` answers, and each entry of `GET /v1/topics` (without `partitions`). */
export interface TopicInfo {
  name: string;
  topicId: string;
  partitionCount: number;
  replicationFactor: number;
  retentionMs: number;
  retentionBytes: number;
  maxRecordBytes: number;
  /** ISO 8601. */
  createdAt: string;
  partitions?: Array<{ partition: number; logStartOffset: string; highWatermark: string }>;
}

/** One record of `POST /v1/topics/{t}/records`'s answer: its offset, or a delayed record's id and due time. */
export type ProducedRecord = { partition: number; offset: string } | { partition: number; scheduledId: string; deliverAt: number };

export interface ProduceAnswer {
  records: ProducedRecord[];
}

/** One record of a fetch answer. */
export interface FetchedRecord {
  offset: string;
  /** Epoch milliseconds. */
  timestamp: number;
  key: WireValue;
  value: WireValue;
  headers: Record<string, string>;
}

/** `GET /v1/topics/{t}/partitions/{p}/records`. */
export interface FetchAnswer {
  records: FetchedRecord[];
  nextOffset: string;
  highWatermark: string;
  logStartOffset: string;
}

/** What join, heartbeat and leave answer. */
export interface MemberAnswer {
  memberId: string;
  generation: number;
  assignments: TopicPartitions[];
}

/** `GET /v1/groups/{g}/offsets`: committed offsets only (Kafka's OffsetFetch). */
export interface CommittedOffsets {
  groupId: string;
  offsets: Array<{ topic: string; partition: number; offset: string }>;
}

/** `GET /v1/groups/{g}`: members, assignments, committed offsets and lag. */
export interface GroupInfo {
  groupId: string;
  generation: number;
  state: 'stable' | 'empty';
  members: Array<{
    memberId: string;
    topics: string[];
    sessionTimeoutMs: number;
    /** ISO 8601. */
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

/** Every error answer: the kind (the contract, see errors.ts), a message for humans, details. */
export interface ErrorBody {
  error: string;
  message: string;
  details: Record<string, unknown>;
}

/** A push consumer as `GET /v1/topics/{t}/consumers` lists it: its settings and whether it is paused. */
export interface PushConsumerInfo {
  topic: string;
  name: string;
  handler: string;
  batchSize: number;
  maxBatchingWindowMs: number;
  startingPosition: 'earliest' | 'latest' | { timestamp: number };
  maxRetries: number;
  maxRecordAgeMs: number;
  bisectOnError: boolean;
  deadLetterTopic: string;
  maxRecordsPerSecond: number | null;
  maxConcurrency: number | null;
  timeoutMs: number | null;
  filters: unknown[] | null;
  paused: boolean;
}

/** `GET /v1/topics/{t}/consumers/{c}` (and the answer of pause, resume, seek). */
export interface PushConsumerDescription extends PushConsumerInfo {
  pausedSince: number | null;
  partitions: Array<{
    partition: number;
    committedOffset: string | null;
    logStartOffset: string;
    highWatermark: string;
    lag: string;
    lagSeconds: number;
    leaseOwner: string | null;
    leaseUntil: number | null;
    retrying: { attempts: number; misses: number; retryAt: number } | null;
  }>;
  totalLag: string;
  maxLagSeconds: number;
}
