/**
 * The bad-input catalogue of RELIABILITY.md, across every route, beyond the cases test/http/suite.ts already
 * has: each case is a request the server must refuse with a stable kind, without a 5xx, without a crash, and
 * without changing any state. `kind: undefined` marks answers node:http gives itself (no JSON body).
 */
export interface Ctx {
  topic: string;
  group: string;
  memberId: string;
  generation: number;
  producerId: string;
  producerEpoch: number;
  scheduledId: string;
}

export interface BadCase {
  name: string;
  method: string;
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Allowed statuses (all 4xx). */
  status: number | number[];
  kind?: string;
}

const J = { 'content-type': 'application/json' };
const js = (v: unknown) => JSON.stringify(v);

type Make = (c: Ctx) => Omit<BadCase, 'name'>;

const topicsCreate: Array<[string, Make]> = [
  ['name as a number', () => ({ method: 'POST', path: '/v1/topics', body: js({ name: 5, partitions: 1 }), status: 400, kind: 'invalid' })],
  ['name null', () => ({ method: 'POST', path: '/v1/topics', body: js({ name: null, partitions: 1 }), status: 400, kind: 'invalid' })],
  [
    'name "%2e%2e" (literal)',
    () => ({ method: 'POST', path: '/v1/topics', body: js({ name: '%2e%2e', partitions: 1 }), status: 400, kind: 'invalid' }),
  ],
  [
    'name with a tab',
    () => ({ method: 'POST', path: '/v1/topics', body: js({ name: 'a\tb', partitions: 1 }), status: 400, kind: 'invalid' }),
  ],
  [
    'name with a newline',
    () => ({ method: 'POST', path: '/v1/topics', body: js({ name: 'a\nb', partitions: 1 }), status: 400, kind: 'invalid' }),
  ],
  [
    'name with a colon',
    () => ({ method: 'POST', path: '/v1/topics', body: js({ name: 'a:b', partitions: 1 }), status: 400, kind: 'invalid' }),
  ],
  [
    'name with a star',
    () => ({ method: 'POST', path: '/v1/topics', body: js({ name: 'a*', partitions: 1 }), status: 400, kind: 'invalid' }),
  ],
  [
    'name of 249 chars + 1 multibyte',
    () => ({ method: 'POST', path: '/v1/topics', body: js({ name: `${'a'.repeat(248)}é`, partitions: 1 }), status: 400, kind: 'invalid' }),
  ],
  [
    'partitions null',
    () => ({ method: 'POST', path: '/v1/topics', body: js({ name: 'x1', partitions: null }), status: 400, kind: 'invalid' }),
  ],
  [
    'partitions "NaN"',
    () => ({ method: 'POST', path: '/v1/topics', body: js({ name: 'x2', partitions: 'NaN' }), status: 400, kind: 'invalid' }),
  ],
  [
    'partitions true',
    () => ({ method: 'POST', path: '/v1/topics', body: js({ name: 'x3', partitions: true }), status: 400, kind: 'invalid' }),
  ],
  ['partitions []', () => ({ method: 'POST', path: '/v1/topics', body: js({ name: 'x4', partitions: [] }), status: 400, kind: 'invalid' })],
  [
    'partitions 1e400 (Infinity)',
    () => ({ method: 'POST', path: '/v1/topics', body: '{"name":"x5","partitions":1e400}', status: 400, kind: 'invalid' }),
  ],
  [
    'replicationFactor -1',
    () => ({
      method: 'POST',
      path: '/v1/topics',
      body: js({ name: 'x6', partitions: 1, replicationFactor: -1 }),
      status: 400,
      kind: 'invalid',
    }),
  ],
  [
    'replicationFactor 1.5',
    () => ({
      method: 'POST',
      path: '/v1/topics',
      body: js({ name: 'x7', partitions: 1, replicationFactor: 1.5 }),
      status: 400,
      kind: 'invalid',
    }),
  ],
  [
    'retentionMs -2',
    () => ({ method: 'POST', path: '/v1/topics', body: js({ name: 'x8', partitions: 1, retentionMs: -2 }), status: 400, kind: 'invalid' }),
  ],
  [
    'retentionMs 1.5',
    () => ({ method: 'POST', path: '/v1/topics', body: js({ name: 'x9', partitions: 1, retentionMs: 1.5 }), status: 400, kind: 'invalid' }),
  ],
  [
    'retentionBytes "big"',
    () => ({
      method: 'POST',
      path: '/v1/topics',
      body: js({ name: 'x10', partitions: 1, retentionBytes: 'big' }),
      status: 400,
      kind: 'invalid',
    }),
  ],
  [
    'maxRecordBytes 0',
    () => ({
      method: 'POST',
      path: '/v1/topics',
      body: js({ name: 'x11', partitions: 1, maxRecordBytes: 0 }),
      status: 400,
      kind: 'invalid',
    }),
  ],
  [
    'maxRecordBytes 2^40',
    () => ({
      method: 'POST',
      path: '/v1/topics',
      body: js({ name: 'x12', partitions: 1, maxRecordBytes: 2 ** 40 }),
      status: 400,
      kind: 'invalid',
    }),
  ],
  ['a JSON array body', () => ({ method: 'POST', path: '/v1/topics', body: '[]', status: 400, kind: 'invalid' })],
  ['a JSON null body', () => ({ method: 'POST', path: '/v1/topics', body: 'null', status: 400, kind: 'invalid' })],
  ['a JSON string body', () => ({ method: 'POST', path: '/v1/topics', body: '"orders"', status: 400, kind: 'invalid' })],
  ['a JSON number body', () => ({ method: 'POST', path: '/v1/topics', body: '42', status: 400, kind: 'invalid' })],
  [
    'a __proto__ member',
    () => ({
      method: 'POST',
      path: '/v1/topics',
      body: '{"__proto__":{"partitions":1},"name":"x13","partitions":1}',
      status: 400,
      kind: 'invalid',
    }),
  ],
  [
    'a constructor member',
    () => ({
      method: 'POST',
      path: '/v1/topics',
      body: '{"constructor":{"prototype":{}},"name":"x14","partitions":1}',
      status: 400,
      kind: 'invalid',
    }),
  ],
  [
    'a query parameter',
    () => ({ method: 'POST', path: '/v1/topics?dryRun=1', body: js({ name: 'x15', partitions: 1 }), status: 400, kind: 'invalid' }),
  ],
  [
    'text/plain',
    () => ({
      method: 'POST',
      path: '/v1/topics',
      body: js({ name: 'x16', partitions: 1 }),
      headers: { 'content-type': 'text/plain' },
      status: 415,
      kind: 'unsupported_media_type',
    }),
  ],
  [
    'charset utf-16',
    () => ({
      method: 'POST',
      path: '/v1/topics',
      body: js({ name: 'x17', partitions: 1 }),
      headers: { 'content-type': 'application/json; charset=utf-16' },
      status: 415,
      kind: 'unsupported_media_type',
    }),
  ],
  [
    'content type application/jsonx',
    () => ({
      method: 'POST',
      path: '/v1/topics',
      body: js({ name: 'x18', partitions: 1 }),
      headers: { 'content-type': 'application/jsonx' },
      status: 415,
      kind: 'unsupported_media_type',
    }),
  ],
  [
    'a NUL byte after the JSON',
    () => ({ method: 'POST', path: '/v1/topics', body: `${js({ name: 'x19', partitions: 1 })}\u0000`, status: 400, kind: 'invalid' }),
  ],
  [
    'a duplicate of an existing topic',
    (c) => ({ method: 'POST', path: '/v1/topics', body: js({ name: c.topic, partitions: 1 }), status: 409, kind: 'conflict' }),
  ],
  [
    'duplicated JSON keys (last one is bad)',
    () => ({ method: 'POST', path: '/v1/topics', body: '{"name":"x20","partitions":1,"partitions":0}', status: 400, kind: 'invalid' }),
  ],
];

