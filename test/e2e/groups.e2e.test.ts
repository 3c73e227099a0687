/**
 * Consumer groups end to end: a real `ferry dev` server process and real consumer processes running the
 * client. Two, then three members share a 6-partition topic; one is SIGKILLed and the others take its
 * partitions after the session timeout; every record is processed, none skipped, committed offsets never
 * regress (G6); a stale generation cannot commit (G7); a second group gets every record too; seek by time.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnTracked } from '../helpers/processes';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { FerryClient, FerryError } from '../../lib/client';
import { startServerProcess, type ServerProcess } from '../helpers/server-process';

const ROOT = path.join(__dirname, '..', '..');
const WORKER = path.join(__dirname, 'fixtures', 'consumer-worker.ts');
const SESSION_MS = 1500;

interface WorkerEvent {
  pid: number;
  ev: 'join' | 'batch' | 'commit' | 'crash' | 'stop' | 'fatal';
  generation?: number;
  assignments?: Array<{ topic: string; partitions: number[] }>;
  partition?: number;
  offsets?: unknown;
  values?: Array<{ i: number }>;
  message?: string;
}

class Worker {
  readonly events: WorkerEvent[] = [];
  readonly child: ChildProcess;
  constructor(env: Record<string, string>) {
    this.child = spawnTracked(process.execPath, ['-r', 'tsx/cjs', WORKER], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    readline.createInterface({ input: this.child.stdout! }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line));
      } catch {
        // not ours
      }
    });
  }
  lastJoin() {
    return [...this.events].reverse().find((e) => e.ev === 'join');
  }
  partitions(): number[] {
    return (this.lastJoin()?.assignments ?? []).flatMap((a) => a.partitions).sort((a, b) => a - b);
  }
  values(): number[] {
    return this.events.filter((e) => e.ev === 'batch').flatMap((e) => e.values!.map((v) => v.i));
  }
  kill(signal: NodeJS.Signals) {
    this.child.kill(signal);
    return new Promise((r) => (this.child.exitCode !== null || this.child.signalCode !== null ? r(null) : this.child.once('exit', r)));
  }
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<number> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - start;
}

/** Members agree on one generation whose assignments are disjoint and cover 0..5. */
function stable(workers: Worker[], sizes: number[]): boolean {
  const joins = workers.map((w) => w.lastJoin());
  if (joins.some((j) => !j) || new Set(joins.map((j) => j!.generation)).size !== 1) return false;
  const parts = workers.map((w) => w.partitions());
  const all = parts.flat().sort((a, b) => a - b);
  return (
    JSON.stringify(all) === JSON.stringify([0, 1, 2, 3, 4, 5]) &&
    JSON.stringify(parts.map((p) => p.length).sort()) === JSON.stringify(sizes)
  );
}

