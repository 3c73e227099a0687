/** Small helpers shared by the benchmark: time, statistics, payloads, formatting. */
import { randomBytes } from 'node:crypto';
import * as hdr from 'hdr-histogram-js';

/** Milliseconds on a monotonic clock (fractional). */
export const nowMs = (): number => performance.now();

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median and spread (min, max) of repeated trials. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  trials: number[];
}

export function summarize(xs: number[]): Summary {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), trials: xs };
}

/** A latency histogram in microseconds, 1 µs to 120 s, 3 significant digits. */
export function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
}

export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** Percentiles of a histogram, in milliseconds. */
export function percentiles(h: hdr.Histogram): Percentiles {
  const ms = (us: number) => us / 1000;
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
  };
}

/** Records a latency given in milliseconds. */
export function recordMs(h: hdr.Histogram, ms: number): void {
  h.recordValue(Math.max(1, Math.round(ms * 1000)));
}

/**
 * Random payload text: values are slices of one large random base64 string, so every record's value is
 * incompressible ASCII of exactly the asked length (a 1 KiB value is a JSON string of 1024 characters).
 */
export class Payloads {
  private readonly pool: string;
  constructor(poolBytes = 4 * 1024 * 1024) {
    this.pool = randomBytes(Math.ceil((poolBytes * 3) / 4))
      .toString('base64')
      .replace(/[+/=]/g, 'x');
  }
  value(length: number): string {
    const start = Math.floor(Math.random() * (this.pool.length - length));
    return this.pool.slice(start, start + length);
  }
}

/** A random key from a space of `space` keys (the server hashes keys to partitions). */
export const randomKey = (space = 10_000) => `k${Math.floor(Math.random() * space)}`;

/** Key → stream index for the Redis peer (Redis has no partitions: one stream per partition). */
export function keyShard(key: string, shards: number): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return (h >>> 0) % shards;
}

export const fmtInt = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
export const fmt1 = (x: number) => (Number.isFinite(x) ? x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2) : '–');
export const fmtRatio = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '–');
export const fmtSpread = (s: Summary, f = fmtInt) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;

/** A markdown table. */
export function mdTable(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}
