/**
 * Alarms on what a Ferry operator watches: a consumer group or push consumer falling behind, records
 * dead-lettered, produce errors, and maintenance falling behind (or stopping). Every alarm reads a metric the
 * functions publish (lib/core/metric-catalog.ts).
 *
 * @example
 *   ferry.addAlarms({
 *     topics: [orders],
 *     groups: [{ topic: orders, group: 'billing', maxLagSeconds: 300 }],
 *     consumers: [{ topic: orders, consumer: 'mailer', maxLagSeconds: 60 }],
 *     actions: [new actions.SnsAction(pager)],
 *   });
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { ferryMetric } from './metrics';
import type { TopicBase } from './topic-base';

export interface FerryAlarmsProps {
  /** The cluster's table name (the `Table` dimension). */
  readonly tableName: string;
  /** The maintenance schedule: a pass longer than this falls behind. */
  readonly maintenanceInterval: Duration;
  /** Topics whose produce errors (any kind) alarm at `produceErrorThreshold` in 5 minutes. @default - none */
  readonly topics?: TopicBase[];
  /** @default 1 */
  readonly produceErrorThreshold?: number;
  /** Consumer groups whose lag in seconds alarms above `maxLagSeconds`. @default - none */
  readonly groups?: Array<{ topic: TopicBase; group: string; maxLagSeconds: number }>;
  /** Push consumers: lag in seconds above `maxLagSeconds` (@default 300), and any dead-lettered record. */
  readonly consumers?: Array<{ topic: TopicBase; consumer: string; maxLagSeconds?: number }>;
  /** Actions of every alarm (SNS, …). @default - none */
  readonly actions?: cloudwatch.IAlarmAction[];
}

export class FerryAlarms extends Construct {
  /** Every alarm made, for dashboards or composite alarms. */
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: FerryAlarmsProps) {
    super(scope, id);
    const five = Duration.minutes(5);
    const add = (
      name: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
      missing = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) => {
      const alarm = new cloudwatch.Alarm(this, name, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // Counters are published only when they count something: no data is zero.
        treatMissingData: missing,
        alarmDescription: description,
      });
      for (const a of props.actions ?? []) alarm.addAlarmAction(a);
      this.alarms.push(alarm);
      return alarm;
    };
    for (const t of props.topics ?? []) {
      add(
        `ProduceErrors-${t.node.id}`,
        t.metricProduceErrors(undefined, { period: five }),
        props.produceErrorThreshold ?? 1,
        `produce errors on topic ${t.topicName}`,
      );
    }
    for (const g of props.groups ?? []) {
      add(
        `GroupLag-${g.topic.node.id}-${g.group}`,
        g.topic.metricGroupLagSeconds(g.group, { period: five }),
        g.maxLagSeconds,
        `group ${g.group} is behind on ${g.topic.topicName}`,
      );
    }
    for (const c of props.consumers ?? []) {
      add(
        `ConsumerLag-${c.topic.node.id}-${c.consumer}`,
        c.topic.metricConsumerLagSeconds(c.consumer, { period: five }),
        c.maxLagSeconds ?? 300,
        `push consumer ${c.consumer} is behind on ${c.topic.topicName}`,
      );
      add(
        `DeadLettered-${c.topic.node.id}-${c.consumer}`,
        c.topic.metricDeadLettered(c.consumer, { period: five }),
        1,
        `push consumer ${c.consumer} dead-lettered records of ${c.topic.topicName}`,
      );
    }
    const interval = props.maintenanceInterval;
    // A pass as long as its interval falls behind; no pass at all for three intervals means it stopped.
    add(
      'MaintenanceBehind',
      ferryMetric(
        'MaintenanceDuration',
        props.tableName,
        {},
        { period: Duration.minutes(Math.max(5, Math.ceil(interval.toMinutes() * 3))) },
      ),
      interval.toMilliseconds(),
      'maintenance passes take as long as their interval (retention and garbage collection fall behind), or none ran',
      cloudwatch.TreatMissingData.BREACHING,
    );
  }
}
