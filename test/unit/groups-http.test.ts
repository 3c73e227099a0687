/** The consumer group routes refuse bad input with a 4xx and a clear message, and answer the contract shapes. */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Hono } from 'hono';
import { openLocalHome, type LocalHome } from '../../lib/adapters/local/home';
import { createCore } from '../../lib/core/create-core';
import { createApp } from '../../lib/http/app';

describe('consumer group routes', () => {
  let dir: string;
  let home: LocalHome;
  let app: Hono;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-groups-http-'));
    home = await openLocalHome({ dataDir: dir });
    const log = createCore(home.ctx).log;
    await log.topics.create({ name: 'orders', partitions: 2 });
    app = createApp({ log });
  });
  afterAll(async () => {
    await home.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const call = async (method: string, p: string, body?: unknown) => {
    const res = await app.fetch(
      new Request(`http://x${p}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      }),
    );
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  it('joins, heartbeats, commits, describes, lists, seeks and leaves with the contract shapes', async () => {
    const j = await call('POST', '/v1/groups/web/members', { topics: ['orders'], sessionTimeoutMs: 5000 });
    expect(j.status).toBe(200);
    expect(j.body).toEqual({ memberId: expect.any(String), generation: 1, assignments: [{ topic: 'orders', partitions: [0, 1] }] });
    const m = j.body.memberId;
    expect((await call('POST', `/v1/groups/web/members/${m}/heartbeat`)).body).toEqual(j.body);
    const c = await call('POST', '/v1/groups/web/offsets', {
      memberId: m,
      generation: 1,
      offsets: [{ topic: 'orders', partition: 1, offset: 0 }],
    });
    expect(c).toEqual({ status: 200, body: { offsets: [{ topic: 'orders', partition: 1, offset: '0' }] } });
    const d = await call('GET', '/v1/groups/web');
    expect(d.body.offsets[1]).toEqual({
      topic: 'orders',
      partition: 1,
      committedOffset: '0',
      logStartOffset: '0',
      highWatermark: '0',
      lag: '0',
      lagSeconds: 0,
      owner: m,
    });
    expect((await call('GET', '/v1/groups')).body.groups).toEqual([{ groupId: 'web', generation: 1, members: 1, state: 'stable' }]);
    const s = await call('POST', '/v1/groups/web/seek', { topic: 'orders', partition: 0, to: 'latest' });
    expect(s.body).toEqual({ generation: 2, offsets: [{ topic: 'orders', partition: 0, offset: '0' }] });
    const left = await call('DELETE', `/v1/groups/web/members/${m}`);
    expect(left.body).toEqual({ memberId: m, generation: 3, assignments: [] });
  });

  it.each([
    ['a group id with the key delimiter', 'POST', '/v1/groups/a%23b/members', { topics: ['orders'] }, 400],
    ['a group id that is too long', 'POST', `/v1/groups/${'g'.repeat(250)}/members`, { topics: ['orders'] }, 400],
    ['no topics', 'POST', '/v1/groups/g/members', { topics: [] }, 400],
    ['an unknown field', 'POST', '/v1/groups/g/members', { topics: ['orders'], extra: 1 }, 400],
    ['a bad topic name', 'POST', '/v1/groups/g/members', { topics: ['../x'] }, 400],
    ['an unknown topic', 'POST', '/v1/groups/g/members', { topics: ['nope'] }, 404],
    ['a session timeout out of range', 'POST', '/v1/groups/g/members', { topics: ['orders'], sessionTimeoutMs: 1 }, 400],
    ['a bad "from"', 'POST', '/v1/groups/g/members', { topics: ['orders'], from: 'middle' }, 400],
    ['malformed JSON', 'POST', '/v1/groups/g/members', '{"topics":', 400],
    ['a malformed member id', 'POST', '/v1/groups/g/members/BAD%2Fid/heartbeat', undefined, 400],
    ['a heartbeat from an unknown member', 'POST', '/v1/groups/g/members/abc/heartbeat', undefined, 409],
    [
      'a hex offset',
      'POST',
      '/v1/groups/g/offsets',
      { memberId: 'abc', generation: 1, offsets: [{ topic: 'orders', partition: 0, offset: '0x1' }] },
      400,
    ],
    [
      'a negative partition',
      'POST',
      '/v1/groups/g/offsets',
      { memberId: 'abc', generation: 1, offsets: [{ topic: 'orders', partition: -1, offset: '1' }] },
      400,
    ],
    [
      'an offset beyond 2^53',
      'POST',
      '/v1/groups/g/offsets',
      { memberId: 'abc', generation: 1, offsets: [{ topic: 'orders', partition: 0, offset: '9007199254740993' }] },
      400,
    ],
    [
      'a commit from an unknown member',
      'POST',
      '/v1/groups/g/offsets',
      { memberId: 'abc', generation: 1, offsets: [{ topic: 'orders', partition: 0, offset: '0' }] },
      409,
    ],
    ['a bad seek target', 'POST', '/v1/groups/g/seek', { topic: 'orders', to: 'middle' }, 400],
    ['a seek to a non-time', 'POST', '/v1/groups/g/seek', { topic: 'orders', to: { timestamp: 'yesterday' } }, 400],
    ['a seek on an unknown topic', 'POST', '/v1/groups/g/seek', { topic: 'nope', to: 'earliest' }, 404],
    ['a seek beyond the high watermark', 'POST', '/v1/groups/g/seek', { topic: 'orders', partition: 0, to: { offset: '5' } }, 416],
    ['an unknown group', 'GET', '/v1/groups/none', undefined, 404],
    ['a wrong method', 'PUT', '/v1/groups/g/members', undefined, 405],
    ['a query parameter', 'GET', '/v1/groups?x=1', undefined, 400],
  ])('refuses %s', async (_what, method, p, body, status) => {
    const res = await call(method, p, body);
    expect(res.status).toBe(status);
    expect(typeof res.body.message).toBe('string');
  });
});
