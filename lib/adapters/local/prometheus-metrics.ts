/**
 * The embedded server's metrics in the Prometheus text exposition format (`GET /metrics`): every metric of
 * the catalogue with its `# HELP` and `# TYPE`, counters as `…_total`, durations in seconds, dimensions as
 * lower-case labels (`ferry_records_produced_total{topic="orders"} 42`).
 *
 * @example
 *   const metrics = new PrometheusMetrics();
 *   metrics.add('RecordsProduced', 3, { Topic: 'orders' });
 *   metrics.render(); // "# HELP ferry_records_produced_total …"
 */
import { METRICS, prometheusName, type MetricDefinition, type MetricName } from '../../core/metric-catalog';
import type { MetricDimensions, Metrics } from '../../ports/metrics';

function definition(name: string): MetricDefinition {
  const def = (METRICS as Record<string, MetricDefinition>)[name];
  if (!def) throw new Error(`internal: metric ${JSON.stringify(name)} is not in lib/core/metric-catalog.ts`);
  return def;
}

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class PrometheusMetrics implements Metrics {
  /** name → label text → value */
  private readonly values = new Map<string, Map<string, number>>();

  add(name: string, value: number, dimensions: MetricDimensions = {}): void {
    if (definition(name).kind !== 'counter') throw new Error(`internal: ${name} is a gauge; use set()`);
    const series = this.series(name);
    const labels = this.labels(name, dimensions);
    series.set(labels, (series.get(labels) ?? 0) + value);
  }

  set(name: string, value: number, dimensions: MetricDimensions = {}): void {
    if (definition(name).kind !== 'gauge') throw new Error(`internal: ${name} is a counter; use add()`);
    this.series(name).set(this.labels(name, dimensions), value);
  }

  /** The exposition text (content type `text/plain; version=0.0.4`). */
  render(): string {
    const lines: string[] = [];
    for (const name of Object.keys(METRICS) as MetricName[]) {
      const def: MetricDefinition = METRICS[name];
      const prom = prometheusName(name);
      lines.push(`# HELP ${prom} ${def.help}${def.unit === 'Milliseconds' ? ' (seconds)' : ''}`, `# TYPE ${prom} ${def.kind}`);
      const scale = def.unit === 'Milliseconds' ? 1 / 1000 : 1;
      for (const [labels, value] of [...(this.values.get(name) ?? [])].sort(([a], [b]) => (a < b ? -1 : 1))) {
        lines.push(`${prom}${labels} ${value * scale}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }

  private series(name: string): Map<string, number> {
    let s = this.values.get(name);
    if (!s) this.values.set(name, (s = new Map()));
    return s;
  }

  private labels(name: string, dimensions: MetricDimensions): string {
    const wanted = definition(name).dimensions;
    const extra = Object.keys(dimensions).filter((d) => !wanted.includes(d));
    if (extra.length) throw new Error(`internal: metric ${name} has no dimension ${extra.join(', ')}`);
    if (!wanted.length) return '';
    return `{${wanted.map((d) => `${d.toLowerCase()}="${escape(dimensions[d] ?? '')}"`).join(',')}}`;
  }
}
