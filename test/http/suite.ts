/**
 * HTTP API v1, from the outside. The target is a parameter: the embedded server over real HTTP, or the
 * Lambda entry driven with API Gateway events — the same cases must pass on both.
 */
export interface HttpTarget {
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

export function httpSuite(name: string, makeTarget: () => Promise<HttpTarget>): void {
  describe(`HTTP API v1: ${name}`, () => {
    let target: HttpTarget;
    let n = 0;
    const unique = (base: string) => `${base}-${Date.now().toString(36)}-${++n}`;

    beforeAll(async () => {
      target = await makeTarget();
    });
    afterAll(async () => target?.close());

    const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = JSON_HEADERS) => {
      const res = await target.fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let json: any;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = text;
      }
      return { status: res.status, json, headers: res.headers };
    };
    const createTopic = async (partitions = 3, extra: Record<string, unknown> = {}) => {
      const topic = unique('t');
      const res = await call('POST', '/v1/topics', { name: topic, partitions, ...extra });
      expect(res.status).toBe(201);
      return topic;
    };
    const produce = (topic: string, records: unknown[]) => call('POST', `/v1/topics/${topic}/records`, { records });
    const read = (topic: string, p: number, query = 'offset=0') => call('GET', `/v1/topics/${topic}/partitions/${p}/records?${query}`);
    const expectError = (res: { status: number; json: any }, status: number, kind: string) => {
      expect({ status: res.status, kind: res.json?.error }).toEqual({ status, kind });
      expect(typeof res.json.message).toBe('string');
      expect(res.json.message.length).toBeGreaterThan(5);
      expect(typeof res.json.details).toBe('object');
    };

    describe('topics', () => {
      it('creates a topic (201) with partitionCount and per-partition offsets as strings', async () => {
        const topic = unique('orders');
        const res = await call('POST', '/v1/topics', { name: topic, partitions: 3 });
        expect(res.status).toBe(201);
        expect(res.json).toMatchObject({ name: topic, partitionCount: 3, replicationFactor: 1 });
        expect(res.json.partitions).toEqual([0, 1, 2].map((p) => ({ partition: p, logStartOffset: '0', highWatermark: '0' })));
      });

      it('refuses to create a topic that exists (409 conflict)', async () => {
        const topic = await createTopic();
        expectError(await call('POST', '/v1/topics', { name: topic, partitions: 1 }), 409, 'conflict');
      });

      it('lists and describes topics; describe shows high watermarks', async () => {
        const topic = await createTopic(2);
        await produce(topic, [
          { value: 1, partition: 1 },
          { value: 2, partition: 1 },
        ]);
        const list = await call('GET', '/v1/topics');
        expect(list.status).toBe(200);
        expect(list.json.topics.map((t: any) => t.name)).toContain(topic);
        const one = await call('GET', `/v1/topics/${topic}`);
        expect(one.json.partitions).toEqual([
          { partition: 0, logStartOffset: '0', highWatermark: '0' },
          { partition: 1, logStartOffset: '0', highWatermark: '2' },
        ]);
      });

      it('adds partitions but never removes them', async () => {
        const topic = await createTopic(2);
        const grown = await call('PATCH', `/v1/topics/${topic}`, { partitions: 4 });
        expect(grown.status).toBe(200);
        expect(grown.json.partitionCount).toBe(4);
        expect(grown.json.partitions).toHaveLength(4);
        expectError(await call('PATCH', `/v1/topics/${topic}`, { partitions: 3 }), 400, 'invalid');
        expect((await produce(topic, [{ value: 'x', partition: 3 }])).status).toBe(200);
      });

      it('deletes a topic (204); it is gone, and a new one of that name starts empty', async () => {
        const topic = await createTopic(1);
        await produce(topic, [{ value: 'old' }]);
        expect((await call('DELETE', `/v1/topics/${topic}`)).status).toBe(204);
        expectError(await call('GET', `/v1/topics/${topic}`), 404, 'not_found');
        expectError(await call('DELETE', `/v1/topics/${topic}`), 404, 'not_found');
        expect((await call('POST', '/v1/topics', { name: topic, partitions: 1 })).status).toBe(201);
        const again = await read(topic, 0);
        expect(again.json).toMatchObject({ records: [], highWatermark: '0' });
      });

      it.each([
        ['empty', ''],
        ['dot', '.'],
        ['dot-dot', '..'],
        ['too long', 'a'.repeat(250)],
        ['slash', 'a/b'],
        ['backslash', 'a\\b'],
        ['NUL', 'a\u0000b'],
        ['space', 'a b'],
        ['hash (key delimiter)', 'a#b'],
        ['unicode', 'ordérs'],
      ])('refuses a topic name that is %s (400)', async (_, bad) => {
        expectError(await call('POST', '/v1/topics', { name: bad, partitions: 1 }), 400, 'invalid');
      });

      it.each([
        ['zero partitions', { partitions: 0 }],
        ['negative partitions', { partitions: -1 }],
        ['fractional partitions', { partitions: 1.5 }],
        ['partitions as string', { partitions: '3' }],
        ['too many partitions', { partitions: 10_001 }],
        ['partitions beyond 2^53', { partitions: 2 ** 60 }],
        ['missing partitions', {}],
        ['unknown field', { partitions: 1, color: 'red' }],
        ['replicationFactor above the number of stores', { partitions: 1, replicationFactor: 9 }],
        ['replicationFactor 0', { partitions: 1, replicationFactor: 0 }],
        ['retentionMs 0', { partitions: 1, retentionMs: 0 }],
      ])('refuses a topic with %s (400) and creates nothing', async (_, body) => {
        const topic = unique('bad');
        expectError(await call('POST', '/v1/topics', { name: topic, ...body }), 400, 'invalid');
        expectError(await call('GET', `/v1/topics/${topic}`), 404, 'not_found');
      });

      it('names the numbers when replicationFactor exceeds the object stores', async () => {
        const res = await call('POST', '/v1/topics', { name: unique('rf'), partitions: 1, replicationFactor: 9 });
        expect(res.json.message).toMatch(/replicationFactor.*9/);
      });
    });

    describe('produce and fetch', () => {
      it('answers (partition, offset) per record in request order, offsets as strings', async () => {
        const topic = await createTopic(3);
        const res = await produce(topic, [
          { value: 'a', partition: 2 },
          { value: 'b', partition: 0 },
          { value: 'c', partition: 2 },
        ]);
        expect(res.status).toBe(200);
        expect(res.json).toEqual({
          records: [
            { partition: 2, offset: '0' },
            { partition: 0, offset: '0' },
            { partition: 2, offset: '1' },
          ],
        });
      });

      it('returns keys, values and headers exactly as sent (JSON and binary)', async () => {
        const topic = await createTopic(1);
        const sent = [
          { key: 'u1', value: { id: 1, nested: [1, 'two', null, { x: true }] }, headers: { trace: 'abc', 'content-kind': 'order' } },
          { key: { base64: 'AAEC/w==' }, value: { base64: 'AAECAwQFBgc=' } },
          { value: null },
          { key: '', value: 'héllo ✓ 𝄞' },
          { key: 42, value: 3.25 },
        ];
        const res = await produce(topic, sent);
        expect(res.status).toBe(200);
        const got = await read(topic, 0);
        expect(got.status).toBe(200);
        expect(got.json.records.map((r: any) => ({ key: r.key, value: r.value, headers: r.headers }))).toEqual([
          { key: 'u1', value: sent[0].value, headers: sent[0].headers },
          { key: { base64: 'AAEC/w==' }, value: { base64: 'AAECAwQFBgc=' }, headers: {} },
          { key: null, value: null, headers: {} },
          { key: '', value: 'héllo ✓ 𝄞', headers: {} },
          { key: 42, value: 3.25, headers: {} },
        ]);
        expect(got.json.records.map((r: any) => r.offset)).toEqual(['0', '1', '2', '3', '4']);
        expect(got.json).toMatchObject({ nextOffset: '5', highWatermark: '5', logStartOffset: '0' });
        for (const r of got.json.records) expect(typeof r.timestamp).toBe('number');
      });

      it('keeps a producer-given timestamp', async () => {
        const topic = await createTopic(1);
        await produce(topic, [{ value: 1, timestamp: 1_700_000_000_123 }]);
        expect((await read(topic, 0)).json.records[0].timestamp).toBe(1_700_000_000_123);
      });

      it('sends one key to one partition, as a Kafka producer would (murmur2)', async () => {
        const topic = await createTopic(12);
        // kafkajs DefaultPartitioner / Java client: "u1" → 10 of 12 (checked against kafkajs in unit tests)
        const res = await produce(
          topic,
          Array.from({ length: 5 }, (_, i) => ({ key: 'u1', value: i })),
        );
        const partitions = new Set(res.json.records.map((r: any) => r.partition));
        expect(partitions.size).toBe(1);
        const offsets = res.json.records.map((r: any) => Number(r.offset));
        expect(offsets).toEqual([0, 1, 2, 3, 4]);
      });

      it('spreads keyless records over partitions', async () => {
        const topic = await createTopic(4);
        const res = await produce(
          topic,
          Array.from({ length: 40 }, (_, i) => ({ value: i })),
        );
        const counts = [0, 0, 0, 0];
        for (const r of res.json.records) counts[r.partition]++;
        expect(counts.every((c) => c >= 5)).toBe(true);
      });

      it('reads from an offset, limited by maxRecords and maxBytes, and pages with nextOffset', async () => {
        const topic = await createTopic(1);
        await produce(
          topic,
          Array.from({ length: 10 }, (_, i) => ({ value: `v${i}` })),
        );
        await produce(
          topic,
          Array.from({ length: 10 }, (_, i) => ({ value: `w${i}` })),
        );
        const page = await read(topic, 0, 'offset=8&maxRecords=4');
        expect(page.json.records.map((r: any) => r.value)).toEqual(['v8', 'v9', 'w0', 'w1']);
        expect(page.json.nextOffset).toBe('12');
        const small = await read(topic, 0, 'offset=3&maxBytes=1');
        expect(small.json.records).toHaveLength(1); // always at least one record
        const end = await read(topic, 0, 'offset=20');
        expect(end.json).toEqual({ records: [], nextOffset: '20', highWatermark: '20', logStartOffset: '0' });
        const defaultOffset = await read(topic, 0, 'maxRecords=1');
        expect(defaultOffset.json.records[0].offset).toBe('0');
      });

      it('long-polls at the high watermark until a record arrives', async () => {
        const topic = await createTopic(1);
        const waiting = read(topic, 0, 'offset=0&waitMs=10000');
        await new Promise((r) => setTimeout(r, 100));
        const started = Date.now();
        await produce(topic, [{ value: 'wake' }]);
        const got = await waiting;
        expect(got.json.records.map((r: any) => r.value)).toEqual(['wake']);
        expect(Date.now() - started).toBeLessThan(5000);
      });

      it('answers an empty page after waitMs when nothing arrives', async () => {
        const topic = await createTopic(1);
        const got = await read(topic, 0, 'offset=0&waitMs=50');
        expect(got.json).toEqual({ records: [], nextOffset: '0', highWatermark: '0', logStartOffset: '0' });
      });

      it('answers 416 with both bounds for an offset past the high watermark', async () => {
        const topic = await createTopic(1);
        await produce(topic, [{ value: 1 }, { value: 2 }]);
        const res = await read(topic, 0, 'offset=3');
        expectError(res, 416, 'offset_out_of_range');
        expect(res.json.details).toEqual({ logStartOffset: '0', highWatermark: '2' });
      });
    });

    describe('delayed delivery', () => {
      it('acknowledges a delayed record with a scheduled id and delivers it when due, never earlier', async () => {
        const topic = await createTopic(1);
        const sentAt = Date.now();
        const res = await produce(topic, [{ value: 'now' }, { value: 'later', deliverAfterMs: 400 }]);
        expect(res.status).toBe(200);
        expect(res.json.records[0]).toEqual({ partition: 0, offset: '0' });
        const scheduled = res.json.records[1];
        expect(scheduled).toMatchObject({ partition: 0, scheduledId: expect.any(String) });
        expect(scheduled.deliverAt).toBeGreaterThanOrEqual(sentAt + 400);
        const listed = await call('GET', `/v1/topics/${topic}/scheduled`);
        expect(listed.json.scheduled.map((s: any) => s.scheduledId)).toContain(scheduled.scheduledId);
        // Poll until it shows up; it must not appear before its time.
        let got: any;
        for (let i = 0; i < 100; i++) {
          got = await read(topic, 0, 'offset=1&waitMs=200');
          if (got.json.records.length) break;
        }
        expect(got.json.records.map((r: any) => r.value)).toEqual(['later']);
        expect(Date.now()).toBeGreaterThanOrEqual(scheduled.deliverAt);
        expect((await call('GET', `/v1/topics/${topic}/scheduled`)).json.scheduled).toEqual([]);
      });

      it('accepts ISO-8601 times and lets a scheduled record be cancelled (then 404)', async () => {
        const topic = await createTopic(1);
        const at = new Date(Date.now() + 3_600_000).toISOString();
        const res = await produce(topic, [{ value: 'x', deliverAt: at }]);
        const { scheduledId, deliverAt } = res.json.records[0];
        expect(deliverAt).toBe(Date.parse(at));
        expect((await call('DELETE', `/v1/topics/${topic}/scheduled/${scheduledId}`)).status).toBe(204);
        expectError(await call('DELETE', `/v1/topics/${topic}/scheduled/${scheduledId}`), 404, 'not_found');
        expect((await call('GET', `/v1/topics/${topic}/scheduled`)).json.scheduled).toEqual([]);
      });
    });

    describe('idempotent producer', () => {
      it('stores a retried request once and answers its original offsets', async () => {
        const topic = await createTopic(2);
        const init = await call('POST', '/v1/producers', {});
        expect(init.status).toBe(200);
        expect(init.json).toEqual({ id: expect.any(String), epoch: 0 });
        const producer = { id: init.json.id, epoch: 0, sequence: 0 };
        const body = {
          records: [
            { value: 'a', partition: 0 },
            { value: 'b', partition: 1 },
          ],
          producer,
        };
        const first = await call('POST', `/v1/topics/${topic}/records`, body);
        expect(first.status).toBe(200);
        const retry = await call('POST', `/v1/topics/${topic}/records`, body);
        expect(retry).toMatchObject({ status: 200, json: first.json });
        const next = await call('POST', `/v1/topics/${topic}/records`, { ...body, producer: { ...producer, sequence: 1 } });
        expect(next.json.records.map((r: any) => r.offset)).toEqual(['1', '1']);
        const t = await call('GET', `/v1/topics/${topic}`);
        expect(t.json.partitions.map((p: any) => p.highWatermark)).toEqual(['2', '2']);
      });

      it('refuses a sequence gap (409 conflict) and a stale epoch (409 fenced), storing nothing', async () => {
        const topic = await createTopic(1);
        const { json: p } = await call('POST', '/v1/producers', {});
        const send = (epoch: number, sequence: number) =>
          call('POST', `/v1/topics/${topic}/records`, { records: [{ value: sequence }], producer: { id: p.id, epoch, sequence } });
        expect((await send(0, 0)).status).toBe(200);
        expectError(await send(0, 2), 409, 'conflict');
        // a "retry" of sequence 0 with another batch is not a retry
        expectError(
          await call('POST', `/v1/topics/${topic}/records`, {
            records: [{ value: 'a' }, { value: 'b' }],
            producer: { id: p.id, epoch: 0, sequence: 0 },
          }),
          409,
          'conflict',
        );
        const bumped = await call('POST', '/v1/producers', { id: p.id });
        expect(bumped.json).toEqual({ id: p.id, epoch: 1 });
        expectError(await send(0, 1), 409, 'fenced');
        expect((await send(1, 0)).status).toBe(200); // a new epoch numbers its requests from 0 again
        expectError(
          await call('POST', `/v1/topics/${topic}/records`, {
            records: [{ value: 1 }],
            producer: { id: 'never-made', epoch: 0, sequence: 0 },
          }),
          409,
          'fenced',
        );
        const t = await call('GET', `/v1/topics/${topic}`);
        expect(t.json.partitions[0].highWatermark).toBe('2');
      });
    });

    describe('consumer group offsets', () => {
      it('answers committed offsets only (OffsetFetch) and lag in seconds for a group with lag', async () => {
        const topic = await createTopic(2);
        const group = unique('g');
        await produce(topic, [
          { value: 1, partition: 0 },
          { value: 2, partition: 0 },
          { value: 3, partition: 1 },
        ]);
        const join = await call('POST', `/v1/groups/${group}/members`, { topics: [topic] });
        expect(join.status).toBe(200);
        const none = await call('GET', `/v1/groups/${group}/offsets?topic=${topic}`);
        expect(none).toMatchObject({ status: 200, json: { groupId: group, offsets: [] } });
        const commit = await call('POST', `/v1/groups/${group}/offsets`, {
          memberId: join.json.memberId,
          generation: join.json.generation,
          offsets: [{ topic, partition: 0, offset: '1' }],
        });
        expect(commit.status).toBe(200);
        const got = await call('GET', `/v1/groups/${group}/offsets?topic=${topic}`);
        expect(got.json).toEqual({ groupId: group, offsets: [{ topic, partition: 0, offset: '1' }] });
        expect((await call('GET', `/v1/groups/${group}/offsets`)).json.offsets).toEqual(got.json.offsets);
        expectError(await call('GET', `/v1/groups/${group}/offsets?topic=a&topic=b`), 400, 'invalid');
        expectError(await call('GET', `/v1/groups/${group}/offsets?partition=1`), 400, 'invalid');
        const described = await call('GET', `/v1/groups/${group}`);
        expect(described.status).toBe(200);
        expect(described.json.totalLag).toBe('2');
        expect(described.json.offsets.every((o: any) => typeof o.lagSeconds === 'number' && o.lagSeconds >= 0)).toBe(true);
      });
    });

    describe('bad input changes nothing', () => {
      let topic: string;
      beforeAll(async () => {
        topic = await createTopic(2, { maxRecordBytes: 1024 });
        await produce(topic, [{ value: 'seed', partition: 0 }]);
      });
      const unchanged = async () => {
        const t = await call('GET', `/v1/topics/${topic}`);
        expect(t.json.partitions.map((p: any) => p.highWatermark)).toEqual(['1', '0']);
      };

      it.each([
        ['records missing', {}],
        ['records empty', { records: [] }],
        ['records not an array', { records: { value: 1 } }],
        ['a record without value', { records: [{ value: 1 }, { key: 'k' }] }],
        ['a record that is not an object', { records: [1] }],
        ['an unknown record field', { records: [{ value: 1, colour: 'red' }] }],
        ['an unknown body field', { records: [{ value: 1 }], extra: true }],
        ['a negative partition', { records: [{ value: 1, partition: -1 }] }],
        ['a fractional partition', { records: [{ value: 1, partition: 0.5 }] }],
        ['a partition as a string', { records: [{ value: 1, partition: '0' }] }],
        ['a partition beyond the count', { records: [{ value: 1 }, { value: 1, partition: 2 }] }],
        ['a huge partition', { records: [{ value: 1, partition: 2 ** 53 }] }],
        ['a negative timestamp', { records: [{ value: 1, timestamp: -5 }] }],
        ['a timestamp as a string', { records: [{ value: 1, timestamp: 'now' }] }],
        ['invalid base64', { records: [{ value: { base64: 'not base64!' } }] }],
        ['non-canonical base64', { records: [{ value: { base64: 'AB==' } }] }],
        ['base64 without padding', { records: [{ value: { base64: 'AAE' } }] }],
        ['base64 that is not a string', { records: [{ value: { base64: 12 } }] }],
        ['headers that are not an object', { records: [{ value: 1, headers: ['a'] }] }],
        ['a header value that is not a string', { records: [{ value: 1, headers: { a: 1 } }] }],
        ['a __proto__ header', { records: [{ value: 1, headers: JSON.parse('{"__proto__":"x"}') }] }],
        ['a constructor header', { records: [{ value: 1, headers: { constructor: 'x' } }] }],
        ['a prototype header', { records: [{ value: 1, headers: { prototype: 'x' } }] }],
        ['an empty header name', { records: [{ value: 1, headers: { '': 'x' } }] }],
        [
          'too many headers',
          { records: [{ value: 1, headers: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`h${i}`, 'v'])) }] },
        ],
        ['an oversized header value', { records: [{ value: 1, headers: { h: 'x'.repeat(17_000) } }] }],
        ['deliverAt that is not a time', { records: [{ value: 1, deliverAt: 'tomorrow' }] }],
        ['deliverAt on a day that does not exist', { records: [{ value: 1, deliverAt: '2031-11-31T00:00:00Z' }] }],
        ['deliverAt with a 25th hour', { records: [{ value: 1, deliverAt: '2031-01-01T25:00:00Z' }] }],
        ['deliverAt as a date without a zone', { records: [{ value: 1, deliverAt: '2030-01-01 10:00' }] }],
        ['deliverAt a day in the past', { records: [{ value: 1, deliverAt: Date.now() - 86_400_000 }] }],
        ['deliverAt absurdly far ahead', { records: [{ value: 1, deliverAt: Date.now() + 10 * 365 * 86_400_000 }] }],
        ['deliverAt and deliverAfterMs together', { records: [{ value: 1, deliverAt: Date.now() + 1000, deliverAfterMs: 1000 }] }],
        ['a negative deliverAfterMs', { records: [{ value: 1, deliverAfterMs: -1 }] }],
        ['a producer without a sequence', { records: [{ value: 1 }], producer: { id: 'p', epoch: 0 } }],
        ['a producer with a negative epoch', { records: [{ value: 1 }], producer: { id: 'p', epoch: -1, sequence: 0 } }],
        ['a producer id with a delimiter', { records: [{ value: 1 }], producer: { id: 'p#1', epoch: 0, sequence: 0 } }],
      ])('refuses a produce with %s (400)', async (_, body) => {
        expectError(await call('POST', `/v1/topics/${topic}/records`, body), 400, 'invalid');
        await unchanged();
      });

