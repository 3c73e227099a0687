/**
 * Feature figures for the issue notes and README (one run, this machine; not a peer comparison):
 * push-consumer delivery to a no-op handler, rate-limit accuracy, produce cost of replicationFactor 2 vs 1,
 * delayed-delivery lateness, garbage-collection throughput.  Run: `npx tsx bench/features.ts`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as http from 'node:http';
import { startEmbedded } from '../lib/embedded';
import { parseConfig } from '../lib/config';
import { openLocalHome } from '../lib/adapters/local/home';
import { createCore } from '../lib/core/create-core';
import { Maintenance } from '../lib/core/maintenance/maintenance';
import { jsonToPayload } from '../lib/core/codec/payload';
import type { Clock } from '../lib/ports/clock';

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
function post(url: string, body: unknown): Promise<any> {
  const data = JSON.stringify(body);
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const r = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(text ? JSON.parse(text) : undefined));
      },
    );
    r.on('error', reject);
    r.end(data);
  });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

async function push(dir: string) {
  const handler = path.join(dir, 'noop.cjs');
  await writeFile(handler, 'let n = 0; exports.handler = async (e) => { n += e.records.length; globalThis.__delivered = n; };');
  const config = parseConfig({
    topics: [
      { name: 'fast', partitions: 6 },
      { name: 'slow', partitions: 6 },
    ],
    consumers: [
      { topic: 'fast', name: 'noop', handler, batchSize: 1000 },
      { topic: 'slow', name: 'limited', handler, batchSize: 100, maxRecordsPerSecond: 500 },
    ],
  });
  // Produce first with no consumer running, then time the backlog's delivery.
  const total = 60_000;
  const loader = await startEmbedded({ dataDir: path.join(dir, 'push'), port: 0, maintenanceIntervalMs: 0 });
  await post(`${loader.url}/v1/topics`, { name: 'fast', partitions: 6 });
  for (let i = 0; i < total; i += 1000) {
    await post(`${loader.url}/v1/topics/fast/records`, {
      records: Array.from({ length: 1000 }, (_, j) => ({ key: `k${i + j}`, value: i + j })),
    });
  }
  await loader.close();
  const ferry = await startEmbedded({ dataDir: path.join(dir, 'push'), port: 0, config, configDir: dir, maintenanceIntervalMs: 0 });
  const states = ferry.consumers!.dispatchers[0];
  const started = Date.now();
  let done = 0;
  while (done < total) {
    done = (await states.states()).reduce((n, s) => n + Number(s.offset), 0);
    await sleep(20);
  }
  const pushRate = Math.round(total / ((Date.now() - started) / 1000));
  // rate limit: 500 rec/s configured, 10 s observed
  for (let i = 0; i < 8000; i += 1000) {
    await post(`${ferry.url}/v1/topics/slow/records`, {
      records: Array.from({ length: 1000 }, (_, j) => ({ key: `k${i + j}`, value: j })),
    });
  }
  const limited = ferry.consumers!.dispatchers[1];
  const count = async () => (await limited.states()).reduce((n, s) => n + Number(s.offset), 0);
  await sleep(1500); // past the first second's burst
  const a = await count();
  const t0 = Date.now();
  await sleep(10_000);
  const b = await count();
  const measured = (b - a) / ((Date.now() - t0) / 1000);
  await ferry.close();
  return { pushRate, limitConfigured: 500, limitMeasured: Math.round(measured * 10) / 10 };
}

async function replication(dir: string) {
  const ferry = await startEmbedded({
    dataDir: path.join(dir, 'repl'),
    storeDirs: [path.join(dir, 'a'), path.join(dir, 'b')],
    port: 0,
    maintenanceIntervalMs: 0,
  });
  const out: Record<string, number> = {};
  for (const rf of [1, 2]) {
    const topic = `r${rf}`;
    await post(`${ferry.url}/v1/topics`, { name: topic, partitions: 12, replicationFactor: rf });
    const value = 'x'.repeat(1024);
    const body = { records: Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value })) };
    const trials: number[] = [];
    for (let t = 0; t < 3; t++) {
      let n = 0;
      const start = Date.now();
      const end = start + 3000;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (Date.now() < end) {
            await post(`${ferry.url}/v1/topics/${topic}/records`, body);
            n += 100;
          }
        }),
      );
      trials.push(Math.round(n / ((Date.now() - start) / 1000)));
    }
    out[`R=${rf}`] = pct(trials, 0.5);
  }
  await ferry.close();
  return out;
}

async function delay(dir: string) {
  const ferry = await startEmbedded({ dataDir: path.join(dir, 'delay'), port: 0, maintenanceIntervalMs: 0 });
  await post(`${ferry.url}/v1/topics`, { name: 'later', partitions: 1 });
  const n = 300;
  const res = await post(`${ferry.url}/v1/topics/later/records`, {
    records: Array.from({ length: n }, (_, i) => ({ value: i, deliverAfterMs: 500 + Math.floor((i / n) * 4000) })),
  });
  const due = new Map<number, number>(res.records.map((r: any, i: number) => [i, r.deliverAt]));
  const late: number[] = [];
  let offset = 0;
  const end = Date.now() + 10_000;
  while (late.length < n && Date.now() < end) {
    const page = await new Promise<any>((resolve) =>
      http.get(`${ferry.url}/v1/topics/later/partitions/0/records?offset=${offset}&waitMs=1000`, { agent }, (r) => {
        let t = '';
        r.on('data', (c) => (t += c));
        r.on('end', () => resolve(JSON.parse(t)));
      }),
    );
    const now = Date.now();
    for (const r of page.records) late.push(now - due.get(r.value)!);
    offset = Number(page.nextOffset);
  }
  await ferry.close();
  return { delivered: late.length, early: late.filter((x) => x < 0).length, p50: pct(late, 0.5), p99: pct(late, 0.99) };
}

async function gc(dir: string) {
  let now = Date.now();
  const clock: Clock = { now: () => now, sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))) };
  const home = await openLocalHome({ dataDir: path.join(dir, 'gc'), clock });
  const log = createCore(home.ctx).log;
  await log.topics.create({ name: 'gc', partitions: 12, retentionMs: 60_000 });
  const objects = 2000;
  for (let i = 0; i < objects; i++) {
    await log.produce(
      'gc',
      Array.from({ length: 12 }, (_, p) => ({ key: null, value: jsonToPayload(i), headers: {}, partition: p })),
    );
  }
  now += 60_000 + home.ctx.settings.orphanGraceMs + 1000;
  const started = Date.now();
  const report = await new Maintenance(log).run();
  const seconds = (Date.now() - started) / 1000;
  await home.close();
  return {
    objects: report.objectsDeleted,
    entries: report.entriesDeleted,
    seconds,
    objectsPerSecond: Math.round(report.objectsDeleted / seconds),
  };
}

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-features-'));
  try {
    console.log('push consumers:', await push(dir));
    console.log('replication (8 producers, batch 100 × 1 KiB, records/s):', await replication(dir));
    console.log('delayed delivery lateness (ms after deliverAt, as seen by a long-polling reader):', await delay(dir));
    console.log('garbage collection:', await gc(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void main();
