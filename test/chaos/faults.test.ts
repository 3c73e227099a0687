/**
 * G1–G9 under port faults (the short, seeded version of `npm run chaos`): every append / commit / delayed
 * move / group / maintenance step × every fault mode, and seeded random runs of concurrent clients
 * interleaved by fast-check's scheduler — on the local adapters and on the AWS adapters (emulators).
 * Each failing run prints its anomalies, the history, and a one-line replay command.
 */
import { awaitEmulators } from '../helpers/emulators';
import { ANOMALIES, check, describeFailure, type DrainedPartition } from '../helpers/checker';
import { FAULT_MODES } from '../helpers/faults';
import { History } from '../helpers/history';
import type { WriteOp, WriteResult } from '../../lib/ports/metadata-store';
import { ForwardingMetadataStore } from '../helpers/forwarding-metadata-store';
import { runSim, runStepMatrix, type AdapterSet } from './sim';

const SEED = Number(process.env.CHAOS_SEED ?? 20_240_611);

const expectClean = (total: number, message: () => string) => {
  if (total !== 0) throw new Error(message());
};

describe('the checker', () => {
  const drained = (values: string[], extra: Partial<DrainedPartition> = {}): DrainedPartition => ({
    topic: 't',
    partition: 0,
    logStartOffset: 0n,
    highWatermark: BigInt(values.length),
    records: values.map((value, i) => ({ offset: BigInt(i), value })),
    drainedAt: 100,
    ...extra,
  });
  const produced = (h: History, process: string, values: string[], outcome: 'ok' | 'fail' | 'info', offsets?: number[], extra = {}) => {
    const op = h.invoke(process, 'produce', { topic: 't', records: values.map((value) => ({ value, partition: 0, ...extra })) });
    if (outcome === 'ok') h.ok(op, { records: (offsets ?? []).map((o) => ({ partition: 0, offset: BigInt(o) })) });
    else if (outcome === 'fail') h.fail(op, { kind: 'invalid', message: 'refused' });
    else h.info(op, new Error('timeout'));
    return op;
  };

  it('finds nothing in a clean history', () => {
    const h = new History(() => 0);
    produced(h, 'a', ['x', 'y'], 'ok', [0, 1]);
    produced(h, 'b', ['z'], 'info');
    expect(check({ history: h, drained: [drained(['x', 'y', 'z'])] }).total).toBe(0);
  });

  it.each([
    ['lost', (h: History) => (produced(h, 'a', ['x', 'y'], 'ok', [0, 1]), [drained(['x', 'q'])])],
    ['unseen-after-drain', (h: History) => (produced(h, 'a', ['x'], 'ok', [0]), [drained([])])],
    ['unexpected', (h: History) => (produced(h, 'a', ['x'], 'ok', [0]), [drained(['x', 'never-sent'])])],
    ['aborted-read', (h: History) => (produced(h, 'a', ['x'], 'fail'), [drained(['x'])])],
    ['gap', (h: History) => (produced(h, 'a', ['x'], 'ok', [0]), [{ ...drained(['x']), highWatermark: 2n }])],
    ['duplicate', (h: History) => (produced(h, 'a', ['x'], 'ok', [0]), [drained(['x', 'x'])])],
    ['nonmonotonic-send', (h: History) => (produced(h, 'a', ['x'], 'ok', [1]), produced(h, 'a', ['y'], 'ok', [0]), [drained(['y', 'x'])])],
    [
      'premature-delete',
      (h: History) => (
        produced(h, 'a', ['x', 'y'], 'ok', [0, 1]),
        [{ ...drained(['x', 'y']), logStartOffset: 1n, records: [{ offset: 1n, value: 'y' }] }]
      ),
    ],
    ['early', (h: History) => (produced(h, 'a', ['x'], 'info', undefined, { deliverAt: 500 }), [drained(['x'])])],
    ['double-move', (h: History) => (produced(h, 'a', ['x'], 'info', undefined, { deliverAt: 50 }), [drained(['x', 'x'])])],
  ] as const)('counts %s', (anomaly, make) => {
    const h = new History(() => 0);
    const result = check({ history: h, drained: make(h) });
    expect(result.counts[anomaly]).toBeGreaterThan(0);
  });

  it('counts a poll that skips, a commit that regresses and a stale generation that commits', () => {
    let now = 0;
    const h = new History(() => now++);
    produced(h, 'a', ['x', 'y', 'z'], 'ok', [0, 1, 2]);
    const poll = h.invoke('m', 'poll', { topic: 't', partition: 0, from: 0n, group: 'g' });
    h.ok(poll, { records: [{ offset: 1n, value: 'y' }], highWatermark: 3n, logStartOffset: 0n });
    const join = h.invoke('m2', 'join', { group: 'g' });
    h.ok(join, { group: 'g', member: 'm2', generation: 2, assignments: [] });
    const c1 = h.invoke('m', 'commit', { group: 'g', member: 'm', generation: 1, topic: 't', partition: 0, offset: 3n });
    h.ok(c1, {});
    const c2 = h.invoke('m', 'commit', { group: 'g', member: 'm', generation: 2, topic: 't', partition: 0, offset: 2n });
    h.ok(c2, {});
    const result = check({
      history: h,
      drained: [drained(['x', 'y', 'z'])],
      finalCommitted: [{ group: 'g', topic: 't', partition: 0, offset: 2n }],
    });
    expect(result.counts['poll-skip']).toBeGreaterThan(0);
    expect(result.counts['offset-regression']).toBeGreaterThan(0);
    expect(result.counts['stale-commit']).toBeGreaterThan(0);
    expect(ANOMALIES.every((a) => a in result.counts)).toBe(true);
  });
});

