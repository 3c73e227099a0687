/**
 * Seeded fault simulation of the core on real adapters (local: files + SQLite; aws: s3rver + DynamoDB Local).
 *
 * One run = one simulated cluster: the real ports wrapped by a `FaultPlan`, simulated time, and concurrent
 * clients (plain, delayed and idempotent producers, a zombie producer whose epoch a successor bumps, consumer
 * group members that poll and commit, a maintenance loop) interleaved by fast-check's scheduler from the
 * seed. A crash kills the current process incarnation (every in-flight call of it fails) and the next client
 * call starts a new one on the same stores, as a restarted server or a new Lambda container would. When the
 * clients are done, faults stop, every due record is moved, every partition is drained, and the checker counts
 * RELIABILITY.md's anomalies.
 *
 * `runStepMatrix` instead runs one scripted workload once per (port call × fault mode): every append, commit,
 * delayed move, group and maintenance step meets every fault at least once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { FsObjectStore } from '../../lib/adapters/local/fs-object-store';
import { SqliteMetadataStore } from '../../lib/adapters/local/sqlite-metadata-store';
import type { CoreContext } from '../../lib/core/context';
import { referencedObjects } from '../../lib/core/maintenance/index-scan';
import { idTime, metaKeys, objectKeys, padTime } from '../../lib/core/storage/keys';
import type { Log } from '../../lib/core/log/log';
import { createCore } from '../../lib/core/create-core';
import { Maintenance } from '../../lib/core/maintenance/maintenance';
import { makeSettings } from '../../lib/core/settings';
import type { Ids } from '../../lib/ports/ids';
import type { MetadataStore } from '../../lib/ports/metadata-store';
import type { ObjectStore } from '../../lib/ports/object-store';
import { check, describeFailure, type CheckResult, type DrainedPartition } from '../helpers/checker';
import {
  FAULT_MODES,
  FaultPlan,
  FaultyMetadataStore,
  FaultyObjectStore,
  prng,
  type CallInfo,
  type FaultMode,
  type ProcessFaults,
} from '../helpers/faults';
import { History, classify, type Op, type ProduceValue, type SentRecord } from '../helpers/history';
import { jsonPayload } from '../helpers/records';
import { SimClock } from '../helpers/sim-clock';

export type AdapterSet = 'local' | 'aws';

export interface SimOptions {
  seed: number;
  adapters: AdapterSet;
  /** Operations per client. */
  opsPerClient?: number;
  /** Chance of a fault per port call (0: none). */
  probability?: number;
  modes?: readonly FaultMode[];
  /** Interleave port calls with fast-check's scheduler (default true). */
  interleave?: boolean;
  /** Replaces the real metadata store (a deliberately broken one shows that the checker can fail). */
  wrapMeta?: (meta: MetadataStore) => MetadataStore;
}

export interface SimResult {
  seed: number;
  adapters: AdapterSet;
  ops: number;
  calls: number;
  faults: number;
  faultsByMode: Record<string, number>;
  restarts: number;
  check: CheckResult;
  history: History;
  /** A one-line command that replays this run. */
  replay: string;
}

const TOPIC = 'orders';
const PARTITIONS = 3;
const GROUP = 'billing';
const ORPHAN_GRACE_MS = 8_000;
const MAX_DELAY_MS = 3_000;

// ---- the simulated cluster --------------------------------------------------------------------------------

interface Backing {
  meta: MetadataStore;
  stores: ObjectStore[];
  /** Objects of the run's topics, listed from every store without faults. */
  cleanup(): Promise<void>;
}

