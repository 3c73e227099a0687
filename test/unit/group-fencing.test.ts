/**
 * G7 with offsets fenced on their own items: a commit is a single-item conditional write, and a rebalance
 * raises every partition item's fence before it writes the new generation. Forced interleavings (a gated
 * metadata store holds a commit's write while the group moves on) show a stale commit is never stored.
 */
import { FerryError } from '../../lib/protocol/errors';
import { createCore } from '../../lib/core/create-core';
import { Gates, GatedMetadataStore } from '../helpers/faults';
import { makeLocalLog, type LocalLog } from '../helpers/local-log';

describe('offsets fenced by generation on their own items', () => {
  let l: LocalLog;
  beforeEach(async () => {
    l = await makeLocalLog();
    await l.log.topics.create({ name: 'orders', partitions: 2 });
    await l.log.produce(
      'orders',
      [0, 1].map((p) => ({ key: null, value: { encoding: 'json' as const, bytes: Buffer.from('1') }, headers: {}, partition: p })),
    );
  });
  afterEach(async () => l.cleanup());

  const committed = async () => (await l.log.groups.fetchOffsets('g')).map((o) => [o.partition, o.offset]);

  it('refuses a commit that read the old generation when its write lands after a rebalance', async () => {
    const a = await l.log.groups.join('g', { topics: ['orders'] });
    const gates = new Gates();
    const zombie = createCore({ ...l.ctx, meta: new GatedMetadataStore(l.ctx.meta, gates) }).log;
    gates.close(/^meta\.write put g#g o#/);
    const commit = zombie.groups.commit('g', {
      memberId: a.memberId,
      generation: a.generation,
      offsets: [{ topic: 'orders', partition: 0, offset: 1n }],
    });
    await gates.reached(/^meta\.write put g#g o#/);
    // Meanwhile a second member joins: generation 2 (the rebalance fences the offset items first).
    const b = await l.log.groups.join('g', { topics: ['orders'] });
    expect(b.generation).toBe(a.generation + 1);
    gates.open(/^meta\.write put g#g o#/);
    await expect(commit).rejects.toMatchObject({ kind: 'fenced', details: { reason: 'stale_generation' } });
    expect(await committed()).toEqual([]);
  });

  it('refuses a non-owner and an unknown member, and accepts the owner of the current generation', async () => {
    const a = await l.log.groups.join('g', { topics: ['orders'] });
    const b = await l.log.groups.join('g', { topics: ['orders'] });
    const a2 = await l.log.groups.heartbeat('g', a.memberId);
    const aOwns = a2.assignments[0].partitions[0];
    const bOwns = b.assignments[0].partitions[0];
    await expect(
      l.log.groups.commit('g', {
        memberId: a.memberId,
        generation: a2.generation,
        offsets: [{ topic: 'orders', partition: bOwns, offset: 1n }],
      }),
    ).rejects.toMatchObject({ kind: 'fenced', details: { reason: 'not_owner' } });
    await expect(
      l.log.groups.commit('g', {
        memberId: 'nobody-1',
        generation: a2.generation,
        offsets: [{ topic: 'orders', partition: aOwns, offset: 1n }],
      }),
    ).rejects.toMatchObject({ kind: 'fenced', details: { reason: 'unknown_member' } });
    await l.log.groups.commit('g', {
      memberId: a.memberId,
      generation: a2.generation,
      offsets: [{ topic: 'orders', partition: aOwns, offset: 1n }],
    });
    expect(await committed()).toEqual([[aOwns, 1n]]);
  });

  it('recovers from a rebalance that raised the fences and died before writing its generation', async () => {
    const a = await l.log.groups.join('g', { topics: ['orders'] });
    // What a process that crashed between the fences and the state write leaves behind:
    await (l.log.groups as unknown as { offsets: { fence(g: string, s: unknown, n: number): Promise<void> } }).offsets.fence(
      'g',
      [{ topic: 'orders', partitions: 2 }],
      a.generation + 1,
    );
    const stale = await l.log.groups
      .commit('g', { memberId: a.memberId, generation: a.generation, offsets: [{ topic: 'orders', partition: 0, offset: 1n }] })
      .catch((e: FerryError) => e);
    expect(stale).toMatchObject({ kind: 'fenced', details: { reason: 'stale_generation' } });
    // The refused commit moved the group up to the fence: a heartbeat learns it and the member commits again.
    const again = await l.log.groups.heartbeat('g', a.memberId);
    expect(again.generation).toBe(a.generation + 1);
    await l.log.groups.commit('g', {
      memberId: a.memberId,
      generation: again.generation,
      offsets: [{ topic: 'orders', partition: 0, offset: 1n }],
    });
    expect(await committed()).toEqual([[0, 1n]]);
  });
});
