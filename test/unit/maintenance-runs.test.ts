/**
 * Maintenance as a bounded, resumable job (DESIGN.md §4c): a pass stops starting topics at its deadline and the
 * next resumes after the last topic done; a failing topic fails alone; one run at a time under the lease;
 * replica repair by presence reads no copy unless one is missing.
 */
import { createCore } from '../../lib/core/create-core';
import { Maintenance } from '../../lib/core/maintenance/maintenance';
import { MaintenanceCursor } from '../../lib/core/maintenance/cursor';
import type { SkRange } from '../../lib/ports/metadata-store';
import { ForwardingMetadataStore } from '../helpers/forwarding-metadata-store';
import { makeLocalLog, rec, type LocalLog } from '../helpers/local-log';

describe('maintenance runs', () => {
  let l: LocalLog;
  beforeEach(async () => {
    l = await makeLocalLog({ stores: 2 });
  });
  afterEach(async () => l.cleanup());

  /** A core whose metadata queries take 20 ms of simulated time, so a topic's pass takes time. */
  const slowCore = () => {
    const clock = l.clock;
    class Slow extends ForwardingMetadataStore {
      override query(pk: string, range?: SkRange) {
        clock.advance(20);
        return super.query(pk, range);
      }
    }
    return createCore({ ...l.ctx, meta: new Slow(l.ctx.meta) }).log;
  };

  it('stops at its deadline and resumes after the last topic done; a finished pass starts over', async () => {
    for (const name of ['a', 'b', 'c']) await l.log.topics.create({ name, partitions: 1 });
    const log = slowCore();
    const m = new Maintenance(log);
    const seen: string[] = [];
    const moveDue = log.scheduler.moveDue.bind(log.scheduler);
    log.scheduler.moveDue = (topic, limit) => (seen.push(topic.name), moveDue(topic, limit));
    const first = await m.run({ deadline: l.clock.now() + 30 }); // listing the topics takes 20 ms, topic a more
    expect(first).toMatchObject({ topicsDone: 1, stoppedEarly: true });
    expect(await new MaintenanceCursor(l.ctx).read()).toBe('a');
    const second = await m.run();
    expect(second).toMatchObject({ topicsDone: 3, stoppedEarly: false });
    expect(seen).toEqual(['a', 'b', 'c', 'a']);
    expect(await new MaintenanceCursor(l.ctx).read()).toBeUndefined();
  });

  it('a topic whose step fails is reported and the others are still done', async () => {
    for (const name of ['a', 'b', 'c']) await l.log.topics.create({ name, partitions: 1, retentionMs: 60_000 });
    for (const name of ['a', 'b', 'c']) await l.log.produce(name, [rec(name)]);
    l.clock.advance(120_000);
    const moveDue = l.log.scheduler.moveDue.bind(l.log.scheduler);
    l.log.scheduler.moveDue = (topic, limit) => (topic.name === 'b' ? Promise.reject(new Error('throttled')) : moveDue(topic, limit));
    const report = await l.maintenance.run();
    expect(report.failures).toEqual([{ topic: 'b', error: 'throttled' }]);
    expect(report.topicsDone).toBe(3);
    expect(report.entriesDeleted).toBe(2); // a and c: retention ran past the failing b
  });

  it('one run at a time: a run that finds the lease held does nothing; an expired lease is taken over', async () => {
    await l.log.topics.create({ name: 'a', partitions: 1 });
    expect(await new MaintenanceCursor(l.ctx).acquire(60_000)).toBeDefined();
    expect(await l.maintenance.run({ leaseMs: 60_000 })).toMatchObject({ skipped: true, topicsDone: 0 });
    l.clock.advance(61_000);
    expect(await l.maintenance.run({ leaseMs: 60_000 })).toMatchObject({ skipped: false, topicsDone: 1 });
    // Released: the next run goes at once.
    expect(await l.maintenance.run({ leaseMs: 60_000 })).toMatchObject({ skipped: false });
  });

  it('repairs a missing copy by listing the stores, reading only the copy it restores from', async () => {
    await l.log.topics.create({ name: 'r', partitions: 2, replicationFactor: 2, retentionMs: -1 });
    for (let i = 0; i < 4; i++) await l.log.produce('r', [rec(i, { partition: i % 2 })]);
    const [a, b] = l.stores;
    const keys = (await a.list('topics/')).objects.map((o) => o.key);
    await b.delete(keys[1]);
    const gets = [jest.spyOn(a, 'get'), jest.spyOn(b, 'get')];
    const report = await l.maintenance.run({ repair: true });
    expect(report.copiesRepaired).toBe(1);
    expect((await b.list('topics/')).objects.map((o) => o.key)).toEqual(keys);
    expect(gets[0].mock.calls.length + gets[1].mock.calls.length).toBe(1);
    // With every copy present, a pass reads no object at all.
    gets.forEach((g) => g.mockClear());
    await l.maintenance.run({ repair: true });
    expect(gets[0].mock.calls.length + gets[1].mock.calls.length).toBe(0);
  });

  it('garbage collection stops deleting at the deadline and the next pass finishes the job', async () => {
    await l.log.topics.create({ name: 'g', partitions: 1, retentionMs: 60_000 });
    for (let i = 0; i < 3; i++) await l.log.produce('g', [rec(i, { partition: 0 })]);
    const count = async () => (await l.stores[0].list('topics/')).objects.length + (await l.stores[1].list('topics/')).objects.length;
    const objects = await count();
    expect(objects).toBeGreaterThan(0);
    l.clock.advance(24 * 3600_000); // past retention and the orphan grace period
    const topic = await l.log.topics.get('g');
    await l.maintenance.applyRetention(topic);
    const gc = new Maintenance(l.log);
    expect(
      await (gc as unknown as { gc: { collectGarbage(t: unknown, d: number): Promise<number> } }).gc.collectGarbage(topic, l.clock.now()),
    ).toBe(0);
    expect(await count()).toBe(objects);
    expect((await gc.run()).objectsDeleted).toBe(objects);
    expect(await count()).toBe(0);
  });
});