const topicsRead: Array<[string, Make]> = [
  ['list with a query parameter', () => ({ method: 'GET', path: '/v1/topics?x=1', status: 400, kind: 'invalid' })],
  ['list with limit (not supported)', () => ({ method: 'GET', path: '/v1/topics?limit=1', status: 400, kind: 'invalid' })],
  ['describe an unknown topic', () => ({ method: 'GET', path: '/v1/topics/no-such-topic', status: 404, kind: 'not_found' })],
  ['describe a 250-char name', () => ({ method: 'GET', path: `/v1/topics/${'a'.repeat(250)}`, status: 400, kind: 'invalid' })],
  ['describe %00', () => ({ method: 'GET', path: '/v1/topics/a%00', status: 400, kind: 'invalid' })],
  ['describe %20', () => ({ method: 'GET', path: '/v1/topics/a%20b', status: 400, kind: 'invalid' })],
  ['describe an encoded slash', () => ({ method: 'GET', path: '/v1/topics/a%2Fb', status: [400, 404] })],
  ['describe with a query parameter', (c) => ({ method: 'GET', path: `/v1/topics/${c.topic}?verbose=1`, status: 400, kind: 'invalid' })],
  ['describe with a trailing slash', (c) => ({ method: 'GET', path: `/v1/topics/${c.topic}/`, status: [400, 404] })],
  ['describe a non-ASCII name', () => ({ method: 'GET', path: '/v1/topics/%C3%A9', status: 400, kind: 'invalid' })],
  ['describe ".."', () => ({ method: 'GET', path: '/v1/topics/..', status: [400, 404] })],
  ['describe a double-encoded NUL', () => ({ method: 'GET', path: '/v1/topics/a%2500', status: 400, kind: 'invalid' })],
];

