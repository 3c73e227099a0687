/**
 * Push consumers of a topic (`Topic.addConsumer`): their props, the rules those are checked against, and the
 * definition recorded in the topic custom resource for the dispatcher.
 */
import { Duration, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from './topic-base';
import { filterProblems } from '../core/consumers/filters';
import { durationRule, integerRule, nameRule, validateProps, type Rule } from './validation';

/** Where a consumer starts when its group has no committed offset. */
export enum StartingPosition {
  EARLIEST = 'earliest',
  LATEST = 'latest',
}

/** A Lambda function Ferry pushes this topic's records to, in order per partition (DESIGN.md §3). */
export interface ConsumerProps {
  /** The function invoked with `{records: [...]}` batches. */
  readonly handler: lambda.IFunction;
  /** Most records in one invocation. @default 100 */
  readonly batchSize?: number;
  /** How long to gather records before invoking with fewer than `batchSize`. @default Duration.seconds(0) */
  readonly maxBatchingWindow?: Duration;
  /** @default StartingPosition.EARLIEST */
  readonly startingPosition?: StartingPosition;
  /** Retries of a failed batch before its records go to `deadLetterTopic` (or block the partition). @default 3 */
  readonly maxRetries?: number;
  /** Delivery rate cap over all partitions. @default - no cap */
  readonly maxRecordsPerSecond?: number;
  /** Most concurrent invocations (at most one per partition). @default - one per partition */
  readonly maxConcurrency?: number;
  /** Where exhausted records go, with `ferry-error` / `ferry-source-*` headers. @default - none: the partition waits */
  readonly deadLetterTopic?: ITopic;
  /** Split a failing batch in two and retry the halves. @default false */
  readonly bisectOnError?: boolean;
  /** Records older than this are skipped to the dead-letter topic instead of delivered. @default - no limit */
  readonly maxRecordAge?: Duration;
  /**
   * Deliver only records matching one of these patterns (event source mapping FilterCriteria style, on
   * `key`, `value`, `headers`); the others are committed without an invocation. At most 5.
   * @default - every record
   */
  readonly filters?: Array<Record<string, unknown>>;
  /**
   * Concurrent batches per partition (1–10): records split by key hash, one key never in two in-flight
   * batches. Cannot change once deployed (a new consumer name can). @default 1
   */
  readonly parallelizationFactor?: number;
}

/** A consumer as recorded in the topic custom resource (`consumers` property) for the dispatcher. */
export interface ConsumerDefinition {
  readonly name: string;
  readonly functionArn: string;
  readonly batchSize: number;
  readonly maxBatchingWindowMs: number;
  readonly startingPosition: StartingPosition;
  readonly maxRetries: number;
  readonly maxRecordsPerSecond?: number;
  readonly maxConcurrency?: number;
  readonly deadLetterTopic?: string;
  readonly bisectOnError: boolean;
  readonly maxRecordAgeMs?: number;
  /** The handler function's timeout, when the construct knows it: leases during an invoke outlast it. */
  readonly timeoutMs?: number;
  /** The filters as JSON text (CloudFormation would turn their numbers into strings). */
  readonly filters?: string;
  readonly parallelizationFactor?: number;
}

/** What the consumer rules need to know of the topic (`Topic` provides it). */
export interface ConsumerHost {
  readonly topicName: string;
  readonly httpApiId: string;
  readonly partitionCount: number;
  hasConsumer(name: string): boolean;
}

const CONSUMER_RULES: Rule<ConsumerProps & { name: string; topic: ConsumerHost }>[] = [
  nameRule('consumer name', (p) => p.name),
  (p) => (p.topic.hasConsumer(p.name) ? `consumer name must be unique on topic ${p.topic.topicName}; "${p.name}" is taken` : undefined),
  integerRule('batchSize', (p) => p.batchSize, 1, 10_000),
  durationRule('maxBatchingWindow', (p) => p.maxBatchingWindow, Duration.seconds(0), Duration.minutes(5)),
  integerRule('maxRetries', (p) => p.maxRetries, 0, 10_000),
  integerRule('maxRecordsPerSecond', (p) => p.maxRecordsPerSecond, 1, 1_000_000),
  integerRule('parallelizationFactor', (p) => p.parallelizationFactor, 1, 10),
  // At most one invocation per partition lane; skipped while the partition count is a token.
  (p) =>
    Token.isUnresolved(p.topic.partitionCount)
      ? undefined
      : integerRule<ConsumerProps>(
          'maxConcurrency',
          (c) => c.maxConcurrency,
          1,
          p.topic.partitionCount * (p.parallelizationFactor ?? 1),
        )(p),
  (p) => {
    const problems = filterProblems(p.filters);
    return problems.length ? problems.join('; ') : undefined;
  },
  durationRule('maxRecordAge', (p) => p.maxRecordAge, Duration.seconds(1), Duration.days(36_500)),
  (p) =>
    p.deadLetterTopic && p.deadLetterTopic.topicName === p.topic.topicName
      ? `deadLetterTopic must be another topic; received the source topic ${p.topic.topicName}`
      : undefined,
  (p) =>
    p.deadLetterTopic && p.deadLetterTopic.httpApiId !== p.topic.httpApiId
      ? `deadLetterTopic must belong to the same Ferry cluster as ${p.topic.topicName}`
      : undefined,
];

/** Checks `props` (every problem at once) and returns the consumer's definition, defaults filled in. */
export function consumerDefinition(topic: ConsumerHost, name: string, props: ConsumerProps): ConsumerDefinition {
  validateProps(`consumer ${name} of topic ${topic.topicName}`, { ...props, name, topic }, CONSUMER_RULES);
  return {
    name,
    functionArn: props.handler.functionArn,
    batchSize: props.batchSize ?? 100,
    maxBatchingWindowMs: (props.maxBatchingWindow ?? Duration.seconds(0)).toMilliseconds(),
    startingPosition: props.startingPosition ?? StartingPosition.EARLIEST,
    maxRetries: props.maxRetries ?? 3,
    maxRecordsPerSecond: props.maxRecordsPerSecond,
    maxConcurrency: props.maxConcurrency,
    deadLetterTopic: props.deadLetterTopic?.topicName,
    bisectOnError: props.bisectOnError ?? false,
    maxRecordAgeMs: props.maxRecordAge?.toMilliseconds(),
    timeoutMs: handlerTimeoutMs(props.handler),
    filters: props.filters && JSON.stringify(props.filters),
    parallelizationFactor: props.parallelizationFactor,
  };
}

/**
 * The handler's timeout: a function defined in this app knows it (Lambda's default is 3 s); an imported one
 * does not, and then the dispatcher assumes Lambda's maximum, 15 minutes, so a lease never ends while an
 * invocation may still run.
 */
function handlerTimeoutMs(handler: lambda.IFunction): number {
  const timeout = (handler as { timeout?: Duration }).timeout;
  if (handler instanceof Object && 'timeout' in handler) return (timeout ?? Duration.seconds(3)).toMilliseconds();
  return Duration.minutes(15).toMilliseconds();
}

/** Lets the dispatcher invoke `handler`: the unqualified ARN only, no `:*` version wildcard. */
export function grantDispatcherInvoke(dispatcher: lambda.IFunction, handler: lambda.IFunction): void {
  iam.Grant.addToPrincipal({
    grantee: dispatcher,
    actions: ['lambda:InvokeFunction'],
    resourceArns: [handler.functionArn],
  });
}