async function localBacking(): Promise<Backing> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-sim-'));
  const stores = [await new FsObjectStore('s0', path.join(dir, 'a')).open(), await new FsObjectStore('s1', path.join(dir, 'b')).open()];
  const meta = new SqliteMetadataStore(path.join(dir, 'meta.sqlite'));
  return {
    meta,
    stores,
    cleanup: async () => {
      await meta.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let awsShared: Promise<{ buckets: string[] }> | undefined;
let awsRun = 0;

async function awsBacking(): Promise<Backing> {
  // Loaded lazily: the local runs need no AWS SDK and no emulators.
  const { S3ObjectStore } = await import('../../lib/adapters/aws/s3-object-store');
  const { DynamoDBMetadataStore } = await import('../../lib/adapters/aws/dynamodb-metadata-store');
  const { emulatorClients, freshBucket, freshTable } = await import('../helpers/emulators');
  awsShared ??= Promise.all([freshBucket(), freshBucket()]).then((buckets) => ({ buckets }));
  const { buckets } = await awsShared;
  const prefix = `run-${process.pid}-${++awsRun}/`;
  const { s3, dynamo } = emulatorClients();
  const stores = buckets.map((bucket, i) => new S3ObjectStore({ name: `s${i}`, bucket, client: s3, keyPrefix: prefix }));
  const meta = new DynamoDBMetadataStore({ table: await freshTable(), client: dynamo });
  return { meta, stores, cleanup: async () => undefined };
}

/** Deterministic ids: time-ordered like the real ones, unique within a run. */
function seededIds(random: () => number): Ids {
  let n = 0;
  return {
    timeOrderedId: (nowMs) =>
      `${padTime(nowMs)}-${(n++).toString(36).padStart(5, '0')}${Math.floor(random() * 36 ** 6)
        .toString(36)
        .padStart(6, '0')}`,
    random,
  };
}

class Cluster {
  readonly settings = makeSettings({ topicCacheMs: 0, orphanGraceMs: ORPHAN_GRACE_MS, producerRequestsKept: 5 });
  restarts = 0;
  private current?: { log: Log; faults: ProcessFaults };
  private readonly ids: Ids;

  constructor(
    readonly backing: Backing,
    readonly plan: FaultPlan,
    random: () => number,
    readonly clock: SimClock,
  ) {
    this.ids = seededIds(random);
  }

  /** The live process incarnation; a crashed one is replaced (a restart on the same stores). */
  proc(): { log: Log; maintenance: Maintenance } {
    if (!this.current || this.current.faults.crashed) {
      if (this.current) this.restarts++;
      const faults = this.plan.process();
      const ctx: CoreContext = {
        meta: new FaultyMetadataStore(this.backing.meta, faults),
        stores: this.backing.stores.map((s) => new FaultyObjectStore(s, faults)),
        clock: this.clock,
        ids: this.ids,
        settings: this.settings,
      };
      this.current = { log: createCore(ctx).log, faults };
    }
    const log = this.current.log;
    return { log, maintenance: new Maintenance(log) };
  }

  /** A process that sees no faults (setup, and the final drain). */
  clean(): { log: Log; maintenance: Maintenance } {
    const log = createCore({
      meta: this.backing.meta,
      stores: this.backing.stores,
      clock: this.clock,
      ids: this.ids,
      settings: this.settings,
    }).log;
    return { log, maintenance: new Maintenance(log) };
  }
}

// ---- clients ---------------------------------------------------------------------------------------------

const payload = (v: string) => jsonPayload(v);
const rec = (r: SentRecord) => ({
  key: r.key === undefined ? null : payload(r.key),
  value: payload(r.value),
  headers: Object.create(null),
  partition: r.partition,
  deliverAt: r.deliverAt,
});

class Clients {
  private valueCounter = 0;
  producersDone = false;
  private produced = 0;
  private readonly waiting: Array<{ n: number; resolve: () => void }> = [];

  /** Resolves once `n` produce operations completed (members start reading when there is something to read). */
  whenProduced(n: number): Promise<void> {
    if (this.produced >= n || this.producersDone) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push({ n, resolve }));
  }

  private countProduced(): void {
    this.produced++;
    for (const w of this.waiting.filter((x) => x.n <= this.produced || this.producersDone)) {
      this.waiting.splice(this.waiting.indexOf(w), 1);
      w.resolve();
    }
  }

  finishProducing(): void {
    this.producersDone = true;
    this.countProduced();
  }
  constructor(
    readonly cluster: Cluster,
    readonly history: History,
    readonly random: () => number,
  ) {}

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)];
  }

  value(client: string): string {
    return `${client}-${this.valueCounter++}`;
  }

  /** One attempt of a produce, recorded. */
  async produce(
    client: string,
    records: SentRecord[],
    producer?: { id: string; epoch: number; sequence: number },
    retries = 0,
    resend = false,
  ): Promise<Op> {
    const value: ProduceValue = { topic: TOPIC, records, producer };
    const op = this.history.invoke(client, 'produce', value);
    for (let attempt = 0; ; attempt++) {
      op.attempts = attempt + 1;
      try {
        const answers = await this.cluster.proc().log.produce(TOPIC, records.map(rec), { producer });
        this.history.ok(op, {
          records: answers.map((a) =>
            'offset' in a
              ? { partition: a.partition, offset: a.offset }
              : { partition: a.partition, scheduledId: a.scheduledId, deliverAt: a.deliverAt },
          ),
        });
        return op;
      } catch (e) {
        // Only an idempotent request may be retried after an unknown outcome (G5); a definite answer to a
        // retry says nothing about an earlier attempt, so it leaves the op unknown.
        const definite = classify(e) === 'fail';
        // A re-send of a request whose outcome is unknown: no answer to it says the first one failed.
        if (definite && attempt === 0 && !resend) {
          this.history.fail(op, e);
          return op;
        }
        if (!producer || attempt >= retries || definite) {
          this.history.info(op, e);
          return op;
        }
      }
    }
  }

  records(client: string, n: number, opts: { delayed?: boolean } = {}): SentRecord[] {
    return Array.from({ length: n }, () => {
      const r: SentRecord = { value: this.value(client) };
      const how = this.random();
      if (how < 0.4) r.partition = Math.floor(this.random() * PARTITIONS);
      else if (how < 0.7) r.key = `k${Math.floor(this.random() * 8)}`;
      if (opts.delayed && this.random() < 0.5) r.deliverAt = this.cluster.clock.now() + Math.floor(this.random() * MAX_DELAY_MS);
      return r;
    });
  }

  async plainProducer(client: string, ops: number): Promise<void> {
    for (let i = 0; i < ops; i++) {
      await this.produce(client, this.records(client, 1 + Math.floor(this.random() * 3), { delayed: true }));
      this.countProduced();
    }
  }

  async init(client: string, id?: string): Promise<{ id: string; epoch: number } | undefined> {
    const op = this.history.invoke(client, 'init', { id });
    for (let attempt = 0; attempt < 6; attempt++) {
      try {
        const r = await this.cluster.proc().log.producers.init(id);
        this.history.ok(op, r);
        return r;
      } catch (e) {
        if (classify(e) === 'fail' || attempt === 5) {
          this.history.error(op, e);
          return undefined;
        }
      }
    }
    return undefined;
  }

  /** An idempotent producer: every unknown outcome is retried with the same sequence until definite. */
  async idempotentProducer(client: string, ops: number, zombie?: { id: string }): Promise<void> {
    let me = await this.init(client, zombie?.id);
    if (!me) return;
    let sequence = 0;
    for (let i = 0; i < ops; i++) {
      const records = this.records(client, 1 + Math.floor(this.random() * 3)).map((r) => ({ ...r, deliverAt: undefined }));
      const op = await this.produce(client, records, { id: me.id, epoch: me.epoch, sequence }, 8);
      this.countProduced();
      if (op.outcome === 'ok') sequence++;
      else if (op.error?.startsWith('fenced')) {
        // A successor took over: a restarted producer gets the current epoch, which numbers its requests from 0.
        const next = await this.init(client, me.id);
        if (next) {
          me = next;
          sequence = 0;
        }
      } else if (op.outcome === 'info') {
        // Still unknown after the retries: the next request would be a gap if this one never landed; send the
        // same request again as a new op (a duplicate answers its original offsets).
        const again = await this.produce(client, records, { id: me.id, epoch: me.epoch, sequence }, 8, true);
        if (again.outcome === 'ok') sequence++;
      }
    }
  }

  /** Bumps a producer's epoch now and then (a successor taking over from a paused writer). */
  async successor(client: string, id: string, ops: number): Promise<void> {
    for (let i = 0; i < ops; i++) {
      await this.cluster.clock.sleep(Math.floor(this.random() * 50));
      if (this.random() < 0.3) await this.init(client, id);
    }
  }

  /** A consumer group member: join, poll its partitions from the committed offsets, commit what it read. */
  async member(client: string, ops: number, startAfter: number): Promise<void> {
    let me: { memberId: string; generation: number; assignments: Array<{ topic: string; partitions: number[] }> } | undefined;
    await this.whenProduced(startAfter);
    // An empty poll while producers still run does not use up an op (the member waits for data).
    for (let i = 0, turns = 0; i < ops && turns < ops * 6; i++, turns++) {
      if (!me || this.random() < 0.15) {
        const op = this.history.invoke(client, 'join', { group: GROUP, member: me?.memberId });
        try {
          const log = this.cluster.proc().log;
          const v = me
            ? await log.groups.heartbeat(GROUP, me.memberId)
            : await log.groups.join(GROUP, { topics: [TOPIC], sessionTimeoutMs: 10_000 });
          me = v;
          this.history.ok(op, { group: GROUP, member: v.memberId, generation: v.generation, assignments: v.assignments });
        } catch (e) {
          this.history.error(op, e);
          if (classify(e) === 'fail') me = undefined;
        }
        continue;
      }
      const partitions = me.assignments.find((a) => a.topic === TOPIC)?.partitions ?? [];
      if (partitions.length === 0) {
        me = undefined;
        continue;
      }
      const partition = this.pick(partitions);
      let from: bigint;
      try {
        const committed = await this.cluster.proc().log.groups.committed(GROUP);
        from = committed.get(TOPIC)?.get(partition)?.offset ?? 0n;
      } catch {
        continue;
      }
      const poll = this.history.invoke(client, 'poll', { topic: TOPIC, partition, from, group: GROUP });
      let last: bigint | undefined;
      try {
        const res = await this.cluster
          .proc()
          .log.fetch(TOPIC, partition, from, { maxRecords: 1 + Math.floor(this.random() * 5), maxBytes: 1 << 20, waitMs: 0 });
        this.history.ok(poll, {
          records: res.records.map((r) => ({ offset: r.offset, value: JSON.parse(Buffer.from(r.value.bytes).toString('utf8')) as string })),
          highWatermark: res.highWatermark,
          logStartOffset: res.logStartOffset,
        });
        if (res.records.length) last = res.records[res.records.length - 1].offset;
        else if (!this.producersDone) {
          i--;
          await this.cluster.clock.sleep(100);
        }
      } catch (e) {
        this.history.error(poll, e);
      }
      if (last === undefined) continue;
      const offset = last + 1n;
      const commit = this.history.invoke(client, 'commit', {
        group: GROUP,
        member: me.memberId,
        generation: me.generation,
        topic: TOPIC,
        partition,
        offset,
      });
      try {
        await this.cluster
          .proc()
          .log.groups.commit(GROUP, { memberId: me.memberId, generation: me.generation, offsets: [{ topic: TOPIC, partition, offset }] });
        this.history.ok(commit, { offset });
      } catch (e) {
        this.history.error(commit, e);
        if ((e as { kind?: string }).kind === 'fenced') me = undefined;
      }
    }
  }

  /** Moves due records, runs retention / GC / repair, and lets time pass. */
  async maintainer(ops: number): Promise<void> {
    for (let i = 0; i < ops; i++) {
      const r = this.random();
      try {
        const { maintenance } = this.cluster.proc();
        if (r < 0.4) await maintenance.moveDue();
        else if (r < 0.6) await maintenance.run({ repair: true });
      } catch {
        // A failed maintenance pass is retried by the next one.
      }
      await this.cluster.clock.sleep(Math.floor(this.random() * 1_500));
    }
  }
}

