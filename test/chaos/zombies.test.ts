/** G7: a paused writer or member that resumes after a successor took over can never commit. */
import { gatedMemberZombie, gatedProducerZombie, sigstopWriterZombie, withServer } from './zombies';

describe('zombies (gated: held exactly before the commit write)', () => {
  it.each([0, 1, 2])(
    'an idempotent writer held before its commit is fenced after a successor bumps the epoch (round %i)',
    async (round) => {
      const r = await gatedProducerZombie(round);
      expect(r).toEqual({ zombieAnswer: 'fenced', visible: false, successor: 'ok' });
    },
  );

  it.each([0, 1])(
    'a member held before its offset commit past its session is fenced after another member takes over (round %i)',
    async (round) => {
      const r = await gatedMemberZombie(round);
      expect(r).toEqual({ zombieAnswer: 'fenced', visible: false, successor: 'ok' });
    },
  );
});

describe('zombies (SIGSTOP a real writer process)', () => {
  it('a frozen writer thawed after a successor bumped its epoch gets 409 fenced, and nothing it sends is stored', async () => {
    await withServer(async (server) => {
      for (let round = 0; round < 2; round++) {
        const r = await sigstopWriterZombie(server, round);
        expect(r.successorOk).toBe(true);
        expect(r.ackedBefore).toBeGreaterThanOrEqual(3);
        expect(r.lastAnswer).toEqual({ status: 409, kind: 'fenced' });
        expect(r.afterThaw.filter((l) => l.status === 200)).toEqual([]);
        expect(r.zombieVisible).toEqual([]);
      }
    });
  });
});