      it.each([
        ['an overflowing number', '{"records":[{"value":1e400}]}'],
        ['an overflowing number in a key', '{"records":[{"key":-1e999,"value":1}]}'],
        ['an integer beyond 2^53', '{"records":[{"value":{"id":12345678901234567890}}]}'],
        ['a number that underflows to 0', '{"records":[{"value":1e-400}]}'],
      ])('refuses %s rather than changing it (400)', async (_, body) => {
        const res = await call('POST', `/v1/topics/${topic}/records`, body);
        expectError(res, 400, 'invalid');
        expect(res.json.message).toMatch(/send it as a string/);
        await unchanged();
      });

      it('keeps big numbers inside strings and exact doubles as they are', async () => {
        const t = await createTopic(1);
        await call(
          'POST',
          `/v1/topics/${t}/records`,
          '{"records":[{"value":{"id":"12345678901234567890","x":9007199254740991,"y":1.5e300,"z":"1e400"}}]}',
        );
        expect((await read(t, 0)).json.records[0].value).toEqual({
          id: '12345678901234567890',
          x: 9007199254740991,
          y: 1.5e300,
          z: '1e400',
        });
      });

      it('names the record of a lone surrogate in details', async () => {
        const res = await call('POST', `/v1/topics/${topic}/records`, '{"records":[{"value":1},{"value":"\\ud800"}]}');
        expectError(res, 400, 'invalid');
        expect(res.json.details.index).toBe(1);
        await unchanged();
      });

