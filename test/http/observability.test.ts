/**
 * The embedded server's `GET /metrics` (Prometheus text, read by a real parser) and `GET /health`, from
 * outside: what a scrape shows after produce, fetch, errors and a lagging group; health failing with a store.
 */
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { METRICS, prometheusName, type MetricName } from '../../lib/core/metric-catalog';
import { startEmbedded, type Embedded } from '../../lib/embedded';

interface Family {
  name: string;
  help: string;
  type: string;
  metrics: Array<{ value: string; labels?: Record<string, string> }>;
}

describe('GET /metrics and GET /health (embedded)', () => {
  let dir: string;
  let ferry: Embedded;
  const post = (p: string, body: unknown) =>
    fetch(`${ferry.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const scrape = async (): Promise<Map<string, Family>> => {
    const res = await fetch(`${ferry.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return new Map((parsePrometheusTextFormat(await res.text()) as Family[]).map((f) => [f.name, f]));
  };
  const value = (families: Map<string, Family>, name: MetricName, labels: Record<string, string>) =>
    families.get(prometheusName(name))?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-obs-'));
    ferry = await startEmbedded({ dataDir: dir, port: 0, maintenanceIntervalMs: 0 });
  });
  afterAll(async () => {
    await ferry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists every metric of the catalogue with its help and type', async () => {
    const families = await scrape();
    for (const name of Object.keys(METRICS) as MetricName[]) {
      const f = families.get(prometheusName(name));
      expect(f).toBeDefined();
      expect(f!.type).toBe(METRICS[name].kind === 'counter' ? 'COUNTER' : 'GAUGE');
      expect(f!.help.length).toBeGreaterThan(10);
    }
    expect(prometheusName('RecordsProduced')).toBe('ferry_records_produced_total');
    expect(prometheusName('ConsumerLagSeconds')).toBe('ferry_consumer_lag_seconds');
  });

  it('counts records and bytes produced and fetched, errors by kind, and a group lag', async () => {
    expect((await post('/v1/topics', { name: 'orders', partitions: 2 })).status).toBe(201);
    const produced = await post('/v1/topics/orders/records', {
      records: [
        { value: 'abc', partition: 0 },
        { value: 'de', partition: 1 },
        { key: 'k', value: 'f', partition: 0 },
      ],
    });
    expect(produced.status).toBe(200);
    expect((await fetch(`${ferry.url}/v1/topics/orders/partitions/0/records?offset=0`)).status).toBe(200);
    expect((await post('/v1/topics/nope/records', { records: [{ value: 1 }] })).status).toBe(404);
    expect((await post('/v1/topics/orders/records', { records: [{ value: 1, partition: 9 }] })).status).toBe(400);
    expect((await fetch(`${ferry.url}/v1/topics/orders/partitions/0/records?offset=99`)).status).toBe(416);
    expect((await post('/v1/groups/billing/members', { topics: ['orders'] })).status).toBe(200);

    const m = await scrape();
    expect(value(m, 'RecordsProduced', { topic: 'orders' })).toBe('3');
    // JSON values: "abc" is 5 bytes of JSON text, "de" 4, key "k" 3 + "f" 3.
    expect(value(m, 'BytesProduced', { topic: 'orders' })).toBe('15');
    expect(value(m, 'RecordsFetched', { topic: 'orders' })).toBe('2');
    expect(value(m, 'ProduceErrors', { topic: '-', kind: 'not_found' })).toBe('1');
    expect(value(m, 'ProduceErrors', { topic: '-', kind: 'invalid' })).toBe('1');
    expect(value(m, 'FetchErrors', { topic: 'orders', kind: 'offset_out_of_range' })).toBe('1');
    expect(value(m, 'GroupLagRecords', { group: 'billing', topic: 'orders' })).toBe('3');
    expect(Number(value(m, 'GroupLagSeconds', { group: 'billing', topic: 'orders' }))).toBeGreaterThanOrEqual(0);
  });

  it('reports maintenance, retained objects and delayed records after a maintenance pass', async () => {
    await post('/v1/topics/orders/records', { records: [{ value: 'later', deliverAfterMs: 60_000 }] });
    await ferry.maintenance.run();
    const m = await scrape();
    expect(Number(value(m, 'MaintenanceDuration', {}))).toBeGreaterThanOrEqual(0);
    expect(value(m, 'DelayedPending', { topic: 'orders' })).toBe('1');
    expect(Number(value(m, 'ObjectsRetained', { topic: 'orders' }))).toBeGreaterThanOrEqual(2);
    expect(Number(value(m, 'BytesRetained', { topic: 'orders' }))).toBeGreaterThan(0);
  });

  it('answers /health 200 while storage answers and 503 naming the failing part', async () => {
    const ok = await fetch(`${ferry.url}/health`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: 'ok' });
    const objects = path.join(dir, 'store', 'objects');
    await rename(objects, `${objects}.gone`);
    try {
      const bad = await fetch(`${ferry.url}/health`);
      expect(bad.status).toBe(503);
      const body = await bad.json();
      expect(body.status).toBe('unavailable');
      expect(body.failing).toEqual([expect.objectContaining({ part: 'store s0', ok: false })]);
    } finally {
      await rename(`${objects}.gone`, objects);
    }
    expect((await fetch(`${ferry.url}/health?verbose=1`)).status).toBe(400);
  });
});

describe('GET /metrics with tokens', () => {
  let dir: string;
  let ferry: Embedded;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-obs-auth-'));
    ferry = await startEmbedded({
      dataDir: dir,
      port: 0,
      maintenanceIntervalMs: 0,
      tokens: {
        tokens: [
          { token: 'producer-token-0123456789', produce: ['*'], consume: [], admin: [] },
          { token: 'metrics-token-0123456789', produce: [], consume: [], admin: [], metrics: true },
          { token: 'admin-token-01234567890', produce: [], consume: [], admin: ['*'] },
        ],
      },
    });
  });
  afterAll(async () => {
    await ferry?.close();
    await rm(dir, { recursive: true, force: true });
  });
  const get = (p: string, token?: string) => fetch(`${ferry.url}${p}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('needs the metrics right (or admin on every topic)', async () => {
    expect((await get('/metrics')).status).toBe(401);
    expect((await get('/health')).status).toBe(401);
    const forbidden = await get('/metrics', 'producer-token-0123456789');
    expect(forbidden.status).toBe(403);
    expect((await forbidden.json()).error).toBe('forbidden');
    expect((await get('/metrics', 'metrics-token-0123456789')).status).toBe(200);
    expect((await get('/health', 'admin-token-01234567890')).status).toBe(200);
  });
});
