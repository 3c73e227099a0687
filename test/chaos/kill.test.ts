/**
 * G1 / G2 / G3 under process crashes: SIGKILL the real embedded server while 8 producers write to it, restart
 * it on the same data directory, and find every acknowledged record at its acknowledged offset with its value;
 * offsets stay dense, and nothing appears that was never sent. Several kills per run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startServerProcess, type ServerProcess } from '../helpers/server-process';

const KILLS = 4;
const PRODUCERS = 8;
const PARTITIONS = 4;

interface Ack {
  partition: number;
  offset: string;
  value: string;
}

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function drain(url: string, topic: string, partition: number): Promise<Array<{ offset: string; value: string }>> {
  const out: Array<{ offset: string; value: string }> = [];
  let offset = '0';
  for (;;) {
    const res = await fetch(`${url}/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}&maxRecords=10000`);
    expect(res.status).toBe(200);
    const page = (await res.json()) as { records: Array<{ offset: string; value: string }>; nextOffset: string; highWatermark: string };
    out.push(...page.records.map((r) => ({ offset: r.offset, value: r.value })));
    if (page.nextOffset === page.highWatermark) return out;
    offset = page.nextOffset;
  }
}

describe('kill -9 under load', () => {
  let dataDir: string;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ferry-kill-'));
  });
  afterAll(async () => {
    await server?.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  it(`loses no acknowledged record across ${KILLS} SIGKILLs`, async () => {
    server = await startServerProcess(['--data', dataDir]);
    expect((await post(`${server.url}/v1/topics`, { name: 'orders', partitions: PARTITIONS })).status).toBe(201);
    const acked: Ack[] = [];
    const attempted = new Set<string>();
    let seq = 0;

    for (let round = 0; round < KILLS; round++) {
      const url = server.url;
      let stop = false;
      const producer = async (w: number) => {
        while (!stop) {
          const n = 1 + ((seq * 7 + w) % 20);
          const values = Array.from({ length: n }, () => `r${round}-w${w}-${seq++}`);
          values.forEach((v) => attempted.add(v));
          try {
            const res = await post(`${url}/v1/topics/orders/records`, {
              records: values.map((value, i) => ({ key: `k${(w + i) % 16}`, value })),
            });
            if (res.status !== 200) continue;
            const body = (await res.json()) as { records: Array<{ partition: number; offset: string }> };
            body.records.forEach((r, i) => acked.push({ ...r, value: values[i] }));
          } catch {
            return; // the server died: this request's outcome is unknown
          }
        }
      };
      const workers = Array.from({ length: PRODUCERS }, (_, w) => producer(w));
      await new Promise((r) => setTimeout(r, 400 + round * 150));
      await server.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
      server = await startServerProcess(['--data', dataDir]);
    }

    expect(acked.length).toBeGreaterThan(200);
    const stored = new Map<string, string>();
    for (let p = 0; p < PARTITIONS; p++) {
      const records = await drain(server.url, 'orders', p);
      // G3: dense offsets from 0, one value per offset
      records.forEach((r, i) => expect(r.offset).toBe(String(i)));
      for (const r of records) {
        stored.set(`${p}/${r.offset}`, r.value);
        // G2: nothing that was never attempted
        expect(attempted.has(r.value)).toBe(true);
      }
    }
    // G1: every acknowledged record at its acknowledged offset, with its value
    const lost = acked.filter((a) => stored.get(`${a.partition}/${a.offset}`) !== a.value);
    expect(lost).toEqual([]);
    // no value stored twice
    expect(new Set(stored.values()).size).toBe(stored.size);
  });
});
