import { requirement } from '../../lib/http/auth';
import { ROUTES } from '../../lib/constructs/routes';
import { allowedMethods, apiGatewayPath, matchRoute, V1_ROUTES } from '../../lib/protocol/routes';

describe('the v1 route table (lib/protocol/routes.ts)', () => {
  it('names each route once', () => {
    const keys = V1_ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('matches request paths to routes with their parameters, and nothing else', () => {
    expect(matchRoute('GET', ['v1', 'topics', 'orders', 'partitions', '3', 'records'])).toMatchObject({
      route: { servedBy: 'fetch', right: 'consume' },
      params: { topic: 'orders', partition: '3' },
    });
    expect(matchRoute('PUT', ['v1', 'topics', 'orders'])).toBeUndefined();
    expect(matchRoute('GET', ['v1', 'topics', 'orders', 'nope'])).toBeUndefined();
  });

  it('gives API Gateway its path form and the constructs every route', () => {
    expect(apiGatewayPath('/v1/groups/:group/members/:member/heartbeat')).toBe('/v1/groups/{g}/members/{m}/heartbeat');
    expect(ROUTES.map((r) => `${r.method} ${r.path} ${r.group} ${r.access}`)).toContain('POST /v1/groups/{g}/seek admin consume');
    expect(ROUTES).toHaveLength(V1_ROUTES.length);
  });

  it('lists every method a path takes (the 405 Allow header)', () => {
    const allowed = Object.fromEntries(allowedMethods());
    expect(allowed['/v1/topics/:topic']).toEqual(['GET', 'PATCH', 'DELETE']);
    // GET first, as before the table existed, although the table lists POST /v1/topics first.
    expect(allowed['/v1/topics']).toEqual(['GET', 'POST']);
    expect(allowed['/v1/groups/:group']).toEqual(['GET', 'DELETE']);
    expect(allowed['/v1/groups/:group/offsets']).toEqual(['GET', 'POST']);
  });

  it('drives the token rights: a route’s right on the topic its path names; other paths as their neighbours', () => {
    expect(requirement('DELETE', '/v1/topics/orders/scheduled/x')).toEqual({ right: 'produce', topic: 'orders' });
    expect(requirement('GET', '/v1/topics')).toEqual({ right: 'any' });
    expect(requirement('POST', '/v1/groups/g/seek')).toEqual({ right: 'consume' });
    expect(requirement('GET', '/v1/topics/orders/unknown')).toEqual({ right: 'consume', topic: 'orders' });
    expect(requirement('PUT', '/v1/topics/orders')).toEqual({ right: 'admin', topic: 'orders' });
  });
});
