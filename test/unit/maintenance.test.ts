/** G8: retention never deletes unexpired or referenced data; orphans are collected only after the grace period. */
import { metaKeys, objectKeys } from '../../lib/core/storage/keys';
import { makeLocalLog, rec, text, type LocalLog } from '../helpers/local-log';

const HOUR = 3_600_000;
const all = { maxRecords: 10_000, maxBytes: 64 << 20, waitMs: 0 };

describe('retention and garbage collection', () => {
  let l: LocalLog;
  beforeEach(async () => {
    l = await makeLocalLog();
  });
  afterEach(async () => l.cleanup());

  const objects = async () => (await l.stores[0].list('topics/')).objects.map((o) => o.key);

  it('deletes whole entries past retentionMs, advances logStartOffset, and keeps everything unexpired', async () => {
    await l.log.topics.create({ name: 't', partitions: 1, retentionMs: 2 * HOUR });
    await l.log.produce('t', [rec('old-1'), rec('old-2')]);
    l.clock.advance(HOUR);
    await l.log.produce('t', [rec('mid')]);
    l.clock.advance(HOUR / 2);
    expect((await l.maintenance.run()).entriesDeleted).toBe(0); // nothing expired yet
    l.clock.advance(HOUR); // old: 2.5 h, mid: 1.5 h
    await l.log.produce('t', [rec('new')]);
    const report = await l.maintenance.run();
    expect(report.entriesDeleted).toBe(1);
    const read = await l.log.fetch('t', 0, undefined, all);
    expect(read.logStartOffset).toBe(2n);
    expect(read.records.map((r) => text(r.value.bytes))).toEqual(['"mid"', '"new"']);
    await expect(l.log.fetch('t', 0, 0n, all)).rejects.toMatchObject({
      kind: 'offset_out_of_range',
      details: { logStartOffset: '2', highWatermark: '4' },
    });
    // Offsets keep counting after retention: the next record is 4.
    expect((await l.log.produce('t', [rec('after')]))[0]).toMatchObject({ offset: 4n });
  });

  it('keeps the newest retentionBytes, deleting from the oldest entry', async () => {
    await l.log.topics.create({ name: 'b', partitions: 1, retentionMs: -1, retentionBytes: 200 });
    for (let i = 0; i < 10; i++) await l.log.produce('b', [rec('x'.repeat(50))]);
    await l.maintenance.run();
    const read = await l.log.fetch('b', 0, undefined, all);
    expect(read.records.length).toBeGreaterThan(0);
    expect(read.records.length).toBeLessThan(10);
    expect(read.logStartOffset).toBe(BigInt(10 - read.records.length));
    expect(read.records.at(-1)!.offset).toBe(9n);
  });

  it('collects an orphan object only after the grace period, never a referenced one', async () => {
    await l.log.topics.create({ name: 'g', partitions: 2, retentionMs: -1 });
    await l.log.produce('g', [rec(1, { partition: 0 }), rec(2, { partition: 1 })]);
    const topic = await l.log.topics.get('g');
    // An upload whose commit never happened (a crash between PUT and commit):
    const orphan = objectKeys.segment(topic.topicId, l.ctx.ids.timeOrderedId(l.clock.now()));
    await l.stores[0].putIfAbsent(orphan, new Uint8Array([1, 2, 3]));
    expect(await objects()).toHaveLength(2);
    l.clock.advance(l.ctx.settings.orphanGraceMs - 1000);
    expect((await l.maintenance.run()).objectsDeleted).toBe(0);
    l.clock.advance(2000);
    expect((await l.maintenance.run()).objectsDeleted).toBe(1);
    expect(await objects()).toHaveLength(1);
    expect(await objects()).not.toContain(orphan);
    const read = await l.log.fetch('g', 1, 0n, all);
    expect(read.records.map((r) => text(r.value.bytes))).toEqual(['2']);
    // Much later, still referenced: still there.
    l.clock.advance(100 * HOUR);
    await l.maintenance.run();
    expect(await objects()).toHaveLength(1);
  });

  it('keeps an object referenced by one partition after another partition’s entry expired', async () => {
    await l.log.topics.create({ name: 's', partitions: 2, retentionMs: HOUR });
    await l.log.produce('s', [rec('p0', { partition: 0 }), rec('p1', { partition: 1, timestamp: l.clock.now() + 10 * HOUR })]);
    l.clock.advance(2 * HOUR + l.ctx.settings.orphanGraceMs);
    const report = await l.maintenance.run();
    expect(report.entriesDeleted).toBe(1);
    expect(report.objectsDeleted).toBe(0);
    const read = await l.log.fetch('s', 1, 0n, all);
    expect(read.records.map((r) => text(r.value.bytes))).toEqual(['"p1"']);
  });

  it('purges a deleted topic: objects and index, without touching a new topic of the same name', async () => {
    await l.log.topics.create({ name: 'd', partitions: 3 });
    await l.log.produce('d', [rec(1), rec(2), rec(3)]);
    await l.log.topics.delete('d');
    await l.log.topics.create({ name: 'd', partitions: 1 });
    await l.log.produce('d', [rec('new')]);
    const report = await l.maintenance.run();
    expect(report.topicsPurged).toBe(1);
    expect(await objects()).toHaveLength(1);
    const read = await l.log.fetch('d', 0, 0n, all);
    expect(read.records.map((r) => text(r.value.bytes))).toEqual(['"new"']);
    expect((await l.maintenance.run()).topicsPurged).toBe(0);
  });
});

