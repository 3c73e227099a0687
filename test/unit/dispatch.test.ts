/** Push consumers: order, retries, partial failures, bisect, dead letters, rate and concurrency limits, fencing, metrics. */
import { consumerDefaults, defaultDeadLetterTopic, type ConsumerConfig } from '../../lib/core/consumers/config';
import { defaultDispatchSettings, Dispatcher, type TickOutcome } from '../../lib/core/consumers/dispatcher';
import { RateLimiter } from '../../lib/core/consumers/flow-control';
import { InvokeUnavailableError, type ConsumerEvent, type InvokeResult, type Invoker } from '../../lib/ports/invoker';
import { PrometheusMetrics } from '../../lib/adapters/local/prometheus-metrics';
import { makeLocalLog, rec, type LocalLog } from '../helpers/local-log';

const all = { maxRecords: 10_000, maxBytes: 64 << 20, waitMs: 0 };

/** An Invoker double running a function per call and recording every event. */
class ScriptedInvoker implements Invoker {
  readonly calls: ConsumerEvent[] = [];
  constructor(private readonly fn: (event: ConsumerEvent, call: number) => InvokeResult | Promise<InvokeResult>) {}
  async invoke(_target: string, event: ConsumerEvent): Promise<InvokeResult> {
    this.calls.push(event);
    return this.fn(event, this.calls.length);
  }
}
const ok = (): InvokeResult => ({ batchItemFailures: [] });

const config = (over: Partial<ConsumerConfig> = {}): ConsumerConfig => ({
  ...consumerDefaults,
  topic: 'orders',
  name: 'email',
  handler: 'test',
  deadLetterTopic: defaultDeadLetterTopic('orders', 'email'),
  ...over,
});

/** Ticks a partition until it is idle, advancing simulated time past every retry. */
async function drain(l: LocalLog, d: Dispatcher, partition = 0, maxTicks = 200) {
  for (let i = 0; i < maxTicks; i++) {
    const out = await d.tick(partition);
    if (out.kind === 'idle') return;
    if (out.kind === 'failed') l.clock.t = Math.max(l.clock.t, out.retryAt);
    if (out.kind === 'waiting') l.clock.t = Math.max(l.clock.t, out.until);
  }
  throw new Error('partition did not drain');
}

const values = (events: ConsumerEvent[]) => events.flatMap((e) => e.records.map((r) => r.value));

