/**
 * Metrics as CloudWatch embedded metric format (EMF) log lines: Lambda's log stream turns each line into
 * metric data points in the `Ferry` namespace, with no PutMetricData call. Values add up (counters) or keep
 * the last value (gauges) during an invocation; `flush()` — once per invocation — writes one JSON document per
 * set of dimension values, each carrying the cluster's `Table` dimension.
 *
 * @example
 *   const metrics = new EmfMetrics({ Table: 'ferry-prod' });
 *   metrics.add('RecordsProduced', 3, { Topic: 'orders' });
 *   metrics.flush(); // {"_aws":{"Timestamp":…,"CloudWatchMetrics":[{"Namespace":"Ferry",…}]},"Table":"ferry-prod","Topic":"orders","RecordsProduced":3}
 */
import { METRICS, type MetricDefinition } from '../../core/metric-catalog';
import type { MetricDimensions, Metrics } from '../../ports/metrics';

export const NAMESPACE = 'Ferry';
/** EMF allows at most 100 metrics in one document. */
const MAX_METRICS_PER_DOCUMENT = 100;

interface Group {
  dimensions: Record<string, string>;
  /** Dimension sets: all of them, and one without the metric's roll-up dimensions (errors of any kind). */
  sets: string[][];
  values: Map<string, number>;
}

export class EmfMetrics implements Metrics {
  private groups = new Map<string, Group>();

  /**
   * @param common dimensions every document carries (the cluster: `{ Table }`)
   * @param write where a document goes (default: one line on stdout, which Lambda sends to CloudWatch Logs)
   */
  constructor(
    private readonly common: Record<string, string>,
    private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
    private readonly now: () => number = Date.now,
  ) {}

  add(name: string, value: number, dimensions: MetricDimensions = {}): void {
    const values = this.group(name, dimensions, 'counter');
    values.set(name, (values.get(name) ?? 0) + value);
  }

  set(name: string, value: number, dimensions: MetricDimensions = {}): void {
    this.group(name, dimensions, 'gauge').set(name, value);
  }

  /** Writes what this invocation reported and starts over. Returns the bytes written (for the cost model). */
  flush(): number {
    let bytes = 0;
    const timestamp = this.now();
    for (const g of this.groups.values()) {
      const names = [...g.values.keys()];
      for (let i = 0; i < names.length; i += MAX_METRICS_PER_DOCUMENT) {
        const chunk = names.slice(i, i + MAX_METRICS_PER_DOCUMENT);
        const doc: Record<string, unknown> = {
          _aws: {
            Timestamp: timestamp,
            CloudWatchMetrics: [
              {
                Namespace: NAMESPACE,
                Dimensions: g.sets,
                Metrics: chunk.map((n) => ({ Name: n, Unit: (METRICS as Record<string, MetricDefinition>)[n].unit })),
              },
            ],
          },
          ...g.dimensions,
        };
        for (const n of chunk) doc[n] = g.values.get(n);
        const line = JSON.stringify(doc);
        bytes += Buffer.byteLength(line) + 1;
        this.write(line);
      }
    }
    this.groups = new Map();
    return bytes;
  }

  private group(name: string, dimensions: MetricDimensions, kind: 'counter' | 'gauge'): Map<string, number> {
    const def = (METRICS as Record<string, MetricDefinition>)[name];
    if (!def) throw new Error(`internal: metric ${JSON.stringify(name)} is not in lib/core/metric-catalog.ts`);
    if (def.kind !== kind) throw new Error(`internal: ${name} is a ${def.kind}`);
    const dims: Record<string, string> = { ...this.common };
    for (const d of def.dimensions) dims[d] = dimensions[d] ?? '';
    const key = JSON.stringify(dims);
    let g = this.groups.get(key);
    if (!g) {
      const all = Object.keys(dims);
      const sets = def.rollup ? [all, all.filter((d) => !def.rollup!.includes(d))] : [all];
      this.groups.set(key, (g = { dimensions: dims, sets, values: new Map() }));
    }
    return g.values;
  }
}
