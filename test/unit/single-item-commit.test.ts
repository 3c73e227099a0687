/**
 * The commit as DynamoDB sees it (storage/partition-index.ts, log/append/commit.ts): where multi-item writes
 * are costly, a produce request is one conditional single-item write per partition batch — no transaction —
 * idempotent or not; the head's tail moves to chunks so the head stays under one write unit; a request that
 * committed some partitions and failed is completed by its retry without duplicates; stale epochs are refused
 * by every partition the newer epoch wrote; old stores (one item per entry) read on.
 */
import { createCore } from '../../lib/core/create-core';
import { metaKeys } from '../../lib/core/storage/keys';
import { chunkCodec, headCodec, ARCHIVE_AT_BYTES } from '../../lib/core/storage/partition-index';
import type { Log } from '../../lib/core/log/log';
import type { WriteOp, WriteResult } from '../../lib/ports/metadata-store';
import { ForwardingMetadataStore } from '../helpers/forwarding-metadata-store';
import { makeLocalLog, rec, text, type LocalLog } from '../helpers/local-log';

/** SQLite behaving as DynamoDB is priced: multi-item writes are transactions (costly), at most 100 ops. */
class CostlyStore extends ForwardingMetadataStore {
  readonly writes: WriteOp[][] = [];
  /** Applies the write, then throws (an unknown outcome), for writes matching this. */
  landThenFail?: (ops: WriteOp[]) => boolean;

  override get multiItemWrites() {
    return 'costly' as const;
  }

  override get maxOpsPerWrite() {
    return 100;
  }

  override async write(ops: WriteOp[]): Promise<WriteResult> {
    this.writes.push(ops);
    const res = await super.write(ops);
    if (this.landThenFail?.(ops)) {
      this.landThenFail = undefined;
      throw new Error('connection reset after the write landed');
    }
    return res;
  }
}

const all = { maxRecords: 100_000, maxBytes: 64 << 20, waitMs: 0 };