/** A metadata store that acknowledges some commits (partition head writes) without storing them: the harness must notice. */
class LyingMetadataStore extends ForwardingMetadataStore {
  private n = 0;
  override async write(ops: WriteOp[]): Promise<WriteResult> {
    if (ops.some((o) => o.sk === 'head') && ++this.n % 7 === 3) return { ok: true };
    return this.inner.write(ops);
  }
}

describe('the harness can fail', () => {
  it('reports lost acknowledged records when the metadata store lies about its writes', async () => {
    const r = await runSim({ seed: SEED, adapters: 'local', probability: 0, opsPerClient: 6, wrapMeta: (m) => new LyingMetadataStore(m) });
    expect(r.check.total).toBeGreaterThan(0);
    expect(r.check.counts.lost + r.check.counts.gap + r.check.counts['inconsistent-offsets']).toBeGreaterThan(0);
  });
});

const adapterSets: Array<[AdapterSet, { matrixEvery: number; seeds: number }]> = [
  ['local', { matrixEvery: 4, seeds: 12 }],
  ['aws', { matrixEvery: 14, seeds: 3 }],
];

describe.each(adapterSets)('port faults on the %s adapters', (adapters, plan) => {
  beforeAll(async () => {
    if (adapters === 'aws') await awaitEmulators();
  }, 90_000);

  it(`every ${plan.matrixEvery === 1 ? '' : `${plan.matrixEvery}th `}append / commit / move / group / maintenance step × ${FAULT_MODES.join(', ')}: no anomaly`, async () => {
    const m = await runStepMatrix(adapters, { every: plan.matrixEvery });
    expect(m.steps.length).toBeGreaterThan(40);
    // Every chosen step runs in every mode (AWS takes every 14th of ~100 steps: 7 × 5 = 35 runs).
    expect(m.runs).toBeGreaterThanOrEqual(FAULT_MODES.length * Math.floor(m.steps.length / plan.matrixEvery));
    expect(m.runs).toBeGreaterThanOrEqual(30);
    expectClean(m.failures.length, () =>
      m.failures
        .slice(0, 3)
        .map((f) => `step ${f.index} (${f.step}) × ${f.mode}:\n${f.message}`)
        .join('\n\n'),
    );
  }, 240_000);

  it(`${plan.seeds} seeded random runs (concurrent clients, fc.scheduler interleavings, random faults): no anomaly`, async () => {
    let faults = 0;
    for (let i = 0; i < plan.seeds; i++) {
      const r = await runSim({ seed: SEED + i, adapters, opsPerClient: adapters === 'aws' ? 6 : 10 });
      faults += r.faults;
      expectClean(r.check.total, () => describeFailure(r.check, r.history, r.replay));
    }
    expect(faults).toBeGreaterThan(plan.seeds); // the faults really fired
  }, 240_000);
});
