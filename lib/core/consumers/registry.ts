/**
 * The registry of push consumers on AWS: `topic.addConsumer(...)` in CDK reaches it through the topic's custom
 * resource; the scheduled dispatcher reads it. (Locally, `ferry.config.json` declares consumers instead.)
 */
import type { CoreContext } from '../context';
import { checkConsumer, consumerDefaults, defaultDeadLetterTopic, type ConsumerConfig } from './config';
import { consumerItem, damagedConsumer } from '../storage/consumer-items';
import { metaKeys } from '../storage/keys';
import { invalid } from '../../protocol/errors';
import type { Item, WriteOp } from '../../ports/metadata-store';

export class ConsumerRegistry {
  constructor(private readonly ctx: CoreContext) {}

  async list(): Promise<ConsumerConfig[]> {
    const items = await this.ctx.meta.query(metaKeys.consumersPk, { prefix: metaKeys.consumerSkPrefix() });
    return items.map(decodeConsumer);
  }

  /** Makes the topic's consumers exactly `consumers` (validated, defaults filled in). */
  async replaceForTopic(
    topic: string,
    consumers: Array<Partial<ConsumerConfig> & Pick<ConsumerConfig, 'name' | 'handler'>>,
  ): Promise<ConsumerConfig[]> {
    const configs = consumers.map((c) => {
      const config: ConsumerConfig = {
        ...consumerDefaults,
        ...c,
        topic,
        deadLetterTopic: c.deadLetterTopic ?? defaultDeadLetterTopic(topic, c.name),
      };
      checkConsumer(config);
      return config;
    });
    const existing = await this.ctx.meta.query(metaKeys.consumersPk, { prefix: metaKeys.consumerSkPrefix(topic) });
    for (const c of configs) {
      const before = existing.find((i) => i.sk === metaKeys.consumerSk(topic, c.name));
      const was = before ? (decodeConsumer(before).parallelizationFactor ?? 1) : undefined;
      if (was !== undefined && was !== (c.parallelizationFactor ?? 1)) {
        throw invalid(
          `consumer "${c.name}" of "${topic}": parallelizationFactor cannot change (${was} → ${c.parallelizationFactor ?? 1}): ` +
            'its keys would move to lanes at other offsets; add a consumer under a new name instead',
        );
      }
    }
    const keep = new Set(configs.map((c) => metaKeys.consumerSk(topic, c.name)));
    const ops: WriteOp[] = [
      ...existing.filter((i) => !keep.has(i.sk)).map((i): WriteOp => ({ op: 'delete', pk: i.pk, sk: i.sk })),
      ...configs.map((c): WriteOp => ({
        op: 'put',
        pk: metaKeys.consumersPk,
        sk: metaKeys.consumerSk(topic, c.name),
        data: consumerItem.encode(c),
      })),
    ];
    for (let i = 0; i < ops.length; i += this.ctx.meta.maxOpsPerWrite) {
      await this.ctx.meta.write(ops.slice(i, i + this.ctx.meta.maxOpsPerWrite));
    }
    return configs;
  }
}

/**
 * A registry item, its shape checked by its decoder (storage/consumer-items.ts) and its values by the same rules
 * a new consumer meets: a damaged one is `data` naming the item, never misread.
 */
function decodeConsumer(item: Item): ConsumerConfig {
  const config = consumerItem.decode(item);
  try {
    checkConsumer(config);
  } catch (e) {
    throw damagedConsumer(item, (e as Error).message);
  }
  return config;
}
