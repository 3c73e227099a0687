/**
 * The client against an in-process embedded server: the retry policy retries only what cannot duplicate,
 * the producer batches concurrent sends and isolates a refused record, the consumer's heartbeats keep a slow
 * handler in its group.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FerryClient, FerryError, retriable } from '../../lib/client';
import { startEmbedded, type Embedded } from '../../lib/embedded';

describe('retriable (the client retry policy)', () => {
  const conn = (sent: boolean) => new FerryError('unavailable', 'x', { connection: true, sent });
  const http = (status: number) => new FerryError(status === 429 ? 'throttled' : 'unavailable', 'x', { status });

  it('retries a request that never left, and 429 / 503, whatever the request', () => {
    for (const idempotent of [true, false]) {
      expect(retriable(conn(false), idempotent)).toBe(true);
      expect(retriable(http(429), idempotent)).toBe(true);
      expect(retriable(http(503), idempotent)).toBe(true);
    }
  });

  it('retries a lost connection or another 5xx only when the request is idempotent', () => {
    expect(retriable(conn(true), false)).toBe(false);
    expect(retriable(conn(true), true)).toBe(true);
    expect(retriable(http(500), false)).toBe(false);
    expect(retriable(http(502), true)).toBe(true);
  });

  it('never retries a 4xx', () => {
    for (const s of [400, 404, 409, 413, 416]) expect(retriable(new FerryError('invalid', 'x', { status: s }), true)).toBe(false);
  });
});

describe('FerryClient against the embedded server', () => {
  let dir: string;
  let ferry: Embedded;
  let client: FerryClient;
  let posts = 0;
  /** `METHOD path` of every request the client sent. */
  const sent: string[] = [];
  const realFetch = global.fetch;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-client-'));
    ferry = await startEmbedded({ dataDir: dir, port: 0 });
    client = new FerryClient({ url: ferry.url });
    await client.admin().createTopics({ topics: [{ topic: 't', numPartitions: 3, maxRecordBytes: 1000 }] });
    global.fetch = ((input: string | URL | Request, init?: RequestInit) => {
      if (init?.method === 'POST' && String(input).endsWith('/records')) posts++;
      const url = new URL(String(input instanceof Request ? input.url : input));
      sent.push(`${init?.method ?? 'GET'} ${url.pathname}${url.search}`);
      return realFetch(input, init);
    }) as typeof fetch;
  });
  afterAll(async () => {
    global.fetch = realFetch;
    await ferry.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('batches concurrent sends into few requests and answers each in order', async () => {
    posts = 0;
    const producer = client.producer({ lingerMs: 20 });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => producer.send({ topic: 't', messages: [{ value: i, partition: 0 }] })),
    );
    expect(posts).toBeLessThanOrEqual(2);
    expect(results.map((r) => r[0].offset)).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
  });

  it('sends several topics at once with sendBatch (kafkajs), answering every message in order', async () => {
    await client.admin().createTopics({
      topics: [
        { topic: 'sb', numPartitions: 1 },
        { topic: 'sb2', numPartitions: 3 },
      ],
    });
    const producer = client.producer();
    const out = await producer.sendBatch({
      topicMessages: [
        { topic: 'sb', messages: [{ value: 'a' }, { value: 'b' }] },
        { topic: 'sb2', messages: [{ value: 'c', partition: 2 }] },
      ],
    });
    expect(out.map((m) => [m.topic, m.partition, m.offset])).toEqual([
      ['sb', 0, '0'],
      ['sb', 0, '1'],
      ['sb2', 2, '0'],
    ]);
  });

  it('pauses and resumes a partition, and seeks it back to an offset (kafkajs pause / resume / seek)', async () => {
    await client.admin().createTopics({ topics: [{ topic: 'ctl', numPartitions: 1 }] });
    await client.producer().send({ topic: 'ctl', messages: [0, 1, 2].map((value) => ({ value })) });
    const consumer = client.consumer({ groupId: 'ctl', handleSignals: false, maxWaitTimeInMs: 100 });
    await consumer.subscribe({ topics: ['ctl'] });
    const got: unknown[] = [];
    let arrived = () => {};
    const next = (n: number) => new Promise<void>((r) => (arrived = () => got.length >= n && r()));
    consumer.pause([{ topic: 'ctl' }]);
    expect(consumer.paused()).toEqual([{ topic: 'ctl' }]);
    await consumer.run({
      eachMessage: async ({ message }) => {
        got.push(message.value);
        arrived();
      },
    });
    await new Promise((r) => setTimeout(r, 400));
    expect(got).toEqual([]); // paused: nothing fetched
    const three = next(3);
    consumer.resume([{ topic: 'ctl' }]);
    await three;
    expect(got).toEqual([0, 1, 2]);
    const again = next(5);
    consumer.seek({ topic: 'ctl', partition: 0, offset: '1' });
    await again;
    expect(got).toEqual([0, 1, 2, 1, 2]);
    expect(() => consumer.seek({ topic: 'ctl', partition: 0, offset: '-1' })).toThrow(/decimal string/);
    await consumer.disconnect();
    expect((await client.admin().describeGroup('ctl')).offsets[0].committedOffset).toBe('3');
  });

  it('fails only the send whose record the server refused, and stores the others', async () => {
    const producer = client.producer({ lingerMs: 20 });
    const good = producer.send({ topic: 't', messages: [{ value: 'ok', partition: 1 }] });
    const bad = producer.send({ topic: 't', messages: [{ value: 'x'.repeat(2000), partition: 1 }] });
    const good2 = producer.send({ topic: 't', messages: [{ value: 'ok2', partition: 1 }] });
    await expect(bad).rejects.toMatchObject({ kind: 'too_large' });
    expect((await good)[0].offset).toBe('0');
    expect((await good2)[0].offset).toBe('1');
  });

  it('keeps a member whose handler runs longer than the session timeout (heartbeats on their own timer)', async () => {
    await client.producer().send({ topic: 't', messages: [{ value: 'slow', partition: 2 }] });
    const consumer = client.consumer({ groupId: 'slow', sessionTimeoutMs: 600, handleSignals: false, maxWaitTimeInMs: 100 });
    await consumer.subscribe({ topics: ['t'] });
    const generations: number[] = [];
    consumer.on('group.join', (e: { generation: number }) => generations.push(e.generation));
    let done!: () => void;
    const handled = new Promise<void>((r) => (done = r));
    await consumer.run({
      eachMessage: async ({ partition }) => {
        if (partition !== 2) return;
        await new Promise((r) => setTimeout(r, 2_000)); // more than three session timeouts
        done();
      },
    });
    await handled;
    await new Promise((r) => setTimeout(r, 100));
    const info = await client.admin().describeGroup('slow');
    expect(info.members).toHaveLength(1);
    expect(generations).toEqual([1]);
    expect(info.offsets.find((o) => o.partition === 2)!.committedOffset).toBe('1');
    await consumer.disconnect();
    expect((await client.admin().describeGroup('slow')).members).toEqual([]);
  });

  it('starts each generation from the committed offsets (OffsetFetch), never from the describe route', async () => {
    await client.admin().createTopics({ topics: [{ topic: 'pos', numPartitions: 1 }] });
    await client.producer().send({ topic: 'pos', messages: [0, 1, 2, 3, 4].map((v) => ({ value: v })) });
    const first = client.consumer({ groupId: 'positions', handleSignals: false, maxWaitTimeInMs: 50 });
    await first.subscribe({ topics: ['pos'] });
    let seen = 0;
    let enough!: () => void;
    const got = new Promise<void>((r) => (enough = r));
    await first.run({ eachMessage: async () => void (++seen >= 5 && enough()) });
    await got;
    await first.disconnect();
    const [{ partitions }] = await client.admin().fetchOffsets({ groupId: 'positions', topics: ['pos'] });
    expect(Number(partitions[0].offset)).toBeGreaterThan(0);
    await client.producer().send({ topic: 'pos', messages: [{ value: 5 }] });
    sent.length = 0;
    const second = client.consumer({ groupId: 'positions', handleSignals: false, maxWaitTimeInMs: 50 });
    await second.subscribe({ topics: ['pos'] });
    const offsets: string[] = [];
    let last!: () => void;
    const reached = new Promise<void>((r) => (last = r));
    await second.run({ eachMessage: async ({ message }) => void (offsets.push(message.offset), message.offset === '5' && last()) });
    await reached;
    await second.disconnect();
    expect(sent).toContain('GET /v1/groups/positions/offsets?topic=pos');
    expect(sent.filter((r) => r === 'GET /v1/groups/positions')).toEqual([]);
    expect(Number(offsets[0])).toBe(Number(partitions[0].offset)); // resumed exactly at the committed offset
  });
});

