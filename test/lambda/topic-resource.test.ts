/**
 * lambda/topic-resource.ts as CloudFormation drives it through the CDK Provider framework: property values
 * arrive as strings, Update carries the old props, Delete honours removalPolicy and never blocks a rollback.
 */
import type { CdkCustomResourceEvent } from 'aws-lambda';
import { awaitEmulators, freshBucket, freshTable, uniqueName } from '../helpers/emulators';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

type Handler = typeof import('../../lambda/topic-resource').handler;
let handler: Handler;
let api: (method: string, path: string, body?: unknown) => Promise<{ status: number; json: any }>;

beforeAll(async () => {
  await awaitEmulators();
  process.env.FERRY_TABLE = await freshTable();
  process.env.FERRY_BUCKETS = [await freshBucket(), await freshBucket()].join(',');
  ({ handler } = await import('../../lambda/topic-resource'));
  // The same cluster seen through the HTTP app, to check what the resource did.
  const { openAwsHome } = await import('../../lib/adapters/aws/home');
  const { createCore } = await import('../../lib/core/create-core');
  const { createApp } = await import('../../lib/http/app');
  const home = await openAwsHome(process.env, { settings: { topicCacheMs: 0 } });
  const app = createApp({ log: createCore(home.ctx).log });
  api = async (method, path, body) => {
    const res = await app.request(path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: res.status === 204 ? undefined : await res.json() };
  };
});

const base = {
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
  ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x',
  StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/app/1',
  RequestId: 'req-1',
  LogicalResourceId: 'OrdersTopic',
  ResourceType: 'Custom::FerryTopic',
};
/** CloudFormation turns every property value into a string. */
const props = (p: Record<string, unknown>) => ({
  ServiceToken: base.ServiceToken,
  ...Object.fromEntries(Object.entries(p).map(([k, v]) => [k, String(v)])),
});
const create = (p: Record<string, unknown>) =>
  handler({ ...base, RequestType: 'Create', ResourceProperties: props(p) } as CdkCustomResourceEvent);
const update = (physical: string, p: Record<string, unknown>, old: Record<string, unknown>) =>
  handler({
    ...base,
    RequestType: 'Update',
    PhysicalResourceId: physical,
    ResourceProperties: props(p),
    OldResourceProperties: props(old),
  } as CdkCustomResourceEvent);
const remove = (physical: string, p: Record<string, unknown>) =>
  handler({ ...base, RequestType: 'Delete', PhysicalResourceId: physical, ResourceProperties: props(p) } as CdkCustomResourceEvent);

