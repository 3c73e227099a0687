/** Consumer groups: limits, and the shapes the group services take and answer (DESIGN §3). */
/** Kafka's default was 10 s before 3.0 (45 s since); 10 s keeps a dead member's partitions idle briefly. */
export const DEFAULT_SESSION_TIMEOUT_MS = 10_000;
export const MIN_SESSION_TIMEOUT_MS = 500;
export const MAX_SESSION_TIMEOUT_MS = 300_000;
/** Bounds the state item (DynamoDB items are at most 400 KB). */
export const MAX_MEMBERS = 1_000;
export const MAX_TOPICS_PER_MEMBER = 100;

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

/** What join, heartbeat and leave answer. */
export interface MemberView {
  memberId: string;
  generation: number;
  assignments: TopicPartitions[];
}

export interface JoinInput {
  topics: string[];
  sessionTimeoutMs?: number;
  /** Where partitions without a committed offset start: `earliest` (default, DESIGN §4) or `latest`. */
  from?: 'earliest' | 'latest';
}

export interface CommitInput {
  memberId: string;
  generation: number;
  offsets: Array<{ topic: string; partition: number; offset: bigint }>;
}

export type SeekTarget = 'earliest' | 'latest' | { offset: bigint } | { timestamp: number };

export interface SeekInput {
  topic: string;
  partition?: number;
  to: SeekTarget;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** `null`: nothing committed yet (the group starts at `logStartOffset`). */
  committedOffset: bigint | null;
  logStartOffset: bigint;
  highWatermark: bigint;
  /** Records not yet consumed: highWatermark − (committed offset, or logStartOffset). */
  lag: bigint;
  /** Age in seconds of the oldest unconsumed record (0 when there is none). */
  lagSeconds: number;
  owner: string | null;
}

export interface GroupDescription {
  groupId: string;
  generation: number;
  state: 'stable' | 'empty';
  members: Array<{
    memberId: string;
    topics: string[];
    sessionTimeoutMs: number;
    joinedAt: number;
    heartbeatAt: number;
    assignments: TopicPartitions[];
  }>;
  offsets: PartitionLag[];
  totalLag: bigint;
}

export interface GroupSummary {
  groupId: string;
  generation: number;
  members: number;
  state: 'stable' | 'empty';
}

/** What a mutation writes; `next`: the new generation it makes (fenced first); `set`: a seek's offsets. */