describe('consumer.run() against a server that cannot be reached', () => {
  it('emits crash and rejects after its retries instead of waiting forever', async () => {
    const { FerryClient } = await import('../../lib/client');
    const client = new FerryClient({ url: 'http://127.0.0.1:1', retry: { retries: 1, initialRetryTime: 10, maxRetryTime: 20 } });
    const consumer = client.consumer({ groupId: 'g', handleSignals: false });
    await consumer.subscribe({ topics: ['orders'] });
    const crashes: unknown[] = [];
    consumer.on('crash', (e) => crashes.push(e));
    await expect(consumer.run({ eachMessage: async () => undefined })).rejects.toThrow(/cannot reach Ferry at http:\/\/127.0.0.1:1/);
    expect(crashes).toHaveLength(1);
    await expect(consumer.run({ eachMessage: async () => undefined })).rejects.toThrow(/cannot reach/); // may be run again
  }, 30_000);
});

describe('consumer.subscribe', () => {
  it('refuses a topic pattern at once (run() would fail later)', async () => {
    const { FerryClient } = await import('../../lib/client');
    const consumer = new FerryClient({ url: 'http://127.0.0.1:59999' }).consumer({ groupId: 'g', handleSignals: false });
    await expect(consumer.subscribe({ topics: [/ord.*/ as never] })).rejects.toThrow(/takes topic names; \/ord\.\*\/ is not one/);
  });
});

describe('CLI hints', () => {
  it('says what to try for a refused connection, a missing token and a taken port', async () => {
    const { hint } = await import('../../lib/cli/main');
    const { FerryError } = await import('../../lib/protocol/errors');
    expect(hint(new FerryError('unavailable', 'cannot reach', { code: 'ECONNREFUSED' }))).toMatch(/npx ferry dev/);
    expect(hint(new FerryError('unauthorized', 'send a token'))).toMatch(/--token <token> or set FERRY_TOKEN/);
    expect(hint(Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }))).toMatch(/--port 0/);
    expect(hint(new FerryError('not_found', 'no topic'))).toBeUndefined();
  });
});