const topicsAlter: Array<[string, Make]> = [
  [
    'fewer partitions',
    (c) => ({ method: 'PATCH', path: `/v1/topics/${c.topic}`, body: js({ partitions: 1 }), status: 400, kind: 'invalid' }),
  ],
  [
    'zero partitions',
    (c) => ({ method: 'PATCH', path: `/v1/topics/${c.topic}`, body: js({ partitions: 0 }), status: 400, kind: 'invalid' }),
  ],
  [
    '10 001 partitions',
    (c) => ({ method: 'PATCH', path: `/v1/topics/${c.topic}`, body: js({ partitions: 10_001 }), status: 400, kind: 'invalid' }),
  ],
  [
    'maxRecordBytes -1',
    (c) => ({ method: 'PATCH', path: `/v1/topics/${c.topic}`, body: js({ maxRecordBytes: -1 }), status: 400, kind: 'invalid' }),
  ],
  [
    'replicationFactor (not alterable)',
    (c) => ({ method: 'PATCH', path: `/v1/topics/${c.topic}`, body: js({ replicationFactor: 1 }), status: 400, kind: 'invalid' }),
  ],
  ['an empty body', (c) => ({ method: 'PATCH', path: `/v1/topics/${c.topic}`, body: '', status: 400, kind: 'invalid' })],
  [
    'text/plain',
    (c) => ({
      method: 'PATCH',
      path: `/v1/topics/${c.topic}`,
      body: js({ retentionMs: 1000 }),
      headers: { 'content-type': 'text/plain' },
      status: 415,
      kind: 'unsupported_media_type',
    }),
  ],
  [
    'an unknown topic',
    () => ({ method: 'PATCH', path: '/v1/topics/no-such-topic', body: js({ retentionMs: 1000 }), status: 404, kind: 'not_found' }),
  ],
  [
    'an array body',
    (c) => ({ method: 'PATCH', path: `/v1/topics/${c.topic}`, body: '[{"retentionMs":1000}]', status: 400, kind: 'invalid' }),
  ],
  [
    'retentionBytes 1.5',
    (c) => ({ method: 'PATCH', path: `/v1/topics/${c.topic}`, body: js({ retentionBytes: 1.5 }), status: 400, kind: 'invalid' }),
  ],
  [
    'a query parameter',
    (c) => ({ method: 'PATCH', path: `/v1/topics/${c.topic}?force=1`, body: js({ retentionMs: 1000 }), status: 400, kind: 'invalid' }),
  ],
  ['delete an unknown topic', () => ({ method: 'DELETE', path: '/v1/topics/no-such-topic', status: 404, kind: 'not_found' })],
  ['delete ".."', () => ({ method: 'DELETE', path: '/v1/topics/..', status: [400, 404] })],
  ['delete with a query parameter', (c) => ({ method: 'DELETE', path: `/v1/topics/${c.topic}?force=1`, status: 400, kind: 'invalid' })],
  ['delete the collection', () => ({ method: 'DELETE', path: '/v1/topics', status: 405, kind: 'method_not_allowed' })],
  ['delete an encoded traversal', () => ({ method: 'DELETE', path: '/v1/topics/%2e%2e%2f%2e%2e', status: [400, 404] })],
];

const produce = (c: Ctx, body: unknown, extra: Partial<BadCase> = {}): Omit<BadCase, 'name'> => ({
  method: 'POST',
  path: `/v1/topics/${c.topic}/records`,
  body: typeof body === 'string' ? body : js(body),
  status: 400,
  kind: 'invalid',
  ...extra,
});

