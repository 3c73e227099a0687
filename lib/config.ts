/**
 * `ferry.config.json` for `ferry dev --config`: topics to create if missing and push consumers to run.
 * A bad config is refused at start with every problem listed.
 *
 * @example
 *   {"topics": [{"name": "orders", "partitions": 6}],
 *    "consumers": [{"topic": "orders", "name": "email", "handler": "./handlers/email.mjs", "batchSize": 100}]}
 */
import { z } from 'zod';
import { checkConsumer, consumerDefaults, defaultDeadLetterTopic, type ConsumerConfig } from './core/consumers/config';
import { FerryError } from './protocol/errors';
import { validateTopicName } from './core/storage/keys';
import type { CreateTopicInput } from './core/log/topics';

const int = z.number().int();

const topicSchema = z.strictObject({
  name: z.string(),
  partitions: int.min(1),
  replicationFactor: int.min(1).optional(),
  retentionMs: int.optional(),
  retentionBytes: int.optional(),
  maxRecordBytes: int.min(1).optional(),
});

const consumerSchema = z.strictObject({
  topic: z.string(),
  name: z.string(),
  handler: z.string().min(1),
  batchSize: int.optional(),
  maxBatchingWindowMs: int.optional(),
  startingPosition: z.union([z.literal('earliest'), z.literal('latest'), z.strictObject({ timestamp: int })]).optional(),
  maxRetries: int.optional(),
  maxRecordAgeMs: int.optional(),
  bisectOnError: z.boolean().optional(),
  maxRecordsPerSecond: int.optional(),
  maxConcurrency: int.optional(),
  deadLetterTopic: z.string().optional(),
  // Checked by the consumer rules (filters.ts), every problem named.
  filters: z.array(z.unknown()).optional(),
  parallelizationFactor: int.optional(),
});

// The file's outline only: each entry is checked on its own below, so one bad entry hides nothing else.
const fileSchema = z.strictObject({ topics: z.array(z.unknown()).default([]), consumers: z.array(z.unknown()).default([]) });

export interface FerryConfig {
  topics: CreateTopicInput[];
  consumers: ConsumerConfig[];
}

const zodProblems = (prefix: string, error: z.ZodError) =>
  error.issues.map((i) => `${[prefix, ...i.path].filter((p) => p !== '').join('.') || '(file)'}: ${i.message}`);

/** `invalid`, listing every problem (one per line). */
export function configProblems(problems: string[]): FerryError {
  return new FerryError('invalid', `the config is not valid:\n  - ${problems.join('\n  - ')}`, { problems });
}

/** Validates a parsed config file; throws `invalid` listing every problem at once (shape and meaning). */
export function parseConfig(raw: unknown): FerryConfig {
  const file = fileSchema.safeParse(raw);
  if (!file.success) throw configProblems(zodProblems('', file.error));
  const problems: string[] = [];
  const topics: CreateTopicInput[] = [];
  file.data.topics.forEach((entry, i) => {
    const t = topicSchema.safeParse(entry);
    const nameProblem = problemOf(validateTopicName, (entry as { name?: unknown } | null)?.name);
    if (nameProblem && typeof (entry as { name?: unknown } | null)?.name === 'string') problems.push(`topics.${i}.name: ${nameProblem}`);
    if (!t.success) return problems.push(...zodProblems(`topics.${i}`, t.error));
    if (topics.some((o) => o.name === t.data.name)) problems.push(`topics.${i}: topic "${t.data.name}" is declared twice`);
    topics.push(t.data);
  });
  const seen = new Set<string>();
  const consumers: ConsumerConfig[] = [];
  file.data.consumers.forEach((entry, i) => {
    const c = consumerSchema.safeParse(entry);
    if (!c.success) return problems.push(...zodProblems(`consumers.${i}`, c.error));
    const id = `${c.data.topic}/${c.data.name}`;
    if (seen.has(id)) problems.push(`consumers.${i}: consumer "${c.data.name}" of "${c.data.topic}" is declared twice`);
    seen.add(id);
    const config: ConsumerConfig = {
      ...consumerDefaults,
      ...c.data,
      filters: c.data.filters as ConsumerConfig['filters'], // checked with the other rules below
      deadLetterTopic: c.data.deadLetterTopic ?? defaultDeadLetterTopic(c.data.topic, c.data.name),
    };
    if (config.filters === undefined) delete config.filters;
    const problem = problemOf(checkConsumer, config);
    if (problem) problems.push(`consumers.${i}: ${problem}`);
    else consumers.push(config);
  });
  if (problems.length) throw configProblems(problems);
  return { topics, consumers };
}

/** The message `check(value)` throws, if any. */
function problemOf<T>(check: (value: T) => unknown, value: T): string | undefined {
  try {
    check(value);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
