/**
 * DynamoDB cancels a transaction that touches an item of another in-flight transaction (a ConditionCheck
 * included), so no item shared by a whole topic or group may be part of a hot-path write (DESIGN §4c). These
 * tests record the item keys of every write and assert that concurrent hot-path writes share none.
 */
import { FerryError } from '../../lib/protocol/errors';
import { createCore } from '../../lib/core/create-core';
import type { MetadataStore, WriteOp, WriteResult } from '../../lib/ports/metadata-store';
import { RecordingMetadataStore } from '../helpers/recording';
import { makeLocalLog, rec, type LocalLog } from '../helpers/local-log';

/** Records the (pk, sk) of every op of every write, per write. */
class KeyRecorder extends RecordingMetadataStore {
  readonly writes: string[][] = [];
  /** Fails the next n writes touching a matching item as DynamoDB's TransactionConflict would. */
  conflicts = 0;
  conflictOn?: RegExp;

  constructor(inner: MetadataStore) {
    super(inner);
  }

  override async write(ops: WriteOp[]): Promise<WriteResult> {
    const keys = ops.map((o) => `${o.pk} ${o.sk}`);
    if (this.conflicts > 0 && this.conflictOn && keys.some((k) => this.conflictOn!.test(k))) {
      this.conflicts--;
      throw new FerryError('unavailable', 'injected transaction conflict', { reason: 'conflict' });
    }
    this.writes.push(keys);
    return super.write(ops);
  }
}

function shared(a: string[][], b: string[][]): string[] {
  const left = new Set(a.flat());
  return [...new Set(b.flat())].filter((k) => left.has(k));
}

describe('hot-path writes share no item', () => {
  let l: LocalLog;
  beforeEach(async () => {
    l = await makeLocalLog();
  });
  afterEach(async () => l.cleanup());

  const process = () => {
    const meta = new KeyRecorder(l.ctx.meta);
    return { meta, log: createCore({ ...l.ctx, meta }).log };
  };

  it('two producers committing to different partitions of one topic touch disjoint items', async () => {
    await l.log.topics.create({ name: 'hot', partitions: 2 });
    const [a, b] = [process(), process()];
    await Promise.all([a.log.produce('hot', [rec(1, { partition: 0 })]), b.log.produce('hot', [rec(2, { partition: 1 })])]);
    expect(a.meta.writes.length).toBeGreaterThan(0);
    expect(shared(a.meta.writes, b.meta.writes)).toEqual([]);
  });

  it('an idempotent producer commit never deletes (the produce role has no DeleteItem) and keeps answering retries', async () => {
    await l.log.topics.create({ name: 'idem', partitions: 1 });
    const p = process();
    const deletes: WriteOp[] = [];
    const inner = p.meta.write.bind(p.meta);
    p.meta.write = async (ops) => {
      deletes.push(...ops.filter((o) => o.op === 'delete'));
      return inner(ops);
    };
    const producer = await p.log.producers.init();
    const offsets: bigint[] = [];
    for (let sequence = 0; sequence < 20; sequence++) {
      const [r] = await p.log.produce('idem', [rec(sequence)], { producer: { ...producer, sequence } });
      offsets.push((r as { offset: bigint }).offset);
    }
    expect(deletes).toEqual([]);
    // The most recent requests are still answered with their original offsets; an older one is a clear 409.
    const [again] = await p.log.produce('idem', [rec(19)], { producer: { ...producer, sequence: 19 } });
    expect((again as { offset: bigint }).offset).toBe(offsets[19]);
    const [older] = await p.log.produce('idem', [rec(15)], { producer: { ...producer, sequence: 15 } });
    expect((older as { offset: bigint }).offset).toBe(offsets[15]);
    await expect(p.log.produce('idem', [rec(2)], { producer: { ...producer, sequence: 2 } })).rejects.toMatchObject({ kind: 'conflict' });
    await expect(p.log.produce('idem', [rec(22)], { producer: { ...producer, sequence: 22 } })).rejects.toMatchObject({ kind: 'conflict' });
    expect((await p.log.fetch('idem', 0, undefined, { maxRecords: 100, maxBytes: 1 << 20, waitMs: 0 })).highWatermark).toBe(20n);
  });

  it('garbage collection raises the GC fence through transaction conflicts (bounded retries)', async () => {
    await l.log.topics.create({ name: 'gc', partitions: 3, retentionMs: -1 });
    await l.log.produce('gc', [rec(1, { partition: 0 }), rec(2, { partition: 2 })]);
    const p = process();
    p.meta.conflictOn = /^f#/;
    p.meta.conflicts = 2;
    const topic = await p.log.topics.get('gc');
    const horizon = l.clock.now();
    await p.log.fence.raise(topic.topicId, 3, horizon);
    expect(p.meta.conflicts).toBe(0);
    for (let partition = 0; partition < 3; partition++) {
      expect((await p.log.fence.refresh(topic.topicId, partition)).horizon).toBe(horizon);
    }
  });

  it('commits and heartbeats of different members of one group touch disjoint items, and none is a transaction', async () => {
    await l.log.topics.create({ name: 'orders', partitions: 4 });
    const a = await l.log.groups.join('g', { topics: ['orders'] });
    const b = await l.log.groups.join('g', { topics: ['orders'] });
    const a2 = await l.log.groups.heartbeat('g', a.memberId);
    const [pa, pb] = [process(), process()];
    const mine = (v: typeof a2) => v.assignments[0].partitions[0];
    await Promise.all([
      pa.log.groups.commit('g', {
        memberId: a.memberId,
        generation: a2.generation,
        offsets: [{ topic: 'orders', partition: mine(a2), offset: 0n }],
      }),
      pa.log.groups.heartbeat('g', a.memberId),
      pb.log.groups.commit('g', {
        memberId: b.memberId,
        generation: b.generation,
        offsets: [{ topic: 'orders', partition: mine(b), offset: 0n }],
      }),
      pb.log.groups.heartbeat('g', b.memberId),
    ]);
    expect(pa.meta.writes).toHaveLength(2);
    expect(pb.meta.writes).toHaveLength(2);
    expect([...pa.meta.writes, ...pb.meta.writes].every((w) => w.length === 1)).toBe(true); // single-item writes
    expect(shared(pa.meta.writes, pb.meta.writes)).toEqual([]);
    expect(pa.meta.writes.flat().some((k) => k.endsWith(' state'))).toBe(false);
  });
});
