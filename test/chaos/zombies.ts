/**
 * Zombies (G7): a writer or a group member pauses past its lease / session, another takes over and commits,
 * the first resumes — its commit must be refused. Two forms:
 *
 * - gated (in process): the zombie's commit write is held by a gate exactly between its checks and its write;
 * - SIGSTOP (processes): a real client process is frozen while a successor takes over on the real server,
 *   then thawed.
 *
 * Shared by test/chaos/zombies.test.ts (a few rounds) and `npm run chaos` (many).
 */
import { spawnTracked } from '../helpers/processes';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FsObjectStore } from '../../lib/adapters/local/fs-object-store';
import { SqliteMetadataStore } from '../../lib/adapters/local/sqlite-metadata-store';
import { randomIds } from '../../lib/adapters/system';
import { createCore } from '../../lib/core/create-core';
import { makeSettings } from '../../lib/core/settings';
import { Gates, GatedMetadataStore } from '../helpers/faults';
import { jsonPayload } from '../helpers/records';
import { startServerProcess, type ServerProcess } from '../helpers/server-process';
import { SimClock } from '../helpers/sim-clock';

export interface ZombieOutcome {
  /** What the zombie's held commit answered (must be a refusal: `fenced`). */
  zombieAnswer: string;
  /** Whether any of the zombie's records / its offset became visible (must be false). */
  visible: boolean;
  /** The successor's commit answer (must be ok). */
  successor: string;
}

const rec = (v: string, partition = 0) => ({ key: null, value: jsonPayload(v), headers: Object.create(null), partition });
const kindOf = (e: unknown) => (e as { kind?: string }).kind ?? String(e);

async function twoProcesses() {
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-zombie-'));
  const meta = new SqliteMetadataStore(path.join(dir, 'meta.sqlite'));
  const stores = [await new FsObjectStore('s0', path.join(dir, 's0')).open()];
  const clock = new SimClock();
  const settings = makeSettings({ topicCacheMs: 0 });
  const gates = new Gates();
  const zombie = createCore({ meta: new GatedMetadataStore(meta, gates), stores, clock, ids: randomIds, settings }).log;
  const successor = createCore({ meta, stores, clock, ids: randomIds, settings }).log;
  return {
    dir,
    meta,
    clock,
    gates,
    zombie,
    successor,
    close: async () => (await meta.close(), await rm(dir, { recursive: true, force: true })),
  };
}

