/**
 * Push consumers as resources on the embedded server (real HTTP): list, describe per partition, pause (lag
 * grows, nothing delivered), resume (delivered), seek (delivered again), and bad input answered 4xx.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseConfig } from '../../lib/config';
import { startEmbedded } from '../../lib/embedded';
import type { ConsumerEvent, InvokeResult, Invoker } from '../../lib/ports/invoker';
import { runTracked } from '../helpers/processes';

const BIN = path.join(__dirname, '..', '..', 'bin', 'ferry.js');

class RecordingInvoker implements Invoker {
  readonly values: unknown[] = [];
  async invoke(_t: string, event: ConsumerEvent): Promise<InvokeResult> {
    this.values.push(...event.records.map((r) => r.value));
    return { batchItemFailures: [] };
  }
}

describe('push consumers as resources (embedded server)', () => {
  let dataDir: string;
  let ferry: Awaited<ReturnType<typeof startEmbedded>>;
  const invoker = new RecordingInvoker();
  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${ferry.url}${p}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  };
  const until = async (what: string, ok: () => boolean) => {
    for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
    if (!ok()) throw new Error(`timed out waiting for ${what}`);
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ferry-consumers-api-'));
    const config = parseConfig({
      topics: [{ name: 'orders', partitions: 2 }],
      consumers: [{ topic: 'orders', name: 'email', handler: './email.mjs', batchSize: 10 }],
    });
    ferry = await startEmbedded({ dataDir, port: 0, config, invoker });
  });
  afterAll(async () => {
    await ferry?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('lists the topic consumers and describes each partition', async () => {
    const list = await api('GET', '/v1/topics/orders/consumers');
    expect(list.status).toBe(200);
    expect(list.json.consumers).toEqual([
      expect.objectContaining({
        topic: 'orders',
        name: 'email',
        handler: './email.mjs',
        batchSize: 10,
        paused: false,
        deadLetterTopic: 'orders-email-dlq',
      }),
    ]);
    await api('POST', '/v1/topics/orders/records', { records: [{ value: 'a', partition: 0 }] });
    await until('delivery', () => invoker.values.includes('a'));
    const d = await api('GET', '/v1/topics/orders/consumers/email');
    expect(d.status).toBe(200);
    expect(d.json.partitions[0]).toMatchObject({ partition: 0, highWatermark: '1', lag: '0', retrying: null });
    expect(d.json).toMatchObject({ name: 'email', paused: false, totalLag: '0' });
  });

  it('pause holds deliveries (lag grows), resume lets them go', async () => {
    const paused = await api('POST', '/v1/topics/orders/consumers/email/pause');
    expect(paused).toMatchObject({ status: 200, json: { paused: true, pausedSince: expect.any(Number) } });
    await new Promise((r) => setTimeout(r, 1200)); // past the dispatchers' 1 s view of the control item
    await api('POST', '/v1/topics/orders/records', { records: [{ value: 'held', partition: 1 }] });
    await new Promise((r) => setTimeout(r, 800));
    expect(invoker.values).not.toContain('held');
    const d = await api('GET', '/v1/topics/orders/consumers/email');
    expect(d.json).toMatchObject({ paused: true, totalLag: '1' });
    expect(d.json.partitions[1]).toMatchObject({ lag: '1', lagSeconds: expect.any(Number) });
    expect((await api('GET', '/v1/topics/orders/consumers')).json.consumers[0].paused).toBe(true);

    expect(await api('POST', '/v1/topics/orders/consumers/email/resume', {})).toMatchObject({ status: 200, json: { paused: false } });
    await until('the held record', () => invoker.values.includes('held'));
  });

  it('seek moves the committed offsets (earliest: everything is delivered again)', async () => {
    const before = invoker.values.length;
    const res = await api('POST', '/v1/topics/orders/consumers/email/seek', { to: 'earliest' });
    expect(res.status).toBe(200);
    await until('redelivery', () => invoker.values.length >= before + 2);
    expect(invoker.values.slice(before).sort()).toEqual(['a', 'held']);
    const one = await api('POST', '/v1/topics/orders/consumers/email/seek', { partition: 1, to: { offset: '1' } });
    expect(one.json.partitions[1]).toMatchObject({ committedOffset: '1' });
  });

  it('ferry consumers list | describe | pause | resume | seek', async () => {
    const cli = (...args: string[]) => runTracked(process.execPath, [BIN, 'consumers', ...args, '--url', ferry.url], { timeoutMs: 30_000 });
    expect((await cli('list', 'orders')).stdout).toMatch(/email\s+\.\/email\.mjs\s+running\s+10\s+3\s+orders-email-dlq/);
    expect((await cli('pause', 'orders', 'email')).stdout).toMatch(/consumer email of orders paused/);
    expect((await cli('describe', 'orders', 'email')).stdout).toMatch(/consumer email of orders: paused since .*\n\nPARTITION\s+COMMITTED/);
    expect((await cli('resume', 'orders', 'email')).stdout).toMatch(/resumed/);
    const json = JSON.parse((await cli('seek', 'orders', 'email', '--partition', '0', '--to-latest', '--json')).stdout);
    expect(json.partitions[0]).toMatchObject({ committedOffset: '1' });
    await expect(cli('describe', 'orders', 'nobody')).rejects.toThrow(/no push consumer "nobody"/);
  }, 60_000);

  it('answers bad input with a clear 4xx and changes nothing', async () => {
    expect((await api('GET', '/v1/topics/orders/consumers/nobody')).status).toBe(404);
    expect((await api('GET', '/v1/topics/missing/consumers')).status).toBe(404);
    expect((await api('GET', '/v1/topics/orders/consumers/bad%20name')).status).toBe(400);
    expect((await api('POST', '/v1/topics/orders/consumers/email/pause', { forever: true })).status).toBe(400);
    expect((await api('POST', '/v1/topics/orders/consumers/email/seek', { to: 'yesterday' })).status).toBe(400);
    expect((await api('POST', '/v1/topics/orders/consumers/email/seek', { partition: 7, to: 'earliest' })).status).toBe(404);
    expect((await api('POST', '/v1/topics/orders/consumers/email/seek', { to: { offset: '99' } })).status).toBe(416);
    expect((await api('GET', '/v1/topics/orders/consumers/email')).json.paused).toBe(false);
  });
});
