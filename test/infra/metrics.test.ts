/**
 * The constructs chart what the functions publish: every `metricXxx()` of `Topic` and `Ferry` names a metric
 * of the catalogue (lib/core/metric-catalog.ts — the list EmfMetrics writes), with its dimensions, and every
 * catalogue metric has a helper. Alarms and the dashboard read only those metrics.
 */
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Ferry, FerryDashboard, Topic, TopicBase } from '../../lib/constructs';
import { METRICS } from '../../lib/core/metric-catalog';
import { fixtureEntries, templateStack } from './helpers';

function cluster() {
  const stack = templateStack();
  const ferry = new Ferry(stack, 'Ferry', { lambdaEntries: fixtureEntries, maintenanceInterval: Duration.minutes(5) });
  return { stack, ferry, orders: ferry.addTopic('orders') };
}

/** Calls every metricXxx helper of an object (a group / consumer / kind argument where it takes one). */
function helperMetrics(target: object, proto: object): Map<string, cloudwatch.Metric> {
  const out = new Map<string, cloudwatch.Metric>();
  for (const name of Object.getOwnPropertyNames(proto)) {
    if (!/^metric[A-Z]/.test(name)) continue;
    const fn = (target as Record<string, (...a: unknown[]) => cloudwatch.Metric>)[name];
    out.set(name, fn.length >= 2 ? fn.call(target, 'billing') : fn.call(target));
  }
  return out;
}

describe('metrics of the constructs', () => {
  test('GIVEN Topic and Ferry WHEN every metricXxx is asked for THEN together they name exactly the published metrics', () => {
    const { ferry, orders } = cluster();
    const helpers = new Map([...helperMetrics(orders, TopicBase.prototype), ...helperMetrics(ferry, Ferry.prototype)]);
    const charted = [...helpers.values()].map((m) => m.metricName);
    expect(new Set(charted)).toEqual(new Set(Object.keys(METRICS)));
    for (const [helper, m] of helpers) {
      expect(helper).toBe(`metric${m.metricName}`);
      expect(m.namespace).toBe('Ferry');
      const def = METRICS[m.metricName as keyof typeof METRICS];
      expect(m.statistic).toBe(def.kind === 'counter' ? 'Sum' : 'Maximum');
      // Table, plus every dimension the functions write (a roll-up dimension may be left out).
      const dims = Object.keys(m.dimensions ?? {}).sort();
      const all = ['Table', ...def.dimensions].sort();
      const rolledUp = all.filter((d) => !('rollup' in def && (def.rollup as readonly string[]).includes(d)));
      expect([JSON.stringify(all), JSON.stringify(rolledUp)]).toContain(JSON.stringify(dims));
    }
  });

  test('GIVEN a topic WHEN errors of one kind or of any are charted THEN the Kind dimension is there or rolled up', () => {
    const { orders } = cluster();
    expect(orders.metricProduceErrors('unavailable').dimensions).toMatchObject({ Topic: 'orders', Kind: 'unavailable' });
    expect(orders.metricProduceErrors().dimensions).not.toHaveProperty('Kind');
    expect(orders.metricGroupLagSeconds('billing').dimensions).toMatchObject({ Topic: 'orders', Group: 'billing' });
    expect(orders.metricConsumerLagSeconds('mailer').dimensions).toMatchObject({ Topic: 'orders', Consumer: 'mailer' });
  });

  test('GIVEN addAlarms WHEN synthesized THEN alarms on produce errors, group and consumer lag, dead letters and maintenance', () => {
    const { stack, ferry, orders } = cluster();
    const alarms = ferry.addAlarms({
      topics: [orders],
      groups: [{ topic: orders, group: 'billing', maxLagSeconds: 300 }],
      consumers: [{ topic: orders, consumer: 'mailer', maxLagSeconds: 60 }],
    });
    expect(alarms.alarms).toHaveLength(5);
    const t = Template.fromStack(stack);
    const byMetric = (name: string) =>
      Object.values(t.findResources('AWS::CloudWatch::Alarm')).filter((r) => r.Properties.MetricName === name);
    expect(byMetric('ProduceErrors')[0].Properties).toMatchObject({
      Namespace: 'Ferry',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
      Statistic: 'Sum',
    });
    expect(byMetric('GroupLagSeconds')[0].Properties).toMatchObject({ Threshold: 300, Statistic: 'Maximum' });
    expect(byMetric('ConsumerLagSeconds')[0].Properties.Threshold).toBe(60);
    expect(byMetric('DeadLettered')[0].Properties.Threshold).toBe(1);
    // No maintenance pass for three intervals is an alarm too.
    expect(byMetric('MaintenanceDuration')[0].Properties).toMatchObject({ Threshold: 300_000, TreatMissingData: 'breaching', Period: 900 });
  });

  test('GIVEN a FerryDashboard WHEN synthesized THEN one dashboard charting the topic, group, consumer and maintenance', () => {
    const { stack, ferry, orders } = cluster();
    new FerryDashboard(stack, 'Dash', {
      ferry,
      topics: [orders],
      groups: [{ topic: orders, group: 'billing' }],
      consumers: [{ topic: orders, consumer: 'mailer' }],
    });
    const t = Template.fromStack(stack);
    const dashboards = Object.values(t.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0].Properties.DashboardBody);
    for (const name of [
      'RecordsProduced',
      'ProduceErrors',
      'CommitConflicts',
      'BytesRetained',
      'GroupLagSeconds',
      'ConsumerLagSeconds',
      'DeadLettered',
      'MaintenanceDuration',
    ]) {
      expect(body).toMatch(new RegExp(`\\W${name}\\W`));
    }
  });

  test('GIVEN an imported topic WHEN charted THEN the same helpers', () => {
    const { stack } = cluster();
    const imported = Topic.fromTopicAttributes(stack, 'Imported', {
      topicName: 'payments',
      httpApiId: 'api0',
      tableName: 'ferry-table',
    }) as TopicBase;
    expect(imported.metricObjectsRetained().dimensions).toEqual({ Table: 'ferry-table', Topic: 'payments' });
  });
});
