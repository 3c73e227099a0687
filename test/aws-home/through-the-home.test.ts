/**
 * Ferry's own users through the AWS home as AWS runs it: the client's idempotent producer, group consumers
 * that join a group with lag, delayed delivery, a push consumer fed by the dispatcher function, and the
 * scheduled maintenance function — every SDK call authorised by the calling function's template role.
 * Each case ends with no denial: a denial is a role that lacks what its function does.
 */
import { FerryClient } from '../../lib/client';
import { startAwsHarness, type AwsHarness } from './harness';

describe('Ferry through the AWS home as AWS runs it', () => {
  let aws: AwsHarness;
  let client: FerryClient;
  beforeAll(async () => {
    aws = await startAwsHarness({ env: { FerryDispatcherFunction: { FERRY_DISPATCH_IDLE_MS: '1000' } } });
    await aws.deployTopics();
    client = new FerryClient({ url: aws.url, retry: { retries: 3, initialRetryTime: 50 } });
  }, 120_000);
  afterAll(async () => aws?.close());

  let n = 0;
  const topic = async (partitions: number) => {
    const name = `t${Date.now().toString(36)}-${++n}`;
    await client.admin().createTopics({ topics: [{ topic: name, numPartitions: partitions }] });
    return name;
  };
  // Denials of this case only (the harness is shared by the file's cases).
  let denialsBefore = 0;
  beforeEach(() => (denialsBefore = aws.principals.denials.length));
  const expectNoDenials = () => expect(aws.principals.denials.slice(denialsBefore).map((d) => `${d.principal} ${d.action}`)).toEqual([]);
  const readAll = async (name: string, partitions: number) => {
    const values: unknown[] = [];
    for (let p = 0; p < partitions; p++) {
      const res = await (await fetch(`${aws.url}/v1/topics/${name}/partitions/${p}/records?offset=0&maxRecords=10000`)).json();
      values.push(...res.records.map((r: { value: unknown }) => r.value));
    }
    return values;
  };

  it('stores every send of an idempotent producer making 25 requests once, with no denial', async () => {
    const name = await topic(3);
    const producer = client.producer(); // idempotent by default
    for (let i = 0; i < 25; i++) await producer.send({ topic: name, messages: [{ key: `k${i % 5}`, value: { i } }] });
    await producer.disconnect();
    const values = (await readAll(name, 3)) as Array<{ i: number }>;
    expect(values.map((v) => v.i).sort((a, b) => a - b)).toEqual([...Array(25).keys()]);
    expectNoDenials();
  });

  it('starts group consumers on a group with lag and reads every record', async () => {
    const name = await topic(4);
    const producer = client.producer({ idempotent: false });
    await producer.send({ topic: name, messages: Array.from({ length: 40 }, (_, i) => ({ key: `u${i}`, value: { i } })) });
    const seen: number[] = [];
    const consumers = [0, 1].map(() =>
      client.consumer({ groupId: `g-${name}`, sessionTimeoutMs: 6_000, maxWaitTimeInMs: 500, handleSignals: false }),
    );
    // First a member that commits part of the way, so the group has lag (committed < high watermark) when the next joins.
    for (const c of consumers) {
      await c.subscribe({ topic: name });
      await c.run({ eachMessage: async ({ message }) => void seen.push((message.value as { i: number }).i) });
    }
    await producer.send({ topic: name, messages: Array.from({ length: 10 }, (_, i) => ({ key: `v${i}`, value: { i: 40 + i } })) });
    const deadline = Date.now() + 30_000;
    while (new Set(seen).size < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await Promise.all(consumers.map((c) => c.disconnect()));
    // At least once: a partition that moves on the second join may be re-read from its last commit (no
    // revocation step yet, NOTES.md), so duplicates are allowed here; a missing record is not.
    expect([...new Set(seen)].sort((a, b) => a - b)).toEqual([...Array(50).keys()]);
    expectNoDenials();
  }, 60_000);

  it('delivers a delayed record once the maintenance function moves it, never before it is due', async () => {
    const name = await topic(1);
    const res = await fetch(`${aws.url}/v1/topics/${name}/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ records: [{ value: 'now' }, { value: 'later', deliverAfterMs: 1000 }] }),
    });
    const { records } = await res.json();
    const due = records[1].deliverAt as number;
    let values: unknown[] = [];
    for (let i = 0; i < 60 && values.length < 2; i++) {
      values = await readAll(name, 1);
      if (values.length < 2) {
        expect(Date.now() < due || values.length === 1).toBe(true);
        if (Date.now() >= due) await aws.invoke(aws.fn('Maintenance').logicalId, { job: 'delayed' });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    expect(values).toEqual(['now', 'later']);
    expect(Date.now()).toBeGreaterThanOrEqual(due);
    expectNoDenials();
  }, 30_000);

  it('pushes records to the example push consumer as soon as they are produced: the produce function wakes the dispatcher', async () => {
    const shipping = [...aws.model.functions.values()].find((f) => f.logicalId.startsWith('Shipping'))!;
    const dispatcher = aws.fn('Dispatcher').logicalId;
    const before = aws.stats();
    const producer = client.producer({ idempotent: false });
    await producer.send({ topic: 'orders', messages: Array.from({ length: 30 }, (_, i) => ({ key: `o${i}`, value: { i } })) });
    // No schedule runs here and nobody invokes the dispatcher: the commit's wake-up must.
    const batches = () =>
      aws
        .logs(true)
        .split('\n')
        .filter((l) => l.startsWith('{"partition"'))
        .map((l) => JSON.parse(l) as { partition: number; from: string; count: number });
    for (let i = 0; i < 100 && batches().reduce((sum, b) => sum + b.count, 0) < 30; i++) await new Promise((r) => setTimeout(r, 200));
    expect(batches().reduce((sum, b) => sum + b.count, 0)).toBe(30);
    const after = aws.stats();
    expect(after.asyncInvocations - before.asyncInvocations).toBeGreaterThanOrEqual(1);
    expect(after.invocations[dispatcher].invocations).toBeGreaterThanOrEqual(1);
    expect(after.invocations[shipping.logicalId].invocations).toBe(batches().length);
    // Once drained, the run ends by itself (idle for FERRY_DISPATCH_IDLE_MS, then its last look).
    await expect(aws.invoke(dispatcher, { job: 'sweep' })).resolves.toMatchObject({
      skipped: expect.stringMatching(/running|nothing-to-do/),
    });
    expectNoDenials();
  }, 60_000);

  it('retries a throttled push consumer without dead-lettering it, then delivers', async () => {
    const shipping = [...aws.model.functions.values()].find((f) => f.logicalId.startsWith('Shipping'))!;
    const pool = aws.pool(shipping.logicalId);
    const delivered = () =>
      aws
        .logs(true)
        .split('\n')
        .filter((l) => l.startsWith('{"partition"'))
        .reduce((sum, l) => sum + (JSON.parse(l) as { count: number }).count, 0);
    const start = delivered();
    pool.limitConcurrency(0); // every invoke answers 429 TooManyRequestsException
    const producer = client.producer({ idempotent: false });
    await producer.send({ topic: 'orders', messages: Array.from({ length: 5 }, (_, i) => ({ key: `t${i}`, value: { i } })) });
    for (let i = 0; i < 50 && pool.stats.throttles < 3; i++) await new Promise((r) => setTimeout(r, 200));
    expect(pool.stats.throttles).toBeGreaterThanOrEqual(3);
    pool.limitConcurrency(undefined);
    for (let i = 0; i < 100 && delivered() - start < 5; i++) await new Promise((r) => setTimeout(r, 200));
    expect(delivered() - start).toBe(5);
    // Throttles are not handler failures: nothing went to the dead-letter topic.
    const dlq = await fetch(`${aws.url}/v1/topics/orders-shipping-dlq`);
    if (dlq.status === 200) {
      const parts = ((await dlq.json()) as { partitions: Array<{ highWatermark: string }> }).partitions;
      expect(parts.every((p) => p.highWatermark === '0')).toBe(true);
    } else expect(dlq.status).toBe(404);
    expectNoDenials();
  }, 60_000);

  it('lists, describes, pauses and resumes the push consumer through the admin function', async () => {
    const api = async (method: string, p: string) => {
      const res = await fetch(`${aws.url}${p}`, {
        method,
        ...(method === 'POST' && { headers: { 'content-type': 'application/json' }, body: '{}' }),
      });
      return { status: res.status, json: (await res.json()) as Record<string, any> };
    };
    const list = await api('GET', '/v1/topics/orders/consumers');
    expect(list).toMatchObject({ status: 200, json: { consumers: [expect.objectContaining({ name: 'shipping', paused: false })] } });
    expect(list.json.consumers[0].timeoutMs).toBe(30_000); // from the function's timeout in the template
    expect(await api('POST', '/v1/topics/orders/consumers/shipping/pause')).toMatchObject({ status: 200, json: { paused: true } });
    const d = await api('GET', '/v1/topics/orders/consumers/shipping');
    expect(d.json.partitions).toHaveLength(6);
    expect(await api('POST', '/v1/topics/orders/consumers/shipping/resume')).toMatchObject({ status: 200, json: { paused: false } });
    expectNoDenials();
  }, 30_000);

  it('runs a maintenance pass with only the maintenance role', async () => {
    const report = await aws.invoke<Record<string, unknown>>(aws.fn('Maintenance').logicalId, {});
    expect(report).toEqual(expect.any(Object));
    expectNoDenials();
  });
});