describe('Ferry topic custom resource', () => {
  it('creates a topic from string properties; the physical id is the topic name', async () => {
    const name = uniqueName('orders');
    const res = await create({ name, partitions: 12, replicationFactor: 2, retentionMs: 3_600_000, removalPolicy: 'destroy' });
    expect(res.PhysicalResourceId).toBe(name);
    expect(res.Data).toMatchObject({ TopicName: name, Partitions: 12, ReplicationFactor: 2 });
    const topic = await api('GET', `/v1/topics/${name}`);
    expect(topic.json).toMatchObject({ partitionCount: 12, replicationFactor: 2, retentionMs: 3_600_000 });
  });

  it('grows partitions and changes retention on update, and refuses to shrink or change replication', async () => {
    const name = uniqueName('grow');
    const p = { name, partitions: 2, removalPolicy: 'retain' };
    await create(p);
    const res = await update(name, { ...p, partitions: 4, retentionMs: 60_000 }, p);
    expect(res.PhysicalResourceId).toBe(name);
    expect((await api('GET', `/v1/topics/${name}`)).json).toMatchObject({ partitionCount: 4, retentionMs: 60_000 });
    await expect(update(name, { ...p, partitions: 3 }, { ...p, partitions: 4 })).rejects.toThrow(/partitions can only grow/);
    await expect(update(name, { ...p, partitions: 4, replicationFactor: 2 }, { ...p, partitions: 4 })).rejects.toThrow(
      /replicationFactor 1; it cannot change to 2/,
    );
  });

  it('replaces the topic on a rename; CloudFormation then deletes the old one under its removal policy', async () => {
    const oldName = uniqueName('old');
    const newName = uniqueName('new');
    const old = { name: oldName, partitions: 1, removalPolicy: 'destroy' };
    await create(old);
    const res = await update(oldName, { ...old, name: newName }, old);
    expect(res.PhysicalResourceId).toBe(newName);
    expect((await api('GET', `/v1/topics/${newName}`)).status).toBe(200);
    await remove(oldName, old);
    expect((await api('GET', `/v1/topics/${oldName}`)).status).toBe(404);
  });

  it('keeps the topic and its records on delete under "retain", and adopts it when a stack creates it again', async () => {
    const name = uniqueName('kept');
    const p = { name, partitions: 2, removalPolicy: 'retain' };
    await create(p);
    await api('POST', `/v1/topics/${name}/records`, { records: [{ value: 'keep me', partition: 1 }] });
    await remove(name, p);
    expect((await api('GET', `/v1/topics/${name}`)).json.partitions[1].highWatermark).toBe('1');
    const again = await create({ ...p, partitions: 3 });
    expect(again.PhysicalResourceId).toBe(name);
    const topic = (await api('GET', `/v1/topics/${name}`)).json;
    expect(topic.partitionCount).toBe(3);
    expect(topic.partitions[1].highWatermark).toBe('1');
  });

  it('deletes under "destroy", and a delete never fails (missing topic, bad props, a failed create)', async () => {
    const name = uniqueName('gone');
    const p = { name, partitions: 1, removalPolicy: 'destroy' };
    await create(p);
    await remove(name, p);
    expect((await api('GET', `/v1/topics/${name}`)).status).toBe(404);
    await expect(remove(name, p)).resolves.toEqual({ PhysicalResourceId: name });
    await expect(remove('req-1', { name: 'a b', partitions: 'x' })).resolves.toEqual({ PhysicalResourceId: 'req-1' });
    // A create that failed reports a physical id that is not the topic's name: nothing of ours to delete.
    const other = uniqueName('other');
    await create({ name: other, partitions: 1 });
    await remove('2026/01/01/[$LATEST]abc', { name: other, partitions: 1, removalPolicy: 'destroy' });
    expect((await api('GET', `/v1/topics/${other}`)).status).toBe(200);
  });

  it('refuses bad properties on create, naming every problem', async () => {
    const err = await create({ name: 'bad name', partitions: 0, retentionMs: '1.5', removalPolicy: 'maybe' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    for (const part of ['topic name', 'partitions', 'retentionMs', 'removalPolicy']) expect(message).toContain(part);
  });

  it('records the topic’s push consumers for the dispatcher, and forgets them when they go', async () => {
    const { openAwsHome } = await import('../../lib/adapters/aws/home');
    const { ConsumerRegistry } = await import('../../lib/core/consumers/registry');
    const registry = new ConsumerRegistry((await openAwsHome(process.env)).ctx);
    const name = uniqueName('pushed');
    const consumer = {
      name: 'email',
      functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:email',
      batchSize: '50',
      maxBatchingWindowMs: '0',
      startingPosition: 'latest',
      maxRetries: '2',
      bisectOnError: 'true',
      maxRecordsPerSecond: '20',
    };
    const withConsumers = (consumers: unknown[]) => ({ ...props({ name, partitions: 2, removalPolicy: 'destroy' }), consumers });
    await handler({ ...base, RequestType: 'Create', ResourceProperties: withConsumers([consumer]) } as CdkCustomResourceEvent);
    const mine = async () => (await registry.list()).filter((c) => c.topic === name);
    expect(await mine()).toEqual([
      {
        topic: name,
        name: 'email',
        handler: consumer.functionArn,
        batchSize: 50,
        maxBatchingWindowMs: 0,
        startingPosition: 'latest',
        maxRetries: 2,
        maxRecordAgeMs: -1,
        bisectOnError: true,
        maxRecordsPerSecond: 20,
        deadLetterTopic: `${name}-email-dlq`,
      },
    ]);
    await handler({
      ...base,
      RequestType: 'Update',
      PhysicalResourceId: name,
      ResourceProperties: withConsumers([]),
      OldResourceProperties: withConsumers([consumer]),
    } as CdkCustomResourceEvent);
    expect(await mine()).toEqual([]);
    await handler({
      ...base,
      RequestType: 'Update',
      PhysicalResourceId: name,
      ResourceProperties: withConsumers([consumer]),
      OldResourceProperties: withConsumers([]),
    } as CdkCustomResourceEvent);
    await remove(name, { name, partitions: 2, removalPolicy: 'retain' });
    expect(await mine()).toEqual([]);
  });
});
