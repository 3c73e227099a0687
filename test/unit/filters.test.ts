/** Push-consumer filters (FilterCriteria-style patterns): what matches, what is refused, and the dispatcher skipping. */
import { filterProblems, passes, type FilterPattern } from '../../lib/core/consumers/filters';
import { consumerDefaults, defaultDeadLetterTopic } from '../../lib/core/consumers/config';
import { Dispatcher } from '../../lib/core/consumers/dispatcher';
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
