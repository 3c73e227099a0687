/**
 * A fast-check fuzzer of the HTTP API against the real server process: random methods, paths (route pieces,
 * traversal, encodings, junk), query strings, headers and bodies (near-valid JSON of each route, random JSON,
 * random bytes, big bodies). Checks G10: no 5xx, no crash, no state change from a refused request, bounded
 * memory (the server's RSS from /proc).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { startServerProcess } from '../helpers/server-process';
import { closeAgent, rssBytes, send, snapshot } from './http-tools';

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

const J = { 'content-type': 'application/json' };

const segment = fc.oneof(
  fc.constantFrom(
    'v1',
    'topics',
    'orders',
    'other',
    'partitions',
    'records',
    '0',
    '1',
    '2',
    '99',
    '-1',
    'scheduled',
    'producers',
    'groups',
    'billing',
    'members',
    'heartbeat',
    'offsets',
    'seek',
  ),
  fc.constantFrom(
    '..',
    '.',
    '%2e%2e',
    '%2e%2e%2f',
    '%252e%252e%252f',
    '%00',
    '%5c',
    '%23',
    '%2F',
    '%C3%A9',
    '%ff',
    'a%20b',
    '~',
    '__proto__',
    'constructor',
  ),
  fc.stringMatching(/^[a-zA-Z0-9._~%-]{0,20}$/),
);

const routePath = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom(
      '/v1/topics',
      '/v1/topics/orders',
      '/v1/topics/orders/records',
      '/v1/topics/orders/partitions/0/records',
      '/v1/topics/orders/scheduled',
      '/v1/producers',
      '/v1/groups',
      '/v1/groups/billing',
      '/v1/groups/billing/members',
      '/v1/groups/billing/offsets',
      '/v1/groups/billing/seek',
    ),
  },
  { weight: 2, arbitrary: fc.array(segment, { minLength: 0, maxLength: 7 }).map((s) => `/${s.join('/')}`) },
  { weight: 2, arbitrary: fc.array(segment, { minLength: 0, maxLength: 4 }).map((s) => `/v1/topics/${s.join('/')}`) },
);

const query = fc.oneof(
  fc.constant(''),
  fc
    .array(
      fc.tuple(
        fc.constantFrom('offset', 'maxRecords', 'maxBytes', 'waitMs', 'limit', 'x', 'offset', '__proto__'),
        fc.oneof(
          fc.constantFrom('0', '-1', '1.5', '0x1', '1e3', '9007199254740993', '', '%00', '99999999999999999'),
          fc.stringMatching(/^[0-9a-z%]{0,6}$/),
        ),
      ),
      { maxLength: 4 },
    )
    .map((q) => (q.length ? `?${q.map(([k, v]) => `${k}=${v}`).join('&')}` : '')),
);

const wireValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.record({ base64: fc.oneof(fc.base64String(), fc.string()) }));

const nearValid = fc.oneof(
  fc.record(
    {
      name: fc.oneof(fc.constant('orders'), fc.stringMatching(/^[a-zA-Z0-9._#/ -]{0,12}$/)),
      partitions: fc.oneof(fc.integer({ min: -2, max: 5 }), fc.double(), fc.string()),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      records: fc.array(
        fc.record(
          {
            key: wireValue,
            value: wireValue,
            headers: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), fc.integer())),
            partition: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.double()),
            timestamp: fc.oneof(fc.integer(), fc.double()),
            deliverAfterMs: fc.integer({ min: -10, max: 10 }),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 4 },
      ),
      producer: fc.record(
        {
          id: fc.stringMatching(/^[a-zA-Z0-9#-]{0,6}$/),
          epoch: fc.integer({ min: -1, max: 3 }),
          sequence: fc.integer({ min: -1, max: 3 }),
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      topics: fc.array(fc.constantFrom('orders', 'nope', '../x', ''), { maxLength: 3 }),
      sessionTimeoutMs: fc.integer({ min: -1, max: 400_000 }),
      from: fc.constantFrom('earliest', 'latest', 'middle'),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      memberId: fc.string({ maxLength: 30 }),
      generation: fc.integer({ min: -1, max: 5 }),
      offsets: fc.array(
        fc.record({
          topic: fc.constantFrom('orders', 'nope'),
          partition: fc.integer({ min: -1, max: 3 }),
          offset: fc.oneof(fc.integer({ min: -1, max: 10 }), fc.string({ maxLength: 5 })),
        }),
        { maxLength: 3 },
      ),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      topic: fc.constantFrom('orders', 'nope'),
      partition: fc.integer({ min: -1, max: 3 }),
      to: fc.oneof(
        fc.constantFrom('earliest', 'latest', 'x'),
        fc.record({ offset: fc.integer({ min: -1, max: 10 }) }),
        fc.record({ timestamp: fc.oneof(fc.integer(), fc.string()) }),
      ),
    },
    { requiredKeys: [] },
  ),
);

const body = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: nearValid.map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200, unit: 'binary' }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 200_000 }).map((n) => `{"records":${'['.repeat(n % 5000)}`) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1_000_000, max: 6_000_000 }).map((n) => JSON.stringify({ records: [{ value: 'x'.repeat(n) }] })),
  },
);

const headers = fc.record(
  {
    'content-type': fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/json; charset=latin1',
      '',
      'multipart/form-data; boundary=x',
    ),
    'x-junk': fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
    authorization: fc.constantFrom('Bearer x', 'Basic Zm9vOmJhcg=='),
    'content-encoding': fc.constantFrom('gzip', 'identity'),
  },
  { requiredKeys: [] },
);

export const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'),
    path: routePath,
    query,
    headers,
    body,
  })
  .map(({ method, path: p, query: q, headers: h, body: b }) => ({
    method,
    path: p + q,
    headers: h,
    body: method === 'GET' || method === 'HEAD' ? (b === undefined ? undefined : b) : b,
  }));

export interface FuzzReport {
  requests: number;
  byStatus: Record<string, number>;
  fiveXX: number;
  crashes: number;
  stateChanges: number;
  noAnswer: number;
  rssStartMb: number;
  rssMaxMb: number;
  /** Requests node:http would not send (checked on raw sockets instead). */
  skipped?: number;
  problems: string[];
}

