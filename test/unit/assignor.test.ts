import * as fc from 'fast-check';
import { assign, movedPartitions, type Assignment } from '../../lib/core/groups/assignor';

const members = (n: number, topics = ['t']) =>
  Array.from({ length: n }, (_, i) => ({ memberId: `m${String(i).padStart(3, '0')}`, topics }));
const sizes = (a: Assignment) => [...a.values()].map((t) => [...t.values()].reduce((s, ps) => s + ps.length, 0));
const owners = (a: Assignment) => {
  const out = new Map<string, string>();
  for (const [id, topics] of a) for (const [t, ps] of topics) for (const p of ps) out.set(`${t}#${p}`, id);
  return out;
};

describe('assign (sticky, even)', () => {
  it('gives every partition to exactly one member, sizes differing by at most one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 7 }), (n, p, q) => {
        const counts = new Map([
          ['t', p],
          ['u', q],
        ]);
        const a = assign(members(n, ['t', 'u']), counts, new Map());
        const all = [...a.values()].flatMap((t) => [...t].flatMap(([topic, ps]) => ps.map((x) => `${topic}#${x}`)));
        expect(all.length).toBe(p + q);
        expect(new Set(all).size).toBe(p + q);
        const s = sizes(a);
        expect(Math.max(...s) - Math.min(...s)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('splits 6 partitions 3/3 between two members and 2/2/2 between three', () => {
    expect(sizes(assign(members(2), new Map([['t', 6]]), new Map()))).toEqual([3, 3]);
    expect(sizes(assign(members(3), new Map([['t', 6]]), new Map()))).toEqual([2, 2, 2]);
  });

  it('moves only what a joiner must receive, and only to the joiner', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 100 }), (n, p) => {
        const counts = new Map([['t', p]]);
        const before = assign(members(n), counts, new Map());
        const after = assign(members(n + 1), counts, before);
        const joiner = members(n + 1)[n].memberId;
        const got = sizes(new Map([[joiner, after.get(joiner)!]]))[0];
        expect(movedPartitions(before, after)).toBe(got);
        expect(got).toBe(Math.floor(p / (n + 1)));
        const s = sizes(after);
        expect(Math.max(...s) - Math.min(...s)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it("moves only a leaver's partitions", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 10 }), fc.integer({ min: 0, max: 100 }), fc.nat(), (n, p, k) => {
        const counts = new Map([['t', p]]);
        const all = members(n);
        const before = assign(all, counts, new Map());
        const leaver = all[k % n].memberId;
        const after = assign(
          all.filter((m) => m.memberId !== leaver),
          counts,
          before,
        );
        const leaverHad = sizes(new Map([[leaver, before.get(leaver)!]]))[0];
        expect(movedPartitions(before, after)).toBe(leaverHad);
        const s = sizes(after);
        expect(Math.max(...s) - Math.min(...s)).toBeLessThanOrEqual(1);
        const o = owners(before);
        for (const [key, id] of owners(after)) if (o.get(key) !== leaver) expect(id).toBe(o.get(key));
      }),
    );
  });

  it('gives a partition only to members subscribed to its topic, and new partitions to someone', () => {
    const ms = [
      { memberId: 'a', topics: ['x'] },
      { memberId: 'b', topics: ['x', 'y'] },
    ];
    const a = assign(
      ms,
      new Map([
        ['x', 4],
        ['y', 2],
      ]),
      new Map(),
    );
    expect(a.get('a')!.get('y')).toBeUndefined();
    expect(a.get('b')!.get('y')).toEqual([0, 1]);
    const grown = assign(
      ms,
      new Map([
        ['x', 6],
        ['y', 2],
      ]),
      a,
    );
    expect(sizes(grown).reduce((s, x) => s + x, 0)).toBe(8);
  });

  it('is deterministic', () => {
    const counts = new Map([['t', 17]]);
    expect(assign(members(4), counts, new Map())).toEqual(assign([...members(4)].reverse(), counts, new Map()));
  });
});
