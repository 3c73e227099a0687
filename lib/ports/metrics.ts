/**
 * Where the core reports what it does: counters that add up and gauges that hold a current value, named from
 * the catalogue in `lib/core/metric-catalog.ts`, with low-cardinality dimensions (topic, group, consumer,
 * error kind — never a partition, key or id). The embedded server renders them as Prometheus text
 * (`GET /metrics`); on AWS each function writes them as CloudWatch embedded-metric-format log lines, one flush
 * per invocation.
 */
export type MetricDimensions = Readonly<Record<string, string>>;

export interface Metrics {
  /** Adds `value` to a counter (records produced, handler failures, …). */
  add(name: string, value: number, dimensions?: MetricDimensions): void;
  /** Sets a gauge to its current value (lag, objects retained, …), or records one observation (a duration). */
  set(name: string, value: number, dimensions?: MetricDimensions): void;
}

/** Reports nothing: the default where no adapter is given. */
export const noMetrics: Metrics = {
  add: () => undefined,
  set: () => undefined,
};