const records: Array<[string, Make]> = [
  ['records null', (c) => produce(c, { records: null })],
  ['records a string', (c) => produce(c, { records: 'x' })],
  ['a null record', (c) => produce(c, { records: [null] })],
  ['base64 with a space', (c) => produce(c, { records: [{ value: { base64: 'AA EC' } }] })],
  ['URL-safe base64', (c) => produce(c, { records: [{ value: { base64: 'AA-_' } }] })],
  ['base64 with a newline', (c) => produce(c, { records: [{ value: { base64: 'AAEC\nAAEC' } }] })],
  ['a binary key with bad base64', (c) => produce(c, { records: [{ key: { base64: '%%%%' }, value: 1 }] })],
  ['headers as a string', (c) => produce(c, { records: [{ value: 1, headers: 'a=b' }] })],
  ['a 300-byte header name', (c) => produce(c, { records: [{ value: 1, headers: { ['h'.repeat(300)]: 'v' } }] })],
  ['a null header value', (c) => produce(c, { records: [{ value: 1, headers: { a: null } }] })],
  ['a fractional timestamp', (c) => produce(c, { records: [{ value: 1, timestamp: 1.5 }] })],
  ['a timestamp past the largest date', (c) => produce(c, { records: [{ value: 1, timestamp: 8_640_000_000_000_001 }] })],
  ['a null partition', (c) => produce(c, { records: [{ value: 1, partition: null }] })],
  ['partition 1e400', (c) => produce(c, '{"records":[{"value":1,"partition":1e400}]}')],
  ['deliverAt true', (c) => produce(c, { records: [{ value: 1, deliverAt: true }] })],
  ['deliverAt 1e300', (c) => produce(c, { records: [{ value: 1, deliverAt: 1e300 }] })],
  ['deliverAt negative', (c) => produce(c, { records: [{ value: 1, deliverAt: -1 }] })],
  ['deliverAt month 13', (c) => produce(c, { records: [{ value: 1, deliverAt: '2030-13-45T00:00:00Z' }] })],
  ['deliverAfterMs 1.5', (c) => produce(c, { records: [{ value: 1, deliverAfterMs: 1.5 }] })],
  ['deliverAfterMs of 30 years', (c) => produce(c, { records: [{ value: 1, deliverAfterMs: 30 * 365 * 86_400_000 }] })],
  ['deliverAfterMs as a string', (c) => produce(c, { records: [{ value: 1, deliverAfterMs: '1000' }] })],
  ['producer as a string', (c) => produce(c, { records: [{ value: 1 }], producer: 'p' })],
  ['producer epoch 1.5', (c) => produce(c, { records: [{ value: 1 }], producer: { id: c.producerId, epoch: 1.5, sequence: 0 } })],
  [
    'producer sequence -1',
    (c) => produce(c, { records: [{ value: 1 }], producer: { id: c.producerId, epoch: c.producerEpoch, sequence: -1 } }),
  ],
  ['producer id empty', (c) => produce(c, { records: [{ value: 1 }], producer: { id: '', epoch: 0, sequence: 0 } })],
  ['producer id of 65 chars', (c) => produce(c, { records: [{ value: 1 }], producer: { id: 'p'.repeat(65), epoch: 0, sequence: 0 } })],
  ['producer id in upper case', (c) => produce(c, { records: [{ value: 1 }], producer: { id: 'ABC', epoch: 0, sequence: 0 } })],
  [
    'producer with an unknown field',
    (c) =>
      produce(c, { records: [{ value: 1 }], producer: { id: c.producerId, epoch: c.producerEpoch, sequence: 0, transactional: true } }),
  ],
  [
    'an idempotent request with a delayed record',
    (c) =>
      produce(c, { records: [{ value: 1, deliverAfterMs: 1000 }], producer: { id: c.producerId, epoch: c.producerEpoch, sequence: 0 } }),
  ],
  [
    'an idempotent sequence gap',
    (c) =>
      produce(
        c,
        { records: [{ value: 1 }], producer: { id: c.producerId, epoch: c.producerEpoch, sequence: 5 } },
        { status: 409, kind: 'conflict' },
      ),
  ],
  [
    'a stale producer epoch',
    (c) =>
      produce(
        c,
        { records: [{ value: 1 }], producer: { id: c.producerId, epoch: c.producerEpoch - 1, sequence: 0 } },
        { status: 409, kind: 'fenced' },
      ),
  ],
  [
    'a future producer epoch',
    (c) =>
      produce(
        c,
        { records: [{ value: 1 }], producer: { id: c.producerId, epoch: c.producerEpoch + 7, sequence: 0 } },
        { status: 409, kind: 'fenced' },
      ),
  ],
  [
    'an unknown producer id',
    (c) =>
      produce(
        c,
        { records: [{ value: 1 }], producer: { id: 'never-initialised', epoch: 0, sequence: 0 } },
        { status: 409, kind: 'fenced' },
      ),
  ],
  [
    'a record over maxRecordBytes through its headers',
    (c) => produce(c, { records: [{ value: 1, headers: { h: 'x'.repeat(1100) } }] }, { status: 413, kind: 'too_large' }),
  ],
  [
    'a record over maxRecordBytes through its key',
    (c) => produce(c, { records: [{ key: 'k'.repeat(2000), value: 1 }] }, { status: 413, kind: 'too_large' }),
  ],
  [
    'a binary value over maxRecordBytes',
    (c) => produce(c, { records: [{ value: { base64: Buffer.alloc(1100, 7).toString('base64') } }] }, { status: 413, kind: 'too_large' }),
  ],
  ['one bad record between good ones', (c) => produce(c, { records: [{ value: 1 }, { value: 2, partition: 'x' }, { value: 3 }] })],
  ['a query parameter', (c) => ({ ...produce(c, { records: [{ value: 1 }] }), path: `/v1/topics/${c.topic}/records?sync=1` })],
  ['duplicated "records" keys (last one empty)', (c) => produce(c, '{"records":[{"value":1}],"records":[]}')],
  ['headers nested 65 deep', (c) => produce(c, `{"records":[{"value":1,"headers":${'{"a":'.repeat(65)}1${'}'.repeat(65)}}]}`)],
  [
    'a body over the 5 MiB cap in one key',
    (c) => produce(c, { records: [{ key: 'k'.repeat(5 * 1024 * 1024 + 10), value: 1 }] }, { status: 413, kind: 'too_large' }),
  ],
  ['a __proto__ member in a record', (c) => produce(c, '{"records":[{"value":1,"__proto__":{"partition":1}}]}')],
  ['a lone low surrogate in a key', (c) => produce(c, '{"records":[{"key":"\\udfff","value":1}]}')],
  ['an unescaped control character', (c) => produce(c, '{"records":[{"value":"a\u0001b"}]}')],
  [
    'a truncated UTF-8 sequence',
    (c) => produce(c, Buffer.concat([Buffer.from('{"records":[{"value":"'), Buffer.from([0xe2, 0x82]), Buffer.from('"}]}')])),
  ],
  [
    'overlong UTF-8 encoding of "/"',
    (c) => produce(c, Buffer.concat([Buffer.from('{"records":[{"value":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}]}')])),
  ],
  ['UTF-16 bytes declared as JSON', (c) => produce(c, Buffer.from(js({ records: [{ value: 1 }] }), 'utf16le'))],
  ['a JSON comment', (c) => produce(c, '{"records":[{"value":1}] /* note */}')],
  ['NaN as a value', (c) => produce(c, '{"records":[{"value":NaN}]}')],
  ['single-quoted JSON', (c) => produce(c, "{'records':[{'value':1}]}")],
  [
    'a produce to an unknown topic',
    () => ({
      method: 'POST',
      path: '/v1/topics/no-such-topic/records',
      body: js({ records: [{ value: 1 }] }),
      status: 404,
      kind: 'not_found',
    }),
  ],
  [
    'a produce to an invalid topic name',
    () => ({ method: 'POST', path: '/v1/topics/a%2Fb/records', body: js({ records: [{ value: 1 }] }), status: [400, 404] }),
  ],
  ['GET on the produce route', (c) => ({ method: 'GET', path: `/v1/topics/${c.topic}/records`, status: 405, kind: 'method_not_allowed' })],
];

