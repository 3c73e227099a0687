/**
 * The contract every adapter set must pass: the same cases run against the local adapters (files + SQLite)
 * and the AWS ones (S3 + DynamoDB on emulators). A case that cannot apply to an adapter says why.
 */
import { makeSettings } from '../../lib/core/settings';
import type { Log } from '../../lib/core/log/log';
import { createCore } from '../../lib/core/create-core';
import type { CoreContext } from '../../lib/core/context';
import type { ProduceResult } from '../../lib/core/model';
import type { MetadataStore } from '../../lib/ports/metadata-store';
import type { ObjectStore } from '../../lib/ports/object-store';
import { randomIds, systemClock } from '../../lib/adapters/system';
import { jsonPayload } from '../helpers/records';

export interface Factory<T> {
  /** A fresh, empty instance. */
  make(): Promise<T>;
  cleanup?(): Promise<void>;
}

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

export function objectStoreContract(name: string, factory: Factory<ObjectStore>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let store: ObjectStore;
    beforeEach(async () => {
      store = await factory.make();
    });
    afterAll(async () => factory.cleanup?.());

    it('stores and reads back an object, whole and by byte range', async () => {
      expect(await store.putIfAbsent('topics/t1/a.seg', bytes('hello world'))).toEqual({ created: true });
      expect(text(await store.get('topics/t1/a.seg'))).toBe('hello world');
      expect(text(await store.get('topics/t1/a.seg', { start: 6, length: 5 }))).toBe('world');
      expect(text(await store.get('topics/t1/a.seg', { start: 0, length: 1 }))).toBe('h');
    });

    it('never overwrites an existing key', async () => {
      await store.putIfAbsent('topics/t1/b.seg', bytes('first'));
      expect(await store.putIfAbsent('topics/t1/b.seg', bytes('second'))).toEqual({ created: false });
      expect(text(await store.get('topics/t1/b.seg'))).toBe('first');
    });

    it('lets exactly one of many concurrent creators of a key win', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.putIfAbsent('topics/t1/race.seg', bytes(`writer-${i}`))));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const winner = results.findIndex((r) => r.created);
      expect(text(await store.get('topics/t1/race.seg'))).toBe(`writer-${winner}`);
    });

    it('answers undefined for a missing object and deletes idempotently', async () => {
      expect(await store.get('topics/t1/missing.seg')).toBeUndefined();
      await store.putIfAbsent('topics/t1/c.seg', bytes('x'));
      await store.delete('topics/t1/c.seg');
      await store.delete('topics/t1/c.seg');
      expect(await store.get('topics/t1/c.seg')).toBeUndefined();
    });

    it('lists by prefix in key order, page by page', async () => {
      for (const k of ['b', 'a', 'd', 'c', 'e']) await store.putIfAbsent(`topics/lst/${k}.seg`, bytes(k));
      await store.putIfAbsent('topics/other/z.seg', bytes('z'));
      const first = await store.list('topics/lst/', { limit: 2 });
      expect(first.objects.map((o) => o.key)).toEqual(['topics/lst/a.seg', 'topics/lst/b.seg']);
      expect(first.objects[0].size).toBe(1);
      const rest = await store.list('topics/lst/', { startAfter: first.next, limit: 10 });
      expect(rest.objects.map((o) => o.key)).toEqual(['topics/lst/c.seg', 'topics/lst/d.seg', 'topics/lst/e.seg']);
      expect(rest.next).toBeUndefined();
    });
  });
}

