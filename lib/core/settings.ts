/**
 * Settings: plain data, validated once with every problem reported at once. Components (stores, clock) are
 * injected separately.
 */
import { z } from 'zod';
import { FerryError } from '../protocol/errors';

const MiB = 1024 * 1024;

const int = (min: number, max: number) => z.number().int().min(min).max(max);

export const limitsSchema = z.strictObject({
  /** Largest request body. */
  maxRequestBytes: int(1024, 64 * MiB).default(5 * MiB),
  /** Largest record (key + value + headers, in bytes) unless a topic sets less. */
  maxRecordBytes: int(1, 16 * MiB).default(1 * MiB),
  maxRecordsPerRequest: int(1, 100_000).default(10_000),
  maxWaitMs: int(0, 300_000).default(30_000),
  maxFetchRecords: int(1, 100_000).default(10_000),
  maxFetchBytes: int(1, 64 * MiB).default(16 * MiB),
  /**
   * Largest fetch answer, counted as it leaves the function: the JSON body escaped once more as a JSON string
   * (what an API Gateway response carries through Lambda). A page keeps the whole records that fit; the AWS
   * home sets it under Lambda's 6 MB.
   */
  maxResponseBytes: int(64 * 1024, 256 * MiB).default(64 * MiB),
  maxPartitions: int(1, 100_000).default(10_000),
  maxHeadersPerRecord: int(0, 10_000).default(64),
  maxHeaderNameBytes: int(1, 65_536).default(256),
  maxHeaderValueBytes: int(1, 1 * MiB).default(16 * 1024),
  maxJsonDepth: int(1, 10_000).default(64),
});

export const settingsSchema = z.strictObject({
  limits: limitsSchema.default(() => limitsSchema.parse({})),
  /** A flush (one segment object, one metadata write) takes pending produce requests up to this many bytes. */
  flushMaxBytes: int(64 * 1024, 256 * MiB).default(8 * MiB),
  /** Attempts at the conditional commit before the request fails as `unavailable`. */
  commitAttempts: int(1, 100).default(8),
  /** How often a long-poll re-reads the head for commits made by other processes. */
  longPollIntervalMs: int(1, 60_000).default(200),
  /** Default retention of a new topic (7 days, as Kafka). -1 keeps records forever. */
  defaultRetentionMs: z
    .number()
    .int()
    .min(-1)
    .default(7 * 24 * 3600 * 1000),
  /** How long a cached topic config may be used before it is read again (0: never cache). */
  topicCacheMs: int(0, 3_600_000).default(1_000),
  /**
   * An object no index entry or scheduled record references is deleted only once it is this old, so an
   * upload whose commit is still in flight is not collected; the GC fence (gc-fence.ts) refuses any commit of an
   * upload collection may already have taken.
   */
  orphanGraceMs: int(1_000, 7 * 24 * 3600 * 1000).default(10 * 60 * 1000),
  /** A `deliverAt` this far in the past is refused as a mistake (nearer past times deliver at once). */
  deliverAtPastToleranceMs: int(0, 24 * 3600 * 1000).default(60 * 1000),
  /** Longest delay a record may ask for. */
  maxDeliveryDelayMs: int(1, 10 * 365 * 24 * 3600 * 1000).default(90 * 24 * 3600 * 1000),
  /** Results of this many most recent requests per idempotent producer and topic are kept for retries. */
  producerRequestsKept: int(1, 1000).default(5),
});

export type Limits = z.infer<typeof limitsSchema>;
export type Settings = z.infer<typeof settingsSchema>;
export type SettingsInput = z.input<typeof settingsSchema>;

/** Validates settings, reporting every problem at once. */
export function makeSettings(input: SettingsInput = {}): Settings {
  const parsed = settingsSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new FerryError('invalid', `invalid settings:\n  - ${problems.join('\n  - ')}`, { problems });
  }
  return parsed.data;
}