describe('single-item commits (DynamoDB pricing)', () => {
  let l: LocalLog;
  let meta: CostlyStore;
  let log: Log;
  beforeEach(async () => {
    l = await makeLocalLog();
    meta = new CostlyStore(l.ctx.meta);
    log = createCore({ ...l.ctx, meta }).log;
  });
  afterEach(async () => l.cleanup());

  const values = async (topic: string, partition: number, from = 0n) =>
    (await log.fetch(topic, partition, from, all)).records.map((r) => JSON.parse(text(r.value.bytes)) as number);

  it('a plain request to 12 partitions is 12 single-item writes, and every record reads back', async () => {
    await log.topics.create({ name: 'plain', partitions: 12 });
    meta.writes.length = 0;
    await log.produce(
      'plain',
      Array.from({ length: 1000 }, (_, i) => rec(i, { partition: i % 12 })),
    );
    expect(meta.writes.map((w) => w.length)).toEqual(new Array(12).fill(1));
    expect(meta.writes.every((w) => w[0].op === 'put' && w[0].sk === metaKeys.headSk)).toBe(true);
    for (let p = 0; p < 12; p++) expect((await values('plain', p)).every((v) => v % 12 === p)).toBe(true);
  });

  it('an idempotent request is single-item writes too: a head per partition, then its ring slot', async () => {
    await log.topics.create({ name: 'idem', partitions: 12 });
    const producer = await log.producers.init();
    meta.writes.length = 0;
    const records = Array.from({ length: 120 }, (_, i) => rec(i, { partition: i % 12 }));
    const first = await log.produce('idem', records, { producer: { ...producer, sequence: 0 } });
    expect(meta.writes.every((w) => w.length === 1)).toBe(true);
    expect(meta.writes).toHaveLength(13);
    // A retry answers the same offsets and stores nothing.
    meta.writes.length = 0;
    expect(await log.produce('idem', records, { producer: { ...producer, sequence: 0 } })).toEqual(first);
    expect(meta.writes).toHaveLength(0);
  });

  it("moves the head's tail to chunks: the head stays under one write unit and every offset reads back", async () => {
    await log.topics.create({ name: 'tail', partitions: 1 });
    for (let i = 0; i < 200; i++) await log.produce('tail', [rec(i, { partition: 0 })]);
    const topic = await log.topics.get('tail');
    const pk = metaKeys.partitionPk(topic.topicId, 0);
    const head = await l.ctx.meta.get(pk, metaKeys.headSk);
    expect(JSON.stringify(head!.data).length).toBeLessThanOrEqual(ARCHIVE_AT_BYTES + 120);
    const chunks = await log.index.chunks(pk);
    expect(chunks.length).toBeGreaterThan(10);
    expect(chunks.every((c) => c.entries.length > 1)).toBe(true);
    // Writes: one head put per request, plus one chunk put every few requests; never a transaction.
    const units = meta.writes.filter((w) => w.some((o) => o.pk === pk));
    expect(units.every((w) => w.length === 1)).toBe(true);
    expect(units.length).toBeLessThan(200 + 200 / 4);
    expect(await values('tail', 0)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    for (const from of [1n, 57n, 123n, 199n]) expect((await values('tail', 0, from))[0]).toBe(Number(from));
    // A stale writer's chunk overlapping others states the same facts: it is read once.
    const inner = chunks[3];
    const overlap = [...inner.entries.slice(1), ...chunks[4].entries];
    await l.ctx.meta.write([{ op: 'put', pk, sk: metaKeys.entrySk(overlap[0].baseOffset), data: chunkCodec.encode(overlap, pk) }]);
    expect(await values('tail', 0)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('a request that committed some partitions and then failed is completed by its retry, once', async () => {
    await log.topics.create({ name: 'half', partitions: 2 });
    const topic = await log.topics.get('half');
    const producer = await log.producers.init();
    const records = [rec('a0', { partition: 0 }), rec('b0', { partition: 1 }), rec('a1', { partition: 0 })];
    const p1 = metaKeys.partitionPk(topic.topicId, 1);
    meta.landThenFail = (ops) => ops.some((o) => o.pk === p1);
    await expect(log.produce('half', records, { producer: { ...producer, sequence: 0 } })).rejects.toThrow();
    // Another process takes the retry (no cache of the first): partition 1's batch landed, partition 0's maybe.
    const retry = createCore({ ...l.ctx, meta }).log;
    const answer = await retry.produce('half', records, { producer: { ...producer, sequence: 0 } });
    expect(answer.map((r) => ('offset' in r ? [r.partition, r.offset] : r))).toEqual([
      [0, 0n],
      [1, 0n],
      [0, 1n],
    ]);
    expect(await values('half', 0)).toEqual(['a0', 'a1']);
    expect(await values('half', 1)).toEqual(['b0']);
    // The next sequence follows on.
    await retry.produce('half', [rec('b1', { partition: 1 })], { producer: { ...producer, sequence: 1 } });
    expect(await values('half', 1)).toEqual(['b0', 'b1']);
  });

  it('a stale epoch is refused by a partition the newer epoch has written, even past the claim', async () => {
    await log.topics.create({ name: 'fence', partitions: 1 });
    const topic = await log.topics.get('fence');
    const old = await log.producers.init();
    await log.produce('fence', [rec(1, { partition: 0 })], { producer: { ...old, sequence: 0 } });
    const newer = await log.producers.init(old.id);
    await log.produce('fence', [rec(2, { partition: 0 })], { producer: { ...newer, sequence: 0 } });
    // A zombie request of the old epoch that passed its claim before the new epoch was issued:
    const zombie = {
      producerId: old.id,
      epoch: old.epoch,
      sequence: 1,
      producerVersion: 1,
      slotVersion: 'absent' as const,
      previousVersion: 1,
    };
    const stale = log.appender.append(topic, [{ partition: 0, record: { ...rec(3), timestamp: 0 } as never }], zombie);
    await expect(stale).rejects.toMatchObject({ kind: 'fenced' });
    expect(await values('fence', 0)).toEqual([1, 2]);
  });

  it('reads a store written before chunks (one item per entry) and commits on after it', async () => {
    await log.topics.create({ name: 'old', partitions: 1 });
    for (let i = 0; i < 3; i++) await log.produce('old', [rec(i, { partition: 0 })]);
    const topic = await log.topics.get('old');
    const pk = metaKeys.partitionPk(topic.topicId, 0);
    const head = headCodec.decode(await l.ctx.meta.get(pk, metaKeys.headSk));
    // Rewrite it in the layout of earlier versions: a head of two offsets, an item per entry.
    const ops: WriteOp[] = [{ op: 'put', pk, sk: metaKeys.headSk, data: { nextOffset: '3', logStartOffset: '0' } }];
    for (const e of head.tail) {
      ops.push({
        op: 'put',
        pk,
        sk: metaKeys.entrySk(e.baseOffset),
        data: { ...e, baseOffset: e.baseOffset.toString() },
      });
    }
    await l.ctx.meta.write(ops);
    const fresh = createCore({ ...l.ctx, meta }).log;
    expect((await fresh.fetch('old', 0, 0n, all)).records.map((r) => text(r.value.bytes))).toEqual(['0', '1', '2']);
    await fresh.produce('old', [rec(3, { partition: 0 })]);
    expect((await fresh.fetch('old', 0, 1n, all)).records.map((r) => text(r.value.bytes))).toEqual(['1', '2', '3']);
  });
});
