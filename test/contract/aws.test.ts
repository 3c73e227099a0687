/**
 * The shared contract on the AWS adapters: S3ObjectStore on s3rver (+ conditional PUT) and
 * DynamoDBMetadataStore on DynamoDB Local, started by jest's globalSetup. Each factory call gets a fresh
 * bucket and a fresh table, so cases never see each other's data.
 */
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBMetadataStore } from '../../lib/adapters/aws/dynamodb-metadata-store';
import { S3ObjectStore } from '../../lib/adapters/aws/s3-object-store';
import { awaitEmulators, emulatorClients, freshBucket, freshTable } from '../helpers/emulators';
import { randomIds, systemClock } from '../../lib/adapters/system';
import type { CoreContext } from '../../lib/core/context';
import { FerryError } from '../../lib/protocol/errors';
import { objectKeys } from '../../lib/core/storage/keys';
import { type ProduceAnswer } from '../../lib/core/log/log';
import { createCore } from '../../lib/core/create-core';
import type { ProduceResult } from '../../lib/core/model';
import { makeSettings } from '../../lib/core/settings';
import { createApp } from '../../lib/http/app';
import { RecordingMetadataStore, RecordingObjectStore } from '../helpers/recording';
import { jsonPayload } from '../helpers/records';
import { logContract, metadataStoreContract, objectStoreContract } from './suites';

beforeAll(() => awaitEmulators());

const s3Store = async (name = 's0') => new S3ObjectStore({ name, bucket: await freshBucket(), client: emulatorClients().s3 });
const dynamoMeta = async () => new DynamoDBMetadataStore({ table: await freshTable(), client: emulatorClients().dynamo });

objectStoreContract('S3ObjectStore (s3rver)', { make: () => s3Store() });

metadataStoreContract('DynamoDBMetadataStore (DynamoDB Local)', { make: dynamoMeta });

logContract('AWS (S3ObjectStore + DynamoDBMetadataStore)', {
  make: async () => ({ meta: await dynamoMeta(), stores: [await s3Store('s0'), await s3Store('s1')] }),
});

const newLog = (ports: Pick<CoreContext, 'meta' | 'stores'>, settings = makeSettings({ topicCacheMs: 0 })) =>
  createCore({ ...ports, clock: systemClock, ids: randomIds, settings }).log;
const text = (b: Uint8Array) => new TextDecoder().decode(b);
/** The offset of a produce answer that was committed (not scheduled). */
const offsetOf = (answer: ProduceAnswer) => (answer as ProduceResult).offset;

describe('AWS home: failures', () => {
  it('a crash between the segment PUT and the metadata commit leaves an orphan that readers never see', async () => {
    const store = await s3Store();
    const meta = new RecordingMetadataStore(await dynamoMeta());
    const log = newLog({ meta, stores: [store] });
    const topic = await log.topics.create({ name: 'orphans', partitions: 1 });
    await log.produce('orphans', [{ key: null, value: jsonPayload('before'), headers: Object.create(null) }]);

    meta.failWrites = new Error('process crashed before its commit');
    await expect(log.produce('orphans', [{ key: null, value: jsonPayload('lost'), headers: Object.create(null) }])).rejects.toThrow(
      'crashed',
    );
    const objects = (await store.list(objectKeys.topicPrefix(topic.topicId))).objects;
    expect(objects).toHaveLength(2); // the committed segment and the orphan

    // Another process (as a new Lambda container would) reads and writes past the orphan.
    const other = newLog({ meta: meta.inner, stores: [store] });
    const read = await other.fetch('orphans', 0, 0n, { maxRecords: 100, maxBytes: 1 << 20, waitMs: 0 });
    expect(read.records.map((r) => text(r.value.bytes))).toEqual(['"before"']);
    expect(read.highWatermark).toBe(1n);
    const [after] = await other.produce('orphans', [{ key: null, value: jsonPayload('after'), headers: Object.create(null) }]);
    expect(offsetOf(after)).toBe(1n);
    const again = await other.fetch('orphans', 0, 0n, { maxRecords: 100, maxBytes: 1 << 20, waitMs: 0 });
    expect(again.records.map((r) => text(r.value.bytes))).toEqual(['"before"', '"after"']);
  });

  it('a commit whose response is lost is retried by the SDK and stored once (idempotent transaction)', async () => {
    const { dynamo } = emulatorClients();
    const inner = dynamo.config.requestHandler as { handle(req: unknown, opts?: unknown): Promise<unknown> };
    let lose = 0;
    const lossy = new DynamoDBClient({
      requestHandler: {
        async handle(req: { headers: Record<string, string> }, opts?: unknown) {
          const res = await inner.handle(req, opts);
          const target = req.headers['x-amz-target'] ?? '';
          if (lose > 0 && /TransactWriteItems|PutItem/.test(target)) {
            lose--;
            // The write landed; its answer never arrives.
            throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
          }
          return res;
        },
      } as never,
    });
    const meta = new DynamoDBMetadataStore({ table: await freshTable(), client: lossy });
    const log = newLog({ meta, stores: [await s3Store()] });
    lose = 1; // the topic's create (a single conditional PutItem)
    await log.topics.create({ name: 'lossy', partitions: 1 });
    expect(lose).toBe(0);
    for (let i = 0; i < 3; i++) {
      lose = 1; // each commit (a TransactWriteItems of head + index entry)
      const [r] = await log.produce('lossy', [{ key: null, value: jsonPayload(i), headers: Object.create(null) }]);
      expect(offsetOf(r)).toBe(BigInt(i));
      expect(lose).toBe(0);
    }
    const read = await newLog({ meta, stores: log.ctx.stores }).fetch('lossy', 0, 0n, { maxRecords: 10, maxBytes: 1 << 20, waitMs: 0 });
    expect(read.records.map((r) => text(r.value.bytes))).toEqual(['0', '1', '2']);
    expect(read.highWatermark).toBe(3n);
  });

  it('reports a damaged item as `data`, never as missing or as an infrastructure failure', async () => {
    const table = await freshTable();
    await emulatorClients().dynamo.send(
      new PutItemCommand({ TableName: table, Item: { pk: { S: 'p' }, sk: { S: 'head' }, v: { N: '1' }, d: { S: '{"nextOff' } } }),
    );
    const meta = new DynamoDBMetadataStore({ table, client: emulatorClients().dynamo });
    await expect(meta.get('p', 'head')).rejects.toMatchObject({ kind: 'data' });
    await expect(meta.query('p')).rejects.toMatchObject({ kind: 'data' });
  });

  it('throttling after the SDK retries is `unavailable`, a 503 with Retry-After, with the SDK error as cause', async () => {
    const throttled = Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
      name: 'ProvisionedThroughputExceededException',
      $metadata: { httpStatusCode: 400, attempts: 3 },
    });
    const meta = new DynamoDBMetadataStore({ table: 'any-table', client: { send: async () => Promise.reject(throttled) } as never });
    const error = await meta.get('p', 's').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FerryError);
    expect(error).toMatchObject({ kind: 'unavailable', cause: throttled });
    const app = createApp({ log: newLog({ meta, stores: [await s3Store()] }) });
    const res = await app.request('/v1/topics/orders');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await res.json()).error).toBe('unavailable');
  });
});