/** An idempotent writer is held between its epoch check and its commit; a successor bumps the epoch. */
export async function gatedProducerZombie(round: number): Promise<ZombieOutcome> {
  const c = await twoProcesses();
  try {
    await c.successor.topics.create({ name: 'orders', partitions: 1 });
    const me = await c.successor.producers.init(`writer-${round}`);
    // Some history first, so the zombie is not at sequence 0.
    for (let s = 0; s < round % 3; s++) await c.zombie.produce('orders', [rec(`ok-${s}`)], { producer: { ...me, sequence: s } });
    const sequence = round % 3;
    c.gates.close(/^meta\.write .*pr#/); // its commit: conditions on the producer item
    const held = c.zombie.produce('orders', [rec('zombie')], { producer: { ...me, sequence } }).then(
      () => 'ok',
      (e: unknown) => kindOf(e),
    );
    await c.gates.reached(/^meta\.write .*pr#/);
    const next = await c.successor.producers.init(me.id);
    // A new epoch numbers its requests from 0 again.
    const successor = await c.successor.produce('orders', [rec('successor')], { producer: { ...next, sequence: 0 } }).then(
      () => 'ok',
      (e: unknown) => kindOf(e),
    );
    c.gates.open(/^meta\.write .*pr#/);
    const zombieAnswer = await held;
    const read = await c.successor.fetch('orders', 0, 0n, { maxRecords: 100, maxBytes: 1 << 20, waitMs: 0 });
    const visible = read.records.some((r) => Buffer.from(r.value.bytes).toString() === '"zombie"');
    return { zombieAnswer, visible, successor };
  } finally {
    await c.close();
  }
}

/** A group member is held just before its offset commit; its session expires, another member takes over and commits. */
export async function gatedMemberZombie(round: number): Promise<ZombieOutcome> {
  const c = await twoProcesses();
  try {
    await c.successor.topics.create({ name: 'orders', partitions: 2 });
    await c.successor.produce(
      'orders',
      Array.from({ length: 6 }, (_, i) => rec(`r${i}`, i % 2)),
    );
    const a = await c.zombie.groups.join('g', { topics: ['orders'], sessionTimeoutMs: 1_000 });
    const partition = a.assignments[0].partitions[round % a.assignments[0].partitions.length];
    c.gates.close(/^meta\.write .*o#/);
    const held = c.zombie.groups
      .commit('g', { memberId: a.memberId, generation: a.generation, offsets: [{ topic: 'orders', partition, offset: 3n }] })
      .then(
        () => 'ok',
        (e: unknown) => kindOf(e),
      );
    await c.gates.reached(/^meta\.write .*o#/);
    c.clock.advance(1_500); // the zombie's session ends
    const b = await c.successor.groups.join('g', { topics: ['orders'], sessionTimeoutMs: 10_000 });
    const successor = await c.successor.groups
      .commit('g', { memberId: b.memberId, generation: b.generation, offsets: [{ topic: 'orders', partition, offset: 1n }] })
      .then(
        () => 'ok',
        (e: unknown) => kindOf(e),
      );
    c.gates.open(/^meta\.write .*o#/);
    const zombieAnswer = await held;
    const committed = (await c.successor.groups.committed('g')).get('orders')?.get(partition)?.offset;
    return { zombieAnswer, visible: committed === 3n, successor };
  } finally {
    await c.close();
  }
}

// ---- SIGSTOP ------------------------------------------------------------------------------------------------

/**
 * A writer process sends idempotent batches in a loop and prints each answer. It is frozen (SIGSTOP), a
 * successor bumps the producer epoch and writes, the writer is thawed (SIGCONT): every request it sends with
 * the old epoch from then on must be refused (409 fenced) and none of them may become visible.
 */
const WRITER = `
const [url, id, epoch] = process.argv.slice(1);
let sequence = 0;
(async () => {
  for (;;) {
    const value = id + '-e' + epoch + '-s' + sequence;
    let status = 0, kind = '';
    const sentAt = Date.now();
    try {
      const res = await fetch(url + '/v1/topics/orders/records', { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ records: [{ value, partition: 0 }], producer: { id, epoch: Number(epoch), sequence } }) });
      status = res.status;
      const body = await res.json();
      kind = body.error || '';
    } catch (e) { status = -1; }
    process.stdout.write(JSON.stringify({ value, sequence, status, kind, sentAt }) + '\\n');
    if (status === 200) sequence++;
    if (status === 409) process.exit(0);
    await new Promise((r) => setTimeout(r, 5));
  }
})();
`;

export interface StopOutcome {
  ackedBefore: number;
  /** Answers to the requests the writer sent after it was thawed. */
  afterThaw: Array<{ status: number; kind: string; value: string }>;
  /**
   * The writer's last answer (it stops at a 409). Usually to a request sent after the thaw; on a loaded machine
   * the request in flight at the freeze may be the one fenced, and then nothing is sent after the thaw.
   */
  lastAnswer?: { status: number; kind: string };
  /** Values the writer sent after the successor's epoch began that are visible (must be none). */
  zombieVisible: string[];
  successorOk: boolean;
}

export async function sigstopWriterZombie(server: ServerProcess, round: number): Promise<StopOutcome> {
  const url = server.url;
  const post = (p: string, body: unknown) =>
    fetch(`${url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const id = `sigstop-${round}-${Date.now().toString(36)}`;
  const first = (await (await post('/v1/producers', { id })).json()) as { id: string; epoch: number };
  const child = spawnTracked(process.execPath, ['-e', WRITER, url, first.id, String(first.epoch)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Array<{ value: string; sequence: number; status: number; kind: string; sentAt: number }> = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
    }
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    while (lines.filter((l) => l.status === 200).length < 3) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 50)); // a request in flight when it froze is answered meanwhile
    const next = (await (await post('/v1/producers', { id })).json()) as { epoch: number };
    const ackedBefore = lines.filter((l) => l.status === 200).length;
    const succ = await post('/v1/topics/orders/records', {
      records: [{ value: `successor-${round}`, partition: 0 }],
      producer: { id, epoch: next.epoch, sequence: 0 }, // a new epoch starts at sequence 0
    });
    const successorOk = succ.status === 200;
    const succText = await succ.text();
    if (!successorOk) process.stderr.write(`successor answered ${succ.status}: ${succText}\n`);
    const thawedAt = Date.now();
    child.kill('SIGCONT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    // A request sent before the freeze may have been committed before the bump (its answer arrives late).
    const afterThaw = lines.filter((l) => l.sentAt >= thawedAt).map((l) => ({ status: l.status, kind: l.kind, value: l.value }));
    const res = await fetch(`${url}/v1/topics/orders/partitions/0/records?offset=0&maxRecords=10000`);
    const stored = new Set(((await res.json()) as { records: Array<{ value: string }> }).records.map((r) => r.value));
    const last = lines.at(-1);
    return {
      ackedBefore,
      afterThaw,
      lastAnswer: last && { status: last.status, kind: last.kind },
      zombieVisible: afterThaw.map((l) => l.value).filter((v) => stored.has(v)),
      successorOk,
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
    await exited;
  }
}

export async function withServer<T>(fn: (server: ServerProcess) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-sigstop-'));
  const server = await startServerProcess(['--data', dir]);
  try {
    await fetch(`${server.url}/v1/topics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'orders', partitions: 1 }),
    });
    return await fn(server);
  } finally {
    await server.kill();
    await rm(dir, { recursive: true, force: true });
  }
}
