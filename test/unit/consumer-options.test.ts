/** Push-consumer options beyond the basics: filters (FilterCriteria-style patterns) and parallelizationFactor (key lanes). */
import { filterProblems, passes, type FilterPattern } from '../../lib/core/consumers/filters';
import { consumerDefaults, defaultDeadLetterTopic } from '../../lib/core/consumers/config';
import { Dispatcher } from '../../lib/core/consumers/dispatcher';
import { ConsumerRegistry } from '../../lib/core/consumers/registry';
import type { FetchedRecord } from '../../lib/core/model';
import type { ConsumerEvent, InvokeResult } from '../../lib/ports/invoker';
import { jsonPayload } from '../helpers/records';
import { makeLocalLog, rec } from '../helpers/local-log';

const record = (value: unknown, headers: Record<string, string> = {}, key: unknown = null): FetchedRecord =>
  ({
    offset: 0n,
    timestamp: 0,
    key: key === null ? null : jsonPayload(key),
    value: jsonPayload(value),
    headers: Object.assign(Object.create(null), headers),
  }) as FetchedRecord;

describe('filters', () => {
  const f = (...patterns: FilterPattern[]) => patterns;
  it('matches equal values, nested fields, arrays, and any of several patterns', () => {
    expect(passes(f({ value: { type: ['order'] } }), record({ type: 'order' }))).toBe(true);
    expect(passes(f({ value: { type: ['order'] } }), record({ type: 'refund' }))).toBe(false);
    expect(passes(f({ value: { a: { b: [1] } } }), record({ a: { b: 1 } }))).toBe(true);
    expect(passes(f({ value: { tags: ['eu'] } }), record({ tags: ['us', 'eu'] }))).toBe(true);
    expect(passes(f({ value: { type: ['x'] } }, { headers: { src: ['web'] } }), record({ type: 'y' }, { src: 'web' }))).toBe(true);
    expect(passes(f({ key: ['k1'] }), record({}, {}, 'k1'))).toBe(true);
    expect(passes(undefined, record(1))).toBe(true);
  });

  it('matches prefix, suffix, exists, numeric ranges and anything-but', () => {
    expect(passes(f({ headers: { region: [{ prefix: 'eu-' }] } }), record({}, { region: 'eu-west-1' }))).toBe(true);
    expect(passes(f({ value: { file: [{ suffix: '.png' }] } }), record({ file: 'a.jpg' }))).toBe(false);
    expect(passes(f({ value: { coupon: [{ exists: false }] } }), record({ total: 1 }))).toBe(true);
    expect(passes(f({ value: { coupon: [{ exists: true }] } }), record({ total: 1 }))).toBe(false);
    const range = f({ value: { total: [{ numeric: ['>', 100, '<=', 200] }] } });
    expect([50, 150, 200, 201].map((total) => passes(range, record({ total })))).toEqual([false, true, true, false]);
    expect(passes(f({ value: { state: [{ 'anything-but': ['test', 'draft'] }] } }), record({ state: 'live' }))).toBe(true);
    expect(passes(f({ value: { state: [{ 'anything-but': ['test'] }] } }), record({ state: 'test' }))).toBe(false);
    // A value that is not JSON-object shaped has no fields: only `exists: false` can match in it.
    expect(passes(f({ value: { type: ['order'] } }), record('plain text'))).toBe(false);
  });

  it('names every problem of a bad filter list', () => {
    expect(filterProblems([{ value: { total: [{ numeric: ['>>', 1] }] } }, { value: {} }, 'x'])).toEqual([
      expect.stringContaining('filters[0].value.total[0]'),
      'filters[1].value must be an object of fields',
      'filters[2] must be an object of fields',
    ]);
    expect(filterProblems(Array.from({ length: 6 }, () => ({ value: { a: [1] } })))).toEqual([expect.stringContaining('at most 5')]);
    expect(filterProblems([{ value: { a: [] } }])).toEqual(['filters[0].value.a must list at least one value or matcher']);
  });

  it('the dispatcher delivers only matching records and commits past the others', async () => {
    const l = await makeLocalLog();
    try {
      await l.log.topics.create({ name: 'orders', partitions: 1 });
      await l.log.produce('orders', [
        rec({ type: 'order', n: 1 }),
        rec({ type: 'test' }),
        rec({ type: 'order', n: 2 }),
        rec({ type: 'test' }),
      ]);
      const calls: ConsumerEvent[] = [];
      const invoker = { invoke: async (_t: string, e: ConsumerEvent): Promise<InvokeResult> => (calls.push(e), { batchItemFailures: [] }) };
      const config = {
        ...consumerDefaults,
        topic: 'orders',
        name: 'ship',
        handler: 'h',
        deadLetterTopic: defaultDeadLetterTopic('orders', 'ship'),
        filters: [{ value: { type: ['order'] } }],
      };
      const d = new Dispatcher(l.log, invoker, config, 'a');
      const kinds = [];
      for (let i = 0; i < 5; i++) kinds.push((await d.tick(0)).kind);
      expect(calls.flatMap((e) => e.records.map((r) => r.value))).toEqual([
        { type: 'order', n: 1 },
        { type: 'order', n: 2 },
      ]);
      expect((await d.states())[0].offset).toBe(4n); // the trailing filtered record is committed too
      expect(kinds).toContain('idle');
      expect(() => new Dispatcher(l.log, invoker, { ...config, filters: [{ value: 'x' }] as never }, 'b')).toThrow(/filters\[0\]\.value/);
    } finally {
      await l.cleanup();
    }
  });
});