// ---- drain and check ---------------------------------------------------------------------------------------

async function drainAndCheck(cluster: Cluster, history: History): Promise<CheckResult> {
  cluster.plan.armed = false;
  history.closeOpen();
  const { log, maintenance } = cluster.clean();
  cluster.clock.advance(MAX_DELAY_MS + 1_000);
  while ((await maintenance.moveDue()) > 0);
  const topic = await log.topics.get(TOPIC);
  const drained: DrainedPartition[] = [];
  const unreadable: string[] = [];
  for (let p = 0; p < topic.partitionCount; p++) {
    const first = await log.fetcher.head(topic, p);
    const d: DrainedPartition = {
      topic: TOPIC,
      partition: p,
      logStartOffset: first.logStartOffset,
      highWatermark: first.nextOffset,
      records: [],
      drainedAt: cluster.clock.now(),
    };
    let offset = first.logStartOffset;
    while (offset < d.highWatermark) {
      let page;
      try {
        page = await log.fetcher.fetch(topic, p, offset, { maxRecords: 10_000, maxBytes: 64 << 20, waitMs: 0 });
      } catch {
        page = undefined;
      }
      // A failing page: read record by record to find the batch that cannot be read.
      if (!page)
        try {
          page = await log.fetcher.fetch(topic, p, offset, { maxRecords: 1, maxBytes: 64 << 20, waitMs: 0 });
        } catch (e) {
          // A committed batch that cannot be read: its records are missing from the drain (the checker counts
          // them lost), and its segment was deleted while referenced (premature-delete). Skip past it.
          const pk = metaKeys.partitionPk(topic.topicId, p);
          const bad = await log.index.entryAt(pk, await log.index.head(pk), offset);
          if (!bad) throw e;
          unreadable.push(`${TOPIC}/${p} offsets ${bad.baseOffset}..${bad.baseOffset + BigInt(bad.count) - 1n}: ${(e as Error).message}`);
          offset = bad.baseOffset + BigInt(bad.count);
          continue;
        }
      for (const r of page.records)
        d.records.push({ offset: r.offset, value: JSON.parse(Buffer.from(r.value.bytes).toString('utf8')) as string });
      if (page.records.length === 0) break;
      offset = page.nextOffset;
    }
    drained.push(d);
  }
  const committed = await log.groups.committed(GROUP);
  const finalCommitted = [...(committed.get(TOPIC) ?? new Map()).entries()].map(([partition, c]) => ({
    group: GROUP,
    topic: TOPIC,
    partition,
    offset: c.offset,
  }));

  // G8: after the grace period one GC (and repair) pass leaves no orphan and every live entry's copies.
  cluster.clock.advance(ORPHAN_GRACE_MS + 1);
  await maintenance.run({ repair: true });
  const referenced = new Map<string, string[]>();
  for (const item of await cluster.backing.meta.query(metaKeys.duePk(topic.topicId))) referenced.set(String(item.data.objectKey), []);
  for (let p = 0; p < topic.partitionCount; p++) {
    const pk = metaKeys.partitionPk(topic.topicId, p);
    for (const e of await log.index.entries(pk, await log.index.head(pk))) referenced.set(e.objectKey, e.replicas);
  }
  // Index items may still name objects below logStartOffset (a chunk that reaches above it): not orphans.
  const named = new Set<string>(referenced.keys());
  for (let p = 0; p < topic.partitionCount; p++) await referencedObjects(log.index, topic, p, named);
  let orphans = 0;
  let missingCopies = 0;
  for (const store of cluster.backing.stores) {
    const present = new Set<string>();
    let startAfter: string | undefined;
    for (;;) {
      const page = await store.list(objectKeys.topicPrefix(topic.topicId), { startAfter, limit: 1000 });
      for (const o of page.objects) {
        present.add(o.key);
        if (!named.has(o.key) && idTime(o.key) < cluster.clock.now() - ORPHAN_GRACE_MS) orphans++;
      }
      if (!page.next) break;
      startAfter = page.next;
    }
    for (const [key, replicas] of referenced) if (replicas.includes(store.name) && !present.has(key)) missingCopies++;
  }
  const result = check({ history, drained, finalCommitted, orphans });
  if (unreadable.length) {
    result.counts['premature-delete'] += unreadable.length;
    (result.examples['premature-delete'] ??= []).push(...unreadable.slice(0, 5).map((u) => `committed but unreadable: ${u}`));
    result.total += unreadable.length;
  }
  if (missingCopies) {
    result.counts['premature-delete'] += missingCopies;
    (result.examples['premature-delete'] ??= []).push(`${missingCopies} referenced segment copies missing after repair`);
    result.total += missingCopies;
  }
  return result;
}