      it('names the bad record index in details', async () => {
        const res = await produce(topic, [{ value: 1 }, { value: 2 }, { value: 3, partition: -1 }]);
        expectError(res, 400, 'invalid');
        expect(res.json.details.index).toBe(2);
        expect(res.json.message).toContain('records[2]');
        await unchanged();
      });

      it('refuses a record over the topic maxRecordBytes, counting bytes not characters (413)', async () => {
        // 400 three-byte characters: 400 characters, 1 200 bytes > 1 024
        const res = await produce(topic, [{ value: 'ok' }, { value: '€'.repeat(400) }]);
        expectError(res, 413, 'too_large');
        expect(res.json.details.index).toBe(1);
        await unchanged();
      });

      it('refuses too many records in one request (400)', async () => {
        const res = await produce(
          topic,
          Array.from({ length: 10_001 }, () => ({ value: 0 })),
        );
        expectError(res, 400, 'invalid');
        await unchanged();
      });

      it('refuses a body over the request cap (413), declared or not', async () => {
        const big = JSON.stringify({ records: [{ value: 'x'.repeat(5 * 1024 * 1024) }] });
        expectError(await call('POST', `/v1/topics/${topic}/records`, big), 413, 'too_large');
        await unchanged();
      });

      it.each([
        ['malformed JSON', '{"records": [{"value": 1}'],
        ['trailing garbage', '{"records": [{"value": 1}]} xyz'],
        ['an empty body', ''],
        ['a JSON array', '[{"value": 1}]'],
        ['deep nesting', `{"records":[{"value":${'['.repeat(100_000)}${']'.repeat(100_000)}}]}`],
        ['a lone surrogate', '{"records":[{"value":"\\ud800"}]}'],
        ['a lone surrogate in a header name', '{"records":[{"value":1,"headers":{"\\udc00":"x"}}]}'],
      ])('refuses %s (400)', async (_, body) => {
        expectError(await call('POST', `/v1/topics/${topic}/records`, body), 400, 'invalid');
        await unchanged();
      });