describe('parallelizationFactor', () => {
  it('runs up to F batches of one partition at once, never one key in two, each key in order, every record once', async () => {
    const l = await makeLocalLog();
    try {
      await l.log.topics.create({ name: 'orders', partitions: 1 });
      const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
      await l.log.produce(
        'orders',
        Array.from({ length: 60 }, (_, i) => rec({ k: keys[i % 6], i }, { key: jsonPayload(keys[i % 6]) })),
      );
      const inFlightKeys = new Set<string>();
      let clash = 0;
      let active = 0;
      let peak = 0;
      const seen: Array<{ k: string; i: number }> = [];
      const invoker = {
        invoke: async (_t: string, e: ConsumerEvent): Promise<InvokeResult> => {
          const ks = new Set(e.records.map((r) => (r.value as { k: string }).k));
          for (const k of ks) {
            if (inFlightKeys.has(k)) clash++;
            inFlightKeys.add(k);
          }
          peak = Math.max(peak, ++active);
          await new Promise((r) => setTimeout(r, 5));
          seen.push(...e.records.map((r) => r.value as { k: string; i: number }));
          active--;
          for (const k of ks) inFlightKeys.delete(k);
          return { batchItemFailures: [] };
        },
      };
      const config = {
        ...consumerDefaults,
        topic: 'orders',
        name: 'ship',
        handler: 'h',
        batchSize: 5,
        deadLetterTopic: defaultDeadLetterTopic('orders', 'ship'),
        parallelizationFactor: 3,
      };
      const d = new Dispatcher(l.log, invoker, config, 'a');
      const drainLane = async (lane: number) => {
        for (let i = 0; i < 200; i++) if ((await d.tick(0, lane)).kind === 'idle') return;
        throw new Error(`lane ${lane} did not drain`);
      };
      await Promise.all([0, 1, 2].map(drainLane));
      expect(clash).toBe(0);
      expect(peak).toBeGreaterThan(1);
      expect(seen.map((v) => v.i).sort((a, b) => a - b)).toEqual([...Array(60).keys()]);
      for (const k of keys) {
        const order = seen.filter((v) => v.k === k).map((v) => v.i);
        expect(order).toEqual([...order].sort((a, b) => a - b));
      }
      const states = await d.states();
      expect(states).toHaveLength(3);
      expect(states.every((s) => s.offset === 60n)).toBe(true);
    } finally {
      await l.cleanup();
    }
  });
});

describe('parallelizationFactor in the registry', () => {
  it('is fixed for a consumer: a change is refused, naming why', async () => {
    const l = await makeLocalLog();
    try {
      const registry = new ConsumerRegistry(l.ctx);
      await registry.replaceForTopic('orders', [{ name: 'ship', handler: 'h', parallelizationFactor: 2 }]);
      await expect(registry.replaceForTopic('orders', [{ name: 'ship', handler: 'h', parallelizationFactor: 4 }])).rejects.toThrow(
        /parallelizationFactor cannot change \(2 → 4\)/,
      );
      await expect(registry.replaceForTopic('orders', [{ name: 'ship', handler: 'h', parallelizationFactor: 11 }])).rejects.toThrow(
        /parallelizationFactor must be an integer from 1 to 10/,
      );
      expect((await registry.list())[0].parallelizationFactor).toBe(2);
    } finally {
      await l.cleanup();
    }
  });
});