async function setup(cluster: Cluster): Promise<void> {
  const { log } = cluster.clean();
  await log.topics.create({ name: TOPIC, partitions: PARTITIONS, replicationFactor: 2, retentionMs: -1 });
}

export const replayCommand = (o: { seed: number; adapters: AdapterSet; kind?: string }) =>
  `npx tsx test/chaos/run.ts --only ${o.kind ?? 'sim'}-${o.adapters} --seed ${o.seed} --runs 1`;

/** One seeded random run. */
export async function runSim(options: SimOptions): Promise<SimResult> {
  const random = prng(options.seed);
  const scheduler = options.interleave === false ? undefined : fc.sample(fc.scheduler(), { seed: options.seed, numRuns: 1 })[0];
  const backing = options.adapters === 'aws' ? await awsBacking() : await localBacking();
  if (options.wrapMeta) backing.meta = options.wrapMeta(backing.meta);
  const clock = new SimClock();
  const plan = new FaultPlan({
    random: prng(options.seed ^ 0x5eed),
    probability: options.probability ?? 0.04,
    modes: options.modes ?? FAULT_MODES,
    delay: async (ms) => clock.sleep(ms),
    delayMs: 2_000,
    gate: scheduler ? (label, run) => scheduler.schedule(Promise.resolve(label), label).then(run) : undefined,
  });
  plan.armed = false;
  const cluster = new Cluster(backing, plan, random, clock);
  const history = new History(() => clock.now());
  try {
    await setup(cluster);
    plan.armed = true;
    const clients = new Clients(cluster, history, random);
    const n = options.opsPerClient ?? 10;
    const zombieId = `zombie-${options.seed.toString(36)}`.replace(/[^0-9a-z-]/g, '');
    const producing = Promise.all([
      clients.plainProducer('p1', n),
      clients.plainProducer('p2', n),
      clients.idempotentProducer('i1', n),
      clients.idempotentProducer('z1', n, { id: zombieId }),
    ]).finally(() => clients.finishProducing());
    const work = Promise.all([
      producing,
      clients.successor('z2', zombieId, n),
      clients.member('m1', n * 2, n),
      clients.member('m2', n * 2, 2 * n),
      clients.maintainer(n),
    ]);
    if (scheduler) await scheduler.waitFor(work);
    else await work;
    plan.options.gate = undefined;
    const result = await drainAndCheck(cluster, history);
    return {
      seed: options.seed,
      adapters: options.adapters,
      ops: history.ops.length,
      calls: plan.calls,
      faults: plan.total,
      faultsByMode: { ...plan.injected },
      restarts: cluster.restarts,
      check: result,
      history,
      replay: replayCommand(options),
    };
  } finally {
    await backing.cleanup();
  }
}