      it('refuses bytes that are not UTF-8 (400)', async () => {
        const body = Buffer.concat([Buffer.from('{"records":[{"value":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}]}')]);
        const res = await target.fetch(`/v1/topics/${topic}/records`, { method: 'POST', headers: JSON_HEADERS, body });
        expect(res.status).toBe(400);
        expect((await res.json()).error).toBe('invalid');
        await unchanged();
      });

      it.each([
        ['text/plain', { 'content-type': 'text/plain' }],
        ['no content type', {} as Record<string, string>],
        ['form data', { 'content-type': 'application/x-www-form-urlencoded' }],
        ['latin-1 JSON', { 'content-type': 'application/json; charset=latin1' }],
      ])('refuses a body sent as %s (415)', async (_, headers) => {
        expectError(await call('POST', `/v1/topics/${topic}/records`, { records: [{ value: 1 }] }, headers), 415, 'unsupported_media_type');
        await unchanged();
      });

      it('answers 404 for an unknown topic, before and after validation', async () => {
        expectError(await produce('no-such-topic', [{ value: 1 }]), 404, 'not_found');
        expectError(await read('no-such-topic', 0), 404, 'not_found');
        expectError(await call('GET', '/v1/topics/no-such-topic'), 404, 'not_found');
      });

      it.each([
        ['%2e%2e', '%2e%2e'],
        ['%2e%2e%2f', '%2e%2e%2fetc'],
        ['double-encoded traversal', '%252e%252e%252f'],
        ['encoded NUL', 'a%00b'],
        ['encoded backslash', 'a%5cb'],
      ])('refuses a topic path that is %s before touching anything', async (_, raw) => {
        const res = await call('GET', `/v1/topics/${raw}/partitions/0/records`);
        expect([400, 404]).toContain(res.status);
        expect(res.json.error).toBe(res.status === 400 ? 'invalid' : 'not_found');
        const produced = await call('POST', `/v1/topics/${raw}/records`, { records: [{ value: 1 }] });
        expect([400, 404]).toContain(produced.status);
      });

