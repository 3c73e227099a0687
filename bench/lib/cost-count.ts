/**
 * Counts what the core asks of its ports, as S3 and DynamoDB would bill it, by running the real core (Log)
 * on counting wrappers around a MetadataStore and ObjectStores.
 *
 * With `adapters: 'aws'` (what `npm run bench` uses) the wrappers go around the AWS adapters —
 * DynamoDBMetadataStore on DynamoDB Local, S3ObjectStore on s3rver, started by the bench — so every call is a
 * real SDK call the way a Lambda makes it (single-item conditional writes, transactions only where the core
 * asks for several items). `'local'` wraps SQLite and the file store and prices them as DynamoDB. Only the
 * translation of a call into billed units is modelled (`itemBytes`, `writeUnits`): a one-item write is 1 unit
 * per KB, a multi-item write a transaction (2 units per KB per item).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SqliteMetadataStore } from '../../lib/adapters/local/sqlite-metadata-store';
import { FsObjectStore } from '../../lib/adapters/local/fs-object-store';
import { randomIds, systemClock } from '../../lib/adapters/system';
import type { CoreContext } from '../../lib/core/context';
import { createCore } from '../../lib/core/create-core';
import { makeSettings } from '../../lib/core/settings';
import type { RecordInput } from '../../lib/core/model';
import type { Item, ItemData, MetadataStore, SkRange, WriteOp, WriteResult } from '../../lib/ports/metadata-store';
import type { ByteRange, ListPage, ObjectStore } from '../../lib/ports/object-store';
import { readUnits, writeUnits, zeroCounts, type CallCounts, type Workload } from '../cost-model';
import { Payloads } from './util';

/** Approximate DynamoDB item size: attribute names and values (pk, sk, version, the data as one JSON). */
export function itemBytes(pk: string, sk: string, data: ItemData | undefined): number {
  return 2 + pk.length + 2 + sk.length + 7 + 8 + 4 + (data ? JSON.stringify(data).length : 0);
}

/** Where counted calls go; `phase` switches between produce and consume. */
export class Counter {
  counts: CallCounts = zeroCounts();
  take(): CallCounts {
    const c = this.counts;
    this.counts = zeroCounts();
    return c;
  }
}

export class CountingMetadataStore implements MetadataStore {
  constructor(
    private readonly inner: MetadataStore,
    private readonly counter: Counter,
  ) {}
  get maxOpsPerWrite() {
    // DynamoDB's transaction limit, whatever the local store takes: the core splits commits the same way.
    return Math.min(100, this.inner.maxOpsPerWrite);
  }
  get multiItemWrites() {
    // Priced as DynamoDB: the core writes single items where transactions are costly.
    return 'costly' as const;
  }
  async get(pk: string, sk: string): Promise<Item | undefined> {
    const item = await this.inner.get(pk, sk);
    this.counter.counts.metaReads++;
    this.counter.counts.readUnits += readUnits(item ? itemBytes(pk, sk, item.data) : 0);
    return item;
  }
  async query(pk: string, range?: SkRange): Promise<Item[]> {
    const items = await this.inner.query(pk, range);
    this.counter.counts.metaReads++;
    this.counter.counts.readUnits += readUnits(items.reduce((s, i) => s + itemBytes(i.pk, i.sk, i.data), 0));
    return items;
  }
  async write(ops: WriteOp[]): Promise<WriteResult> {
    const res = await this.inner.write(ops);
    const tx = ops.length > 1;
    this.counter.counts.metaWrites++;
    if (tx) this.counter.counts.metaTransactions++;
    this.counter.counts.writeUnits += writeUnits(
      ops.map((op) => (op.op === 'put' ? itemBytes(op.pk, op.sk, op.data) : 0)),
      tx,
    );
    return res;
  }
  close() {
    return this.inner.close?.() ?? Promise.resolve();
  }
}