const read = (c: Ctx, query: string, partition: string | number = 0): Omit<BadCase, 'name'> => ({
  method: 'GET',
  path: `/v1/topics/${c.topic}/partitions/${partition}/records?${query}`,
  status: 400,
  kind: 'invalid',
});

const fetches: Array<[string, Make]> = [
  ['offset=+1', (c) => read(c, 'offset=%2B1')],
  ['offset with a space', (c) => read(c, 'offset=%201')],
  ['offset=1,2', (c) => read(c, 'offset=1,2')],
  ['offset=-0', (c) => read(c, 'offset=-0')],
  ['offset=1.0', (c) => read(c, 'offset=1.0')],
  ['offset past the high watermark', (c) => ({ ...read(c, 'offset=999999'), status: 416, kind: 'offset_out_of_range' })],
  ['maxBytes=-1', (c) => read(c, 'maxBytes=-1')],
  ['maxBytes=1e3', (c) => read(c, 'maxBytes=1e3')],
  ['waitMs=-1', (c) => read(c, 'waitMs=-1')],
  ['waitMs=abc', (c) => read(c, 'waitMs=abc')],
  ['maxRecords of 17 digits', (c) => read(c, 'maxRecords=99999999999999999')],
  ['duplicated maxRecords', (c) => read(c, 'maxRecords=1&maxRecords=2')],
  ['an empty parameter name', (c) => read(c, '=1')],
  ['an array-style parameter', (c) => read(c, 'offset[]=1')],
  ['partition 00', (c) => read(c, 'offset=0', '00')],
  ['partition 1e0', (c) => read(c, 'offset=0', '1e0')],
  ['partition +1', (c) => read(c, 'offset=0', '%2B1')],
  ['partition with a space', (c) => read(c, 'offset=0', '%201')],
  ['partition 9999999', (c) => read(c, 'offset=0', '9999999')],
  ['partition 10000 (the maximum count)', (c) => read(c, 'offset=0', '10000')],
  ['partition 2 of 2', (c) => ({ ...read(c, 'offset=0', 2), status: 404, kind: 'not_found' })],
  [
    'POST on the fetch route',
    (c) => ({
      method: 'POST',
      path: `/v1/topics/${c.topic}/partitions/0/records`,
      body: js({ records: [{ value: 1 }] }),
      status: 405,
      kind: 'method_not_allowed',
    }),
  ],
  ['the partitions collection', (c) => ({ method: 'GET', path: `/v1/topics/${c.topic}/partitions`, status: 404, kind: 'not_found' })],
];

const scheduled: Array<[string, Make]> = [
  ['limit=0', (c) => ({ method: 'GET', path: `/v1/topics/${c.topic}/scheduled?limit=0`, status: 400, kind: 'invalid' })],
  ['limit=abc', (c) => ({ method: 'GET', path: `/v1/topics/${c.topic}/scheduled?limit=abc`, status: 400, kind: 'invalid' })],
  ['limit=10001', (c) => ({ method: 'GET', path: `/v1/topics/${c.topic}/scheduled?limit=10001`, status: 400, kind: 'invalid' })],
  ['an unknown parameter', (c) => ({ method: 'GET', path: `/v1/topics/${c.topic}/scheduled?due=1`, status: 400, kind: 'invalid' })],
  ['an unknown topic', () => ({ method: 'GET', path: '/v1/topics/no-such-topic/scheduled', status: 404, kind: 'not_found' })],
  [
    'cancel an unknown id',
    (c) => ({ method: 'DELETE', path: `/v1/topics/${c.topic}/scheduled/000000000000001-abc`, status: 404, kind: 'not_found' }),
  ],
  ['cancel an id with an encoded slash', (c) => ({ method: 'DELETE', path: `/v1/topics/${c.topic}/scheduled/A%2F..`, status: [400, 404] })],
  ['cancel the id ".."', (c) => ({ method: 'DELETE', path: `/v1/topics/${c.topic}/scheduled/..`, status: [400, 404] })],
  [
    'cancel an id with a delimiter',
    (c) => ({ method: 'DELETE', path: `/v1/topics/${c.topic}/scheduled/${c.scheduledId}%23x`, status: [400, 404] }),
  ],
  [
    'cancel with a query parameter',
    (c) => ({ method: 'DELETE', path: `/v1/topics/${c.topic}/scheduled/${c.scheduledId}?now=1`, status: 400, kind: 'invalid' }),
  ],
  [
    'POST on the scheduled route',
    (c) => ({ method: 'POST', path: `/v1/topics/${c.topic}/scheduled`, body: '{}', status: 405, kind: 'method_not_allowed' }),
  ],
];

