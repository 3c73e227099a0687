/**
 * Push delivery started on demand (the AWS shape, on the local adapters and simulated time): a producer wakes a
 * run only when none is live, a run ends once idle and looks again after releasing, the sweep finds lost
 * wake-ups, and an idle hour costs no writes and no handler invocations.
 */
import { createCore, type Core } from '../../lib/core/create-core';
import { runDispatch } from '../../lib/core/consumers/dispatch-run';
import { RUN_LINGER_MS } from '../../lib/core/consumers/wake';
import type { ConsumerEvent, InvokeResult, Invoker } from '../../lib/ports/invoker';
import { makeLocalLog, rec, type LocalLog } from '../helpers/local-log';

class CountingInvoker implements Invoker {
  readonly calls: ConsumerEvent[] = [];
  async invoke(_t: string, event: ConsumerEvent): Promise<InvokeResult> {
    this.calls.push(event);
    return { batchItemFailures: [] };
  }
}
const delivered = (inv: CountingInvoker) => inv.calls.flatMap((e) => e.records.map((r) => `${r.partition}:${r.offset}`));

describe('dispatcher runs on demand', () => {
  let l: LocalLog;
  let core: Core;
  let wakes: number;
  let writes: number;
  beforeEach(async () => {
    l = await makeLocalLog();
    wakes = 0;
    writes = 0;
    const meta = l.ctx.meta;
    const write = meta.write.bind(meta);
    meta.write = async (ops) => {
      writes++;
      return write(ops);
    };
    core = createCore({ ...l.ctx, wake: { wake: async () => void wakes++ } });
    await core.topics.create({ name: 'orders', partitions: 3 });
    await core.consumers.replaceForTopic('orders', [{ name: 'ship', handler: 'ship-fn' }]);
  });
  afterEach(() => l.cleanup());

  const run = (inv: Invoker, reason: 'wake' | 'sweep' = 'wake') =>
    runDispatch(core, { owner: `run-${l.clock.now()}`, invoker: inv, deadline: l.clock.now() + 600_000, reason });

  it('a produce wakes a run when none is live, and trusts a live or just-woken one for a second', async () => {
    await core.log.produce('orders', [rec('a')]);
    expect(wakes).toBe(1);
    await core.log.produce('orders', [rec('b')]);
    expect(wakes).toBe(1); // within WAKE_TRUST_MS of the first
    l.clock.advance(1_001);
    await core.log.produce('orders', [rec('c')]);
    expect(wakes).toBe(2);
    // A topic without consumers never wakes anything.
    await core.topics.create({ name: 'audit', partitions: 1 });
    l.clock.advance(5_000);
    await core.log.produce('audit', [rec('x')]);
    expect(wakes).toBe(2);
  });

  it('a run delivers everything, ends once idle, and releases its lease', async () => {
    await core.log.produce('orders', [rec('a', { partition: 0 }), rec('b', { partition: 1 }), rec('c', { partition: 2 })]);
    const inv = new CountingInvoker();
    const report = await run(inv);
    expect(report).toMatchObject({ consumers: 1, rounds: 1, unfinished: false });
    expect(delivered(inv).sort()).toEqual(['0:0', '1:0', '2:0']);
    // Released: the next produce wakes a new run.
    l.clock.advance(2_000);
    const before = wakes;
    await core.log.produce('orders', [rec('d')]);
    expect(wakes).toBe(before + 1);
  });

  it('records committed while a run ends (after its release, before its last look) start another round', async () => {
    await core.log.produce('orders', [rec('a', { partition: 0 })]);
    const inv = new CountingInvoker();
    const sleep = l.clock.sleep.bind(l.clock);
    let injected = false;
    l.clock.sleep = async (ms, signal) => {
      if (ms === RUN_LINGER_MS && !injected) {
        injected = true;
        // A producer that trusted the lease it saw a moment ago: it does not wake anyone.
        await createCore(l.ctx).log.produce('orders', [rec('late', { partition: 1 })]);
      }
      return sleep(ms, signal);
    };
    const report = await run(inv);
    expect(report.rounds).toBe(2);
    expect(delivered(inv).sort()).toEqual(['0:0', '1:0']);
  });

  it('the sweep delivers what a lost wake-up left, and an idle hour of sweeps writes nothing and invokes nothing', async () => {
    // A producer died between its commit and the wake: nobody was woken.
    await createCore(l.ctx).log.produce('orders', [rec('stranded', { partition: 2 })]);
    const inv = new CountingInvoker();
    expect(await run(inv, 'sweep')).toMatchObject({ rounds: 1 });
    expect(delivered(inv)).toEqual(['2:0']);

    l.clock.advance(60_000);
    writes = 0;
    const reports = [];
    for (let i = 0; i < 12; i++) {
      reports.push(await run(inv, 'sweep'));
      l.clock.advance(5 * 60_000);
    }
    expect(reports.every((r) => r.skipped === 'nothing-to-do')).toBe(true);
    expect(writes).toBe(0);
    expect(inv.calls).toHaveLength(1);
    expect(wakes).toBe(0);
  });

  it('one run at a time: a second woken run finds the lease held and leaves at once', async () => {
    await core.log.produce('orders', [rec('a')]);
    let second: Awaited<ReturnType<typeof run>> | undefined;
    const inv: Invoker = {
      invoke: async () => {
        second ??= await run(new CountingInvoker());
        return { batchItemFailures: [] };
      },
    };
    await run(inv);
    expect(second).toMatchObject({ skipped: 'running', rounds: 0 });
  });
});