// ---- the step matrix -----------------------------------------------------------------------------------------

/**
 * The scripted workload: every append / commit step of every path, in a fixed order. Clients retry unknown
 * outcomes where that is safe (idempotent produce, join, poll, commit), as a real client would.
 */
async function script(cluster: Cluster, history: History): Promise<void> {
  const clients = new Clients(cluster, history, prng(7));
  const p = await clients.init('i1');
  const zombie = p && { ...p };
  let sequence = 0;
  const idem = async (records: SentRecord[]) => {
    if (!p) return;
    const op = await clients.produce('i1', records, { id: p.id, epoch: p.epoch, sequence }, 4);
    if (op.outcome === 'ok') sequence++;
  };
  await idem([
    { value: 'i1-a', partition: 0 },
    { value: 'i1-b', partition: 1 },
  ]);
  await clients.produce('p1', [{ value: 'p1-a', key: 'k1' }]);
  await clients.produce('p1', [{ value: 'p1-delayed', partition: 2, deliverAt: cluster.clock.now() + 1_000 }]);
  await idem([{ value: 'i1-c', partition: 2 }]);
  cluster.clock.advance(1_500);
  try {
    await cluster.proc().maintenance.moveDue();
  } catch {
    // the final drain moves it
  }
  // A group member joins, reads and commits (each step retried once after an unknown outcome).
  let me: Awaited<ReturnType<Log['groups']['join']>> | undefined;
  for (let attempt = 0; attempt < 3 && !me; attempt++) {
    const op = history.invoke('m1', 'join', { group: GROUP });
    try {
      me = await cluster.proc().log.groups.join(GROUP, { topics: [TOPIC], sessionTimeoutMs: 60_000 });
      history.ok(op, { group: GROUP, member: me.memberId, generation: me.generation, assignments: me.assignments });
    } catch (e) {
      history.error(op, e);
    }
  }
  if (me) {
    for (const partition of me.assignments.find((a) => a.topic === TOPIC)?.partitions ?? []) {
      const poll = history.invoke('m1', 'poll', { topic: TOPIC, partition, from: 0n, group: GROUP });
      try {
        const res = await cluster.proc().log.fetch(TOPIC, partition, 0n, { maxRecords: 100, maxBytes: 1 << 20, waitMs: 0 });
        history.ok(poll, {
          records: res.records.map((r) => ({ offset: r.offset, value: JSON.parse(Buffer.from(r.value.bytes).toString('utf8')) as string })),
          highWatermark: res.highWatermark,
          logStartOffset: res.logStartOffset,
        });
        if (!res.records.length) continue;
        const offset = res.nextOffset;
        const commit = history.invoke('m1', 'commit', {
          group: GROUP,
          member: me.memberId,
          generation: me.generation,
          topic: TOPIC,
          partition,
          offset,
        });
        try {
          await cluster
            .proc()
            .log.groups.commit(GROUP, { memberId: me.memberId, generation: me.generation, offsets: [{ topic: TOPIC, partition, offset }] });
          history.ok(commit, { offset });
        } catch (e) {
          history.error(commit, e);
        }
      } catch (e) {
        history.error(poll, e);
      }
    }
  }
  try {
    await cluster.proc().maintenance.run({ repair: true });
  } catch {
    // retried by the final pass
  }
  // A successor bumps the producer's epoch; the old epoch's next request must be refused.
  if (p && zombie) {
    const next = await clients.init('i2', p.id);
    if (next) {
      const op = await clients.produce('i1', [{ value: 'i1-zombie', partition: 0 }], { id: zombie.id, epoch: zombie.epoch, sequence }, 4);
      if (op.outcome === 'ok') op.fencedBeforeCommit = true; // acknowledged after the successor's epoch began
    }
  }
}