const producers: Array<[string, Make]> = [
  ['an upper-case id', () => ({ method: 'POST', path: '/v1/producers', body: js({ id: 'UPPER' }), status: 400, kind: 'invalid' })],
  ['an empty id', () => ({ method: 'POST', path: '/v1/producers', body: js({ id: '' }), status: 400, kind: 'invalid' })],
  ['a numeric id', () => ({ method: 'POST', path: '/v1/producers', body: js({ id: 5 }), status: 400, kind: 'invalid' })],
  ['an id of 65 chars', () => ({ method: 'POST', path: '/v1/producers', body: js({ id: 'a'.repeat(65) }), status: 400, kind: 'invalid' })],
  ['an id with a delimiter', () => ({ method: 'POST', path: '/v1/producers', body: js({ id: 'a#b' }), status: 400, kind: 'invalid' })],
  ['an unknown field', () => ({ method: 'POST', path: '/v1/producers', body: js({ epoch: 1 }), status: 400, kind: 'invalid' })],
  ['GET', () => ({ method: 'GET', path: '/v1/producers', status: 405, kind: 'method_not_allowed' })],
  [
    'text/plain',
    () => ({
      method: 'POST',
      path: '/v1/producers',
      body: '{}',
      headers: { 'content-type': 'text/plain' },
      status: 415,
      kind: 'unsupported_media_type',
    }),
  ],
  ['no body', () => ({ method: 'POST', path: '/v1/producers', status: [400, 415] })],
  ['a query parameter', () => ({ method: 'POST', path: '/v1/producers?id=x', body: '{}', status: 400, kind: 'invalid' })],
];

const commit = (c: Ctx, body: unknown, extra: Partial<BadCase> = {}): Omit<BadCase, 'name'> => ({
  method: 'POST',
  path: `/v1/groups/${c.group}/offsets`,
  body: js(body),
  status: 400,
  kind: 'invalid',
  ...extra,
});
const offsets = (c: Ctx, o: unknown[], extra: Record<string, unknown> = {}) => ({
  memberId: c.memberId,
  generation: c.generation,
  offsets: o,
  ...extra,
});

