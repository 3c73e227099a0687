/**
 * `ferry.config.json` for `ferry dev --config`: topics to create if missing and push consumers to run.
 * A bad config is refused at start with every problem listed.
 *
 * @example
 *   {"topics": [{"name": "orders", "partitions": 6}],
 *    "consumers": [{"topic": "orders", "name": "email", "handler": "./handlers/email.mjs", "batchSize": 100}]}
 */
import { z } from 'zod';
import { checkConsumer, consumerDefaults, defaultDeadLetterTopic, type ConsumerConfig } from './core/consumers/dispatch';
import { FerryError } from './protocol/errors';
import { validateTopicName } from './core/storage/keys';
import type { CreateTopicInput } from './core/log/topics';

const int = z.number().int();

const configSchema = z.strictObject({
  topics: z
    .array(
      z.strictObject({
        name: z.string(),
        partitions: int,
        replicationFactor: int.optional(),
        retentionMs: int.optional(),
        retentionBytes: int.optional(),
        maxRecordBytes: int.optional(),
      }),
    )
    .default([]),
  consumers: z
    .array(
      z.strictObject({
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
      }),
    )
    .default([]),
});

export interface FerryConfig {
  topics: CreateTopicInput[];
  consumers: ConsumerConfig[];
}

/** Validates a parsed config file; throws `invalid` listing every problem. */
export function parseConfig(raw: unknown): FerryConfig {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new FerryError('invalid', `the config is not valid:\n  - ${problems.join('\n  - ')}`, { problems });
  }
  const problems: string[] = [];
  parsed.data.topics.forEach((t, i) => {
    try {
      validateTopicName(t.name);
    } catch (e) {
      problems.push(`topics.${i}.name: ${(e as Error).message}`);
    }
  });
  const seen = new Set<string>();
  const consumers: ConsumerConfig[] = [];
  parsed.data.consumers.forEach((c, i) => {
    const id = `${c.topic}/${c.name}`;
    if (seen.has(id)) problems.push(`consumers.${i}: consumer "${c.name}" of "${c.topic}" is declared twice`);
    seen.add(id);
    try {
      const config: ConsumerConfig = {
        ...consumerDefaults,
        ...c,
        deadLetterTopic: c.deadLetterTopic ?? defaultDeadLetterTopic(c.topic, c.name),
      };
      checkConsumer(config);
      consumers.push(config);
    } catch (e) {
      problems.push(`consumers.${i}: ${(e as Error).message}`);
    }
  });
  if (problems.length) {
    throw new FerryError('invalid', `the config is not valid:\n  - ${problems.join('\n  - ')}`, { problems });
  }
  return { topics: parsed.data.topics, consumers };
}
