/**
 * SIGKILL the real embedded server under load (plain and idempotent producers, R=2 over two stores), restart
 * it on the same data, many times; then drain and check the history (G1–G5). Used by kill-loop.test.ts (a
 * few kills) and `npm run chaos` (≥ 100).
 *
 * With `powerCut`, the data directory and both stores sit on a LazyDisk (test/power-loss): each kill is
 * followed by a power cut that drops every byte and name not fsynced, as a machine losing power does — which
 * a plain kill -9 (the OS page cache survives it) cannot show.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { check, type CheckResult, type DrainedPartition } from '../helpers/checker';
import { prng } from '../helpers/faults';
import { History, type ProduceValue } from '../helpers/history';
import { startServerProcess, type ServerProcess } from '../helpers/server-process';
import { LazyDisk, type CutReport } from '../power-loss/lazy-disk';

const PARTITIONS = 3;

export interface KillReport {
  kills: number;
  /** Power cuts (with `powerCut`): what came back after each. */
  cuts: CutReport[];
  ops: number;
  acked: number;
  check: CheckResult;
  history: History;
}

async function post(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
}

export interface KillLoopOptions {
  /** Cut the power after each kill (see the header). */
  powerCut?: boolean;
  /** Load before each kill: a random time in [min, max) ms (default 80–400). */
  loadMs?: [number, number];
}

export async function killLoop(seed: number, kills: number, options: KillLoopOptions = {}): Promise<KillReport> {
  const random = prng(seed);
  const root = await mkdtemp(path.join(tmpdir(), 'ferry-killloop-'));
  const disk = options.powerCut ? await LazyDisk.create(path.join(root, 'disk')) : undefined;
  const base = disk?.root ?? root;
  const args = ['--data', path.join(base, 'data'), '--store', path.join(base, 'a'), '--store', path.join(base, 'b')];
  const [minLoad, maxLoad] = options.loadMs ?? [80, 400];
  const cuts: CutReport[] = [];
  const start = () => startServerProcess(args, disk?.env() ?? {});
  const history = new History(() => Date.now());
  let server: ServerProcess = await start();
  let n = 0;
  try {
    expect201(await post(`${server.url}/v1/topics`, { name: 'orders', partitions: PARTITIONS, replicationFactor: 2 }));
    const producer = (await (await post(`${server.url}/v1/producers`, {})).json()) as { id: string; epoch: number };
    let sequence = 0;
    let pendingIdem: ProduceValue | undefined; // an unknown outcome to resolve after the restart

    for (let round = 0; round < kills; round++) {
      const url = server.url;
      let stop = false;
      const plain = async (w: number) => {
        while (!stop) {
          const values = Array.from({ length: 1 + Math.floor(random() * 5) }, () => `k${round}-w${w}-${n++}`);
          const value: ProduceValue = {
            topic: 'orders',
            records: values.map((v) => ({ value: v, key: `key${Math.floor(random() * 9)}` })),
          };
          const op = history.invoke(`w${w}`, 'produce', value);
          try {
            const res = await post(`${url}/v1/topics/orders/records`, {
              records: value.records.map((r) => ({ key: r.key, value: r.value })),
            });
            const body = (await res.json()) as { records?: Array<{ partition: number; offset: string }>; error?: string };
            if (res.status === 200)
              history.ok(op, { records: body.records!.map((r) => ({ partition: r.partition, offset: BigInt(r.offset) })) });
            else if (res.status >= 500) history.info(op, { kind: body.error, message: `status ${res.status}` });
            else history.fail(op, { kind: body.error, message: `status ${res.status}` });
          } catch (e) {
            history.info(op, e);
            return;
          }
        }
      };
      const idempotent = async () => {
        while (!stop) {
          const value: ProduceValue = pendingIdem ?? {
            topic: 'orders',
            records: [{ value: `k${round}-idem-${n++}`, partition: Math.floor(random() * PARTITIONS) }],
            producer: { ...producer, sequence },
          };
          const op = history.invoke('idem', 'produce', value);
          try {
            const res = await post(`${url}/v1/topics/orders/records`, {
              records: value.records.map((r) => ({ value: r.value, partition: r.partition })),
              producer: value.producer,
            });
            const body = (await res.json()) as { records?: Array<{ partition: number; offset: string }>; error?: string };
            if (res.status === 200) {
              history.ok(op, { records: body.records!.map((r) => ({ partition: r.partition, offset: BigInt(r.offset) })) });
              pendingIdem = undefined;
              sequence++;
            } else {
              history.info(op, { kind: body.error, message: `status ${res.status}` });
              pendingIdem = value;
            }
          } catch (e) {
            history.info(op, e);
            pendingIdem = value; // retried (same sequence, same values) after the restart
            return;
          }
        }
      };
      const workers = [plain(0), plain(1), plain(2), idempotent()];
      await new Promise((r) => setTimeout(r, minLoad + Math.floor(random() * (maxLoad - minLoad))));
      await server.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
      if (disk) cuts.push(await disk.cut());
      server = await start();
    }
    // Resolve the last unknown idempotent request: a retry answers its original offsets or stores it once.
    if (pendingIdem) {
      const op = history.invoke('idem', 'produce', pendingIdem);
      const res = await post(`${server.url}/v1/topics/orders/records`, {
        records: pendingIdem.records.map((r) => ({ value: r.value, partition: r.partition })),
        producer: pendingIdem.producer,
      });
      const body = (await res.json()) as { records?: Array<{ partition: number; offset: string }>; error?: string };
      if (res.status === 200) history.ok(op, { records: body.records!.map((r) => ({ partition: r.partition, offset: BigInt(r.offset) })) });
      else history.info(op, { kind: body.error, message: `status ${res.status}` });
    }

    const drained: DrainedPartition[] = [];
    for (let p = 0; p < PARTITIONS; p++) {
      const d: DrainedPartition = {
        topic: 'orders',
        partition: p,
        logStartOffset: 0n,
        highWatermark: 0n,
        records: [],
        drainedAt: Date.now(),
      };
      let offset = '0';
      for (;;) {
        const res = await fetch(`${server.url}/v1/topics/orders/partitions/${p}/records?offset=${offset}&maxRecords=10000`);
        const page = (await res.json()) as {
          records: Array<{ offset: string; value: string }>;
          nextOffset: string;
          highWatermark: string;
          logStartOffset: string;
        };
        if (res.status !== 200) throw new Error(`drain of partition ${p} answered ${res.status}: ${JSON.stringify(page)}`);
        d.logStartOffset = BigInt(page.logStartOffset);
        d.highWatermark = BigInt(page.highWatermark);
        d.records.push(...page.records.map((r) => ({ offset: BigInt(r.offset), value: r.value })));
        if (page.nextOffset === page.highWatermark || page.records.length === 0) break;
        offset = page.nextOffset;
      }
      drained.push(d);
    }
    const result = check({ history, drained });
    const acked = history.ops.filter((o) => o.outcome === 'ok').reduce((s, o) => s + (o.value as ProduceValue).records.length, 0);
    return { kills, cuts, ops: history.ops.length, acked, check: result, history };
  } finally {
    await server.kill();
    await disk?.dispose();
    await rm(root, { recursive: true, force: true });
  }
}

function expect201(res: Response): void {
  if (res.status !== 201) throw new Error(`could not create the topic: ${res.status}`);
}