const groups: Array<[string, Make]> = [
  [
    'join with no topics',
    (c) => ({ method: 'POST', path: `/v1/groups/${c.group}/members`, body: js({ topics: [] }), status: 400, kind: 'invalid' }),
  ],
  [
    'join a badly named topic',
    (c) => ({ method: 'POST', path: `/v1/groups/${c.group}/members`, body: js({ topics: ['bad name'] }), status: 400, kind: 'invalid' }),
  ],
  [
    'join an unknown topic',
    (c) => ({
      method: 'POST',
      path: `/v1/groups/${c.group}/members`,
      body: js({ topics: ['no-such-topic'] }),
      status: 404,
      kind: 'not_found',
    }),
  ],
  [
    'join with sessionTimeoutMs 1',
    (c) => ({
      method: 'POST',
      path: `/v1/groups/${c.group}/members`,
      body: js({ topics: [c.topic], sessionTimeoutMs: 1 }),
      status: 400,
      kind: 'invalid',
    }),
  ],
  [
    'join with sessionTimeoutMs 1e9',
    (c) => ({
      method: 'POST',
      path: `/v1/groups/${c.group}/members`,
      body: js({ topics: [c.topic], sessionTimeoutMs: 1e9 }),
      status: 400,
      kind: 'invalid',
    }),
  ],
  [
    'join from "middle"',
    (c) => ({
      method: 'POST',
      path: `/v1/groups/${c.group}/members`,
      body: js({ topics: [c.topic], from: 'middle' }),
      status: 400,
      kind: 'invalid',
    }),
  ],
  [
    'join 101 topics',
    (c) => ({
      method: 'POST',
      path: `/v1/groups/${c.group}/members`,
      body: js({ topics: Array.from({ length: 101 }, () => c.topic) }),
      status: 400,
      kind: 'invalid',
    }),
  ],
  [
    'join a group id with the key delimiter',
    (c) => ({ method: 'POST', path: '/v1/groups/a%23b/members', body: js({ topics: [c.topic] }), status: 400, kind: 'invalid' }),
  ],
  [
    'join a group id with a control character',
    (c) => ({ method: 'POST', path: '/v1/groups/a%01b/members', body: js({ topics: [c.topic] }), status: 400, kind: 'invalid' }),
  ],
  [
    'join a group id of 250 chars',
    (c) => ({
      method: 'POST',
      path: `/v1/groups/${'g'.repeat(250)}/members`,
      body: js({ topics: [c.topic] }),
      status: 400,
      kind: 'invalid',
    }),
  ],
  [
    'join with a string body',
    (c) => ({ method: 'POST', path: `/v1/groups/${c.group}/members`, body: '"join"', status: 400, kind: 'invalid' }),
  ],
  [
    'heartbeat an unknown member',
    (c) => ({ method: 'POST', path: `/v1/groups/${c.group}/members/000000000000001-0000000000000000/heartbeat`, status: [400, 409] }),
  ],
  ['heartbeat a member id with NUL', (c) => ({ method: 'POST', path: `/v1/groups/${c.group}/members/a%00/heartbeat`, status: [400, 409] })],
  [
    'heartbeat with a query parameter',
    (c) => ({ method: 'POST', path: `/v1/groups/${c.group}/members/${c.memberId}/heartbeat?x=1`, status: 400, kind: 'invalid' }),
  ],
  [
    'leave with a query parameter',
    (c) => ({ method: 'DELETE', path: `/v1/groups/${c.group}/members/${c.memberId}?force=1`, status: 400, kind: 'invalid' }),
  ],
  [
    'commit with a future generation',
    (c) =>
      commit(c, offsets(c, [{ topic: c.topic, partition: 0, offset: 1 }], { generation: c.generation + 5 }), {
        status: 409,
        kind: 'fenced',
      }),
  ],
  [
    'commit with a stale generation',
    (c) =>
      commit(c, offsets(c, [{ topic: c.topic, partition: 0, offset: 1 }], { generation: Math.max(0, c.generation - 1) }), {
        status: 409,
        kind: 'fenced',
      }),
  ],
  [
    'commit a partition beyond the count',
    (c) => commit(c, offsets(c, [{ topic: c.topic, partition: 5, offset: 1 }]), { status: 409, kind: 'fenced' }),
  ],
  [
    'commit past the high watermark',
    (c) => commit(c, offsets(c, [{ topic: c.topic, partition: 0, offset: 999_999 }]), { status: 416, kind: 'offset_out_of_range' }),
  ],
  ['commit offset -1', (c) => commit(c, offsets(c, [{ topic: c.topic, partition: 0, offset: -1 }]))],
  ['commit offset "0x10"', (c) => commit(c, offsets(c, [{ topic: c.topic, partition: 0, offset: '0x10' }]))],
  ['commit offset beyond 2^53', (c) => commit(c, offsets(c, [{ topic: c.topic, partition: 0, offset: '9007199254740993' }]))],
  ['commit offset 1.5', (c) => commit(c, offsets(c, [{ topic: c.topic, partition: 0, offset: 1.5 }]))],
  ['commit no offsets', (c) => commit(c, offsets(c, []))],
  [
    'commit one partition twice',
    (c) =>
      commit(
        c,
        offsets(c, [
          { topic: c.topic, partition: 0, offset: 1 },
          { topic: c.topic, partition: 0, offset: 2 },
        ]),
      ),
  ],
  [
    'commit below the committed offset',
    (c) => commit(c, offsets(c, [{ topic: c.topic, partition: 0, offset: 1 }]), { status: 409, kind: 'conflict' }),
  ],
  ['commit generation -1', (c) => commit(c, offsets(c, [{ topic: c.topic, partition: 0, offset: 2 }], { generation: -1 }))],
  ['commit without memberId', (c) => commit(c, { generation: c.generation, offsets: [{ topic: c.topic, partition: 0, offset: 2 }] })],
  [
    'commit as an unknown member',
    (c) =>
      commit(c, offsets(c, [{ topic: c.topic, partition: 0, offset: 2 }], { memberId: '000000000000001-0000000000000000' }), {
        status: 409,
        kind: 'fenced',
      }),
  ],
  ['commit a badly named topic', (c) => commit(c, offsets(c, [{ topic: '../x', partition: 0, offset: 2 }]))],
  ['commit with an unknown field', (c) => commit(c, offsets(c, [{ topic: c.topic, partition: 0, offset: 2, metadata: 'x' }]))],
  [
    'seek to "middle"',
    (c) => ({
      method: 'POST',
      path: `/v1/groups/${c.group}/seek`,
      body: js({ topic: c.topic, to: 'middle' }),
      status: 400,
      kind: 'invalid',
    }),
  ],
  [
    'seek to offset -1',
    (c) => ({
      method: 'POST',
      path: `/v1/groups/${c.group}/seek`,
      body: js({ topic: c.topic, to: { offset: -1 } }),
      status: 400,
      kind: 'invalid',
    }),
  ],
  [
    'seek to timestamp "yesterday"',
    (c) => ({
      method: 'POST',
      path: `/v1/groups/${c.group}/seek`,
      body: js({ topic: c.topic, to: { timestamp: 'yesterday' } }),
      status: 400,
      kind: 'invalid',
    }),
  ],
  [
    'seek an unknown topic',
    (c) => ({
      method: 'POST',
      path: `/v1/groups/${c.group}/seek`,
      body: js({ topic: 'no-such-topic', to: 'earliest' }),
      status: 404,
      kind: 'not_found',
    }),
  ],
  [
    'seek partition 99',
    (c) => ({
      method: 'POST',
      path: `/v1/groups/${c.group}/seek`,
      body: js({ topic: c.topic, partition: 99, to: 'earliest' }),
      status: [400, 404],
    }),
  ],
  [
    'seek past the high watermark',
    (c) => ({
      method: 'POST',
      path: `/v1/groups/${c.group}/seek`,
      body: js({ topic: c.topic, partition: 0, to: { offset: 999_999 } }),
      status: [400, 416],
    }),
  ],
  [
    'seek to both an offset and a timestamp',
    (c) => ({
      method: 'POST',
      path: `/v1/groups/${c.group}/seek`,
      body: js({ topic: c.topic, to: { offset: 1, timestamp: 1 } }),
      status: 400,
      kind: 'invalid',
    }),
  ],
  ['describe with a query parameter', (c) => ({ method: 'GET', path: `/v1/groups/${c.group}?lag=1`, status: 400, kind: 'invalid' })],
  ['describe a badly named group', () => ({ method: 'GET', path: '/v1/groups/a%2Fb', status: [400, 404] })],
  ['list with a query parameter', () => ({ method: 'GET', path: '/v1/groups?state=stable', status: 400, kind: 'invalid' })],
  ['PUT on the groups collection', () => ({ method: 'PUT', path: '/v1/groups', body: '{}', status: 405, kind: 'method_not_allowed' })],
  ['GET on members', (c) => ({ method: 'GET', path: `/v1/groups/${c.group}/members`, status: 405, kind: 'method_not_allowed' })],
  ['PUT on offsets', (c) => ({ method: 'PUT', path: `/v1/groups/${c.group}/offsets`, status: 405, kind: 'method_not_allowed' })],
  [
    'offsets with an unknown query parameter',
    (c) => ({ method: 'GET', path: `/v1/groups/${c.group}/offsets?partition=0`, status: 400, kind: 'invalid' }),
  ],
  [
    'offsets of a bad topic name',
    (c) => ({ method: 'GET', path: `/v1/groups/${c.group}/offsets?topic=a%2Fb`, status: 400, kind: 'invalid' }),
  ],
];

