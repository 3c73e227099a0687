/** Embedded bearer tokens: 401 without or with a bad token, 403 without the right on that topic. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startEmbedded, type Embedded } from '../../lib/embedded';

const ADMIN = 'admin-token-0123456789';
const PRODUCER = 'producer-token-0123456789';
const READER = 'reader-token-0123456789';

describe('bearer tokens', () => {
  let dir: string;
  let ferry: Embedded;
  const call = (method: string, p: string, token?: string, body?: unknown) =>
    fetch(`${ferry.url}${p}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-auth-'));
    ferry = await startEmbedded({
      dataDir: dir,
      port: 0,
      tokens: {
        tokens: [
          { token: ADMIN, admin: ['*'], produce: [], consume: [] },
          { token: PRODUCER, produce: ['orders'], consume: [], admin: [] },
          { token: READER, consume: ['ord*'], produce: [], admin: [] },
        ],
      },
    });
    expect((await call('POST', '/v1/topics', ADMIN, { name: 'orders', partitions: 1 })).status).toBe(201);
    expect((await call('POST', '/v1/topics', ADMIN, { name: 'payments', partitions: 1 })).status).toBe(201);
  });
  afterAll(async () => {
    await ferry.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers 401 without a token or with a wrong one, in the one error shape', async () => {
    for (const token of [undefined, 'wrong-token-0123456789']) {
      const res = await call('GET', '/v1/topics', token);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'unauthorized', message: expect.any(String), details: {} });
    }
  });

  it('says which scheme it wants on a 401, and takes the scheme in any case (RFC 9110)', async () => {
    const res = await call('GET', '/v1/topics');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="ferry"');
    const lower = await fetch(`${ferry.url}/v1/topics`, { headers: { authorization: `bearer ${ADMIN}` } });
    expect(lower.status).toBe(200);
  });

  it('lets a producer produce to its topic only (403 elsewhere, nothing written)', async () => {
    expect((await call('POST', '/v1/topics/orders/records', PRODUCER, { records: [{ value: 1 }] })).status).toBe(200);
    const other = await call('POST', '/v1/topics/payments/records', PRODUCER, { records: [{ value: 1 }] });
    expect(other.status).toBe(403);
    expect(Object.keys(await other.json()).sort()).toEqual(['details', 'error', 'message']);
    expect((await call('GET', '/v1/topics/orders/partitions/0/records', PRODUCER)).status).toBe(403);
    expect((await call('DELETE', '/v1/topics/orders', PRODUCER)).status).toBe(403);
    const payments = await (await call('GET', '/v1/topics/payments', ADMIN)).json();
    expect(payments.partitions[0].highWatermark).toBe('0');
  });

  it('lets a reader read topics matching its prefix, and nothing else', async () => {
    expect((await call('GET', '/v1/topics/orders/partitions/0/records', READER)).status).toBe(200);
    expect((await call('GET', '/v1/topics/payments/partitions/0/records', READER)).status).toBe(403);
    expect((await call('POST', '/v1/topics/orders/records', READER, { records: [{ value: 1 }] })).status).toBe(403);
    expect((await call('POST', '/v1/topics', READER, { name: 'orders2', partitions: 1 })).status).toBe(403);
  });

  it('lets only an admin create, alter and delete topics', async () => {
    expect((await call('PATCH', '/v1/topics/orders', ADMIN, { partitions: 2 })).status).toBe(200);
    expect((await call('POST', '/v1/topics', PRODUCER, { name: 'x', partitions: 1 })).status).toBe(403);
    expect((await call('DELETE', '/v1/topics/payments', ADMIN)).status).toBe(204);
  });

  it('lets topic-scoped tokens use groups and idempotent producers on their topics only', async () => {
    expect((await call('POST', '/v1/producers', PRODUCER, {})).status).toBe(200);
    expect((await call('POST', '/v1/producers', READER, {})).status).toBe(403);
    const join = await call('POST', '/v1/groups/reports/members', READER, { topics: ['orders'] });
    expect(join.status).toBe(200);
    const member = await join.json();
    expect((await call('POST', '/v1/groups/reports/members', READER, { topics: ['payments'] })).status).toBe(403);
    const commit = await call('POST', '/v1/groups/reports/offsets', READER, {
      memberId: member.memberId,
      generation: member.generation,
      offsets: [{ topic: 'orders', partition: 0, offset: '0' }],
    });
    expect(commit.status).toBe(200);
    expect((await call('POST', '/v1/groups/reports/seek', READER, { topic: 'payments', to: 'earliest' })).status).toBe(403);
    expect((await call('GET', '/v1/groups', PRODUCER)).status).toBe(403);
  });

  it('lists only the topics a token may use', async () => {
    expect((await call('POST', '/v1/topics', ADMIN, { name: 'audit', partitions: 1 })).status).toBe(201);
    const names = async (token: string) =>
      ((await (await call('GET', '/v1/topics', token)).json()).topics as Array<{ name: string }>).map((t) => t.name);
    expect(await names(READER)).toEqual(['orders']);
    expect(await names(PRODUCER)).toEqual(['orders']);
    expect((await names(ADMIN)).sort()).toEqual(['audit', 'orders']);
  });
});
