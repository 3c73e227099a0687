/**
 * Ferry topics as CDK constructs, shaped like aws-kinesis `Stream`: `ITopic` (what any topic, declared or
 * imported, can do), `TopicBase` (grants and metrics), `Topic` (a topic this app declares; a custom resource
 * creates it on deploy).
 */
import { Annotations, CustomResource, Duration, Lazy, RemovalPolicy, Resource, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { GROUP_PATTERN, ROUTES, grantRoutes, isGroupRoute, type Access } from './routes';
import { FerryPropsError } from './validation';
import { durationRule, integerRule, nameRule, validateProps, type Rule } from './validation';

import type { MetricName } from '../core/metric-catalog';
import { METRICS_NAMESPACE, ferryMetric } from './metrics';

export { METRICS_NAMESPACE } from './metrics';

const ROUTE_WILDCARD_REASON =
  'The * stands for one path parameter of a Ferry route (partition number, group id, member id or scheduled id); topic, method and route are fixed.';

const GROUP_WILDCARD_REASON =
  'The * stands for a member id, or for what the granted group id pattern leaves open; the groups are the ones named in grantConsume.';

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

/** A Ferry topic, declared in this app or imported. */
export interface ITopic {
  readonly topicName: string;
  /** The cluster's HTTP API id. */
  readonly httpApiId: string;
  grantProduce(grantee: iam.IGrantable): iam.Grant;
  grantConsume(grantee: iam.IGrantable, options?: ConsumeGrantOptions): iam.Grant;
  grantAdmin(grantee: iam.IGrantable): iam.Grant;
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricRecordsProduced(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricBytesProduced(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricRecordsFetched(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricBytesFetched(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/** What `Topic.fromTopicAttributes` needs. */
export interface TopicAttributes {
  readonly topicName: string;
  /** The HTTP API id of the Ferry cluster that holds the topic (`ferry.httpApiId`). */
  readonly httpApiId: string;
  /** The cluster's table name, the `Table` dimension of the topic's metrics. @default - metrics carry only `Topic` */
  readonly tableName?: string;
}

/** Which consumer groups a `grantConsume` lets the grantee use. */
export interface ConsumeGrantOptions {
  /**
   * Group ids whose group routes the grantee may use: join, heartbeat, leave, commit offsets, seek, describe
   * (and list groups). `*` in an id stands for any run of group-id characters (`'billing-*'`); `['*']` is
   * every group of the cluster, another team's included.
   * @default - none: the grantee may read this topic but use no consumer group
   */
  readonly groups?: readonly string[];
}

/** Grants and metrics shared by declared and imported topics. */
export abstract class TopicBase extends Resource implements ITopic {
  abstract readonly topicName: string;
  abstract readonly httpApiId: string;
  protected abstract readonly metricsTableName?: string;

  /**
   * Lets `grantee` append records to this topic and obtain an idempotent producer id:
   * `execute-api:Invoke` on `POST /v1/topics/{topic}/records` and `POST /v1/producers`. Nothing else: no
   * reads, no admin, no other topic.
   *
   * @example
   * orders.grantProduce(checkoutFn);
   */
  grantProduce(grantee: iam.IGrantable): iam.Grant {
    return this.grantRoutes(grantee, ['produce']);
  }

  /**
   * Lets `grantee` read this topic: `execute-api:Invoke` on `GET /v1/topics/{topic}` and
   * `GET /v1/topics/{topic}/partitions/{p}/records`; and, for each group id in `options.groups`, the group
   * routes of that group (`GET /v1/groups/{g}`, `POST /v1/groups/{g}/members`,
   * `POST /v1/groups/{g}/members/{m}/heartbeat`, `DELETE /v1/groups/{g}/members/{m}`,
   * `POST /v1/groups/{g}/offsets`, `POST /v1/groups/{g}/seek`) plus `GET /v1/groups`. Group routes name a
   * group, not a topic, so they are granted by group id: a consumer of this topic cannot join, commit or seek
   * another team's group.
   *
   * @example
   * orders.grantConsume(billingFn, { groups: ['billing'] });
   */
  grantConsume(grantee: iam.IGrantable, options: ConsumeGrantOptions = {}): iam.Grant {
    const groups = options.groups ?? [];
    const bad = groups.filter((g) => !Token.isUnresolved(g) && !GROUP_PATTERN.test(g));
    if (bad.length > 0) {
      throw new FerryPropsError(`grantConsume on topic ${this.topicName}`, [
        `groups must be group ids of 1-249 characters from [a-zA-Z0-9._-], with * as a wildcard; received ${JSON.stringify(bad)}`,
      ]);
    }
    const consume = ROUTES.filter((r) => r.access === 'consume');
    const topicGrant = grantRoutes(this, grantee, this.httpApiId, consume.filter((r) => !isGroupRoute(r)), this.topicName, ROUTE_WILDCARD_REASON);
    if (groups.length === 0) return topicGrant;
    const groupGrant = grantRoutes(this, grantee, this.httpApiId, consume.filter(isGroupRoute), this.topicName, GROUP_WILDCARD_REASON, groups);
    return topicGrant.combine(groupGrant);
  }

  /**
   * Lets `grantee` administer this topic: `execute-api:Invoke` on `PATCH /v1/topics/{topic}`,
   * `DELETE /v1/topics/{topic}`, `GET /v1/topics/{topic}/scheduled` and
   * `DELETE /v1/topics/{topic}/scheduled/{id}`. Creating and listing topics are cluster rights
   * (`Ferry.grantAdmin`).
   */
  grantAdmin(grantee: iam.IGrantable): iam.Grant {
    return this.grantRoutes(grantee, ['admin']);
  }

  /**
   * A metric of this topic in the `Ferry` namespace, dimensions `Table` (the cluster) and `Topic`.
   *
   * @example
   * orders.metric('RecordsProduced', { statistic: 'Sum', period: Duration.minutes(1) });
   */
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: {
        ...(this.metricsTableName ? { Table: this.metricsTableName } : {}),
        Topic: this.topicName,
      },
      ...props,
    }).attachTo(this);
  }

  /** Records appended to this topic. Sum over 5 minutes by default. */
  metricRecordsProduced(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('RecordsProduced', {}, props);
  }

  /** Bytes (keys, values, headers) appended to this topic. Sum over 5 minutes by default. */
  metricBytesProduced(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('BytesProduced', {}, props);
  }

  /** Records returned by fetches of this topic. Sum over 5 minutes by default. */
  metricRecordsFetched(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('RecordsFetched', {}, props);
  }

  /** Bytes returned by fetches of this topic. Sum over 5 minutes by default. */
  metricBytesFetched(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('BytesFetched', {}, props);
  }

  /** Produce requests answered with an error: of one `kind` (`unavailable`, `too_large`, …) or of any. Sum. */
  metricProduceErrors(kind?: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('ProduceErrors', kind ? { Kind: kind } : {}, props);
  }

  /** Fetch requests answered with an error: of one `kind` or of any. Sum. */
  metricFetchErrors(kind?: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('FetchErrors', kind ? { Kind: kind } : {}, props);
  }

  /** Commits that lost a compare-and-set race and were tried again (contention). Sum. */
  metricCommitConflicts(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('CommitConflicts', {}, props);
  }

  /** Commits given up after every attempt (answered 503). Sum. */
  metricCommitFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('CommitFailures', {}, props);
  }

  /** Copies a read found missing or damaged and passed over (a store losing data). Sum. */
  metricReplicaFallbacks(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('ReplicaFallbacks', {}, props);
  }

  /** Records after a consumer group's committed offsets on this topic. Maximum. */
  metricGroupLagRecords(group: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('GroupLagRecords', { Group: group }, props);
  }

  /** Age in seconds of the oldest record of this topic a consumer group has not consumed. Maximum. */
  metricGroupLagSeconds(group: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('GroupLagSeconds', { Group: group }, props);
  }

  /** Records a push consumer of this topic has yet to deliver. Maximum. */
  metricConsumerLagRecords(consumer: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('ConsumerLagRecords', { Consumer: consumer }, props);
  }

  /** Age in seconds of the oldest record a push consumer has yet to deliver (iterator age). Maximum. */
  metricConsumerLagSeconds(consumer: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('ConsumerLagSeconds', { Consumer: consumer }, props);
  }

  /** Invocations of a push consumer's handler. Sum. */
  metricInvocations(consumer: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('Invocations', { Consumer: consumer }, props);
  }

  /** Invocations that failed or reported failed records. Sum. */
  metricHandlerFailures(consumer: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('HandlerFailures', { Consumer: consumer }, props);
  }

  /** Records a push consumer sent to its dead-letter topic. Sum. */
  metricDeadLettered(consumer: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('DeadLettered', { Consumer: consumer }, props);
  }

  /** Times a push consumer waited for its `maxRecordsPerSecond`. Sum. */
  metricThrottles(consumer: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('Throttles', { Consumer: consumer }, props);
  }

  /** Delayed records not yet due (at the last maintenance pass). Maximum. */
  metricDelayedPending(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('DelayedPending', {}, props);
  }

  /** How late (ms) delayed records became visible after their `deliverAt`. Maximum. */
  metricDelayedLateness(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('DelayedLateness', {}, props);
  }

  /** Segment objects this topic keeps, all replicas. Maximum. */
  metricObjectsRetained(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('ObjectsRetained', {}, props);
  }

  /** Bytes of the segment objects this topic keeps, all replicas. Maximum. */
  metricBytesRetained(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('BytesRetained', {}, props);
  }

  /** Unreferenced objects of this topic deleted by garbage collection. Sum. */
  metricObjectsCollected(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('ObjectsCollected', {}, props);
  }

  private catalogued(name: MetricName, dimensions: Record<string, string>, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return ferryMetric(name, this.metricsTableName, { Topic: this.topicName, ...dimensions }, props).attachTo(this);
  }

  private grantRoutes(grantee: iam.IGrantable, access: Access[]): iam.Grant {
    const routes = ROUTES.filter((r) => access.includes(r.access));
    return grantRoutes(this, grantee, this.httpApiId, routes, this.topicName, ROUTE_WILDCARD_REASON);
  }
}

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
const DEFAULT_RETENTION = Duration.days(7);

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

const CONSUMER_RULES: Rule<ConsumerProps & { name: string; topic: Topic }>[] = [
  nameRule('consumer name', (p) => p.name),
  (p) => (p.topic.hasConsumer(p.name) ? `consumer name must be unique on topic ${p.topic.topicName}; "${p.name}" is taken` : undefined),
  integerRule('batchSize', (p) => p.batchSize, 1, 10_000),
  durationRule('maxBatchingWindow', (p) => p.maxBatchingWindow, Duration.seconds(0), Duration.minutes(5)),
  integerRule('maxRetries', (p) => p.maxRetries, 0, 10_000),
  integerRule('maxRecordsPerSecond', (p) => p.maxRecordsPerSecond, 1, 1_000_000),
  // At most one invocation per partition; skipped while the partition count is a token.
  (p) =>
    Token.isUnresolved(p.topic.partitionCount)
      ? undefined
      : integerRule<ConsumerProps>('maxConcurrency', (c) => c.maxConcurrency, 1, p.topic.partitionCount)(p),
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

/**
 * A topic declared in this app. On deploy a custom resource creates it (or grows its partitions, or changes
 * its retention); when the construct leaves the stack, `removalPolicy` decides whether the topic is deleted.
 *
 * @example
 * const orders = ferry.addTopic('orders', { partitions: 12, retention: Duration.days(7) });
 * orders.grantProduce(checkoutFn);
 * orders.addConsumer('email', { handler: emailFn, batchSize: 100, maxRecordsPerSecond: 50 });
 */
export class Topic extends TopicBase {
  /** A topic created elsewhere (another stack, the CLI, the API). */
  static fromTopicAttributes(scope: Construct, id: string, attrs: TopicAttributes): ITopic {
    class Import extends TopicBase {
      readonly topicName = attrs.topicName;
      readonly httpApiId = attrs.httpApiId;
      protected readonly metricsTableName = attrs.tableName;
    }
    return new Import(scope, id);
  }

  readonly topicName: string;
  readonly httpApiId: string;
  readonly partitionCount: number;
  readonly replicationFactor: number;
  /** The custom resource that creates the topic; depend on it to use the topic during deploy. */
  readonly resource: CustomResource;
  protected readonly metricsTableName: string;
  private readonly ferry: IFerryCluster;
  private readonly consumers: ConsumerDefinition[] = [];

  constructor(scope: Construct, id: string, props: TopicProps) {
    super(scope, id);
    const topicName = props.topicName ?? id;
    validateProps(`Topic ${topicName}`, { ...props, topicName }, TOPIC_RULES);

    this.ferry = props.ferry;
    this.topicName = topicName;
    this.httpApiId = props.ferry.httpApiId;
    this.metricsTableName = props.ferry.tableName;
    this.partitionCount = props.partitions ?? 1;
    this.replicationFactor = props.replicationFactor ?? 1;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    if (props.ferry.singleZoneStores && this.replicationFactor === 1) {
      Annotations.of(this).addWarningV2(
        '@ferry/topic:single-zone',
        `Topic ${topicName} keeps one copy in a single-AZ store: an AZ outage can lose acknowledged records. Set replicationFactor to 2 or more.`,
      );
    }

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: props.ferry._topicServiceToken(),
      resourceType: 'Custom::FerryTopic',
      removalPolicy,
      // CloudFormation hands these to the handler as strings (numbers included).
      properties: {
        name: topicName,
        partitions: this.partitionCount,
        replicationFactor: this.replicationFactor,
        retentionMs: (props.retention ?? DEFAULT_RETENTION).toMilliseconds(),
        retentionBytes: props.retentionBytes ?? -1,
        removalPolicy: removalPolicy === RemovalPolicy.DESTROY ? 'destroy' : 'retain',
        consumers: Lazy.any({ produce: () => this.consumers }, { omitEmptyArray: true }),
      },
    });
  }

  /** @internal */
  hasConsumer(name: string): boolean {
    return this.consumers.some((c) => c.name === name);
  }

  /**
   * Pushes this topic's records to a Lambda function: records the consumer in the topic's definition (the
   * dispatcher reads it) and lets the dispatcher invoke `handler` (`lambda:InvokeFunction` on it only).
   *
   * @example
   * orders.addConsumer('email', { handler: emailFn, batchSize: 100, maxRecordsPerSecond: 50 });
   */
  addConsumer(name: string, props: ConsumerProps): ConsumerDefinition {
    validateProps(`consumer ${name} of topic ${this.topicName}`, { ...props, name, topic: this }, CONSUMER_RULES);
    const definition: ConsumerDefinition = {
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
    };
    this.consumers.push(definition);
    // The unqualified ARN only: no `:*` version wildcard.
    iam.Grant.addToPrincipal({
      grantee: this.ferry._dispatcher(),
      actions: ['lambda:InvokeFunction'],
      resourceArns: [props.handler.functionArn],
    });
    return definition;
  }
}
