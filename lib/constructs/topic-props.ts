/** A declared topic's props, and the rules they are checked against (every problem reported at once). */
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { durationRule, integerRule, nameRule, validateProps, type Rule } from './validation';

/** The parts of a Ferry cluster a topic needs. `Ferry` implements it. */
export interface IFerryCluster {
  /** The HTTP API's id; grants are `execute-api:Invoke` on its routes. */
  readonly httpApiId: string;
  /** The DynamoDB table's name: a metric dimension, so two clusters in one account do not mix. */
  readonly tableName: string;
  /** How many object stores (replica failure domains) the cluster has. */
  readonly objectStoreCount: number;
  /** True when every store is a single-AZ store (S3 Express One Zone). */
  readonly singleZoneStores: boolean;
  /** @internal the service token of the topic custom resource provider. */
  _topicServiceToken(): string;
  /** @internal the dispatcher function that pushes records to consumers (created on first use). */
  _dispatcher(): lambda.IFunction;
}

export interface TopicOptions {
  /** Partitions; can grow later (a deploy with more), never shrink. @default 1 */
  readonly partitions?: number;
  /** Object stores each segment is written to (1 .. the cluster's store count). @default 1 */
  readonly replicationFactor?: number;
  /** How long records are kept. @default Duration.days(7) */
  readonly retention?: Duration;
  /** Size cap per partition in bytes; older segments go first. @default - no size limit */
  readonly retentionBytes?: number;
  /**
   * What happens to the topic and its records when the construct leaves the stack (or the stack is deleted):
   * `RETAIN` keeps them, `DESTROY` deletes the topic.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export interface TopicProps extends TopicOptions {
  /** The cluster that holds the topic. */
  readonly ferry: IFerryCluster;
  /** The topic name. @default - the construct id */
  readonly topicName?: string;
}

const MAX_PARTITIONS = 10_000;
/** How long records are kept when `retention` is not given. */
export const DEFAULT_RETENTION = Duration.days(7);

const TOPIC_RULES: Rule<TopicProps & { topicName: string }>[] = [
  nameRule('topicName', (p) => p.topicName),
  integerRule('partitions', (p) => p.partitions, 1, MAX_PARTITIONS),
  (p) => {
    const rf = p.replicationFactor;
    if (rf === undefined || Token.isUnresolved(rf)) return undefined;
    const max = p.ferry.objectStoreCount;
    if (!Number.isInteger(rf) || rf < 1 || rf > max) {
      return `replicationFactor must be an integer from 1 to ${max} (the cluster's object stores); received ${rf}`;
    }
    return undefined;
  },
  durationRule('retention', (p) => p.retention, Duration.minutes(1), Duration.days(36_500)),
  integerRule('retentionBytes', (p) => p.retentionBytes, 1, Number.MAX_SAFE_INTEGER),
  (p) =>
    p.removalPolicy === RemovalPolicy.SNAPSHOT
      ? `removalPolicy must be RETAIN or DESTROY (a topic has no snapshot); received ${p.removalPolicy}`
      : undefined,
];

/** Throws a `FerryPropsError` listing every rule `props` breaks. */
export function validateTopicProps(topicName: string, props: TopicProps): void {
  validateProps(`Topic ${topicName}`, { ...props, topicName }, TOPIC_RULES);
}
