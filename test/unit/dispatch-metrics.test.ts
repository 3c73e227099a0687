/** What a push consumer reports: invocations, handler failures, dead letters, throttles and lag. */
import { PrometheusMetrics } from '../../lib/adapters/local/prometheus-metrics';
import { consumerDefaults, defaultDeadLetterTopic, Dispatcher, type ConsumerConfig } from '../../lib/core/dispatch';
import type { ConsumerEvent, InvokeResult, Invoker } from '../../lib/ports/invoker';
import { makeLocalLog, rec, type LocalLog } from '../helpers/local-log';

class FailingFirst implements Invoker {
  calls = 0;
  async invoke(_t: string, _e: ConsumerEvent): Promise<InvokeResult> {
    this.calls++;
    if (this.calls <= 3) throw new Error('downstream down');
    return { batchItemFailures: [] };
  }
}

const config = (over: Partial<ConsumerConfig> = {}): ConsumerConfig => ({
  ...consumerDefaults,
  topic: 'orders',
  name: 'email',
  handler: 'test',
  deadLetterTopic: defaultDeadLetterTopic('orders', 'email'),
  ...over,
});

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
    const line = metrics.render().split('\n').find((x) => x.startsWith(`${name}{topic="orders",consumer="email"}`));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  };

  it('counts invocations, failures and dead-lettered records, and reports lag at each fetch', async () => {
    await l.log.produce('orders', [rec('a', { partition: 0 }), rec('b', { partition: 0 })]);
    l.clock.t += 5_000; // the records are 5 s old when the consumer first fetches them
    const d = new Dispatcher(l.log, new FailingFirst(), config({ batchSize: 10, maxRetries: 2, bisectOnError: false }), 'a');
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
    await l.log.produce('orders', Array.from({ length: 20 }, (_, i) => rec(`v${i}`, { partition: 0 })));
    const d = new Dispatcher(l.log, { invoke: async () => ({ batchItemFailures: [] }) }, config({ batchSize: 10, maxRecordsPerSecond: 10 }), 'a');
    await d.tick(0); // the first second's budget
    expect(sample('ferry_throttles_total')).toBeUndefined();
    await d.tick(0); // waits for the next second
    expect(sample('ferry_throttles_total')).toBe(1);
  });
});
