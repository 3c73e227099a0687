/** G10 by fuzzing: seeded random requests against the real server — no 5xx, no crash, no state change, bounded memory. */
import { runFuzz } from './fuzz';

const SEED = Number(process.env.CHAOS_SEED ?? 20_240_611);
const COUNT = 400;

describe('HTTP fuzzer (fast-check, seeded)', () => {
  it(`${COUNT} random requests: no 5xx, no crash, no state change from a refused request, bounded memory`, async () => {
    const r = await runFuzz(SEED, COUNT);
    const replay = `npx tsx test/chaos/run.ts --only fuzz --seed ${SEED} --runs ${COUNT}`;
    expect({
      fiveXX: r.fiveXX,
      crashes: r.crashes,
      stateChanges: r.stateChanges,
      noAnswer: r.noAnswer,
      problems: r.problems,
      replay,
    }).toEqual({
      fiveXX: 0,
      crashes: 0,
      stateChanges: 0,
      noAnswer: 0,
      problems: [],
      replay,
    });
    expect(r.requests + (r.skipped ?? 0)).toBe(COUNT);
    expect(r.rssMaxMb).toBeLessThan(r.rssStartMb + 200);
  }, 180_000);
});