export interface MatrixResult {
  adapters: AdapterSet;
  steps: string[];
  runs: number;
  ops: number;
  faults: number;
  restarts: number;
  failures: Array<{ index: number; mode: FaultMode; step: string; message: string }>;
  counts: CheckResult['counts'];
}

/** Lists the port calls the scripted workload makes (the steps), without faults. */
export async function matrixSteps(adapters: AdapterSet): Promise<string[]> {
  const steps: string[] = [];
  await runScripted(adapters, { onCall: (c) => steps.push(`${c.port}.${c.method}${c.detail ? ` ${c.detail}` : ''}`) });
  return steps;
}

async function runScripted(
  adapters: AdapterSet,
  faults: { at?: { index: number; mode: FaultMode }; onCall?: (c: CallInfo) => void },
): Promise<{ result: CheckResult; history: History; plan: FaultPlan; restarts: number }> {
  const backing = adapters === 'aws' ? await awsBacking() : await localBacking();
  const clock = new SimClock();
  const plan = new FaultPlan({ at: faults.at, onCall: faults.onCall, delay: (ms) => clock.sleep(ms), delayMs: 5_000 });
  plan.armed = false;
  const cluster = new Cluster(backing, plan, prng(11), clock);
  const history = new History(() => clock.now());
  try {
    await setup(cluster);
    plan.armed = true;
    await script(cluster, history);
    const result = await drainAndCheck(cluster, history);
    return { result, history, plan, restarts: cluster.restarts };
  } finally {
    await backing.cleanup();
  }
}

