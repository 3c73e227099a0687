/**
 * A group member's fetch (`log.groups.fetch`, `POST /v1/groups/{g}/members/{m}/fetch`): every owned partition
 * in one long poll, one object read per segment object however many partitions it holds, the budget shared,
 * a damaged shared read falling back per batch, and the member's ownership checked.
 */
import { systemClock } from '../../lib/adapters/system';
import { createCore } from '../../lib/core/create-core';
import { RecordingObjectStore } from '../helpers/recording';
import { makeLocalLog, rec, text, type LocalLog } from '../helpers/local-log';
import type { Log } from '../../lib/core/log/log';

describe('member fetch', () => {
  let l: LocalLog;
  let stores: RecordingObjectStore[];
  let log: Log;
  beforeEach(async () => {
    l = await makeLocalLog({ stores: 2 });
    stores = l.stores.map((s) => new RecordingObjectStore(s));
    log = createCore({ ...l.ctx, stores }).log;
  });
  afterEach(async () => l.cleanup());

  const opts = { maxRecords: 10_000, maxBytes: 64 << 20, waitMs: 0 };
  const values = (p: { records: Array<{ value: { bytes: Uint8Array } }> }) =>
    p.records.map((r) => JSON.parse(text(r.value.bytes)) as string);

  it('reads every owned partition from its committed offset, one GET per segment object', async () => {
    await log.topics.create({ name: 'orders', partitions: 12, replicationFactor: 2 });
    for (let round = 0; round < 3; round++) {
      await log.produce(
        'orders',
        Array.from({ length: 12 }, (_, p) => rec(`${round}-${p}`, { partition: p })),
      );
    }
    const m = await log.groups.join('g', { topics: ['orders'] });
    await log.groups.commit('g', {
      memberId: m.memberId,
      generation: m.generation,
      offsets: [{ topic: 'orders', partition: 5, offset: 2n }],
    });
    stores.forEach((s) => s.reset());
    const res = await log.groups.fetch('g', m.memberId, opts);
    expect(res.generation).toBe(m.generation);
    expect(res.partitions.map((p) => p.partition).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, p) => p));
    for (const p of res.partitions) {
      expect(values(p)).toEqual((p.partition === 5 ? [2] : [0, 1, 2]).map((r) => `${r}-${p.partition}`));
      expect(p.highWatermark).toBe(3n);
    }
    // Three objects (one per produce request) hold all 36 batches: three reads, one per object (from one of its copies).
    expect(stores[0].counts.gets + stores[1].counts.gets).toBe(3);
    // The budget is shared evenly: 12 records are one of each partition — the first object, one read.
    await log.groups.leave('g', m.memberId);
    await log.groups.seek('g', { topic: 'orders', to: 'earliest' });
    const again = await log.groups.join('g', { topics: ['orders'] });
    stores.forEach((s) => s.reset());
    const fair = await log.groups.fetch('g', again.memberId, { ...opts, maxRecords: 12 });
    expect(fair.partitions.map((p) => values(p))).toEqual(fair.partitions.map((p) => [`0-${p.partition}`]));
    expect(stores[0].counts.gets + stores[1].counts.gets).toBe(1);
  });

  it('long-polls until any partition has a record, and shares maxRecords over the partitions', async () => {
    log = createCore({ ...l.ctx, stores, clock: systemClock }).log; // a real wait
    await log.topics.create({ name: 'orders', partitions: 3 });
    const m = await log.groups.join('g', { topics: ['orders'] });
    const waiting = log.groups.fetch('g', m.memberId, { ...opts, waitMs: 30_000 });
    await new Promise((r) => setTimeout(r, 50));
    await log.produce('orders', [rec('late', { partition: 2 })]);
    const res = await waiting;
    expect(res.partitions.find((p) => p.partition === 2)!.records).toHaveLength(1);
    await log.produce(
      'orders',
      Array.from({ length: 30 }, (_, i) => rec(i, { partition: i % 3 })),
    );
    const capped = await log.groups.fetch('g', m.memberId, { ...opts, maxRecords: 7 });
    expect(capped.partitions.reduce((n, p) => n + p.records.length, 0)).toBe(7);
  });

  it('reads only the positions named, from their offsets, and refuses a partition the member does not own', async () => {
    await log.topics.create({ name: 'orders', partitions: 2 });
    await log.produce('orders', [rec('a', { partition: 0 }), rec('b', { partition: 0 }), rec('c', { partition: 1 })]);
    const a = await log.groups.join('g', { topics: ['orders'] });
    const b = await log.groups.join('g', { topics: ['orders'] });
    const view = await log.groups.heartbeat('g', a.memberId);
    const mine = view.assignments[0].partitions[0];
    const res = await log.groups.fetch('g', a.memberId, { ...opts, positions: [{ topic: 'orders', partition: mine, offset: 1n }] });
    expect(res.partitions).toHaveLength(1);
    expect(res.partitions[0].records.map((r) => r.offset)).toEqual(mine === 0 ? [1n] : []);
    await expect(
      log.groups.fetch('g', a.memberId, { ...opts, positions: [{ topic: 'orders', partition: 1 - mine }] }),
    ).rejects.toMatchObject({
      kind: 'fenced',
      details: { reason: 'not_assigned' },
    });
    await expect(log.groups.fetch('g', 'nobody-1', opts)).rejects.toMatchObject({ kind: 'fenced' });
    expect(b.memberId).not.toBe(a.memberId);
  });

  it('falls back per batch to the next replica when the shared read of an object is damaged', async () => {
    await log.topics.create({ name: 'orders', partitions: 2, replicationFactor: 2 });
    await log.produce('orders', [rec('x', { partition: 0 }), rec('y', { partition: 1 })]);
    const t = await log.topics.get('orders');
    const pk = `p#${t.topicId}#0`;
    const [entry] = await log.index.entries(pk, await log.index.head(pk));
    const first = l.stores.findIndex((s) => s.name === entry.replicas[0]); // the copy the shared read uses
    const key = entry.objectKey;
    const bytes = Buffer.from((await l.stores[first].get(key))!);
    bytes[bytes.length - 3] ^= 0xff; // the last batch of that copy
    await l.stores[first].delete(key);
    await l.stores[first].putIfAbsent(key, bytes);
    stores.forEach((s) => s.reset());
    const m = await log.groups.join('g', { topics: ['orders'] });
    const res = await log.groups.fetch('g', m.memberId, opts);
    expect(res.partitions.flatMap(values).sort()).toEqual(['x', 'y']);
    expect(stores[1 - first].counts.gets).toBe(1); // the damaged batch, from the other copy
    expect(log.fetcher.stats.replicaFallbacks).toBe(1);
  });
});
