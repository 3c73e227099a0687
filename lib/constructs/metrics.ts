/**
 * CloudWatch metrics of the catalogue (lib/core/metric-catalog.ts) as the functions publish them: namespace
 * `Ferry`, the cluster's `Table` dimension, the metric's own dimensions; counters as Sum, gauges as Maximum.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS, type MetricDefinition, type MetricName } from '../core/metric-catalog';

export const METRICS_NAMESPACE = 'Ferry';

const UNITS: Record<MetricDefinition['unit'], cloudwatch.Unit> = {
  Count: cloudwatch.Unit.COUNT,
  Bytes: cloudwatch.Unit.BYTES,
  Seconds: cloudwatch.Unit.SECONDS,
  Milliseconds: cloudwatch.Unit.MILLISECONDS,
};

/**
 * One metric. `dimensions` must name every dimension of the metric, except its roll-up dimensions (an error
 * metric without `Kind` counts errors of every kind).
 */
export function ferryMetric(
  name: MetricName,
  tableName: string | undefined,
  dimensions: Record<string, string>,
  props?: cloudwatch.MetricOptions,
): cloudwatch.Metric {
  const def: MetricDefinition = METRICS[name];
  const missing = def.dimensions.filter((d) => !(d in dimensions) && !def.rollup?.includes(d));
  if (missing.length) throw new Error(`metric ${name} needs the dimension(s) ${missing.join(', ')}`);
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { ...(tableName ? { Table: tableName } : {}), ...dimensions },
    statistic: def.kind === 'counter' ? 'Sum' : 'Maximum',
    unit: UNITS[def.unit],
    ...props,
  });
}
