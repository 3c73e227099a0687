/** A push consumer's settings (ferry.config.json, `topic.addConsumer`): defaults and every rule, checked at once. */
import { invalid } from '../../protocol/errors';
import { validateConsumerName, validateTopicName } from '../storage/keys';
import { filterProblems, type FilterPattern } from './filters';

export type StartingPosition = 'earliest' | 'latest' | { timestamp: number };

/** A push consumer, as declared in ferry.config.json or by `topic.addConsumer`. */
export interface ConsumerConfig {
  topic: string;
  name: string;
  /** A handler module path, a webhook URL or a Lambda function name / ARN, as the Invoker understands it. */
  handler: string;
  batchSize: number;
  maxBatchingWindowMs: number;
  startingPosition: StartingPosition;
  /** Retries of a failing batch before its records go to the dead-letter topic (-1: retry forever). */
  maxRetries: number;
  /** Records older than this are dead-lettered without an invocation (-1: no limit). */
  maxRecordAgeMs: number;
  bisectOnError: boolean;
  deadLetterTopic: string;
  maxRecordsPerSecond?: number;
  maxConcurrency?: number;
  /**
   * The handler's own timeout (a Lambda function's `timeout`): the lease held during an invocation outlasts
   * it, so a dispatcher that dies mid-invoke is not followed by a second invocation of the same records while
   * the first may still run. Undefined: the handler cannot outlive its dispatcher (an in-process module, a
   * webhook request the dispatcher's own process holds).
   */
  timeoutMs?: number;
  /** Only records matching one of these are delivered; the others are committed (filters.ts). */
  filters?: FilterPattern[];
  /**
   * Concurrent batches per partition (1–10, Kinesis's ParallelizationFactor): records are split into lanes by
   * their key's hash, so one key's records are never in two in-flight batches and keep their order. Fixed for a
   * consumer's life (a new factor would re-map keys to lanes whose offsets differ).
   */
  parallelizationFactor?: number;
}

export const consumerDefaults = {
  batchSize: 100,
  maxBatchingWindowMs: 0,
  startingPosition: 'earliest' as StartingPosition,
  maxRetries: 3,
  maxRecordAgeMs: -1,
  bisectOnError: false,
};

/** The default dead-letter topic of a consumer: `<topic>-<consumer>-dlq`, validated like any topic name. */
export function defaultDeadLetterTopic(topic: string, consumer: string): string {
  return validateTopicName(`${topic}-${consumer}-dlq`);
}

/** Every rule of a consumer config, all problems at once. */
export function checkConsumer(c: ConsumerConfig): void {
  const problems: string[] = [];
  const at = `consumer "${c.name}" of "${c.topic}"`;
  for (const [what, fn] of [
    ['topic', () => validateTopicName(c.topic)],
    ['name', () => validateConsumerName(c.name)],
    ['deadLetterTopic', () => validateTopicName(c.deadLetterTopic)],
  ] as const) {
    try {
      fn();
    } catch (e) {
      problems.push(`${what}: ${(e as Error).message}`);
    }
  }
  const range = (name: string, v: number | undefined, min: number, max: number, allowMinusOne = false) => {
    if (v === undefined) return;
    if (!Number.isInteger(v) || ((v < min || v > max) && !(allowMinusOne && v === -1))) {
      problems.push(`${name} must be an integer from ${min} to ${max}${allowMinusOne ? ' or -1' : ''} (got ${v})`);
    }
  };
  range('batchSize', c.batchSize, 1, 10_000);
  range('maxBatchingWindowMs', c.maxBatchingWindowMs, 0, 300_000);
  range('maxRetries', c.maxRetries, 0, 10_000, true);
  range('maxRecordAgeMs', c.maxRecordAgeMs, 1_000, 7 * 24 * 3600 * 1000, true);
  range('maxRecordsPerSecond', c.maxRecordsPerSecond, 1, 1_000_000);
  range('maxConcurrency', c.maxConcurrency, 1, 10_000);
  range('timeoutMs', c.timeoutMs, 1, 900_000);
  range('parallelizationFactor', c.parallelizationFactor, 1, 10);
  problems.push(...filterProblems(c.filters));
  if (c.deadLetterTopic === c.topic) problems.push('deadLetterTopic must differ from the topic it serves');
  if (problems.length) throw invalid(`${at}: ${problems.join('; ')}`, { problems });
}
