/** Request shapes of HTTP API v1, checked with zod; messages name the field (and record index). */
import { z } from 'zod';
import { invalid } from '../protocol/errors';

const MAX_TIMESTAMP = 8_640_000_000_000_000; // the largest JS Date

export const createTopicSchema = z.strictObject({
  name: z.string(),
  partitions: z.number().int(),
  replicationFactor: z.number().int().optional(),
  retentionMs: z.number().int().optional(),
  retentionBytes: z.number().int().optional(),
  maxRecordBytes: z.number().int().optional(),
});

export const alterTopicSchema = z.strictObject({
  partitions: z.number().int().optional(),
  retentionMs: z.number().int().optional(),
  retentionBytes: z.number().int().optional(),
  maxRecordBytes: z.number().int().optional(),
});

export const produceRecordSchema = z.strictObject({
  key: z.unknown().optional(),
  value: z.unknown(),
  headers: z.unknown().optional(),
  partition: z.number().int().min(0).optional(),
  timestamp: z.number().int().min(0).max(MAX_TIMESTAMP).optional(),
  deliverAt: z.union([z.number(), z.string()]).optional(),
  deliverAfterMs: z.number().int().min(0).optional(),
});

export const producerRefSchema = z.strictObject({
  id: z.string().min(1).max(64),
  epoch: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  sequence: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

export const initProducerSchema = z.strictObject({ id: z.string().optional() });

const produceSchemas = new Map<number, z.ZodType>();

/** The produce body's schema for a records limit; built once per limit (zod compiles each schema it builds). */
export function produceSchema(maxRecords: number) {
  let schema = produceSchemas.get(maxRecords) as ReturnType<typeof buildProduceSchema> | undefined;
  if (!schema) produceSchemas.set(maxRecords, (schema = buildProduceSchema(maxRecords)));
  return schema;
}

const buildProduceSchema = (maxRecords: number) =>
  z.strictObject({
    records: z
      .array(z.unknown())
      .min(1, 'must hold at least one record')
      .max(maxRecords, `must hold at most ${maxRecords} records per request`),
    producer: z.unknown().optional(),
  });

function describe(issue: z.core.$ZodIssue): string {
  const path = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
  const message =
    issue.code === 'invalid_type' && issue.expected === 'nonoptional' ? 'is required' : issue.message.replace(/^Invalid input: /, '');
  return path ? `${path}: ${message}` : message;
}

/** Parses with a schema; on failure a 400 listing every problem (and `index` when one record is at fault). */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, context: { prefix?: string; index?: number } = {}): z.infer<T> {
  const res = schema.safeParse(value);
  if (res.success) return res.data;
  const problems = res.error.issues.map((i) => {
    const text = describe(i);
    if (!context.prefix) return text;
    // "records[0]." + "partition: …" → "records[0].partition: …"; a problem of the whole record: "records[0]: …"
    return i.path.length ? `${context.prefix}${text}` : `${context.prefix.replace(/\.$/, '')}: ${text}`;
  });
  throw invalid(problems.join('; '), { problems, ...(context.index !== undefined && { index: context.index }) });
}
