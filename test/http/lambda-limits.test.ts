/**
 * Lambda takes at most 6 MB each way (DESIGN §4c). Through the API Gateway double (which answers as API Gateway
 * does when an event or a result is over the limit), a fetch whose records are small raw but large once
 * escaped is cut to the whole records that fit, and a produce body is capped so its event always fits.
 */
import { awaitEmulators, freshBucket, freshTable } from '../helpers/emulators';
import { invokeThroughApiGateway } from '../helpers/api-gateway';

describe('Lambda payload limits (encoded size)', () => {
  let handler: typeof import('../../lambda/api').handler;
  beforeAll(async () => {
    await awaitEmulators();
    process.env.FERRY_TABLE = await freshTable();
    process.env.FERRY_BUCKETS = await freshBucket();
    ({ handler } = await import('../../lambda/api'));
  });

  const call = async (method: string, path: string, body?: string) => {
    const res = await invokeThroughApiGateway(
      handler,
      new Request(`https://ferry0api.execute-api.us-east-1.amazonaws.com${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body,
      }),
    );
    const text = await res.text();
    return { status: res.status, json: JSON.parse(text) };
  };

  it('answers a fetch of quote-heavy records with the whole records that fit once escaped, then the rest', async () => {
    expect((await call('POST', '/v1/topics', JSON.stringify({ name: 'quotes', partitions: 1 }))).status).toBe(201);
    // 450 000 quotes: 900 kB of JSON text, 1.8 MB once escaped into the Lambda response.
    const value = '"'.repeat(450_000);
    for (let i = 0; i < 5; i++) {
      const res = await call('POST', '/v1/topics/quotes/records', JSON.stringify({ records: [{ value }] }));
      expect(res.status).toBe(200);
    }
    const seen: string[] = [];
    let offset = '0';
    while (seen.length < 5) {
      const page = await call('GET', `/v1/topics/quotes/partitions/0/records?offset=${offset}&maxBytes=5242880&maxRecords=100`);
      expect(page.status).toBe(200); // not API Gateway's 500 for an oversized result
      expect(page.json.records.length).toBeGreaterThan(0);
      expect(page.json.records.length).toBeLessThan(5);
      for (const r of page.json.records) {
        expect(r.value).toBe(value);
        seen.push(r.offset);
      }
      offset = page.json.nextOffset;
    }
    expect(seen).toEqual(['0', '1', '2', '3', '4']);
  });

  it("refuses a produce body over the Lambda path's cap with Ferry's 413, before the event could outgrow 6 MB", async () => {
    await call('POST', '/v1/topics', JSON.stringify({ name: 'big', partitions: 1 }));
    // 3.1 MB of quote-heavy JSON: 6.2 MB once escaped into the event — over Lambda's limit were it allowed.
    const records = Array.from({ length: 4 }, () => ({ value: '"'.repeat(390_000) }));
    const res = await call('POST', '/v1/topics/big/records', JSON.stringify({ records }));
    expect(res.status).toBe(413);
    expect(res.json.error).toBe('too_large');
    const ok = await call('POST', '/v1/topics/big/records', JSON.stringify({ records: records.slice(0, 3) })); // 2.3 MB
    expect(ok.status).toBe(200);
  });
});
