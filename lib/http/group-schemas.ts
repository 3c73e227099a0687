/** Request shapes of the consumer group routes (DESIGN §4), checked with zod. */
import { z } from 'zod';

/** Offsets: decimal strings on the wire; numbers are accepted on input (checked further by parseOffset). */
const offset = z.union([z.string(), z.number()]);

export const joinSchema = z.strictObject({
  topics: z.array(z.string()).min(1, 'must name at least one topic').max(100, 'must name at most 100 topics'),
  sessionTimeoutMs: z.number().int().optional(),
  from: z.enum(['earliest', 'latest']).optional(),
});

export const commitSchema = z.strictObject({
  memberId: z.string(),
  generation: z.number().int().min(0),
  offsets: z
    .array(
      z.strictObject({
        topic: z.string(),
        partition: z.number().int().min(0).max(99_999),
        offset,
      }),
    )
    .min(1, 'must hold at least one offset')
    .max(10_000, 'must hold at most 10000 offsets'),
});

const seekTo = z.union([
  z.enum(['earliest', 'latest']),
  z.strictObject({ offset }),
  z.strictObject({ timestamp: z.union([z.number().int().min(0).max(8_640_000_000_000_000), z.string()]) }),
]);

export const seekSchema = z.strictObject({
  topic: z.string(),
  partition: z.number().int().min(0).max(99_999).optional(),
  to: seekTo,
});

/** `POST /v1/topics/{t}/consumers/{c}/seek`: as a group seek, the topic in the path. */
export const consumerSeekSchema = z.strictObject({
  partition: z.number().int().min(0).max(99_999).optional(),
  to: seekTo,
});

export const memberFetchSchema = z.strictObject({
  positions: z
    .array(
      z.strictObject({
        topic: z.string(),
        partition: z.number().int().min(0).max(99_999),
        offset: offset.optional(),
      }),
    )
    .max(10_000, 'must hold at most 10000 positions')
    .optional(),
  maxRecords: z.number().int().optional(),
  maxBytes: z.number().int().optional(),
  waitMs: z.number().int().optional(),
});