/** Sends `count` seeded random requests to a fresh server and checks G10 after each. */
export async function runFuzz(seed: number, count: number): Promise<FuzzReport> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-fuzz-'));
  const server = await startServerProcess(['--data', dir]);
  const base = server.url;
  const report: FuzzReport = {
    requests: 0,
    byStatus: {},
    fiveXX: 0,
    crashes: 0,
    stateChanges: 0,
    noAnswer: 0,
    rssStartMb: 0,
    rssMaxMb: 0,
    problems: [],
  };
  try {
    await send(base, 'POST', '/v1/topics', J, JSON.stringify({ name: 'orders', partitions: 2 }));
    await send(base, 'POST', '/v1/topics/orders/records', J, JSON.stringify({ records: [{ value: 1 }, { value: 2, partition: 1 }] }));
    await send(base, 'POST', '/v1/groups/billing/members', J, JSON.stringify({ topics: ['orders'], sessionTimeoutMs: 300_000 }));
    const state = () => snapshot(base, ['orders'], ['billing']);
    let before = await state();
    report.rssStartMb = rssBytes(server.child.pid!) / 2 ** 20;
    const requests = fc.sample(fuzzRequest, { seed, numRuns: count });
    report.skipped = 0;
    for (const [i, r] of requests.entries()) {
      const res = await send(base, r.method, r.path, r.headers, r.body, 20_000);
      if (res.status === -2) {
        report.skipped = (report.skipped ?? 0) + 1;
        continue;
      } // not sendable by node:http (the raw-socket cases cover such bytes)
      report.requests++;
      report.byStatus[res.status] = (report.byStatus[res.status] ?? 0) + 1;
      const alive = server.child.exitCode === null && server.child.signalCode === null;
      const show = () =>
        `${r.method} ${r.path.slice(0, 120)} ${JSON.stringify(r.headers)} body ${String(r.body ?? '').slice(0, 120)} → ${res.status} ${res.body.slice(0, 200)}`;
      if (!alive) {
        report.crashes++;
        report.problems.push(`crash after request ${i}: ${show()}`);
        break;
      }
      if (res.status >= 500) {
        report.fiveXX++;
        if (report.problems.length < 10) report.problems.push(`5xx at request ${i}: ${show()}`);
      }
      if (res.status === -1) {
        report.noAnswer++;
        if (report.problems.length < 10) report.problems.push(`no answer at request ${i}: ${show()}`);
      }
      if (res.status >= 400 || res.status === -1) {
        // A refused request changes nothing. (Snapshots cost requests: check every refusal in short runs,
        // every 10th in long ones.)
        if (count <= 2_000 || i % 10 === 0) {
          const after = await state();
          if (after !== before) {
            report.stateChanges++;
            if (report.problems.length < 10)
              report.problems.push(`state changed by a refused request ${i}: ${show()}\nbefore: ${before}\nafter: ${after}`);
            before = after;
          }
        }
      } else {
        before = await state(); // an accepted request may change state
      }
      if (i % 100 === 0) report.rssMaxMb = Math.max(report.rssMaxMb, rssBytes(server.child.pid!) / 2 ** 20);
    }
    report.rssMaxMb = Math.max(report.rssMaxMb, rssBytes(server.child.pid!) / 2 ** 20);
    return report;
  } finally {
    closeAgent();
    await server.kill();
    await rm(dir, { recursive: true, force: true });
  }
}
