/**
 * Replicas across failure domains: remove one object store's directory while producers write to a topic
 * with replicationFactor 2 — no acknowledged record becomes unreadable; `ferry repair` restores the copies.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runTracked } from '../helpers/processes';
import { startServerProcess, type ServerProcess } from '../helpers/server-process';

const run = (cmd: string, args: string[]) => runTracked(cmd, args);
const BIN = path.join(__dirname, '..', '..', 'bin', 'ferry.js');

async function segments(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.seg')).sort();
  } catch {
    return [];
  }
}

describe('losing an object store under load', () => {
  let root: string;
  let server: ServerProcess | undefined;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'ferry-storeloss-'));
  });
  afterAll(async () => {
    await server?.kill();
    await rm(root, { recursive: true, force: true });
  });

  it('keeps every acknowledged record readable and repair restores the lost copies', async () => {
    const [data, a, b] = ['data', 'a', 'b'].map((d) => path.join(root, d));
    const args = ['--data', data, '--store', a, '--store', b];
    server = await startServerProcess(args);
    const url = server.url;
    const post = (p: string, body: unknown) =>
      fetch(`${url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('/v1/topics', { name: 'orders', partitions: 3, replicationFactor: 2 })).status).toBe(201);

    const acked: Array<{ partition: number; offset: string; value: string }> = [];
    let stop = false;
    let seq = 0;
    const producer = async (w: number) => {
      while (!stop) {
        const values = Array.from({ length: 5 }, () => `w${w}-${seq++}`);
        const res = await post('/v1/topics/orders/records', { records: values.map((value) => ({ key: value, value })) });
        if (res.status !== 200) {
          await res.text();
          continue; // 503 while the store is gone: an unknown outcome, not an acknowledgement
        }
        const body = (await res.json()) as { records: Array<{ partition: number; offset: string }> };
        body.records.forEach((r, i) => acked.push({ ...r, value: values[i] }));
      }
    };
    const workers = Array.from({ length: 4 }, (_, w) => producer(w));
    await new Promise((r) => setTimeout(r, 500));
    await rm(b, { recursive: true, force: true, maxRetries: 20, retryDelay: 10 }); // the disk holding store b is gone
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await Promise.all(workers);
    expect(acked.length).toBeGreaterThan(50);

    const readAll = async (base: string) => {
      const got = new Map<string, string>();
      for (let p = 0; p < 3; p++) {
        const res = await fetch(`${base}/v1/topics/orders/partitions/${p}/records?offset=0&maxRecords=10000`);
        expect(res.status).toBe(200);
        for (const r of (await res.json()).records) got.set(`${p}/${r.offset}`, r.value);
      }
      return got;
    };
    let stored = await readAll(url);
    expect(acked.filter((x) => stored.get(`${x.partition}/${x.offset}`) !== x.value)).toEqual([]);

    await server.kill('SIGTERM');
    const before = await segments(b);
    const repair = await run(process.execPath, [BIN, 'repair', ...args]);
    expect(repair.stdout).toMatch(/Repair done: \d+ cop/);
    const inA = await segments(path.join(a, 'objects'));
    const inB = await segments(path.join(b, 'objects'));
    expect(inB.length).toBeGreaterThan(before.length);
    expect(inB).toEqual(inA); // every segment has its two copies again

    // With store a gone now, everything is still readable from the repaired copies in b.
    await rm(a, { recursive: true, force: true, maxRetries: 20, retryDelay: 10 });
    server = await startServerProcess(args);
    stored = await readAll(server.url);
    expect(acked.filter((x) => stored.get(`${x.partition}/${x.offset}`) !== x.value)).toEqual([]);
  });
  it('ferry repair lists the batches no store holds intact any more and exits 1', async () => {
    await server?.kill('SIGTERM');
    const [data, only] = ['data1', 'only'].map((d) => path.join(root, d));
    const args = ['--data', data, '--store', only];
    server = await startServerProcess(args);
    const post = (p: string, body: unknown) =>
      fetch(`${server!.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('/v1/topics', { name: 'single', partitions: 1 })).status).toBe(201);
    expect((await post('/v1/topics/single/records', { records: [{ value: 'a' }, { value: 'b' }] })).status).toBe(200);
    await server.kill('SIGTERM');
    server = undefined;
    for (const f of await segments(path.join(only, 'objects'))) await rm(path.join(only, 'objects', f));
    const failed = await run(process.execPath, [BIN, 'repair', ...args]).then(
      () => undefined,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stdout).toMatch(/Repair done: 0 copies restored/);
    expect(failed?.stderr).toMatch(
      /1 batch\(es\) have no intact copy in any store[^\n]*\n\s+single partition 0, offsets 0\.\.1 \(topics\/[^)]+\.seg\)/,
    );
  });
});
