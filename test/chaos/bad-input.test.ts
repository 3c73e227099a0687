/**
 * G10 against the real server process: the bad-input catalogue (bad-input-cases.ts, on top of the cases in
 * test/http/suite.ts), protocol abuse on raw sockets (lying Content-Length, oversized and too many headers,
 * slow senders) — every answer a 4xx with a stable kind, no 5xx, no crash, and no state change.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startServerProcess, type ServerProcess } from '../helpers/server-process';
import { CATALOGUE, withHeaders, type Ctx } from './bad-input-cases';
import { closeAgent, rawSocket, send, snapshot } from './http-tools';

const J = { 'content-type': 'application/json' };

describe('bad input against the real server (G10)', () => {
  let dir: string;
  let server: ServerProcess;
  let base: string;
  let ctx: Ctx;
  let before: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-badinput-'));
    server = await startServerProcess(['--data', dir]);
    base = server.url;
    const topic = 'orders';
    expect((await send(base, 'POST', '/v1/topics', J, JSON.stringify({ name: topic, partitions: 2, maxRecordBytes: 1024 }))).status).toBe(
      201,
    );
    expect(
      (
        await send(
          base,
          'POST',
          `/v1/topics/${topic}/records`,
          J,
          JSON.stringify({ records: [0, 1, 2, 3].map((i) => ({ value: i, partition: i % 2 })) }),
        )
      ).status,
    ).toBe(200);
    const delayed = await send(
      base,
      'POST',
      `/v1/topics/${topic}/records`,
      J,
      JSON.stringify({ records: [{ value: 'later', deliverAfterMs: 3_600_000 }] }),
    );
    const p0 = await send(base, 'POST', '/v1/producers', J, JSON.stringify({ id: 'prod-1' }));
    const p1 = await send(base, 'POST', '/v1/producers', J, JSON.stringify({ id: 'prod-1' }));
    expect((p1.json as unknown as { epoch: number }).epoch).toBe((p0.json as unknown as { epoch: number }).epoch + 1);
    const joined = await send(
      base,
      'POST',
      '/v1/groups/billing/members',
      J,
      JSON.stringify({ topics: [topic], sessionTimeoutMs: 300_000 }),
    );
    expect(joined.status).toBe(200);
    const member = joined.json as unknown as { memberId: string; generation: number };
    const committed = await send(
      base,
      'POST',
      '/v1/groups/billing/offsets',
      J,
      JSON.stringify({ memberId: member.memberId, generation: member.generation, offsets: [{ topic, partition: 0, offset: 2 }] }),
    );
    expect(committed.status).toBe(200);
    ctx = {
      topic,
      group: 'billing',
      memberId: member.memberId,
      generation: member.generation,
      producerId: 'prod-1',
      producerEpoch: (p1.json as unknown as { epoch: number }).epoch,
      scheduledId: (delayed.json as unknown as { records: Array<{ scheduledId: string }> }).records[0].scheduledId,
    };
    before = await snapshot(base, [topic], ['billing']);
  }, 60_000);

  afterAll(async () => {
    closeAgent();
    await server?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  const alive = () => server.child.exitCode === null && server.child.signalCode === null;

  it(`has at least 150 distinct cases together with test/http/suite.ts (${CATALOGUE.length} here)`, () => {
    expect(new Set(CATALOGUE.map(([n]) => n)).size).toBe(CATALOGUE.length);
    expect(CATALOGUE.length).toBeGreaterThanOrEqual(150);
  });

  it.each(CATALOGUE)('%s → refused, nothing changes', async (_, make) => {
    const c = withHeaders({ name: _, ...make(ctx) });
    const res = await send(base, c.method, c.path, c.headers, c.body);
    const allowed = Array.isArray(c.status) ? c.status : [c.status];
    if (!allowed.includes(res.status)) throw new Error(`expected ${allowed.join(' or ')}, got ${res.status}: ${res.body.slice(0, 300)}`);
    if (c.kind) {
      expect(res.json?.error).toBe(c.kind);
      expect(typeof res.json?.message).toBe('string');
      expect(typeof res.json?.details).toBe('object');
    }
    expect(alive()).toBe(true);
    expect(await snapshot(base, [ctx.topic], [ctx.group])).toBe(before);
  });

  describe('raw sockets', () => {
    const head = (extra: string, contentLength?: string) =>
      `POST /v1/topics/orders/records HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${contentLength === undefined ? '' : `Content-Length: ${contentLength}\r\n`}${extra}\r\n`;
    const body = JSON.stringify({ records: [{ value: 'raw' }] });

    it.each([
      [
        'a Content-Length larger than the body, then the sender stops',
        [head('', String(body.length + 100)), body],
        { endAfter: true },
        [400, -1],
      ],
      ['a Content-Length smaller than the body', [head('', '10'), body], {}, [400]],
      ['a Content-Length that is not a number', [head('', 'abc'), body], {}, [400]],
      ['a Content-Length of 10 GB', [head('', String(10 * 1024 ** 3)), body], {}, [413]],
      ['two different Content-Length headers', [head(`Content-Length: ${body.length}\r\n`, '5'), body], {}, [400]],
      ['chunked and Content-Length together', [head('Transfer-Encoding: chunked\r\n', String(body.length)), body], {}, [400]],
      ['invalid chunked encoding', [head('Transfer-Encoding: chunked\r\n'), 'zz\r\nnot hex\r\n0\r\n\r\n'], {}, [400]],
      [
        'a chunked body over the 5 MiB cap',
        [head('Transfer-Encoding: chunked\r\n'), ...Array.from({ length: 6 }, () => `100000\r\n${'x'.repeat(0x100000)}\r\n`), '0\r\n\r\n'],
        { waitMs: 15_000 },
        [413, 400],
      ],
      ['a 20 KB header value', [head(`X-Big: ${'b'.repeat(20_000)}\r\n`, String(body.length)), body], {}, [431]],
      [
        'headers over 16 KB in total',
        [head(Array.from({ length: 40 }, (_, i) => `X-H${i}: ${'h'.repeat(500)}\r\n`).join(''), String(body.length)), body],
        {},
        [431],
      ],
      ['a malformed request line', ['GARBAGE\r\n\r\n'], {}, [400]],
      ['a header without a colon', [head('NoColonHere\r\n', String(body.length)), body], {}, [400]],
      ['a NUL in a header value', [head('X-Nul: a\u0000b\r\n', String(body.length)), body], {}, [400]],
    ] as const)(
      '%s: a 4xx or a closed connection, never a 5xx, never a crash',
      async (_, chunks, options, statuses) => {
        const res = await rawSocket(base, [...chunks], { waitMs: 6_000, ...options });
        expect(statuses).toContain(res.status);
        expect(alive()).toBe(true);
        expect(await snapshot(base, [ctx.topic], [ctx.group])).toBe(before);
      },
      30_000,
    );

    it('300 headers (above the 100 the server reads): not a 5xx', async () => {
      const many = Array.from({ length: 300 }, (_, i) => `X-H${i}: v\r\n`).join('');
      const res = await rawSocket(base, [`GET /v1/topics HTTP/1.1\r\nHost: x\r\n${many}Connection: close\r\n\r\n`]);
      expect(res.status).toBeGreaterThanOrEqual(200);
      expect(res.status).toBeLessThan(500);
      expect(alive()).toBe(true);
    });

    it('slow senders (partial headers, partial bodies) do not stop the server from answering others', async () => {
      const slow = [
        ...Array.from({ length: 10 }, () => rawSocket(base, ['GET /v1/topics HTTP/1.1\r\nHost: x\r\nX-Slow: '], { waitMs: 3_000 })),
        ...Array.from({ length: 10 }, () => rawSocket(base, [head('', '1000'), '{"records":[{"value":'], { waitMs: 3_000 })),
      ];
      const started = Date.now();
      for (let i = 0; i < 10; i++) expect((await send(base, 'GET', `/v1/topics/${ctx.topic}`)).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(2_000);
      for (const r of await Promise.all(slow)) expect(r.status === -1 || (r.status >= 400 && r.status < 500)).toBe(true);
      expect(alive()).toBe(true);
      expect(await snapshot(base, [ctx.topic], [ctx.group])).toBe(before);
    }, 30_000);
  });
});
