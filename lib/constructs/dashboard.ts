/**
 * A CloudWatch dashboard of a Ferry cluster: per topic records in and out, errors, contention and storage;
 * group and push-consumer lag; dead letters; maintenance.
 *
 * @example
 *   new FerryDashboard(this, 'Dashboard', { ferry, topics: [orders], groups: [{ topic: orders, group: 'billing' }] });
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { Ferry } from './ferry';
import type { TopicBase } from './topic-base';

export interface FerryDashboardProps {
  readonly ferry: Ferry;
  readonly topics: TopicBase[];
  /** @default - none */
  readonly groups?: Array<{ topic: TopicBase; group: string }>;
  /** @default - none */
  readonly consumers?: Array<{ topic: TopicBase; consumer: string }>;
  /** @default - CloudWatch names it */
  readonly dashboardName?: string;
}

export class FerryDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: FerryDashboardProps) {
    super(scope, id);
    const p = { period: Duration.minutes(1) };
    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
      new cloudwatch.GraphWidget({ title, left, right, width: 12, height: 6 });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName });
    for (const t of props.topics) {
      this.dashboard.addWidgets(
        graph(
          `${t.topicName}: records`,
          [t.metricRecordsProduced(p), t.metricRecordsFetched(p)],
          [t.metricBytesProduced(p), t.metricBytesFetched(p)],
        ),
        graph(
          `${t.topicName}: errors and contention`,
          [t.metricProduceErrors(undefined, p), t.metricFetchErrors(undefined, p), t.metricCommitFailures(p)],
          [t.metricCommitConflicts(p), t.metricReplicaFallbacks(p)],
        ),
        graph(
          `${t.topicName}: storage`,
          [t.metricBytesRetained()],
          [t.metricObjectsRetained(), t.metricObjectsCollected(), t.metricDelayedPending()],
        ),
      );
    }
    const groups = props.groups ?? [];
    if (groups.length) {
      this.dashboard.addWidgets(
        graph(
          'group lag (seconds)',
          groups.map((g) => g.topic.metricGroupLagSeconds(g.group, p)),
        ),
        graph(
          'group lag (records)',
          groups.map((g) => g.topic.metricGroupLagRecords(g.group, p)),
        ),
      );
    }
    for (const c of props.consumers ?? []) {
      this.dashboard.addWidgets(
        graph(
          `${c.consumer} on ${c.topic.topicName}: lag`,
          [c.topic.metricConsumerLagSeconds(c.consumer, p)],
          [c.topic.metricConsumerLagRecords(c.consumer, p)],
        ),
        graph(
          `${c.consumer}: invocations`,
          [c.topic.metricInvocations(c.consumer, p), c.topic.metricHandlerFailures(c.consumer, p)],
          [c.topic.metricDeadLettered(c.consumer, p), c.topic.metricThrottles(c.consumer, p)],
        ),
      );
    }
    this.dashboard.addWidgets(graph('maintenance pass (ms)', [props.ferry.metricMaintenanceDuration()]));
  }
}
