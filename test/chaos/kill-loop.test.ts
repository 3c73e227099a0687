/** G1–G5 under SIGKILL with replicas and an idempotent producer: the history is checked after a drain. */
import { describeFailure } from '../helpers/checker';
import { killLoop } from './kill-loop';

const SEED = Number(process.env.CHAOS_SEED ?? 20_240_611);

describe('kill -9 loop (R=2, plain and idempotent producers, checked history)', () => {
  it('loses, duplicates or reorders nothing across 5 SIGKILLs', async () => {
    const r = await killLoop(SEED, 5);
    expect(r.acked).toBeGreaterThan(50);
    if (r.check.total)
      throw new Error(describeFailure(r.check, r.history, `npx tsx test/chaos/run.ts --only kill --seed ${SEED} --runs 5`));
  }, 120_000);
});