export function metadataStoreContract(name: string, factory: Factory<MetadataStore>): void {
  describe(`MetadataStore contract: ${name}`, () => {
    let meta: MetadataStore;
    beforeEach(async () => {
      meta = await factory.make();
    });
    afterAll(async () => factory.cleanup?.());

    it('creates an item only when absent, at version 1', async () => {
      expect(await meta.write([{ op: 'put', pk: 'p1', sk: 'head', data: { n: '1' }, expect: 'absent' }])).toEqual({ ok: true });
      expect(await meta.get('p1', 'head')).toEqual({ pk: 'p1', sk: 'head', version: 1, data: { n: '1' } });
      const again = await meta.write([{ op: 'put', pk: 'p1', sk: 'head', data: { n: '2' }, expect: 'absent' }]);
      expect(again).toEqual({ ok: false, failedIndex: 0, current: { pk: 'p1', sk: 'head', version: 1, data: { n: '1' } } });
    });

    it('compare-and-set: a stale version loses cleanly and returns the current state', async () => {
      await meta.write([{ op: 'put', pk: 'p2', sk: 'head', data: { n: '1' }, expect: 'absent' }]);
      expect(await meta.write([{ op: 'put', pk: 'p2', sk: 'head', data: { n: '2' }, expect: 1 }])).toEqual({ ok: true });
      const stale = await meta.write([{ op: 'put', pk: 'p2', sk: 'head', data: { n: 'stale' }, expect: 1 }]);
      expect(stale).toEqual({ ok: false, failedIndex: 0, current: { pk: 'p2', sk: 'head', version: 2, data: { n: '2' } } });
      expect((await meta.get('p2', 'head'))?.data).toEqual({ n: '2' });
    });

    it('applies a multi-item write atomically: one failed condition changes nothing', async () => {
      await meta.write([{ op: 'put', pk: 'p3', sk: 'a', data: { x: 1 } }]);
      const res = await meta.write([
        { op: 'put', pk: 'p3', sk: 'head', data: { n: '5' }, expect: 'absent' },
        { op: 'put', pk: 'p3', sk: 'a', data: { x: 2 }, expect: 'absent' },
      ]);
      expect(res).toMatchObject({ ok: false, failedIndex: 1, current: { sk: 'a', version: 1, data: { x: 1 } } });
      expect(await meta.get('p3', 'head')).toBeUndefined();
      expect((await meta.get('p3', 'a'))?.data).toEqual({ x: 1 });
    });

    it('check ops condition a write without writing; delete honours its condition', async () => {
      await meta.write([{ op: 'put', pk: 'p4', sk: 'lease', data: { epoch: 1 } }]);
      const fenced = await meta.write([
        { op: 'check', pk: 'p4', sk: 'lease', expect: 7 },
        { op: 'put', pk: 'p4', sk: 'x', data: {} },
      ]);
      expect(fenced).toMatchObject({ ok: false, failedIndex: 0 });
      expect(await meta.get('p4', 'x')).toBeUndefined();
      expect(await meta.write([{ op: 'delete', pk: 'p4', sk: 'lease', expect: 2 }])).toMatchObject({ ok: false });
      expect(await meta.write([{ op: 'delete', pk: 'p4', sk: 'lease', expect: 1 }])).toEqual({ ok: true });
      expect(await meta.get('p4', 'lease')).toBeUndefined();
    });

    it('queries a partition key by sort-key range, prefix, order and limit', async () => {
      for (const sk of ['i#03', 'i#01', 'i#02', 'head', 'j#01']) {
        await meta.write([{ op: 'put', pk: 'p5', sk, data: { sk } }]);
      }
      await meta.write([{ op: 'put', pk: 'p5x', sk: 'i#00', data: {} }]);
      const sks = (items: { sk: string }[]) => items.map((i) => i.sk);
      expect(sks(await meta.query('p5', { prefix: 'i#' }))).toEqual(['i#01', 'i#02', 'i#03']);
      expect(sks(await meta.query('p5', { prefix: 'i#', reverse: true, limit: 2 }))).toEqual(['i#03', 'i#02']);
      expect(sks(await meta.query('p5', { prefix: 'i#', lte: 'i#02', reverse: true, limit: 1 }))).toEqual(['i#02']);
      expect(sks(await meta.query('p5', { prefix: 'i#', gte: 'i#02' }))).toEqual(['i#02', 'i#03']);
      expect(sks(await meta.query('p5'))).toEqual(['head', 'i#01', 'i#02', 'i#03', 'j#01']);
    });

    it('lets exactly one of many concurrent compare-and-sets on one version win', async () => {
      await meta.write([{ op: 'put', pk: 'p6', sk: 'head', data: { n: 0 }, expect: 'absent' }]);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => meta.write([{ op: 'put', pk: 'p6', sk: 'head', data: { n: i }, expect: 1 }])),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect((await meta.get('p6', 'head'))?.version).toBe(2);
    });

    it('keeps item data exactly (nested values, unicode, large strings)', async () => {
      const data = { s: 'héllo ✓ 𝄞', n: 12.5, b: true, z: null, arr: [1, 'two', { three: 3 }], big: 'x'.repeat(50_000) };
      await meta.write([{ op: 'put', pk: 'p7', sk: 'x', data }]);
      expect((await meta.get('p7', 'x'))?.data).toEqual(data);
    });
  });
}

/** The core's commit protocol on an adapter set: concurrent writers, one log, dense offsets. */
export function logContract(name: string, factory: Factory<Pick<CoreContext, 'meta' | 'stores'>>): void {
  describe(`Log contract: ${name}`, () => {
    const makeLog = async (ports?: Pick<CoreContext, 'meta' | 'stores'>) => {
      const p = ports ?? (await factory.make());
      return createCore({ ...p, clock: systemClock, ids: randomIds, settings: makeSettings({ topicCacheMs: 0 }) }).log;
    };
    afterAll(async () => factory.cleanup?.());

    it('two writers racing on one partition (as two Lambdas would) get dense, unique offsets', async () => {
      const ports = await factory.make();
      const a = await makeLog(ports);
      const b = await makeLog(ports); // a second process: its own head cache, same stores
      await a.topics.create({ name: 'race', partitions: 1 });
      const produce = async (log: Log, who: string, i: number) =>
        (await log.produce('race', [
          { key: null, value: jsonPayload(`${who}-${i}`), headers: Object.create(null), partition: 0 },
        ])) as ProduceResult[];
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => produce(i % 2 ? a : b, i % 2 ? 'a' : 'b', i)));
      const offsets = results.map((r) => r[0].offset).sort((x, y) => (x < y ? -1 : 1));
      expect(offsets).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i)));
      const read = await a.fetch('race', 0, 0n, { maxRecords: 100, maxBytes: 1 << 20, waitMs: 0 });
      expect(read.records).toHaveLength(20);
      for (const [i, r] of results.entries()) {
        const rec = read.records[Number(r[0].offset)];
        expect(new TextDecoder().decode(rec.value.bytes)).toBe(JSON.stringify(`${i % 2 ? 'a' : 'b'}-${i}`));
      }
    });

    it('a batch spanning many partitions commits each partition densely, in request order', async () => {
      const log = await makeLog();
      await log.topics.create({ name: 'wide', partitions: 120 });
      const records = Array.from({ length: 240 }, (_, i) => ({
        key: null,
        value: jsonPayload(i),
        headers: Object.create(null),
        partition: i % 120,
      }));
      const res = await log.produce('wide', records);
      res.forEach((r, i) => expect(r).toEqual({ partition: i % 120, offset: BigInt(Math.floor(i / 120)) }));
      const p7 = await log.fetch('wide', 7, 0n, { maxRecords: 10, maxBytes: 1 << 20, waitMs: 0 });
      expect(p7.records.map((r) => new TextDecoder().decode(r.value.bytes))).toEqual(['7', '127']);
    });
  });
}
