import { ConsumerRegistry } from '../../lib/core/consumers/registry';
import { consumerItem } from '../../lib/core/storage/consumer-items';
import { metaKeys } from '../../lib/core/storage/keys';
import { isFerryError } from '../../lib/protocol/errors';
import { makeLocalLog, type LocalLog } from '../helpers/local-log';

describe('push consumer registry items', () => {
  let local: LocalLog;
  let registry: ConsumerRegistry;
  beforeEach(async () => {
    local = await makeLocalLog();
    registry = new ConsumerRegistry(local.ctx);
  });
  afterEach(() => local.cleanup());

  const put = (name: string, data: Record<string, unknown>) =>
    local.ctx.meta.write([{ op: 'put', pk: metaKeys.consumersPk, sk: metaKeys.consumerSk('orders', name), data }]);

  it('reads back what the registry wrote, defaults filled in', async () => {
    const written = await registry.replaceForTopic('orders', [{ name: 'email', handler: 'fn-email', maxConcurrency: 2 }]);
    expect(await registry.list()).toEqual(written);
    expect(written[0]).toMatchObject({ batchSize: 100, startingPosition: 'earliest', deadLetterTopic: 'orders-email-dlq' });
  });

  it.each([
    ['a field missing', (c: Record<string, unknown>) => delete c.batchSize, 'batchSize'],
    ['a field of the wrong type', (c: Record<string, unknown>) => (c.maxRetries = '3'), 'maxRetries'],
    ['a bad starting position', (c: Record<string, unknown>) => (c.startingPosition = 'middle'), 'startingPosition'],
    ['a value the consumer rules refuse', (c: Record<string, unknown>) => (c.batchSize = 0), 'batchSize must be'],
  ])('refuses an item with %s as a data error naming it', async (_what, damage, problem) => {
    const [config] = await registry.replaceForTopic('orders', [{ name: 'email', handler: 'fn-email' }]);
    const data = consumerItem.encode(config);
    damage(data);
    await put('email', data);
    const err = await registry.list().catch((e: unknown) => e);
    expect(isFerryError(err) && err.kind).toBe('data');
    expect((err as Error).message).toContain(metaKeys.consumerSk('orders', 'email'));
    expect((err as Error).message).toContain(problem);
  });
});
