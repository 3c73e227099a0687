/**
 * Each function on AWS has only the rights its code uses (DESIGN §4c): a read route never writes, and the groups
 * function, which has no S3 rights, never reads an object. Recording ports count what each path asks for.
 */
import type { Log } from '../../lib/core/log/log';
import { createCore } from '../../lib/core/create-core';
import { runDelayTimer } from '../../lib/core/log/delay-timer';
import { RecordingMetadataStore, RecordingObjectStore } from '../helpers/recording';
import { makeLocalLog, rec, text, type LocalLog } from '../helpers/local-log';

const all = { maxRecords: 1000, maxBytes: 1 << 20, waitMs: 0 };

describe('reads stay reads', () => {
  let l: LocalLog;
  let meta: RecordingMetadataStore;
  let stores: RecordingObjectStore[];
  /** A second process on the same stores whose every call is counted (a fetch or groups Lambda). */
  let reader: Log;
  beforeEach(async () => {
    l = await makeLocalLog();
    meta = new RecordingMetadataStore(l.ctx.meta);
    stores = l.stores.map((s) => new RecordingObjectStore(s));
    reader = createCore({ ...l.ctx, meta, stores }).log;
  });
  afterEach(async () => l.cleanup());

  describe('Log.fetch', () => {
    it('makes no metadata write while a delayed record is due (the mover is not on the fetch path)', async () => {
      await l.log.topics.create({ name: 'd', partitions: 1 });
      await l.log.produce('d', [rec('now'), rec('later', { deliverAt: l.clock.now() + 1000 })]);
      l.clock.advance(5000); // due now
      meta.reset();
      const read = await reader.fetch('d', 0, undefined, all);
      expect(meta.counts.writes).toBe(0);
      expect(read.records.map((r) => text(r.value.bytes))).toEqual(['"now"']);
    });
  });

  describe('the delay timer (what moves due records on AWS)', () => {
    it('moves a record when it falls due inside its window, never earlier, exactly once', async () => {
      await l.log.topics.create({ name: 'd', partitions: 1 });
      const start = l.clock.now();
      await l.log.produce('d', [rec('later', { deliverAt: start + 20_000 })]);
      // A window that ends before the due time moves nothing and ends at once.
      expect(await runDelayTimer(l.log, { windowMs: 10_000 })).toBe(0);
      expect(l.clock.now()).toBe(start);
      expect((await l.log.fetch('d', 0, undefined, all)).records).toHaveLength(0);
      // Two overlapping timers (two Lambda instances): the record is moved once, at or after its time.
      const moved = await Promise.all([runDelayTimer(l.log, { windowMs: 55_000 }), runDelayTimer(l.twin(), { windowMs: 55_000 })]);
      expect(moved[0] + moved[1]).toBe(1);
      expect(l.clock.now()).toBeGreaterThanOrEqual(start + 20_000);
      const read = await l.log.fetch('d', 0, undefined, all);
      expect(read.records.map((r) => text(r.value.bytes))).toEqual(['"later"']);
      expect(read.records[0].offset).toBe(0n);
    });

    it('picks up a record scheduled while it runs', async () => {
      await l.log.topics.create({ name: 'd', partitions: 1 });
      const start = l.clock.now();
      await l.log.produce('d', [rec('first', { deliverAt: start + 3_000 })]);
      // The timer's first sleep waits until the second record is scheduled (simulated time only moves by sleeps).
      let scheduled!: () => void;
      const gate = new Promise<void>((r) => (scheduled = r));
      const sleep = l.clock.sleep.bind(l.clock);
      let held = false;
      l.clock.sleep = async (ms, signal) => {
        if (!held && ms >= 10) {
          held = true;
          await gate;
        }
        return sleep(ms, signal);
      };
      const run = runDelayTimer(l.log, { windowMs: 30_000, pollMs: 500 });
      const at = l.clock.now() + 8_000;
      const [answer] = await l.log.produce('d', [rec('second', { deliverAt: at })]);
      scheduled();
      expect(answer).toHaveProperty('scheduledId');
      expect(await run).toBe(2);
      expect(l.clock.now()).toBeGreaterThanOrEqual(at);
      expect((await l.log.fetch('d', 0, undefined, all)).records.map((r) => text(r.value.bytes))).toEqual(['"first"', '"second"']);
    });
  });

  describe('the groups path (no S3 rights on AWS)', () => {
    it('describes a group with lag (records and seconds) and answers committed offsets without reading an object', async () => {
      await l.log.topics.create({ name: 'orders', partitions: 2 });
      const t0 = l.clock.now();
      await l.log.produce('orders', [rec('a', { partition: 0 }), rec('b', { partition: 0 })]);
      l.clock.advance(7_000);
      await l.log.produce('orders', [rec('c', { partition: 0 })]);
      l.clock.advance(3_000);
      const a = await reader.groups.join('g', { topics: ['orders'] });
      await reader.groups.commit('g', {
        memberId: a.memberId,
        generation: a.generation,
        offsets: [{ topic: 'orders', partition: 0, offset: 2n }],
      });
      stores.forEach((s) => s.reset());
      const d = await reader.groups.describe('g');
      expect(d.offsets[0]).toMatchObject({ committedOffset: 2n, lag: 1n, lagSeconds: 3 });
      expect(await reader.groups.describe('other-group').catch(() => undefined)).toBeUndefined();
      await reader.groups
        .commit('g', { memberId: a.memberId, generation: a.generation, offsets: [{ topic: 'orders', partition: 0, offset: 0n }] })
        .catch(() => undefined);
      expect(await reader.groups.fetchOffsets('g')).toEqual([{ topic: 'orders', partition: 0, offset: 2n, committedAt: t0 + 10_000 }]);
      await reader.groups.seek('g', { topic: 'orders', to: 'earliest' });
      const fresh = await reader.groups.describe('g');
      expect(fresh.offsets[0]).toMatchObject({ committedOffset: 0n, lag: 3n, lagSeconds: 10 });
      expect(stores.reduce((n, s) => n + s.counts.gets + s.counts.lists, 0)).toBe(0);
    });
  });

  describe('GET /v1/groups/{g} (describe)', () => {
    it('makes no write, even when a member has expired: it is left out and its partitions shown unowned', async () => {
      await l.log.topics.create({ name: 'orders', partitions: 2 });
      const a = await l.log.groups.join('g', { topics: ['orders'], sessionTimeoutMs: 1000 });
      const b = await l.log.groups.join('g', { topics: ['orders'], sessionTimeoutMs: 1000 });
      l.clock.advance(800);
      await l.log.groups.heartbeat('g', a.memberId);
      l.clock.advance(800); // b has expired; nobody has touched the group since
      meta.reset();
      const d = await reader.groups.describe('g');
      expect(meta.counts.writes).toBe(0);
      expect(d.members.map((m) => m.memberId)).toEqual([a.memberId]);
      const bOwned = d.offsets.filter((o) => o.owner === null).length;
      expect(bOwned).toBeGreaterThan(0);
      expect(d.offsets.some((o) => o.owner === b.memberId)).toBe(false);
      // The next heartbeat removes b and hands its partitions to a.
      const a2 = await l.log.groups.heartbeat('g', a.memberId);
      expect(a2.assignments[0].partitions).toEqual([0, 1]);
    });
  });
});
