/**
 * Every metric Ferry publishes, once: the embedded server's Prometheus names, the CloudWatch names the AWS
 * functions write (namespace `Ferry`, plus the cluster's `Table` dimension), the units and dimensions — and
 * the constructs' `metricXxx()` helpers chart exactly these (a test checks the two lists are the same).
 */
export type MetricUnit = 'Count' | 'Bytes' | 'Seconds' | 'Milliseconds';

export interface MetricDefinition {
  /** counter: adds up (a Sum per period); gauge: a current value (Maximum per period). */
  kind: 'counter' | 'gauge';
  unit: MetricUnit;
  /** Dimensions besides the cluster (`Table` on AWS). */
  dimensions: readonly string[];
  /** Dimensions also left out on AWS, so the metric can be charted over all their values (errors of any kind). */
  rollup?: readonly string[];
  help: string;
}

export const METRICS = {
  RecordsProduced: { kind: 'counter', unit: 'Count', dimensions: ['Topic'], help: 'records acknowledged by produce' },
  BytesProduced: {
    kind: 'counter',
    unit: 'Bytes',
    dimensions: ['Topic'],
    help: 'bytes of keys, values and headers acknowledged by produce',
  },
  RecordsFetched: { kind: 'counter', unit: 'Count', dimensions: ['Topic'], help: 'records answered by fetches' },
  BytesFetched: { kind: 'counter', unit: 'Bytes', dimensions: ['Topic'], help: 'bytes of keys, values and headers answered by fetches' },
  ProduceErrors: {
    kind: 'counter',
    unit: 'Count',
    dimensions: ['Topic', 'Kind'],
    rollup: ['Kind'],
    help: 'produce requests answered with an error, by error kind',
  },
  FetchErrors: {
    kind: 'counter',
    unit: 'Count',
    dimensions: ['Topic', 'Kind'],
    rollup: ['Kind'],
    help: 'fetch requests answered with an error, by error kind',
  },
  CommitConflicts: {
    kind: 'counter',
    unit: 'Count',
    dimensions: ['Topic'],
    help: 'commits that lost a compare-and-set race and were tried again',
  },
  CommitFailures: { kind: 'counter', unit: 'Count', dimensions: ['Topic'], help: 'commits given up after every attempt (answered 503)' },
  DispatcherWakes: {
    kind: 'counter',
    unit: 'Count',
    dimensions: ['Topic'],
    help: 'dispatcher runs a producer woke after a commit found no run live (AWS)',
  },
  MaintenanceErrors: {
    kind: 'counter',
    unit: 'Count',
    dimensions: ['Topic'],
    help: 'maintenance steps that failed for a topic (the pass went on; the next one tries again)',
  },
  ReplicaFallbacks: {
    kind: 'counter',
    unit: 'Count',
    dimensions: ['Topic'],
    help: 'copies a read found missing or damaged and passed over (a sign of a store losing data)',
  },
  GroupLagRecords: {
    kind: 'gauge',
    unit: 'Count',
    dimensions: ['Group', 'Topic'],
    help: 'records after the committed offsets of a consumer group',
  },
  GroupLagSeconds: {
    kind: 'gauge',
    unit: 'Seconds',
    dimensions: ['Group', 'Topic'],
    help: 'age of the oldest record a consumer group has not consumed',
  },
  ConsumerLagRecords: {
    kind: 'gauge',
    unit: 'Count',
    dimensions: ['Topic', 'Consumer'],
    help: 'records a push consumer has yet to deliver (at its last fetch)',
  },
  ConsumerLagSeconds: {
    kind: 'gauge',
    unit: 'Seconds',
    dimensions: ['Topic', 'Consumer'],
    help: 'age of the oldest record a push consumer has yet to deliver (its iterator age)',
  },
  Invocations: { kind: 'counter', unit: 'Count', dimensions: ['Topic', 'Consumer'], help: 'push-consumer handler invocations' },
  HandlerFailures: {
    kind: 'counter',
    unit: 'Count',
    dimensions: ['Topic', 'Consumer'],
    help: 'invocations that failed or reported failed records',
  },
  DeadLettered: { kind: 'counter', unit: 'Count', dimensions: ['Topic', 'Consumer'], help: 'records sent to the dead-letter topic' },
  Throttles: {
    kind: 'counter',
    unit: 'Count',
    dimensions: ['Topic', 'Consumer'],
    help: 'times a push consumer was held back: its rate limit, or a throttled or unreachable handler (retried)',
  },
  DelayedPending: {
    kind: 'gauge',
    unit: 'Count',
    dimensions: ['Topic'],
    help: 'delayed records not yet due (at the last maintenance pass)',
  },
  DelayedLateness: {
    kind: 'gauge',
    unit: 'Milliseconds',
    dimensions: ['Topic'],
    help: 'how late delayed records became visible after their deliverAt (largest per move)',
  },
  MaintenanceDuration: {
    kind: 'gauge',
    unit: 'Milliseconds',
    dimensions: [],
    help: 'duration of the last maintenance pass (retention, collection, repair)',
  },
  ObjectsRetained: { kind: 'gauge', unit: 'Count', dimensions: ['Topic'], help: 'segment objects a topic keeps (all replicas)' },
  BytesRetained: { kind: 'gauge', unit: 'Bytes', dimensions: ['Topic'], help: 'bytes of the segment objects a topic keeps (all replicas)' },
  ObjectsCollected: { kind: 'counter', unit: 'Count', dimensions: ['Topic'], help: 'unreferenced objects deleted by garbage collection' },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof METRICS;

/** `RecordsProduced` → `ferry_records_produced_total`; seconds and bytes carry their unit as Prometheus does. */
export function prometheusName(name: MetricName): string {
  const def: MetricDefinition = METRICS[name];
  let base = name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  if (def.unit === 'Milliseconds') base = `${base}_seconds`; // exported in seconds
  if (def.unit === 'Bytes' && !base.includes('bytes')) base = `${base}_bytes`;
  return `ferry_${base}${def.kind === 'counter' ? '_total' : ''}`;
}

type Catalog = typeof METRICS;
export type CounterName = { [K in MetricName]: Catalog[K]['kind'] extends 'counter' ? K : never }[MetricName];
export type GaugeName = { [K in MetricName]: Catalog[K]['kind'] extends 'gauge' ? K : never }[MetricName];
/** Exactly the dimensions a metric has. */
export type DimensionsOf<K extends MetricName> = Record<Catalog[K]['dimensions'][number], string>;

/**
 * The Metrics port as the core sees it: names, kinds and dimensions checked by the compiler against the
 * catalogue (an adapter's `add(name: string, …)` satisfies it).
 */
export interface CatalogMetrics {
  add<K extends CounterName>(name: K, value: number, dimensions: DimensionsOf<K>): void;
  set<K extends GaugeName>(name: K, value: number, dimensions: DimensionsOf<K>): void;
}
