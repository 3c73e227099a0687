/**
 * Counts what the core asks of its ports, as S3 and DynamoDB would bill it, by running the real core (Log)
 * on counting wrappers around a MetadataStore and ObjectStores.
 *
 * Today the wrappers go around the LOCAL adapters (SQLite in memory, FsObjectStore on tmpfs so fsyncs cost
 * nothing): the core makes the same port calls whichever adapter is underneath, so the counts are what the AWS
 * adapters would receive. Only the translation of a call into billed units is modelled (see `itemBytes`,
 * `writeUnits`): a one-item write is a conditional PutItem (1 unit per KB); a multi-item write is a
 * TransactWriteItems (2 units per KB per item, a condition check included). When lib/adapters/aws lands,
 * `makeContext` can build the same wrappers around S3ObjectStore / DynamoDBMetadataStore on the emulators.
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

/** The core on counting wrappers around the local adapters, in a scratch directory (tmpfs when there is one). */
async function makeContext(replicationFactor: number, counter: Counter) {
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
 * coalesces); then one group reads every partition 1 000 records at a time and commits after each fetch.
 * The commit is a stand-in until the groups feature lands: a two-item transaction (generation check +
 * offset put), as DESIGN.md's fenced commit needs.
 */
export async function countWorkload(opts: {
  batch: number;
  partitionsPerRequest: number;
  totalRecords: number;
  replicationFactor: number;
  size?: number;
  payloads: Payloads;
  onProgress?: (fraction: number) => void;
}): Promise<Workload> {
  const counter = new Counter();
  const { ctx, close } = await makeContext(opts.replicationFactor, counter);
  try {
    const log = createCore(ctx).log;
    const partitions = Math.max(12, opts.partitionsPerRequest);
    await log.topics.create({ name: 'cost', partitions, replicationFactor: opts.replicationFactor });
    counter.take();
    const requests = Math.ceil(opts.totalRecords / opts.batch);
    const spread = Math.min(opts.batch, opts.partitionsPerRequest);
    for (let i = 0; i < requests; i++) {
      // Batch 1 walks the partitions round-robin; larger batches start at a rotating partition.
      await log.produce(
        'cost',
        records(opts.payloads, opts.batch, spread, i, opts.size ?? 1024).map((r) => ({ ...r, partition: (r.partition! + i) % partitions })),
      );
      if (opts.onProgress && i % 200 === 0) opts.onProgress((0.8 * i) / requests);
    }
    const produced = counter.take();
    let fetches = 0;
    let consumed = 0;
    for (let p = 0; p < partitions; p++) {
      let offset = 0n;
      for (;;) {
        const r = await log.fetch('cost', p, offset, { maxRecords: 1000, maxBytes: 16 * 1024 * 1024, waitMs: 0 });
        if (r.records.length === 0) break;
        fetches++;
        consumed += r.records.length;
        offset = r.nextOffset;
        await ctx.meta.write([
          { op: 'check', pk: 'g#bench', sk: 'generation', expect: 'absent' },
          { op: 'put', pk: 'g#bench', sk: `o#cost#${p}`, data: { offset: offset.toString(), generation: 1 } },
        ]);
      }
    }
    // The final empty poll of each partition is not billed here: a caught-up group long-polls instead.
    const consumedCounts = counter.take();
    opts.onProgress?.(1);
    return {
      batch: opts.batch,
      partitionsPerRequest: spread,
      produce: { requests, records: requests * opts.batch, counts: produced },
      consume: { fetches, commits: fetches, records: consumed, counts: consumedCounts },
      storedBytesPerRecord: produced.bytesUploaded / opts.replicationFactor / (requests * opts.batch),
    };
  } finally {
    await close();
  }
}

/** S3 PUTs, metadata writes and write units of ONE produce request of `batch` records touching `partitions`. */
export async function countOneRequest(opts: { batch: number; partitions: number; replicationFactor: number; payloads: Payloads }) {
  const counter = new Counter();
  const { ctx, close } = await makeContext(opts.replicationFactor, counter);
  try {
    const log = createCore(ctx).log;
    await log.topics.create({ name: 'one', partitions: Math.max(opts.partitions, 12), replicationFactor: opts.replicationFactor });
    await log.produce('one', records(opts.payloads, opts.batch, opts.partitions, 0, 1024)); // warm the topic cache
    counter.take();
    await log.produce('one', records(opts.payloads, opts.batch, opts.partitions, 0, 1024));
    return counter.take();
  } finally {
    await close();
  }
}