describe('consumer groups across processes', () => {
  let dir: string;
  let server: ServerProcess;
  let client: FerryClient;
  const workers: Worker[] = [];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-e2e-groups-'));
    server = await startServerProcess(['--data', dir]);
    client = new FerryClient({ url: server.url });
    await client.admin().createTopics({ topics: [{ topic: 'events', numPartitions: 6 }] });
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await server?.kill('SIGTERM');
    await fs.rm(dir, { recursive: true, force: true });
  });

  const spawnWorker = (group: string, extra: Record<string, string> = {}) => {
    const w = new Worker({
      FERRY_URL: server.url,
      FERRY_GROUP: group,
      FERRY_TOPIC: 'events',
      FERRY_SESSION_MS: String(SESSION_MS),
      ...extra,
    });
    workers.push(w);
    return w;
  };

  it('shares partitions 3/3 then 2/2/2, survives a SIGKILL, processes every record and never regresses offsets', async () => {
    const producer = client.producer({ lingerMs: 2 });
    let produced = 0;
    const produce = async (n: number) => {
      const messages = Array.from({ length: n }, (_, k) => ({ value: { i: produced + k }, partition: (produced + k) % 6 }));
      produced += n;
      await producer.send({ topic: 'events', messages });
    };
    await produce(600);

    // Committed offsets, watched from outside the whole time: they must never move back (G6).
    const seen = new Map<number, bigint>();
    let regressions = 0;
    let watching = true;
    const watcher = (async () => {
      // After `watching` turns false, one more sample: the last one taken before may predate the final commit.
      for (let last = false; !last;) {
        last = !watching;
        const g = await client
          .admin()
          .describeGroup('g1')
          .catch(() => undefined);
        for (const o of g?.offsets ?? []) {
          if (o.committedOffset === null) continue;
          const c = BigInt(o.committedOffset);
          if (c < (seen.get(o.partition) ?? 0n)) regressions++;
          seen.set(o.partition, c);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const a = spawnWorker('g1', { FERRY_BATCH_DELAY_MS: '10' });
    const b = spawnWorker('g1', { FERRY_BATCH_DELAY_MS: '10' });
    await until('two members at 3/3', () => stable([a, b], [3, 3]));
    await produce(600);
    const c = spawnWorker('g1', { FERRY_BATCH_DELAY_MS: '10' });
    await until('three members at 2/2/2', () => stable([a, b, c], [2, 2, 2]));
    await produce(600);

    const killedAt = Date.now();
    await c.kill('SIGKILL');
    const generationBefore = a.lastJoin()!.generation!;
    const producing = (async () => {
      for (let k = 0; k < 6; k++) {
        await produce(100);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await until(
      'the survivors to take the dead member’s partitions',
      () => stable([a, b], [3, 3]) && a.lastJoin()!.generation! > generationBefore,
    );
    const rebalanceMs = Date.now() - killedAt;
    // The session counts from the dead member's last heartbeat, up to one heartbeat interval before the kill.
    expect(rebalanceMs).toBeGreaterThanOrEqual(SESSION_MS - SESSION_MS / 3 - 100);
    expect(rebalanceMs).toBeLessThan(SESSION_MS + 3_000);
    await producing;

    await until('every record processed', () => new Set([...a.values(), ...b.values(), ...c.values()]).size === produced, 20_000);
    const processed = new Set([...a.values(), ...b.values(), ...c.values()]);
    for (let i = 0; i < produced; i++) expect(processed.has(i)).toBe(true);

    // Everything committed up to the high watermark.
    await until('all offsets committed', async () => (await client.admin().describeGroup('g1')).totalLag === '0');
    watching = false;
    await watcher;
    expect(regressions).toBe(0);
    expect([...seen.values()].reduce((s, x) => s + x, 0n)).toBe(BigInt(produced));
    for (const w of [a, b]) expect(w.events.filter((e) => e.ev === 'fatal')).toEqual([]);
    console.log(`rebalance after SIGKILL with sessionTimeoutMs ${SESSION_MS}: ${rebalanceMs} ms`);

    // A clean leave (SIGTERM) hands partitions over at once, without waiting for the session timeout.
    const leftAt = Date.now();
    await b.kill('SIGTERM');
    await until('the last member to own everything', () => a.partitions().length === 6, SESSION_MS);
    console.log(`rebalance after a clean leave: ${Date.now() - leftAt} ms`);
    expect(b.events.some((e) => e.ev === 'stop')).toBe(true);
  });

  it('refuses a commit from a stale generation (G7) and from a non-owner', async () => {
    const post = (p: string, body: unknown) =>
      fetch(`${server.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const first = await (await post('/v1/groups/g7/members', { topics: ['events'] })).json();
    const second = await (await post('/v1/groups/g7/members', { topics: ['events'] })).json();
    expect(second.generation).toBe(first.generation + 1);
    const mine = second.assignments[0].partitions[0];
    const stale = await post('/v1/groups/g7/offsets', {
      memberId: first.memberId,
      generation: first.generation,
      offsets: [{ topic: 'events', partition: mine, offset: '1' }],
    });
    expect(stale.status).toBe(409);
    expect((await stale.json()).error).toBe('fenced');
    const notOwner = await post('/v1/groups/g7/offsets', {
      memberId: first.memberId,
      generation: second.generation,
      offsets: [{ topic: 'events', partition: mine, offset: '1' }],
    });
    expect(notOwner.status).toBe(409);
    const ok = await post('/v1/groups/g7/offsets', {
      memberId: second.memberId,
      generation: second.generation,
      offsets: [{ topic: 'events', partition: mine, offset: '1' }],
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ offsets: [{ topic: 'events', partition: mine, offset: '1' }] });
    const beat = await post(`/v1/groups/g7/members/unknown-member/heartbeat`, {});
    expect(beat.status).toBe(409);
  });

  it('gives a second group every record, independently of the first', async () => {
    const total = (await client.admin().fetchTopicOffsets('events')).reduce((s, p) => s + Number(p.high), 0);
    const w = spawnWorker('g2', { FERRY_MAX_RECORDS: '500' });
    await until('the second group to read everything', () => new Set(w.values()).size === total, 20_000);
    expect(w.values().length).toBeGreaterThanOrEqual(total);
    await w.kill('SIGTERM');
  });

  it('seeks a group by timestamp to the first record at or after it', async () => {
    await client.admin().createTopics({ topics: [{ topic: 'timed', numPartitions: 1 }] });
    const t0 = Date.UTC(2024, 0, 1);
    const producer = client.producer({ lingerMs: 0 });
    for (const [n, dt] of [
      [3, 0],
      [3, 1000],
      [2, 2000],
    ] as const) {
      await producer.send({ topic: 'timed', messages: Array.from({ length: n }, (_, k) => ({ value: k, timestamp: t0 + dt + k })) });
    }
    // offsets 0..2 at t0+0..2, 3..5 at t0+1000..1002, 6..7 at t0+2000..2001
    const seek = async (timestamp: number | string) =>
      (await client.admin().seek({ groupId: 'timed-g', topic: 'timed', to: { timestamp } })).offsets[0].offset;
    expect(await seek(t0 - 1)).toBe('0');
    expect(await seek(t0 + 1)).toBe('1');
    expect(await seek(t0 + 500)).toBe('3');
    expect(await seek(new Date(t0 + 1002).toISOString())).toBe('5');
    expect(await seek(t0 + 2001)).toBe('7');
    expect(await seek(t0 + 9999)).toBe('8');
    const desc = await client.admin().describeGroup('timed-g');
    expect(desc.offsets[0]).toMatchObject({ committedOffset: '8', lag: '0' });
    await expect(client.admin().seek({ groupId: 'timed-g', topic: 'timed', to: { offset: 99 } })).rejects.toMatchObject({
      kind: 'offset_out_of_range',
    });
    await expect(client.admin().seek({ groupId: 'bad#group', topic: 'timed', to: 'earliest' })).rejects.toBeInstanceOf(FerryError);
  });
});
