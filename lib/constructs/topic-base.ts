/**
 * What every Ferry topic can do, declared in this app or imported, shaped like aws-kinesis `StreamBase`:
 * `ITopic`, and `TopicBase` with its grants (`execute-api:Invoke` on the topic's routes) and its metrics.
 */
import { Resource, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { MetricName } from '../core/metric-catalog';
import { METRICS_NAMESPACE, ferryMetric } from './metrics';
import { GROUP_PATTERN, ROUTES, grantRoutes, isGroupRoute, type Access } from './routes';
import { FerryPropsError } from './validation';

const ROUTE_WILDCARD_REASON =
  'The * stands for one path parameter of a Ferry route (partition number, group id, member id or scheduled id); topic, method and route are fixed.';

const GROUP_WILDCARD_REASON =
  'The * stands for a member id, or for what the granted group id pattern leaves open; the groups are the ones named in grantConsume.';
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
    const topicGrant = grantRoutes(
      this,
      grantee,
      this.httpApiId,
      consume.filter((r) => !isGroupRoute(r)),
      this.topicName,
      ROUTE_WILDCARD_REASON,
    );
    if (groups.length === 0) return topicGrant;
    const groupGrant = grantRoutes(
      this,
      grantee,
      this.httpApiId,
      consume.filter(isGroupRoute),
      this.topicName,
      GROUP_WILDCARD_REASON,
      groups,
    );
    return topicGrant.combine(groupGrant);
  }

  /**
   * Lets `grantee` administer this topic: `execute-api:Invoke` on `PATCH /v1/topics/{topic}`,
   * `DELETE /v1/topics/{topic}`, `GET /v1/topics/{topic}/scheduled`,
   * `DELETE /v1/topics/{topic}/scheduled/{id}`, and its push consumers: `GET /v1/topics/{topic}/consumers`,
   * `GET …/consumers/{c}`, `POST …/consumers/{c}/pause`, `/resume`, `/seek`. Creating and listing topics are
   * cluster rights (`Ferry.grantAdmin`).
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

  /** Maintenance steps that failed for this topic (the pass went on; the next one tries again). Sum. */
  metricMaintenanceErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('MaintenanceErrors', {}, props);
  }

  /** Dispatcher runs a producer woke after committing to this topic (no run was live). Sum. */
  metricDispatcherWakes(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.catalogued('DispatcherWakes', {}, props);
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