/** Runs the script once per (step × mode); `sample` keeps every n-th step (npm test), 1 keeps all. */
export async function runStepMatrix(
  adapters: AdapterSet,
  options: { modes?: readonly FaultMode[]; every?: number; onRun?: () => void } = {},
): Promise<MatrixResult> {
  const steps = await matrixSteps(adapters);
  const modes = options.modes ?? FAULT_MODES;
  const out: MatrixResult = {
    adapters,
    steps,
    runs: 0,
    ops: 0,
    faults: 0,
    restarts: 0,
    failures: [],
    counts: check({ history: new History(() => 0), drained: [] }).counts,
  };
  for (let index = 0; index < steps.length; index += options.every ?? 1) {
    for (const mode of modes) {
      const { result, history, plan, restarts } = await runScripted(adapters, { at: { index, mode } });
      out.runs++;
      out.ops += history.ops.length;
      out.faults += plan.total;
      out.restarts += restarts;
      for (const [a, n] of Object.entries(result.counts)) out.counts[a as keyof typeof out.counts] += n;
      if (result.total > 0) {
        out.failures.push({
          index,
          mode,
          step: steps[index],
          message: describeFailure(result, history, `npx tsx test/chaos/run.ts --only matrix-${adapters} --step ${index} --mode ${mode}`),
        });
      }
      options.onRun?.();
    }
  }
  return out;
}

/** One matrix cell (for replay). */
export async function runMatrixCell(
  adapters: AdapterSet,
  index: number,
  mode: FaultMode,
): Promise<{ result: CheckResult; history: History }> {
  const { result, history } = await runScripted(adapters, { at: { index, mode } });
  return { result, history };
}