describe('replication and repair', () => {
  let l: LocalLog;
  beforeEach(async () => {
    l = await makeLocalLog({ stores: 2 });
  });
  afterEach(async () => l.cleanup());

  it('writes every segment to R stores, reads from the other when one loses it, and repair restores it', async () => {
    await l.log.topics.create({ name: 'r', partitions: 2, replicationFactor: 2 });
    for (let i = 0; i < 5; i++) await l.log.produce('r', [rec(i, { partition: i % 2 })]);
    const [a, b] = l.stores;
    const keys = (await a.list('topics/')).objects.map((o) => o.key);
    expect((await b.list('topics/')).objects.map((o) => o.key)).toEqual(keys);
    for (const k of keys) await b.delete(k);
    // The object holding partition 0's first record:
    const topic = await l.log.topics.get('r');
    const pk = metaKeys.partitionPk(topic.topicId, 0);
    const [first] = await l.log.index.entries(pk, await l.log.index.head(pk));
    const damaged = first.objectKey;
    const bytes = Buffer.from((await a.get(damaged))!);
    bytes[bytes.length - 2] ^= 0xff;
    await a.delete(damaged);
    await a.putIfAbsent(damaged, bytes); // copy A of the first object is damaged, copy B is gone
    await expect(l.log.fetch('r', 0, 0n, all)).rejects.toMatchObject({ kind: 'data' });
    const p1 = await l.log.fetch('r', 1, 0n, all);
    expect(p1.records.map((r) => text(r.value.bytes))).toEqual(['1', '3']);
    expect(l.log.fetcher.stats.replicaFallbacks).toBeGreaterThan(0);
    // Repair copies every intact object back to B; the damaged-everywhere one stays a data error.
    const repaired = await l.maintenance.repair(await l.log.topics.get('r'));
    expect(repaired).toBe(keys.length - 1);
    expect((await b.list('topics/')).objects).toHaveLength(keys.length - 1);
  });

  it('answers unavailable (retriable), not data, when a store fails to answer', async () => {
    await l.log.topics.create({ name: 'u', partitions: 1, replicationFactor: 2 });
    await l.log.produce('u', [rec('x')]);
    const [a, b] = l.stores;
    const down = () => Promise.reject(new Error('connection reset'));
    const getA = a.get.bind(a);
    (a as { get: typeof a.get }).get = down;
    expect((await l.log.fetch('u', 0, 0n, all)).records).toHaveLength(1); // b answers
    (b as { get: typeof b.get }).get = down;
    await expect(l.log.fetch('u', 0, 0n, all)).rejects.toMatchObject({ kind: 'unavailable' });
    (a as { get: typeof a.get }).get = getA; // a answers again, b still down: still readable
    expect((await l.log.fetch('u', 0, 0n, all)).records).toHaveLength(1);
  });

  it('refuses replicationFactor above the number of stores, with the numbers', async () => {
    await expect(l.log.topics.create({ name: 'x', partitions: 1, replicationFactor: 3 })).rejects.toThrow(
      /replicationFactor must be from 1 to the number of object stores \(2\); got 3/,
    );
  });
});

