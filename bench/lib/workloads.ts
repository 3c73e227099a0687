/** The workloads of BENCHMARKS.md, each a function of a system (or of the disk) that returns one trial. */
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Histogram } from 'hdr-histogram-js';
import type { Consumer, SendBatch, System } from './systems';
import { newHistogram, nowMs, percentiles, recordMs, sleep, type Percentiles, type Payloads } from './util';
import { randomKey } from './util';

export interface ThroughputTrial {
  recordsPerSec: number;
  mbPerSec: number;
  latency?: Percentiles;
}

/**
 * Closed-loop produce: every producer sends a batch, waits for the ack, sends the next, for `warmupMs` (not
 * counted) then `durationMs`. Latency is per request, send → durable ack.
 */
export async function produceTrial(
  senders: SendBatch[],
  batch: number,
  recordBytes: number,
  durationMs: number,
  warmupMs: number,
  onProgress?: (fraction: number) => void,
): Promise<ThroughputTrial> {
  const h = newHistogram();
  const start = nowMs();
  const measureFrom = start + warmupMs;
  const deadline = measureFrom + durationMs;
  let counted = 0;
  let lastEnd = measureFrom;
  const ticker = onProgress ? setInterval(() => onProgress(Math.min(1, (nowMs() - start) / (deadline - start))), 200) : undefined;
  try {
    await Promise.all(
      senders.map(async (send) => {
        for (;;) {
          const t0 = nowMs();
          if (t0 >= deadline) return;
          await send();
          const t1 = nowMs();
          if (t0 >= measureFrom) {
            recordMs(h, t1 - t0);
            counted += batch;
            if (t1 > lastEnd) lastEnd = t1;
          }
        }
      }),
    );
  } finally {
    if (ticker) clearInterval(ticker);
  }
  const seconds = (lastEnd - measureFrom) / 1000;
  const recordsPerSec = counted / seconds;
  return { recordsPerSec, mbPerSec: (recordsPerSec * recordBytes) / 1e6, latency: percentiles(h) };
}

/**
 * The disk's ceiling: append the same bytes (batch × record bytes) to a file and fdatasync after each batch,
 * one writer, on the filesystem that holds the servers' data.
 */
export function diskCeilingTrial(dir: string, batch: number, recordBytes: number, durationMs: number): ThroughputTrial {
  const file = path.join(dir, `ceiling-${process.pid}-${Date.now()}.bin`);
  const buf = randomBytes(batch * recordBytes);
  const fd = openSync(file, 'a');
  const h = newHistogram();
  let n = 0;
  const start = nowMs();
  try {
    for (;;) {
      const t0 = nowMs();
      if (t0 - start >= durationMs) break;
      writeSync(fd, buf);
      fdatasyncSync(fd);
      recordMs(h, nowMs() - t0);
      n += batch;
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  const recordsPerSec = n / ((nowMs() - start) / 1000);
  return { recordsPerSec, mbPerSec: (recordsPerSec * recordBytes) / 1e6, latency: percentiles(h) };
}

/** Fills a topic with `count` records (batch 1 000, a few producers); not measured. */
export async function fill(system: System, topic: string, partitions: number, size: number, count: number, producers = 4): Promise<void> {
  const batch = 1000;
  const senders = await system.producers(topic, { size, batch, producers, partitions });
  let left = Math.ceil(count / batch);
  await Promise.all(
    senders.map(async (send) => {
      while (left-- > 0) await send();
    }),
  );
}

/** Reads the whole topic once; records/s. */
export async function readTrial(
  system: System,
  topic: string,
  partitions: number,
  recordBytes: number,
  expected: number,
  opts: { commit: boolean; tag: string },
): Promise<ThroughputTrial> {
  const t0 = nowMs();
  const n = await system.readAll(topic, partitions, opts);
  const seconds = (nowMs() - t0) / 1000;
  if (n < expected) throw new Error(`${system.name}: read ${n} records of ${expected}`);
  return { recordsPerSec: n / seconds, mbPerSec: (n * recordBytes) / seconds / 1e6 };
}

export interface FixedRateTrial {
  /** Records per second actually offered (the schedule can slip if the client is saturated). */
  offeredPerSec: number;
  delivered: number;
  sent: number;
  /** Intended send time → durable ack of the request. */
  produce: Percentiles;
  /** Intended send time → the record reaches the (group) consumer. */
  endToEnd: Percentiles;
}

/**
 * Open-loop produce at a fixed rate: request i is due at start + i × batch / rate; latencies count from the
 * due time (no coordinated omission), so a server that falls behind shows it. A consumer follows the topic and
 * reads each record's due time from its value (`<ms>|padding`), in this same process (one clock).
 */
export async function fixedRateTrial(
  system: System,
  topic: string,
  opts: {
    rate: number;
    batch: number;
    size: number;
    partitions: number;
    durationMs: number;
    connections: number;
    payloads: Payloads;
    tag: string;
  },
  onProgress?: (fraction: number) => void,
): Promise<FixedRateTrial> {
  const produceH = newHistogram();
  const e2eH = newHistogram();
  const send = await system.sender(topic, opts.partitions, opts.connections);
  let delivered = 0;
  const consumer: Consumer = await system.follow(
    topic,
    opts.partitions,
    (values) => {
      const now = nowMs();
      for (const v of values) {
        const bar = v.indexOf('|');
        recordMs(e2eH, now - Number(v.slice(0, bar)));
        delivered++;
      }
    },
    opts.tag,
  );
  await sleep(200); // let the consumer's first polls arrive
  const pad = opts.payloads.value(opts.size);
  const requests = Math.round(((opts.durationMs / 1000) * opts.rate) / opts.batch);
  const interval = (1000 * opts.batch) / opts.rate;
  const maxInFlight = 512;
  let inFlight = 0;
  let failures = 0;
  const pending = new Set<Promise<void>>();
  const start = nowMs() + 5;
  for (let i = 0; i < requests; i++) {
    const due = start + i * interval;
    const wait = due - nowMs();
    if (wait > 1) await sleep(wait - 0.5);
    while (due - nowMs() > 0) await new Promise((r) => setImmediate(r));
    while (inFlight >= maxInFlight) await Promise.race(pending);
    const stamp = `${due.toFixed(3)}|`;
    const value = stamp + pad.slice(stamp.length);
    const records = Array.from({ length: opts.batch }, () => ({ key: randomKey(), value }));
    inFlight++;
    const p: Promise<void> = send(records)
      .then(
        () => recordMs(produceH, nowMs() - due),
        () => void failures++,
      )
      .finally(() => {
        inFlight--;
        pending.delete(p);
      });
    pending.add(p);
    if (onProgress && i % 100 === 0) onProgress(i / requests);
  }
  await Promise.all(pending);
  const sentAt = nowMs();
  const total = requests * opts.batch;
  while (delivered < total - failures * opts.batch && nowMs() - sentAt < 5000) await sleep(10);
  await consumer.stop();
  if (failures) throw new Error(`${system.name}: ${failures} produce requests failed at ${opts.rate} rec/s`);
  return {
    offeredPerSec: total / ((sentAt - start) / 1000),
    sent: total,
    delivered,
    produce: percentiles(produceH),
    endToEnd: percentiles(e2eH),
  };
}

export type { Histogram };
