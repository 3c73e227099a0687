/**
 * Push consumers end to end: `ferry dev --config` (a real server process) delivering to a handler module and to
 * a webhook, with partial failures, dead letters and their headers; and LambdaInvoker through the real AWS SDK.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LambdaInvoker } from '../../lib/adapters/aws/lambda-invoker';
import { startLambdaEndpoint } from '../helpers/lambda-invoke-endpoint';
import { startServerProcess, type ServerProcess } from '../helpers/server-process';

const FIXTURE = path.join(__dirname, 'fixtures', 'collect.mjs');

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('ferry dev --config: push consumers', () => {
  let dir: string;
  let server: ServerProcess | undefined;
  const hooks: unknown[] = [];
  let hook: ReturnType<typeof createServer>;
  let hookUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-push-'));
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const event = JSON.parse(body);
        hooks.push(event);
        // The first delivery fails as a whole (500): the batch must come again, in the same order.
        res.writeHead(hooks.length === 1 ? 500 : 200).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    await server?.kill();
    await new Promise((r) => hook.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a bad config at start, listing every problem', async () => {
    const bad = path.join(dir, 'bad.json');
    await writeFile(
      bad,
      JSON.stringify({
        topics: [
          { name: 'a/b', partitions: 1 },
          { name: 'zero', partitions: 0 },
          { name: 'zero', partitions: 1, colour: 'red' },
        ],
        consumers: [{ topic: 'x', name: 'n', handler: 'h', batchSize: 0, maxRetries: -5 }],
      }),
    );
    // Shape problems (partitions 0, an unknown key) do not hide the others (a bad name, bad consumer settings).
    await expect(startServerProcess(['--data', path.join(dir, 'bad-data'), '--config', bad])).rejects.toThrow(
      /topics\.0\.name[\s\S]*topics\.1\.partitions[\s\S]*topics\.2: Unrecognized key: "colour"[\s\S]*batchSize must be an integer from 1 to 10000 \(got 0\)[\s\S]*maxRetries/,
    );
  });

  it('refuses at start, in one list, handlers that cannot run and topics that differ from the server', async () => {
    const data = path.join(dir, 'mismatch-data');
    const good = path.join(dir, 'good.json');
    await writeFile(good, JSON.stringify({ topics: [{ name: 'orders', partitions: 2 }] }));
    const first = await startServerProcess(['--data', data, '--config', good]);
    await first.kill();
    const bad = path.join(dir, 'handlers.json');
    await writeFile(
      bad,
      JSON.stringify({
        topics: [{ name: 'orders', partitions: 3 }],
        consumers: [
          { topic: 'orders', name: 'missing', handler: './no-such-handler.mjs' },
          { topic: 'orders', name: 'ftp', handler: 'ftp://example.com/h' },
          { topic: 'nowhere', name: 'lost', handler: hookUrl },
        ],
      }),
    );
    const refused = startServerProcess(['--data', data, '--config', bad]);
    await expect(refused).rejects.toThrow(
      /topic "orders" has 2 partitions on the server, the config says 3 \(add them with: ferry topics alter orders --partitions 3/,
    );
    await expect(refused).rejects.toThrow(/consumers\.0\.handler: handler \.\/no-such-handler\.mjs: no such file/);
    await expect(refused).rejects.toThrow(/consumers\.1\.handler: handler ftp:\/\/example\.com\/h: only http:\/\/ and https:\/\/ webhooks/);
    await expect(refused).rejects.toThrow(
      /consumers\.2: consumer "lost" reads topic "nowhere", which is neither in the config nor on the server/,
    );
    // Nothing was created by the refused start: the topic still has 2 partitions and no dead-letter topics exist.
    const again = await startServerProcess(['--data', data]);
    try {
      const { topics } = await (await fetch(`${again.url}/v1/topics`)).json();
      expect(topics.map((t: { name: string; partitionCount: number }) => [t.name, t.partitionCount])).toEqual([['orders', 2]]);
    } finally {
      await again.kill();
    }
  });

  it('after kill -9, a restart on the same data delivers again at once (its own leases, not 30 s of expiry)', async () => {
    const data = path.join(dir, 'restart-data');
    const out = path.join(dir, 'restart.jsonl');
    const config = path.join(dir, 'restart.json');
    await writeFile(
      config,
      JSON.stringify({
        topics: [{ name: 'jobs', partitions: 1 }],
        consumers: [{ topic: 'jobs', name: 'worker', handler: path.relative(dir, FIXTURE) }],
      }),
    );
    const delivered = async () =>
      (await readFile(out, 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .flatMap((l) => JSON.parse(l).records.map((r: { value: unknown }) => r.value));
    const produce = (url: string, value: string) =>
      fetch(`${url}/v1/topics/jobs/records`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ records: [{ value }] }),
      });
    const first = await startServerProcess(['--data', data, '--config', config], { FERRY_TEST_OUT: out });
    try {
      await produce(first.url, 'before');
      await until('the first delivery', async () => ((await delivered()).includes('before') ? true : undefined));
    } finally {
      await first.kill('SIGKILL'); // its leases stay in the table, held by it
    }
    const second = await startServerProcess(['--data', data, '--config', config], { FERRY_TEST_OUT: out });
    try {
      const started = Date.now();
      await produce(second.url, 'after');
      // The dead server's lease lasts 30 s; the restarted one is the same owner and goes on at once.
      await until('the delivery after the restart', async () => ((await delivered()).includes('after') ? true : undefined), 10_000);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(await delivered()).toEqual(['before', 'after']);
    } finally {
      await second.kill();
    }
  });

  it('delivers in order to a module and a webhook, retries, and dead-letters with origin headers', async () => {
    const out = path.join(dir, 'events.jsonl');
    const config = path.join(dir, 'ferry.config.json');
    await writeFile(
      config,
      JSON.stringify({
        topics: [{ name: 'orders', partitions: 2 }],
        consumers: [
          { topic: 'orders', name: 'module', handler: path.relative(dir, FIXTURE), batchSize: 10, maxRetries: 1 },
          { topic: 'orders', name: 'hook', handler: hookUrl, batchSize: 100, maxRetries: 3 },
        ],
      }),
    );
    server = await startServerProcess(['--data', path.join(dir, 'data'), '--config', config], { FERRY_TEST_OUT: out });
    const produce = (records: unknown[]) =>
      fetch(`${server!.url}/v1/topics/orders/records`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ records }),
      });
    expect(
      (
        await produce([
          { value: 'a', partition: 0 },
          { value: 'poison', partition: 0, headers: { trace: 't-9' } },
          { value: 'b', partition: 0 },
        ])
      ).status,
    ).toBe(200);

    // The dead-letter topic (created from the config) gets the poison record with its origin.
    const dead = await until('a dead letter', async () => {
      const res = await fetch(`${server!.url}/v1/topics/orders-module-dlq/partitions/0/records?offset=0`);
      const body = res.status === 200 ? await res.json() : undefined;
      return body?.records.length ? body.records : undefined;
    });
    expect(dead).toHaveLength(1);
    expect(dead[0].value).toBe('poison');
    expect(dead[0].headers).toEqual({
      trace: 't-9',
      'ferry-error': expect.stringContaining('failed'),
      'ferry-source-topic': 'orders',
      'ferry-source-partition': '0',
      'ferry-source-offset': '1',
    });

    // The module got [a, poison, b] and reported poison failed; the retry starts at poison (a is done), and
    // after maxRetries only poison is dead-lettered: b was reported fine.
    const events = await until('two module deliveries', async () => {
      const lines = (await readFile(out, 'utf8').catch(() => ''))
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      return lines.length >= 2 ? lines : undefined;
    });
    const batches = events.map((e: { records: Array<{ value: string }> }) => e.records.map((r) => r.value));
    expect(batches).toEqual([
      ['a', 'poison', 'b'],
      ['poison', 'b'],
    ]);
    expect(events[0].records[0]).toEqual({
      topic: 'orders',
      partition: 0,
      offset: '0',
      key: null,
      value: 'a',
      headers: {},
      timestamp: expect.any(Number),
    });

    // The webhook failed once (500) and got the same batch again, in order.
    await until('two webhook deliveries', async () => (hooks.length >= 2 ? true : undefined));
    const values = (e: unknown) => (e as { records: Array<{ value: string }> }).records.map((r) => r.value);
    expect(values(hooks[0])).toEqual(['a', 'poison', 'b']);
    expect(values(hooks[1])).toEqual(['a', 'poison', 'b']);

    // ferry dev says so on its log: each failed delivery, and each batch it dead-letters.
    const log = () => server!.output();
    await until('the dead-letter log line', async () => (/records dead-lettered/.test(log()) ? true : undefined));
    expect(log()).toMatch(
      /ferry: consumer module: delivery failed, retrying \(consumer=module, topic=orders, partition=0, attempts=1, retryInMs=\d+\) — handler reported record 1 as failed/,
    );
    expect(log()).toMatch(
      /ferry: consumer hook: delivery failed, retrying \(consumer=hook, topic=orders, partition=0, attempts=1, retryInMs=\d+\) — \S+/,
    );
    expect(log()).toMatch(
      /ferry: consumer module: records dead-lettered \(consumer=module, topic=orders, partition=0, records=1, deadLetterTopic=orders-module-dlq\) — /,
    );
  });
});

describe('LambdaInvoker (real AWS SDK, local Invoke endpoint)', () => {
  it('invokes a handler module, reads batch item failures, and turns a function error into a failed batch', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('./fixtures/collect.cjs');
    const out = path.join(await mkdtemp(path.join(tmpdir(), 'ferry-lambda-')), 'events.jsonl');
    process.env.FERRY_TEST_OUT = out;
    const endpoint = await startLambdaEndpoint({
      collect: mod.handler,
      broken: () => {
        throw new Error('database is down');
      },
    });
    try {
      const client = new LambdaClient({
        endpoint: endpoint.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      const invoker = new LambdaInvoker(client);
      const event = {
        records: [
          { topic: 'orders', partition: 0, offset: '7', key: null, value: 'ok', headers: {}, timestamp: 1 },
          { topic: 'orders', partition: 0, offset: '8', key: null, value: 'poison', headers: {}, timestamp: 1 },
        ],
      };
      expect(await invoker.invoke('collect', event)).toEqual({ batchItemFailures: [{ itemIdentifier: '8' }] });
      expect(JSON.parse((await readFile(out, 'utf8')).trim())).toEqual(event);
      await expect(invoker.invoke('broken', event)).rejects.toThrow(/broken failed \(Unhandled\): database is down/);
      await expect(invoker.invoke('missing', event)).rejects.toMatchObject({ kind: 'unavailable' });
      expect(endpoint.calls).toEqual(['collect', 'broken']);
    } finally {
      await endpoint.close();
    }
  });
});