describe('Dispatcher', () => {
  let l: LocalLog;
  beforeEach(async () => {
    l = await makeLocalLog();
    await l.log.topics.create({ name: 'orders', partitions: 2 });
  });
  afterEach(async () => l.cleanup());

  const produce = (n: number, partition = 0, from = 0) =>
    l.log.produce(
      'orders',
      Array.from({ length: n }, (_, i) => rec(`v${from + i}`, { partition })),
    );

  it('delivers every record in offset order through retries, committing after success', async () => {
    await produce(10);
    const inv = new ScriptedInvoker((_, call) => {
      if (call <= 2) throw new Error('downstream down');
      return ok();
    });
    const d = new Dispatcher(l.log, inv, config({ batchSize: 4 }), 'a');
    await drain(l, d);
    const delivered = values(inv.calls);
    expect(delivered.slice(0, 4)).toEqual(['v0', 'v1', 'v2', 'v3']); // first try
    expect(delivered.slice(8)).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`)); // retries then the rest, in order
    expect((await d.states()).find((s) => s.partition === 0)?.offset).toBe(10n);
  });

  it('cuts a batch over the invoker payload limit to whole records that fit, never dead-lettering it for size', async () => {
    const big = 'x'.repeat(900);
    await l.log.produce(
      'orders',
      Array.from({ length: 10 }, (_, i) => rec(`${i}${big}`, { partition: 0 })),
    );
    const inv = Object.assign(new ScriptedInvoker(ok), { maxEventBytes: 3_000 });
    const d = new Dispatcher(l.log, inv, config({ batchSize: 10, maxRetries: 0 }), 'a');
    await drain(l, d);
    expect(inv.calls.every((e) => Buffer.byteLength(JSON.stringify(e)) <= 3_000)).toBe(true);
    expect(inv.calls.map((e) => e.records.length)).toEqual([2, 2, 2, 2, 2]); // ~1.1 kB each as an event
    expect(values(inv.calls)).toEqual(Array.from({ length: 10 }, (_, i) => `${i}${big}`));
    await expect(l.log.topics.get(defaultDeadLetterTopic('orders', 'email'))).rejects.toMatchObject({ kind: 'not_found' });
  });

  it('dead-letters at once, saying why, a record that cannot fit one invocation even alone', async () => {
    await l.log.produce('orders', [
      rec('small', { partition: 0 }),
      rec('y'.repeat(5_000), { partition: 0 }),
      rec('after', { partition: 0 }),
    ]);
    const inv = Object.assign(new ScriptedInvoker(ok), { maxEventBytes: 3_000 });
    const d = new Dispatcher(l.log, inv, config({ batchSize: 10 }), 'a');
    await drain(l, d);
    expect(values(inv.calls)).toEqual(['small', 'after']);
    const dlq = await l.log.fetch(defaultDeadLetterTopic('orders', 'email'), 0, undefined, all);
    expect(dlq.records).toHaveLength(1);
    expect(dlq.records[0].headers['ferry-error']).toMatch(/bytes as an invoke event, more than the 3000 bytes/);
  });

  it('backs off exponentially with jitter between retries', async () => {
    await produce(1);
    const d = new Dispatcher(
      l.log,
      new ScriptedInvoker(() => {
        throw new Error('x');
      }),
      config({ maxRetries: 5 }),
      'a',
    );
    const gaps: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = l.clock.now();
      const out = await d.tick(0);
      if (out.kind !== 'failed') throw new Error(`expected failed, got ${out.kind}`);
      gaps.push(out.retryAt - before);
      l.clock.t = out.retryAt;
    }
    gaps.forEach((g, i) => {
      expect(g).toBeGreaterThanOrEqual(100 * 2 ** i);
      expect(g).toBeLessThanOrEqual(200 * 2 ** i);
    });
  });

  it('sends a poison record to the dead-letter topic after maxRetries, with its origin and error, and moves on', async () => {
    await l.log.produce('orders', [
      rec('ok-1', { partition: 0, key: rec('k1').value, headers: Object.assign(Object.create(null), { trace: 't1' }) }),
      rec('poison', { partition: 0 }),
      rec('ok-2', { partition: 0 }),
    ]);
    const inv = new ScriptedInvoker((e) => {
      if (e.records.some((r) => r.value === 'poison')) throw new Error('cannot parse poison');
      return ok();
    });
    const d = new Dispatcher(l.log, inv, config({ batchSize: 1, maxRetries: 2 }), 'a');
    await drain(l, d);
    expect(values(inv.calls)).toEqual(['ok-1', 'poison', 'poison', 'poison', 'ok-2']);
    const dlq = await l.log.fetch('orders-email-dlq', 0, 0n, all);
    expect(dlq.records).toHaveLength(1);
    const dead = dlq.records[0];
    expect(Buffer.from(dead.value.bytes).toString()).toBe('"poison"');
    expect({ ...dead.headers }).toEqual({
      'ferry-error': 'cannot parse poison',
      'ferry-source-topic': 'orders',
      'ferry-source-partition': '0',
      'ferry-source-offset': '1',
    });
  });

  it('keeps key, value and headers of a dead-lettered record', async () => {
    await l.log.produce('orders', [
      rec({ id: 7 }, { partition: 1, key: rec('user-7').value, headers: Object.assign(Object.create(null), { trace: 'abc' }) }),
    ]);
    const d = new Dispatcher(
      l.log,
      new ScriptedInvoker(() => {
        throw new Error('boom');
      }),
      config({ maxRetries: 0 }),
      'a',
    );
    await drain(l, d, 1);
    const [dead] = (await l.log.fetch('orders-email-dlq', 1, 0n, all)).records;
    expect(Buffer.from(dead.key!.bytes).toString()).toBe('"user-7"');
    expect(Buffer.from(dead.value.bytes).toString()).toBe('{"id":7}');
    expect(dead.headers.trace).toBe('abc');
  });

  it('retries only from the first failed record of a partial batch failure', async () => {
    await produce(6);
    const inv = new ScriptedInvoker((e, call) => (call === 1 ? { batchItemFailures: [{ itemIdentifier: e.records[3].offset }] } : ok()));
    const d = new Dispatcher(l.log, inv, config({ batchSize: 6 }), 'a');
    await drain(l, d);
    expect(inv.calls.map((e) => e.records.map((r) => r.offset))).toEqual([
      ['0', '1', '2', '3', '4', '5'],
      ['3', '4', '5'],
    ]);
  });

  it('bisects a failing batch down to the poison record, dead-lettering only it', async () => {
    await produce(10);
    const inv = new ScriptedInvoker((e) => {
      if (e.records.some((r) => r.value === 'v6')) throw new Error('poison v6');
      return ok();
    });
    const d = new Dispatcher(l.log, inv, config({ batchSize: 10, bisectOnError: true, maxRetries: 1 }), 'a');
    await drain(l, d);
    const dlq = await l.log.fetch('orders-email-dlq', 0, 0n, all);
    expect(dlq.records.map((r) => Buffer.from(r.value.bytes).toString())).toEqual(['"v6"']);
    const succeeded = inv.calls.filter((e) => !e.records.some((r) => r.value === 'v6'));
    expect(values(succeeded).sort()).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v7', 'v8', 'v9']);
  });

  it('dead-letters records older than maxRecordAgeMs without invoking', async () => {
    await produce(2);
    l.clock.advance(10_000);
    await produce(1, 0, 2);
    const inv = new ScriptedInvoker(ok);
    const d = new Dispatcher(l.log, inv, config({ maxRecordAgeMs: 5_000 }), 'a');
    await drain(l, d);
    expect(values(inv.calls)).toEqual(['v2']);
    expect((await l.log.fetch('orders-email-dlq', 0, 0n, all)).records).toHaveLength(2);
  });

  it('starts a new consumer at the latest offset when asked', async () => {
    await produce(3);
    const inv = new ScriptedInvoker(ok);
    const d = new Dispatcher(l.log, inv, config({ startingPosition: 'latest' }), 'a');
    expect((await d.tick(0)).kind).toBe('idle');
    await produce(1, 0, 3);
    await drain(l, d);
    expect(values(inv.calls)).toEqual(['v3']);
  });

  it('waits up to maxBatchingWindowMs to fill a batch', async () => {
    await produce(2);
    const inv = new ScriptedInvoker(ok);
    const d = new Dispatcher(l.log, inv, config({ batchSize: 5, maxBatchingWindowMs: 1000 }), 'a');
    expect((await d.tick(0)).kind).toBe('waiting');
    await produce(3, 0, 2);
    expect(await d.tick(0)).toEqual({ kind: 'delivered', count: 5 });
  });

  it('a zombie whose lease was taken over cannot commit, and offsets never regress (G7, G6)', async () => {
    await produce(4);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = new ScriptedInvoker(async () => {
      await gate; // paused past its lease
      return ok();
    });
    // Paused (SIGSTOPped) during its invocation: it renews nothing.
    const paused = { ...defaultDispatchSettings, renewEveryMs: 0 };
    const zombie = new Dispatcher(l.log, slow, config({ batchSize: 2 }), 'zombie', paused);
    const zombieTick = zombie.tick(0);
    await new Promise((r) => setTimeout(r, 50));
    l.clock.advance(31_000); // the lease (30 s) expires
    const fresh = new Dispatcher(l.log, new ScriptedInvoker(ok), config({ batchSize: 10 }), 'fresh');
    expect(await fresh.tick(0)).toEqual({ kind: 'delivered', count: 4 });
    release();
    expect(await zombieTick).toEqual({ kind: 'fenced' });
    const [state] = (await fresh.states()).filter((s) => s.partition === 0);
    expect(state).toMatchObject({ offset: 4n, owner: 'fresh', epoch: 2 });
    expect((await zombie.tick(0)).kind).toBe('leased-elsewhere');
  });

  it('renews its lease through a long invocation: a 45 s handler is never invoked twice at once', async () => {
    await produce(3);
    let running = 0;
    let overlaps = 0;
    const slow = new ScriptedInvoker(async () => {
      if (++running > 1) overlaps++;
      for (let i = 0; i < 45; i++) await l.clock.sleep(1000);
      running--;
      return ok();
    });
    const a = new Dispatcher(l.log, slow, config(), 'a');
    const b = new Dispatcher(l.log, slow, config(), 'b');
    const started = l.clock.now();
    let settled: TickOutcome | undefined;
    const first = a.tick(0).then((o) => (settled = o));
    const others: string[] = [];
    while (!settled) {
      others.push((await b.tick(0)).kind);
      await new Promise((r) => setImmediate(r));
    }
    await first;
    expect(l.clock.now() - started).toBeGreaterThan(45_000); // well past the 30 s lease
    expect(settled).toEqual({ kind: 'delivered', count: 3 });
    expect(slow.calls).toHaveLength(1);
    expect(overlaps).toBe(0);
    expect(new Set(others)).toEqual(new Set(['leased-elsewhere']));
  });

  it('holds a partition past the handler timeout when its dispatcher dies mid-invocation', async () => {
    await produce(2);
    const gate = new Promise<never>(() => undefined); // the dispatcher never comes back
    const dead = new Dispatcher(l.log, new ScriptedInvoker(() => gate), config({ timeoutMs: 60_000 }), 'dead', {
      ...defaultDispatchSettings,
      renewEveryMs: 0,
    });
    void dead.tick(0);
    await new Promise((r) => setTimeout(r, 50));
    const fresh = new Dispatcher(l.log, new ScriptedInvoker(ok), config(), 'fresh');
    l.clock.advance(45_000); // past the 30 s lease, inside the handler's 60 s timeout
    expect((await fresh.tick(0)).kind).toBe('leased-elsewhere');
    l.clock.advance(26_000); // past timeout + margin: the invocation must have ended
    expect(await fresh.tick(0)).toEqual({ kind: 'delivered', count: 2 });
  });

  it('retries a throttled or unreachable handler without counting attempts, until maxRecordAgeMs', async () => {
    await produce(2);
    let misses = 5;
    const inv = new ScriptedInvoker(() => {
      if (misses-- > 0) throw new InvokeUnavailableError('Rate Exceeded.');
      return ok();
    });
    const d = new Dispatcher(l.log, inv, config({ maxRetries: 0 }), 'a');
    const kinds: string[] = [];
    const retryAts: number[] = [];
    for (let i = 0; i < 20; i++) {
      const out = await d.tick(0);
      kinds.push(out.kind);
      if (out.kind === 'throttled') {
        retryAts.push(out.retryAt - l.clock.now());
        l.clock.t = out.retryAt;
      }
      if (out.kind === 'idle') break;
    }
    expect(kinds).toEqual(['throttled', 'throttled', 'throttled', 'throttled', 'throttled', 'delivered', 'idle']);
    expect(retryAts[4]).toBeGreaterThan(retryAts[0]); // backs off
    expect(await l.log.topics.get(defaultDeadLetterTopic('orders', 'email')).catch(() => 'none')).toBe('none');

    // Throttled forever: the records go to the dead-letter topic once older than maxRecordAgeMs.
    await produce(1, 1);
    const always = new Dispatcher(
      l.log,
      new ScriptedInvoker(() => {
        throw new InvokeUnavailableError('Rate Exceeded.');
      }),
      config({ maxRetries: 0, maxRecordAgeMs: 60_000 }),
      'b',
    );
    let last: TickOutcome | undefined;
    for (let i = 0; i < 50 && last?.kind !== 'dead-lettered'; i++) {
      last = await always.tick(1);
      if (last.kind === 'throttled' || last.kind === 'waiting') l.clock.t = last.kind === 'throttled' ? last.retryAt : last.until;
    }
    expect(last).toMatchObject({ kind: 'dead-lettered', count: 1, error: expect.stringContaining('maxRecordAgeMs') });
  });

  it('writes nothing while a partition is idle: no lease is needed to find nothing to deliver', async () => {
    const d = new Dispatcher(l.log, new ScriptedInvoker(ok), config(), 'a');
    const meta = l.ctx.meta;
    const write = meta.write.bind(meta);
    let writes = 0;
    meta.write = async (ops) => {
      if (ops.some((o) => o.pk.startsWith('c#'))) writes++;
      return write(ops);
    };
    for (let i = 0; i < 240; i++) {
      expect((await d.tick(0)).kind).toBe('idle');
      l.clock.advance(250); // a minute of 250 ms polls
    }
    expect(writes).toBe(1); // the first take creates the partition's state; idle polls only read
  });

  it('redelivers a batch whose commit was lost (at least once)', async () => {
    await produce(2);
    const inv = new ScriptedInvoker(ok);
    const meta = l.ctx.meta;
    const write = meta.write.bind(meta);
    let consumerWrites = 0;
    meta.write = async (ops) => {
      // The dispatcher's 1st write takes the lease, its 2nd commits the delivered batch: lose that one.
      if (ops.some((o) => o.pk.startsWith('c#')) && ++consumerWrites === 2) throw new Error('crash before the commit');
      return write(ops);
    };
    const d = new Dispatcher(l.log, inv, config(), 'a');
    await expect(d.tick(0)).rejects.toThrow('crash before the commit');
    expect(inv.calls).toHaveLength(1);
    const restarted = new Dispatcher(l.log, inv, config(), 'a');
    await drain(l, restarted);
    expect(inv.calls.map((e) => e.records.map((r) => r.offset))).toEqual([
      ['0', '1'],
      ['0', '1'],
    ]);
    expect((await restarted.states())[0].offset).toBe(2n);
  });

  it('never has more than maxConcurrency invocations in flight', async () => {
    await l.log.topics.alter('orders', { partitions: 6 });
    for (let p = 0; p < 6; p++) await produce(3, p);
    let inFlight = 0;
    let peak = 0;
    const inv = new ScriptedInvoker(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return ok();
    });
    const d = new Dispatcher(l.log, inv, config({ maxConcurrency: 2, batchSize: 1 }), 'a');
    await Promise.all(Array.from({ length: 6 }, (_, p) => drain(l, d, p)));
    expect(inv.calls).toHaveLength(18);
    expect(peak).toBe(2);
    expect(d.maxInFlight).toBe(2);
  });
});

describe('RateLimiter (simulated time)', () => {
  it('admits no more than its rate per second, plus one second of burst', async () => {
    const l = await makeLocalLog();
    try {
      const limiter = new RateLimiter(l.ctx, 50);
      const start = l.clock.now();
      let admitted = 0;
      while (l.clock.now() - start < 10_000) {
        await limiter.take(7);
        admitted += 7;
      }
      const seconds = (l.clock.now() - start) / 1000;
      expect(admitted).toBeLessThanOrEqual(50 * seconds + 50);
      expect(admitted).toBeGreaterThanOrEqual(50 * seconds - 50);
    } finally {
      await l.cleanup();
    }
  });
});

/** What a push consumer reports: invocations, handler failures, dead letters, throttles and lag. */
describe('Dispatcher metrics', () => {
  let l: LocalLog;
  let metrics: PrometheusMetrics;
  beforeEach(async () => {
    l = await makeLocalLog();
    metrics = new PrometheusMetrics();
    l.log.ctx.metrics = metrics;
    await l.log.topics.create({ name: 'orders', partitions: 1 });
  });
  afterEach(async () => l.cleanup());

  const sample = (name: string) => {
    const line = metrics
      .render()
      .split('\n')
      .find((x) => x.startsWith(`${name}{topic="orders",consumer="email"}`));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  };

  it('counts invocations, failures and dead-lettered records, and reports lag at each fetch', async () => {
    await l.log.produce('orders', [rec('a', { partition: 0 }), rec('b', { partition: 0 })]);
    l.clock.t += 5_000; // the records are 5 s old when the consumer first fetches them
    const d = new Dispatcher(
      l.log,
      new ScriptedInvoker((_, call) => {
        if (call <= 3) throw new Error('downstream down');
        return ok();
      }),
      config({ batchSize: 10, maxRetries: 2, bisectOnError: false }),
      'a',
    );
    const first = await d.tick(0);
    expect(first.kind).toBe('failed');
    expect(sample('ferry_consumer_lag_records')).toBe(2);
    expect(sample('ferry_consumer_lag_seconds')).toBe(5);
    if (first.kind === 'failed') l.clock.t = first.retryAt;
    for (let i = 0; i < 10; i++) {
      const out = await d.tick(0);
      if (out.kind === 'failed') l.clock.t = out.retryAt;
      if (out.kind === 'waiting') l.clock.t = out.until;
      if (out.kind === 'dead-lettered' || out.kind === 'idle') break;
    }
    expect(sample('ferry_invocations_total')).toBe(3);
    expect(sample('ferry_handler_failures_total')).toBe(3);
    expect(sample('ferry_dead_lettered_total')).toBe(2);
    await d.tick(0);
    expect(sample('ferry_consumer_lag_records')).toBe(0);
    expect(sample('ferry_consumer_lag_seconds')).toBe(0);
  });

  it('counts a throttle when the rate limit makes it wait', async () => {
    await l.log.produce(
      'orders',
      Array.from({ length: 20 }, (_, i) => rec(`v${i}`, { partition: 0 })),
    );
    const d = new Dispatcher(
      l.log,
      { invoke: async () => ({ batchItemFailures: [] }) },
      config({ batchSize: 10, maxRecordsPerSecond: 10 }),
      'a',
    );
    await d.tick(0); // the first second's budget
    expect(sample('ferry_throttles_total')).toBeUndefined();
    await d.tick(0); // waits for the next second
    expect(sample('ferry_throttles_total')).toBe(1);
  });
});