      it.each([
        ['negative offset', 'offset=-1'],
        ['fractional offset', 'offset=1.5'],
        ['hex offset', 'offset=0x1'],
        ['exponent offset', 'offset=1e3'],
        ['offset beyond 2^53', 'offset=9007199254740993'],
        ['empty offset', 'offset='],
        ['duplicated offset', 'offset=0&offset=1'],
        ['zero maxRecords', 'maxRecords=0'],
        ['negative maxRecords', 'maxRecords=-5'],
        ['huge maxRecords', 'maxRecords=10001'],
        ['zero maxBytes', 'maxBytes=0'],
        ['huge maxBytes', 'maxBytes=16777217'],
        ['waitMs over 30 s', 'waitMs=30001'],
        ['an unknown parameter', 'ofset=0'],
      ])('refuses a fetch with %s (400)', async (_, query) => {
        expectError(await read(topic, 0, query), 400, 'invalid');
      });

      it.each([
        ['beyond the partition count', '2', 404],
        ['negative', '-1', 400],
        ['not a number', 'x', 400],
        ['fractional', '1.0', 400],
        ['hex', '0x1', 400],
      ])('refuses a fetch from a partition that is %s', async (_, p, status) => {
        const res = await call('GET', `/v1/topics/${topic}/partitions/${p}/records?offset=0`);
        expectError(res, status, status === 404 ? 'not_found' : 'invalid');
      });

      it('answers 405 with Allow for a wrong method, 404 for an unknown route', async () => {
        const res = await call('PUT', `/v1/topics/${topic}`, { partitions: 3 });
        expectError(res, 405, 'method_not_allowed');
        expect(res.headers.get('allow')).toBe('GET, PATCH, DELETE');
        expectError(await call('DELETE', `/v1/topics/${topic}/records`), 405, 'method_not_allowed');
        expectError(await call('GET', '/v2/topics'), 404, 'not_found');
        expectError(await call('GET', '/'), 404, 'not_found');
        await unchanged();
      });

      it('refuses a bad topic PATCH (400) and leaves the topic as it was', async () => {
        expectError(await call('PATCH', `/v1/topics/${topic}`, { partitions: 'many' }), 400, 'invalid');
        expectError(await call('PATCH', `/v1/topics/${topic}`, { name: 'rename' }), 400, 'invalid');
        expectError(await call('PATCH', `/v1/topics/${topic}`, { retentionMs: -7 }), 400, 'invalid');
        const t = await call('GET', `/v1/topics/${topic}`);
        expect(t.json.partitionCount).toBe(2);
      });
    });
  });
}