export class CountingObjectStore implements ObjectStore {
  constructor(
    private readonly inner: ObjectStore,
    private readonly counter: Counter,
  ) {}
  get name() {
    return this.inner.name;
  }
  async putIfAbsent(key: string, body: Uint8Array) {
    this.counter.counts.s3Put++;
    this.counter.counts.bytesUploaded += body.byteLength;
    return this.inner.putIfAbsent(key, body);
  }
  async get(key: string, range?: ByteRange) {
    this.counter.counts.s3Get++;
    const b = await this.inner.get(key, range);
    this.counter.counts.bytesRetrieved += b?.byteLength ?? 0;
    return b;
  }
  async delete(key: string) {
    this.counter.counts.s3Delete++;
    return this.inner.delete(key);
  }
  async list(prefix: string, options?: { startAfter?: string; limit?: number }): Promise<ListPage> {
    this.counter.counts.s3List++;
    return this.inner.list(prefix, options);
  }
}

export type CostAdapters = 'aws' | 'local';

/** The core on counting wrappers around the AWS adapters on the emulators (their env must be set). */
async function awsContext(replicationFactor: number, counter: Counter) {
  const { S3ObjectStore } = await import('../../lib/adapters/aws/s3-object-store');
  const { DynamoDBMetadataStore } = await import('../../lib/adapters/aws/dynamodb-metadata-store');
  const { emulatorClients, freshBucket, freshTable } = await import('../../test/helpers/emulators');
  const { s3, dynamo } = emulatorClients();
  const stores: ObjectStore[] = [];
  for (let i = 0; i < Math.max(1, replicationFactor); i++) {
    stores.push(new CountingObjectStore(new S3ObjectStore({ name: `s${i}`, bucket: await freshBucket(), client: s3 }), counter));
  }
  const meta = new CountingMetadataStore(new DynamoDBMetadataStore({ table: await freshTable(), client: dynamo }), counter);
  const ctx: CoreContext = { meta, stores, clock: systemClock, ids: randomIds, settings: makeSettings({}) };
  return { ctx, close: async () => undefined };
}