const routing: Array<[string, Make]> = [
  ['GET /v1', () => ({ method: 'GET', path: '/v1', status: 404, kind: 'not_found' })],
  ['GET /v1/', () => ({ method: 'GET', path: '/v1/', status: 404, kind: 'not_found' })],
  ['a double slash', () => ({ method: 'GET', path: '//v1/topics', status: [400, 404] })],
  ['OPTIONS on topics', () => ({ method: 'OPTIONS', path: '/v1/topics', status: [404, 405] })],
  ['an unknown method (node refuses it)', () => ({ method: 'FOO', path: '/v1/topics', status: [400, 405] })],
  [
    'a path below the fetch route',
    (c) => ({ method: 'GET', path: `/v1/topics/${c.topic}/partitions/0/records/extra`, status: 404, kind: 'not_found' }),
  ],
  ['a 9 KB path', () => ({ method: 'GET', path: `/v1/topics/${'a'.repeat(9_000)}`, status: [400, 404, 414, 431] })],
  [
    '1 000 query parameters',
    (c) => ({
      method: 'GET',
      path: `/v1/topics/${c.topic}/partitions/0/records?${Array.from({ length: 1000 }, (_, i) => `p${i}=1`).join('&')}`,
      status: 400,
      kind: 'invalid',
    }),
  ],
  [
    'PUT on a topic',
    (c) => ({ method: 'PUT', path: `/v1/topics/${c.topic}`, body: js({ partitions: 3 }), status: 405, kind: 'method_not_allowed' }),
  ],
  ['an absolute-form URL to another host', () => ({ method: 'GET', path: 'http://example.com/v1/topics/x', status: [400, 404] })],
];

export const CATALOGUE: Array<[string, Make]> = [
  ...topicsCreate.map(([n, m]): [string, Make] => [`POST /v1/topics: ${n}`, m]),
  ...topicsRead.map(([n, m]): [string, Make] => [`topics: ${n}`, m]),
  ...topicsAlter.map(([n, m]): [string, Make] => [`PATCH/DELETE topic: ${n}`, m]),
  ...records.map(([n, m]): [string, Make] => [`produce: ${n}`, m]),
  ...fetches.map(([n, m]): [string, Make] => [`fetch: ${n}`, m]),
  ...scheduled.map(([n, m]): [string, Make] => [`scheduled: ${n}`, m]),
  ...producers.map(([n, m]): [string, Make] => [`POST /v1/producers: ${n}`, m]),
  ...groups.map(([n, m]): [string, Make] => [`groups: ${n}`, m]),
  ...routing.map(([n, m]): [string, Make] => [`routing: ${n}`, m]),
];

export const withHeaders = (c: BadCase): BadCase => ({ ...c, headers: c.headers ?? (c.body !== undefined ? J : {}) });