describe('delayed delivery', () => {
  let l: LocalLog;
  beforeEach(async () => {
    l = await makeLocalLog();
  });
  afterEach(async () => l.cleanup());

  it('moves each due record exactly once, never early, with three movers racing (G9)', async () => {
    await l.log.topics.create({ name: 'later', partitions: 3 });
    const now = l.clock.now();
    const inputs = Array.from({ length: 30 }, (_, i) => rec(`d${i}`, { partition: i % 3, deliverAt: now + 1000 + (i % 5) * 1000 }));
    const answers = await l.log.produce('later', inputs);
    expect(answers.every((a) => 'scheduledId' in a)).toBe(true);
    const movers = [l.log, l.twin(), l.twin()];
    const topic = await l.log.topics.get('later');
    const seen: string[] = [];
    for (let step = 0; step <= 6; step++) {
      const moved = await Promise.all(movers.map((m) => m.scheduler.moveDue(topic)));
      const due = inputs.filter((r) => r.deliverAt! <= l.clock.now()).length;
      expect(moved.reduce((a, b) => a + b, 0)).toBe(due - seen.length);
      for (let p = 0; p < 3; p++) {
        const read = await l.log.fetch('later', p, 0n, all);
        for (const r of read.records) {
          const value = JSON.parse(text(r.value.bytes));
          if (!seen.includes(value)) seen.push(value);
        }
      }
      expect(seen).toHaveLength(due); // none early, none missing
      l.clock.advance(1000);
    }
    let total = 0;
    for (let p = 0; p < 3; p++) total += (await l.log.fetch('later', p, 0n, all)).records.length;
    expect(total).toBe(30); // none twice
    expect(await l.log.scheduler.list(topic, 100)).toEqual([]);
  });

  it('keeps delayed records across a restart and refuses absurd times', async () => {
    await l.log.topics.create({ name: 'keep', partitions: 1 });
    await l.log.produce('keep', [rec('x', { deliverAt: l.clock.now() + 5000 })]);
    const restarted = l.twin();
    l.clock.advance(5000);
    expect(await restarted.scheduler.moveDue(await restarted.topics.get('keep'))).toBe(1);
    await expect(l.log.produce('keep', [rec('y', { deliverAt: l.clock.now() - 3_600_000 })])).rejects.toMatchObject({ kind: 'invalid' });
    await expect(l.log.produce('keep', [rec('y', { deliverAt: Number.NaN })])).rejects.toMatchObject({ kind: 'invalid' });
  });
});

describe('idempotent producer', () => {
  let l: LocalLog;
  beforeEach(async () => {
    l = await makeLocalLog();
  });
  afterEach(async () => l.cleanup());

  it('stores a batch once when two retries race, both answering the same offsets (G5)', async () => {
    await l.log.topics.create({ name: 'i', partitions: 2 });
    const p = await l.log.producers.init();
    const send = (log = l.log) =>
      log.produce('i', [rec('a', { partition: 0 }), rec('b', { partition: 1 })], { producer: { ...p, sequence: 0 } });
    const [x, y, z] = await Promise.all([send(), send(l.twin()), send()]);
    expect(y).toEqual(x);
    expect(z).toEqual(x);
    const read = await l.log.fetch('i', 0, 0n, all);
    expect(read.records).toHaveLength(1);
  });

  it('survives a restart: a retry after it still answers the original offsets', async () => {
    await l.log.topics.create({ name: 'j', partitions: 1 });
    const p = await l.log.producers.init();
    const first = await l.log.produce('j', [rec(1)], { producer: { ...p, sequence: 0 } });
    const again = await l.twin().produce('j', [rec(1)], { producer: { ...p, sequence: 0 } });
    expect(again).toEqual(first);
  });

  it('a stale epoch can never commit, even when it passed the first check (G7)', async () => {
    await l.log.topics.create({ name: 'k', partitions: 1 });
    const p = await l.log.producers.init('worker-1');
    const topic = await l.log.topics.get('k');
    const claimed = await l.log.producers.claim(topic, { ...p, sequence: 0 }, [0]);
    if (!('claim' in claimed)) throw new Error('expected a claim');
    await l.log.producers.init('worker-1'); // a new instance takes over: epoch 1
    const stale = l.log.appender.append(
      topic,
      [{ partition: 0, record: { key: null, value: rec(1).value, headers: {}, timestamp: 1 } }],
      claimed.claim,
    );
    await expect(stale).rejects.toMatchObject({ kind: 'fenced' });
    expect((await l.log.fetch('k', 0, 0n, all)).records).toHaveLength(0);
  });
});
