/**
 * Concurrency as DynamoDB judges it: 16 producer "instances" (own caches) on one topic of 12 partitions and 4
 * group members committing and heartbeating, on a store that cancels writes touching an item of an in-flight
 * transaction. Every acknowledged record is read back once, and no conflict happens on an item shared by a
 * whole topic or group — only the inherent ones, on one partition's head.
 */
import { createCore } from '../../lib/core/create-core';
import { ConflictingMetadataStore, ConflictTable } from '../helpers/conflicting-metadata-store';
import { makeLocalLog, rec, type LocalLog } from '../helpers/local-log';

describe('hot paths under transaction conflicts', () => {
  let l: LocalLog;
  beforeEach(async () => {
    l = await makeLocalLog({ settings: { commitAttempts: 50 } });
  });
  afterEach(async () => l.cleanup());

  it('16 producers on 12 partitions and 4 committing members: all records once, no shared-item conflicts', async () => {
    await l.log.topics.create({ name: 'busy', partitions: 12 });
    const table = new ConflictTable();
    const instance = () => createCore({ ...l.ctx, meta: new ConflictingMetadataStore(l.ctx.meta, table) }).log;
    const producers = Array.from({ length: 16 }, instance);
    const sent: string[] = [];
    await Promise.all(
      producers.map(async (log, i) => {
        for (let n = 0; n < 15; n++) {
          const value = `${i}-${n}`;
          await log.produce('busy', [rec(value, { partition: (i * 7 + n) % 12 })]);
          sent.push(value);
        }
      }),
    );
    const members = Array.from({ length: 4 }, instance);
    const views = [];
    for (const m of members) views.push(await m.groups.join('g', { topics: ['busy'] }));
    const current = await Promise.all(views.map((v, i) => members[i].groups.heartbeat('g', v.memberId)));
    await Promise.all(
      current.map((v, i) =>
        Promise.all([
          ...v.assignments[0].partitions.map((p) =>
            members[i].groups.commit('g', {
              memberId: v.memberId,
              generation: v.generation,
              offsets: [{ topic: 'busy', partition: p, offset: 1n }],
            }),
          ),
          members[i].groups.heartbeat('g', v.memberId),
        ]),
      ),
    );
    const read: string[] = [];
    for (let p = 0; p < 12; p++) {
      const page = await l.log.fetch('busy', p, undefined, { maxRecords: 1000, maxBytes: 1 << 20, waitMs: 0 });
      read.push(...page.records.map((r) => JSON.parse(Buffer.from(r.value.bytes).toString())));
    }
    expect(read.sort()).toEqual(sent.sort());
    expect((await l.log.groups.fetchOffsets('g')).map((o) => o.offset)).toEqual(Array(12).fill(1n));
    const shared = [...table.conflicts].filter(([k]) => k !== 'p'); // `p`: one partition's head, inherent
    expect(Object.fromEntries(shared)).toEqual({});
    console.log(`conflicts by item kind: ${JSON.stringify(Object.fromEntries(table.conflicts))}`);
  });
});
