import { CatchUp } from '../../lib/cli/catch-up';

describe('CatchUp (ferry consume without --follow)', () => {
  const ends = new Map([
    [0, 0n],
    [1, 4n],
  ]);

  it('is done once every owned partition reaches the high watermark seen at the start', () => {
    const c = new CatchUp(ends);
    c.learned(0, 0n);
    c.learned(1, 2n);
    c.joined(1);
    expect(c.done({ generation: 1, partitions: [0, 1] })).toBe(false);
    c.consumed(1, 2n);
    expect(c.done({ generation: 1, partitions: [0, 1] })).toBe(false);
    c.consumed(1, 3n);
    expect(c.done({ generation: 1, partitions: [0, 1] })).toBe(true);
  });

  it('never moves a position back when an older committed offset arrives after the records were consumed', () => {
    const c = new CatchUp(ends);
    c.consumed(1, 3n); // the fetch loop delivered the last record before the join's describe answer came back
    c.learned(1, 3n); // that answer was read before this process committed 4
    c.learned(0, 0n);
    c.joined(1);
    expect(c.done({ generation: 1, partitions: [0, 1] })).toBe(true);
  });

  it('waits for the join of the current generation', () => {
    const c = new CatchUp(ends);
    c.learned(0, 0n);
    c.learned(1, 4n);
    c.joined(1);
    expect(c.done(undefined)).toBe(false);
    expect(c.done({ generation: 2, partitions: [0, 1] })).toBe(false);
    c.joined(2);
    expect(c.done({ generation: 2, partitions: [1] })).toBe(true);
  });

  it('counts a partition it has learned nothing about as not done', () => {
    const c = new CatchUp(new Map([[0, 0n]]));
    c.joined(1);
    expect(c.done({ generation: 1, partitions: [0] })).toBe(false);
  });
});
