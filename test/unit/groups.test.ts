/**
 * Consumer groups in the core, on the local adapters with a fake clock: join / heartbeat / leave / expiry,
 * generation fencing (G7), offsets that never regress (G6), seek, lag.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openLocalHome, type LocalHome } from '../../lib/adapters/local/home';
import { isFerryError, type ErrorKind } from '../../lib/protocol/errors';
import type { Log } from '../../lib/core/log/log';
import { createCore } from '../../lib/core/create-core';
import type { Clock } from '../../lib/ports/clock';
import { jsonPayload } from '../helpers/records';

class FakeClock implements Clock {
  constructor(public t = 1_700_000_000_000) {}
  now() {
    return this.t;
  }
  async sleep() {}
  advance(ms: number) {
    this.t += ms;
  }
}

async function rejects(p: Promise<unknown>, kind: ErrorKind, reason?: string) {
  try {
    await p;
  } catch (e) {
    if (!isFerryError(e)) throw e;
    expect(e.kind).toBe(kind);
    if (reason) expect(e.details.reason).toBe(reason);
    return e;
  }
  throw new Error(`expected a ${kind} error`);
}

const count = (a: Array<{ partitions: number[] }>) => a.reduce((s, x) => s + x.partitions.length, 0);

describe('Groups', () => {
  let dir: string;
  let home: LocalHome;
  let log: Log;
  let clock: FakeClock;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-groups-'));
    clock = new FakeClock();
    home = await openLocalHome({ dataDir: dir, clock });
    log = createCore(home.ctx).log;
    await log.topics.create({ name: 'orders', partitions: 6 });
  });
  afterEach(async () => {
    await home.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const produce = (partition: number, n: number, timestamp?: number) =>
    log.produce(
      'orders',
      Array.from({ length: n }, (_, i) => ({ key: null, value: jsonPayload(i), headers: {}, partition, timestamp })),
    );

  it('assigns every partition to the first member, then splits them 3/3 with a new generation', async () => {
    const a = await log.groups.join('g', { topics: ['orders'] });
    expect(a.generation).toBe(1);
    expect(a.assignments).toEqual([{ topic: 'orders', partitions: [0, 1, 2, 3, 4, 5] }]);
    const b = await log.groups.join('g', { topics: ['orders'] });
    expect(b.generation).toBe(2);
    const a2 = await log.groups.heartbeat('g', a.memberId);
    expect(a2.generation).toBe(2);
    expect(count(a2.assignments)).toBe(3);
    expect(count(b.assignments)).toBe(3);
    const all = [...a2.assignments[0].partitions, ...b.assignments[0].partitions].sort();
    expect(all).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('deletes only an empty group, with its committed offsets, and then knows it no more', async () => {
    await rejects(log.groups.delete('nobody'), 'not_found');
    const a = await log.groups.join('g', { topics: ['orders'], sessionTimeoutMs: 1000 });
    await produce(0, 3);
    await log.groups.commit('g', {
      memberId: a.memberId,
      generation: a.generation,
      offsets: [{ topic: 'orders', partition: 0, offset: 3n }],
    });
    await rejects(log.groups.delete('g'), 'conflict');
    expect((await log.groups.list()).map((g) => g.groupId)).toEqual(['g']); // the refused delete changed nothing
    clock.advance(1001); // a's session expires: the group is empty
    expect(await log.groups.delete('g')).toEqual({ groupId: 'g', offsets: 1 });
    expect(await log.groups.list()).toEqual([]);
    await rejects(log.groups.describe('g'), 'not_found');
    // A group made again under the name starts afresh: no offsets of its predecessor.
    await log.groups.join('g', { topics: ['orders'] });
    expect((await log.groups.describe('g')).offsets[0]).toMatchObject({ committedOffset: null });
    expect(await log.groups.fetchOffsets('g')).toEqual([]);
  });

  it('removes a member whose session expired when someone touches the group, and rebalances', async () => {
    const a = await log.groups.join('g', { topics: ['orders'], sessionTimeoutMs: 1000 });
    const b = await log.groups.join('g', { topics: ['orders'], sessionTimeoutMs: 1000 });
    clock.advance(600);
    await log.groups.heartbeat('g', a.memberId);
    clock.advance(600); // b: 1200 ms without a heartbeat; a: 600
    const a2 = await log.groups.heartbeat('g', a.memberId);
    expect(a2.generation).toBe(3);
    expect(count(a2.assignments)).toBe(6);
    await rejects(log.groups.heartbeat('g', b.memberId), 'fenced', 'unknown_member');
    expect((await log.groups.describe('g')).members.map((m) => m.memberId)).toEqual([a.memberId]);
  });

  it('does not expire a member exactly at its session timeout, and keeps the generation on plain heartbeats', async () => {
    const a = await log.groups.join('g', { topics: ['orders'], sessionTimeoutMs: 1000 });
    clock.advance(1000);
    expect((await log.groups.heartbeat('g', a.memberId)).generation).toBe(1);
    clock.advance(1000);
    expect((await log.groups.heartbeat('g', a.memberId)).generation).toBe(1);
  });

  it('answers fenced to a heartbeat from a member that left or never joined', async () => {
    const a = await log.groups.join('g', { topics: ['orders'] });
    const left = await log.groups.leave('g', a.memberId);
    expect(left.generation).toBe(2);
    await rejects(log.groups.heartbeat('g', a.memberId), 'fenced', 'unknown_member');
    await rejects(log.groups.heartbeat('g', 'nobody'), 'fenced', 'unknown_member');
    await rejects(log.groups.heartbeat('g', 'Bad/Id'), 'invalid');
    expect((await log.groups.leave('g', a.memberId)).generation).toBe(2); // leaving twice is harmless
  });

  it('accepts a commit only from the current generation owner (G7)', async () => {
    await produce(0, 5);
    const a = await log.groups.join('g', { topics: ['orders'] });
    const owner = (
      await log.groups.commit('g', { memberId: a.memberId, generation: 1, offsets: [{ topic: 'orders', partition: 0, offset: 2n }] })
    )[0];
    expect(owner.offset).toBe(2n);
    const b = await log.groups.join('g', { topics: ['orders'] });
    // a's generation 1 is stale now, even for a partition it still owns
    await rejects(
      log.groups.commit('g', { memberId: a.memberId, generation: 1, offsets: [{ topic: 'orders', partition: 0, offset: 3n }] }),
      'fenced',
      'stale_generation',
    );
    const bOwns = b.assignments[0].partitions[0];
    const aOwns = (await log.groups.heartbeat('g', a.memberId)).assignments[0].partitions[0];
    await rejects(
      log.groups.commit('g', { memberId: a.memberId, generation: 2, offsets: [{ topic: 'orders', partition: bOwns, offset: 0n }] }),
      'fenced',
      'not_owner',
    );
    await rejects(
      log.groups.commit('g', { memberId: 'zzz', generation: 2, offsets: [{ topic: 'orders', partition: aOwns, offset: 0n }] }),
      'fenced',
      'unknown_member',
    );
    const committed = await log.groups.committed('g');
    expect(committed.get('orders')!.get(0)!.offset).toBe(2n);
  });

  it('never lets a committed offset move back except by seek (G6), nor beyond the high watermark', async () => {
    await produce(0, 10);
    const a = await log.groups.join('g', { topics: ['orders'] });
    const commit = (offset: bigint) =>
      log.groups.commit('g', { memberId: a.memberId, generation: a.generation, offsets: [{ topic: 'orders', partition: 0, offset }] });
    await commit(7n);
    await rejects(commit(3n), 'conflict');
    await commit(7n); // the same offset again is fine
    await rejects(commit(11n), 'offset_out_of_range');
    expect((await log.groups.committed('g')).get('orders')!.get(0)!.offset).toBe(7n);
    const seek = await log.groups.seek('g', { topic: 'orders', partition: 0, to: { offset: 2n } });
    expect(seek.generation).toBe(a.generation + 1);
    expect((await log.groups.committed('g')).get('orders')!.get(0)!.offset).toBe(2n);
    // the seek fenced the member's generation: its old position cannot overwrite the seek
    await rejects(commit(9n), 'fenced', 'stale_generation');
  });

  it('lets exactly the right number of concurrent joins win, each in its own generation', async () => {
    const joins = await Promise.all(Array.from({ length: 5 }, () => log.groups.join('g', { topics: ['orders'] })));
    expect(new Set(joins.map((j) => j.generation)).size).toBe(5);
    const d = await log.groups.describe('g');
    expect(d.members).toHaveLength(5);
    expect(d.generation).toBe(5);
    const sizes = d.members.map((m) => count(m.assignments)).sort();
    expect(sizes).toEqual([1, 1, 1, 1, 2]);
  });

  it('starts a new group at earliest, or at latest when the join says so', async () => {
    await produce(1, 4);
    await log.groups.join('early', { topics: ['orders'] });
    await log.groups.join('late', { topics: ['orders'], from: 'latest' });
    const early = await log.groups.describe('early');
    const late = await log.groups.describe('late');
    expect(early.offsets[1]).toMatchObject({ committedOffset: null, lag: 4n });
    expect(late.offsets[1]).toMatchObject({ committedOffset: 4n, lag: 0n });
    // an existing group keeps its start: a later member saying "latest" does not skip what others still read
    await log.groups.join('early', { topics: ['orders'], from: 'latest' });
    expect((await log.groups.describe('early')).offsets[1]).toMatchObject({ committedOffset: null, lag: 4n });
  });

  it('reports lag in records and in seconds (age of the oldest unconsumed record)', async () => {
    await produce(2, 3, clock.now() - 30_000);
    await produce(2, 2);
    clock.advance(5_000);
    const a = await log.groups.join('g', { topics: ['orders'] });
    await log.groups.commit('g', {
      memberId: a.memberId,
      generation: a.generation,
      offsets: [{ topic: 'orders', partition: 2, offset: 3n }],
    });
    const p2 = (await log.groups.describe('g')).offsets.find((o) => o.partition === 2)!;
    expect(p2.lag).toBe(2n);
    expect(p2.lagSeconds).toBeCloseTo(5, 3);
    expect(p2.owner).toBe(a.memberId);
  });

  it('seeks by timestamp to the first record at or after it', async () => {
    const t0 = clock.now();
    await produce(3, 3, t0 + 100); // offsets 0..2
    await produce(3, 3, t0 + 200); // 3..5
    await log.produce('orders', [
      { key: null, value: jsonPayload('x'), headers: {}, partition: 3, timestamp: t0 + 250 },
      { key: null, value: jsonPayload('y'), headers: {}, partition: 3, timestamp: t0 + 300 },
    ]); // 6, 7 in one batch
    const at = async (timestamp: number) =>
      (await log.groups.seek('g', { topic: 'orders', partition: 3, to: { timestamp } })).offsets[0].offset;
    expect(await at(t0)).toBe(0n);
    expect(await at(t0 + 100)).toBe(0n);
    expect(await at(t0 + 101)).toBe(3n);
    expect(await at(t0 + 260)).toBe(7n);
    expect(await at(t0 + 301)).toBe(8n); // none: the high watermark
    expect((await log.groups.seek('g', { topic: 'orders', partition: 3, to: 'earliest' })).offsets[0].offset).toBe(0n);
    expect((await log.groups.seek('g', { topic: 'orders', to: 'latest' })).offsets.map((o) => o.offset)).toEqual([0n, 0n, 0n, 8n, 0n, 0n]);
    await rejects(log.groups.seek('g', { topic: 'orders', partition: 3, to: { offset: 9n } }), 'offset_out_of_range');
    await rejects(log.groups.seek('g', { topic: 'orders', partition: 6, to: 'earliest' }), 'not_found');
  });

  it('lists groups and refuses bad names and unknown topics', async () => {
    await log.groups.join('b-group', { topics: ['orders'] });
    await log.groups.join('a.group', { topics: ['orders'] });
    expect((await log.groups.list()).map((g) => [g.groupId, g.members])).toEqual([
      ['a.group', 1],
      ['b-group', 1],
    ]);
    await rejects(log.groups.join('bad#id', { topics: ['orders'] }), 'invalid');
    await rejects(log.groups.join('g', { topics: ['nope'] }), 'not_found');
    await rejects(log.groups.join('g', { topics: ['orders'], sessionTimeoutMs: 10 }), 'invalid');
    await rejects(log.groups.describe('none'), 'not_found');
  });

  it('rebalances when a subscribed topic grows', async () => {
    const a = await log.groups.join('g', { topics: ['orders'] });
    const b = await log.groups.join('g', { topics: ['orders'] });
    await log.topics.alter('orders', { partitions: 8 });
    clock.advance(5_000); // past the topic cache
    const a2 = await log.groups.heartbeat('g', a.memberId);
    const b2 = await log.groups.heartbeat('g', b.memberId);
    expect(a2.generation).toBe(3);
    expect(count(a2.assignments) + count(b2.assignments)).toBe(8);
    expect(count(a2.assignments)).toBe(4);
  });
});