describe('AWS home: transaction conflicts are races, not data errors', () => {
  const cancelled = (codes: string[]) =>
    Object.assign(new Error('Transaction cancelled'), {
      name: 'TransactionCanceledException',
      CancellationReasons: codes.map((Code) => ({ Code })),
      $metadata: { httpStatusCode: 400, attempts: 1 },
    });
  const conflictException = Object.assign(new Error('Transaction is ongoing for the item'), {
    name: 'TransactionConflictException',
    $metadata: { httpStatusCode: 400, attempts: 1 },
  });

  it('maps a TransactionConflict cancellation and a TransactionConflictException to a retryable conflict', async () => {
    let calls = 0;
    const send = async () => {
      calls++;
      throw calls === 1 ? cancelled(['None', 'TransactionConflict']) : conflictException;
    };
    const meta = new DynamoDBMetadataStore({ table: 'any-table', client: { send } as never });
    const two = [
      { op: 'put' as const, pk: 'a', sk: 'x', data: {}, expect: 'absent' as const },
      { op: 'put' as const, pk: 'b', sk: 'x', data: {}, expect: 'absent' as const },
    ];
    await expect(meta.write(two)).rejects.toMatchObject({ kind: 'unavailable', details: { reason: 'conflict' } });
    expect(calls).toBe(1); // not retried out of sight: the core's retry loop decides, with its backoff
    await expect(meta.write(two.slice(0, 1))).rejects.toMatchObject({ kind: 'unavailable', details: { reason: 'conflict' } });
    expect(meta.stats.conflicts).toBe(2);
  });

  it('a produce commit that meets a conflict (its head inside another transaction) tries again and lands', async () => {
    const real = await dynamoMeta();
    let conflicts = 0;
    const flaky = new DynamoDBMetadataStore({
      table: real.table,
      client: {
        send: (command: { constructor: { name: string } }) => {
          // The commit is a single-item put; DynamoDB refuses it this way while a transaction holds the item.
          if (command.constructor.name === 'PutItemCommand' && conflicts > 0) {
            conflicts--;
            return Promise.reject(
              Object.assign(new Error('Transaction is ongoing for the item'), { name: 'TransactionConflictException' }),
            );
          }
          return real.client.send(command as never);
        },
      } as never,
    });
    const log = newLog({ meta: flaky, stores: [await s3Store()] });
    await log.topics.create({ name: 'busy', partitions: 1 });
    conflicts = 1;
    const [r] = await log.produce('busy', [{ key: null, value: jsonPayload(1), headers: Object.create(null) }]);
    expect(r).toMatchObject({ partition: 0, offset: 0n });
    expect(conflicts).toBe(0);
  });
});

describe('AWS home: cost per produce request (counting wrappers around the ports)', () => {
  it.each([
    [1, 1],
    [12, 1],
    [100, 1],
    [100, 2],
  ])(
    '%i partitions touched: one single-item DynamoDB write each (no transaction), one segment PUT per replica (R=%i)',
    async (partitions, r) => {
      const meta = new RecordingMetadataStore(await dynamoMeta());
      const stores = [new RecordingObjectStore(await s3Store('s0')), new RecordingObjectStore(await s3Store('s1'))];
      // A warm container: topic config and heads cached (a long cache keeps a slow machine from re-reading).
      const log = newLog({ meta, stores }, makeSettings({ topicCacheMs: 3_600_000 }));
      await log.topics.create({ name: 'cost', partitions, replicationFactor: r });
      const records = (round: number) =>
        Array.from({ length: partitions }, (_, p) => ({
          key: null,
          value: jsonPayload(`${round}-${p}`),
          headers: Object.create(null),
          partition: p,
        }));
      await log.produce('cost', records(0)); // warms the head cache, as a busy container has it
      meta.reset();
      stores.forEach((s) => s.reset());
      await log.produce('cost', records(1));
      // per partition: one conditional put of its head, which carries the new index entry and the GC horizon
      expect(meta.counts.writes).toBe(partitions);
      expect(meta.counts.ops).toBe(partitions);
      expect(meta.counts.gets).toBe(0);
      expect(stores.reduce((n, s) => n + s.counts.puts, 0)).toBe(r);
    },
  );
});