async function makeContext(replicationFactor: number, counter: Counter, adapters: CostAdapters = 'local') {
  if (adapters === 'aws') return awsContext(replicationFactor, counter);
  const base = process.platform === 'linux' ? '/dev/shm' : os.tmpdir();
  const dir = mkdtempSync(path.join(base, 'ferry-cost-'));
  const stores: ObjectStore[] = [];
  for (let i = 0; i < Math.max(1, replicationFactor); i++) {
    stores.push(new CountingObjectStore(await new FsObjectStore(`s${i}`, path.join(dir, `s${i}`)).open(), counter));
  }
  const meta = new CountingMetadataStore(new SqliteMetadataStore(':memory:'), counter);
  const ctx: CoreContext = { meta, stores, clock: systemClock, ids: randomIds, settings: makeSettings({}) };
  return {
    ctx,
    async close() {
      await meta.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const enc = new TextEncoder();

function records(payloads: Payloads, count: number, partitions: number, first: number, size: number): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({
    key: null,
    value: { encoding: 'json' as const, bytes: enc.encode(JSON.stringify(payloads.value(size))) },
    headers: {},
    partition: (first + i) % partitions,
  }));
}

/**
 * Produces `totalRecords` in requests of `batch` records, each request touching `partitionsPerRequest`
 * partitions (batch 1: one), one request at a time (each a separate Lambda invocation on AWS, so nothing
 * coalesces), through the idempotent producer as the default client sends them; then one group member reads
 * every partition with the member fetch (one request for all its partitions, up to 1 000 records) and commits
 * what each fetch returned in one commit request. Wall time per call is measured too (on the emulators: a
 * stand-in for the Lambda's billed duration, stated as such).
 */
export async function countWorkload(opts: {
  batch: number;
  partitionsPerRequest: number;
  totalRecords: number;
  replicationFactor: number;
  size?: number;
  payloads: Payloads;
  adapters?: CostAdapters;
  onProgress?: (fraction: number) => void;
}): Promise<Workload> {
  const counter = new Counter();
  const { ctx, close } = await makeContext(opts.replicationFactor, counter, opts.adapters);
  try {
    const log = createCore(ctx).log;
    const partitions = Math.max(12, opts.partitionsPerRequest);
    await log.topics.create({ name: 'cost', partitions, replicationFactor: opts.replicationFactor });
    const producer = await log.producers.init();
    counter.take();
    const requests = Math.ceil(opts.totalRecords / opts.batch);
    const spread = Math.min(opts.batch, opts.partitionsPerRequest);
    const ms = { produce: 0, fetch: 0, commit: 0 };
    for (let i = 0; i < requests; i++) {
      // Batch 1 walks the partitions round-robin; larger batches start at a rotating partition.
      const batch = records(opts.payloads, opts.batch, spread, i, opts.size ?? 1024).map((r) => ({
        ...r,
        partition: (r.partition! + i) % partitions,
      }));
      const t0 = performance.now();
      await log.produce('cost', batch, { producer: { ...producer, sequence: i } });
      ms.produce += performance.now() - t0;
      if (opts.onProgress && i % 200 === 0) opts.onProgress((0.8 * i) / requests);
    }
    const produced = counter.take();
    // Joined now, with a long session, so no heartbeat is needed while counting (heartbeats are a fixed cost).
    const member = await log.groups.join('cost', { topics: ['cost'], sessionTimeoutMs: 300_000 });
    counter.take();
    let fetches = 0;
    let commits = 0;
    let consumed = 0;
    for (;;) {
      const t0 = performance.now();
      const res = await log.groups.fetch('cost', member.memberId, { maxRecords: 1000, maxBytes: 16 * 1024 * 1024, waitMs: 0 });
      ms.fetch += performance.now() - t0;
      const offsets = res.partitions
        .filter((p) => p.records.length)
        .map((p) => ({ topic: p.topic, partition: p.partition, offset: p.nextOffset }));
      if (offsets.length === 0) break;
      fetches++;
      consumed += res.partitions.reduce((n, p) => n + p.records.length, 0);
      const t1 = performance.now();
      await log.groups.commit('cost', { memberId: member.memberId, generation: member.generation, offsets });
      ms.commit += performance.now() - t1;
      commits++;
    }
    // The final empty poll is not billed here: a caught-up member long-polls instead (a fixed cost).
    const consumedCounts = counter.take();
    opts.onProgress?.(1);
    return {
      batch: opts.batch,
      partitionsPerRequest: spread,
      produce: { requests, records: requests * opts.batch, counts: produced },
      consume: { fetches, commits, records: consumed, counts: consumedCounts },
      storedBytesPerRecord: produced.bytesUploaded / opts.replicationFactor / (requests * opts.batch),
      measuredMs: { produce: ms.produce / requests, fetch: ms.fetch / Math.max(1, fetches), commit: ms.commit / Math.max(1, commits) },
    };
  } finally {
    await close();
  }
}

/** S3 PUTs, metadata writes and write units of ONE produce request of `batch` records touching `partitions`. */
export async function countOneRequest(opts: {
  batch: number;
  partitions: number;
  replicationFactor: number;
  payloads: Payloads;
  adapters?: CostAdapters;
}) {
  const counter = new Counter();
  const { ctx, close } = await makeContext(opts.replicationFactor, counter, opts.adapters);
  try {
    const log = createCore(ctx).log;
    await log.topics.create({ name: 'one', partitions: Math.max(opts.partitions, 12), replicationFactor: opts.replicationFactor });
    const producer = await log.producers.init();
    // warm the topic cache and the heads, as a busy container has them
    await log.produce('one', records(opts.payloads, opts.batch, opts.partitions, 0, 1024), { producer: { ...producer, sequence: 0 } });
    counter.take();
    await log.produce('one', records(opts.payloads, opts.batch, opts.partitions, 0, 1024), { producer: { ...producer, sequence: 1 } });
    return counter.take();
  } finally {
    await close();
  }
}
