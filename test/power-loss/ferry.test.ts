/**
 * Power loss under `ferry dev` (the short form; `npm run chaos` runs ≥ 20 cuts): concurrent plain and
 * idempotent producers on R=2 over two stores, the server kill -9'd and every unsynced byte and name dropped,
 * the server started again on what is left, and so on; then every partition drained. Every acknowledged
 * record must be readable at its offset with its value; nothing corrupt; the server answers after each cut.
 */
import { killLoop } from '../chaos/kill-loop';

describe('ferry dev under power loss', () => {
  it('loses no acknowledged record across power cuts under concurrent producers', async () => {
    const r = await killLoop(20261201, 3, { powerCut: true, loadMs: [600, 1200] });
    expect(r.cuts).toHaveLength(3);
    expect(r.acked).toBeGreaterThan(100);
    expect(r.check.counts).toEqual(Object.fromEntries(Object.keys(r.check.counts).map((k) => [k, 0])));
    expect(r.check.total).toBe(0);
  }, 120_000);
});
