/**
 * What API Gateway and the Lambda path do at the edges, through the template's own routes: requests no route
 * matches, names with control characters as API Gateway hands them over (decoded), and Lambda's payload limits.
 */
import { startAwsHarness, type AwsHarness } from './harness';

describe('AWS home at the edges (API Gateway + Lambda as the template deploys them)', () => {
  let aws: AwsHarness;
  beforeAll(async () => {
    aws = await startAwsHarness();
    await aws.deployTopics();
  }, 120_000);
  afterAll(async () => aws?.close());

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${aws.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined, allow: res.headers.get('allow') };
  };

  it("answers an unknown route with Ferry's not_found, not API Gateway's {message: Not Found}", async () => {
    const res = await call('GET', '/v2/topics');
    expect(res).toMatchObject({ status: 404, json: { error: 'not_found' } });
  });

  it('answers a known path with another method 405 method_not_allowed with Allow', async () => {
    const res = await call('PUT', '/v1/topics/orders', { partitions: 9 });
    expect(res).toMatchObject({ status: 405, json: { error: 'method_not_allowed' }, allow: 'GET, PATCH, DELETE' });
  });

  it('refuses a topic name with an encoded NUL (400) when API Gateway hands over the decoded path', async () => {
    const res = await call('GET', '/v1/topics/orders%00');
    expect(res).toMatchObject({ status: 400, json: { error: 'invalid' } });
  });

  it('refuses a group id with an encoded newline (400), never joining the group without it', async () => {
    const res = await call('POST', '/v1/groups/a%0Ab/members', { topics: ['orders'] });
    expect(res).toMatchObject({ status: 400, json: { error: 'invalid' } });
    const ab = await call('GET', '/v1/groups/ab');
    expect(ab.json?.members ?? []).toEqual([]);
  });

  it("answers a fetch inside Lambda's 6 MB response limit once encoded (never API Gateway's 500)", async () => {
    const topic = `big-${Date.now().toString(36)}`;
    expect((await call('POST', '/v1/topics', { name: topic, partitions: 1 })).status).toBe(201);
    const value = { base64: Buffer.alloc(1_000_000, 7).toString('base64') }; // 1 MB raw, 1.33 MB as JSON
    for (let i = 0; i < 5; i++) expect((await call('POST', `/v1/topics/${topic}/records`, { records: [{ value }] })).status).toBe(200);
    // 5 MB of raw bytes is within the fetch cap, but ~6.7 MB once base64-encoded into the response.
    const res = await call('GET', `/v1/topics/${topic}/partitions/0/records?offset=0&maxBytes=5242880`);
    expect(res.status).toBe(200);
    expect(res.json.records.length).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('keeps the catch-all function away from the data: its role has no table or bucket action', () => {
    const fallback = [...aws.model.functions.values()].find((f) => f.handler === 'index.fallback');
    expect(fallback).toBeDefined();
    const actions = fallback!.statements.flatMap((s) => [s.Action ?? []].flat());
    expect(actions.filter((a) => /^(dynamodb|s3|s3express):/.test(a))).toEqual([]);
  });
});
