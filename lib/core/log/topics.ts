/** Topic administration: create, list, describe, alter, delete (DESIGN.md §3 "Topic"). */
import type { CoreContext } from '../context';
import { FerryError, invalid, notFound } from '../../protocol/errors';
import { topicItem } from '../storage/items';
import { headCodec } from '../storage/partition-index';
import { metaKeys, validateTopicName } from '../storage/keys';
import { RETRY, withRetry } from '../storage/cas';
import type { PartitionState, TopicConfig } from '../model';

export interface CreateTopicInput {
  name: string;
  partitions: number;
  replicationFactor?: number;
  retentionMs?: number;
  retentionBytes?: number;
  maxRecordBytes?: number;
}

export interface AlterTopicInput {
  partitions?: number;
  retentionMs?: number;
  retentionBytes?: number;
  maxRecordBytes?: number;
}

export class Topics {
  private readonly cache = new Map<string, { topic: TopicConfig; at: number }>();

  constructor(private readonly ctx: CoreContext) {}

  async create(input: CreateTopicInput): Promise<TopicConfig> {
    const name = validateTopicName(input.name);
    const { limits } = this.ctx.settings;
    const topic: TopicConfig = {
      name,
      topicId: this.ctx.ids.timeOrderedId(this.ctx.clock.now()),
      partitionCount: input.partitions,
      replicationFactor: input.replicationFactor ?? 1,
      retentionMs: input.retentionMs ?? this.ctx.settings.defaultRetentionMs,
      retentionBytes: input.retentionBytes ?? -1,
      maxRecordBytes: input.maxRecordBytes ?? limits.maxRecordBytes,
      createdAt: this.ctx.clock.now(),
    };
    this.check(topic);
    const res = await this.ctx.meta.write([
      { op: 'put', pk: metaKeys.topicsPk, sk: metaKeys.topicSk(name), data: topicItem.encode(topic), expect: 'absent' },
    ]);
    if (!res.ok) throw new FerryError('conflict', `topic "${name}" already exists`, { topic: name });
    this.cache.set(name, { topic, at: this.ctx.clock.now() });
    return topic;
  }

  /** Every rule a topic config must meet, all problems reported at once. */
  private check(t: TopicConfig, previous?: TopicConfig): void {
    const { limits } = this.ctx.settings;
    const stores = this.ctx.stores.length;
    const problems: string[] = [];
    if (!Number.isSafeInteger(t.partitionCount) || t.partitionCount < 1 || t.partitionCount > limits.maxPartitions) {
      problems.push(`partitions must be an integer from 1 to ${limits.maxPartitions} (got ${t.partitionCount})`);
    }
    if (previous && t.partitionCount < previous.partitionCount) {
      problems.push(`partitions can only grow: the topic has ${previous.partitionCount}, ${t.partitionCount} would remove some`);
    }
    if (!Number.isSafeInteger(t.replicationFactor) || t.replicationFactor < 1 || t.replicationFactor > stores) {
      problems.push(`replicationFactor must be from 1 to the number of object stores (${stores}); got ${t.replicationFactor}`);
    }
    if (!Number.isSafeInteger(t.retentionMs) || (t.retentionMs < 1 && t.retentionMs !== -1)) {
      problems.push(`retentionMs must be a positive integer or -1 (forever); got ${t.retentionMs}`);
    }
    if (!Number.isSafeInteger(t.retentionBytes) || (t.retentionBytes < 1 && t.retentionBytes !== -1)) {
      problems.push(`retentionBytes must be a positive integer or -1 (no limit); got ${t.retentionBytes}`);
    }
    if (!Number.isSafeInteger(t.maxRecordBytes) || t.maxRecordBytes < 1 || t.maxRecordBytes > limits.maxRecordBytes) {
      problems.push(`maxRecordBytes must be from 1 to ${limits.maxRecordBytes}; got ${t.maxRecordBytes}`);
    }
    if (problems.length) throw invalid(problems.join('; '), { problems });
  }

  async list(): Promise<TopicConfig[]> {
    const items = await this.ctx.meta.query(metaKeys.topicsPk, { prefix: metaKeys.topicSkPrefix });
    return items.map(topicItem.decode);
  }

  /** The topic's config, from a short-lived cache. Throws `not_found`. */
  async get(name: string, options: { fresh?: boolean } = {}): Promise<TopicConfig> {
    validateTopicName(name);
    const now = this.ctx.clock.now();
    const hit = this.cache.get(name);
    if (!options.fresh && hit && now - hit.at < this.ctx.settings.topicCacheMs) return hit.topic;
    const item = await this.ctx.meta.get(metaKeys.topicsPk, metaKeys.topicSk(name));
    if (!item) {
      this.cache.delete(name);
      throw notFound(`topic "${name}" does not exist`, { topic: name });
    }
    const topic = topicItem.decode(item);
    this.cache.set(name, { topic, at: now });
    return topic;
  }

  async partitionStates(topic: TopicConfig): Promise<PartitionState[]> {
    const states: PartitionState[] = new Array(topic.partitionCount);
    const concurrency = 32;
    let next = 0;
    const worker = async () => {
      while (next < topic.partitionCount) {
        const p = next++;
        const head = headCodec.decode(await this.ctx.meta.get(metaKeys.partitionPk(topic.topicId, p), metaKeys.headSk));
        states[p] = { partition: p, logStartOffset: head.logStartOffset, highWatermark: head.nextOffset };
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, topic.partitionCount) }, worker));
    return states;
  }

  async alter(name: string, patch: AlterTopicInput): Promise<TopicConfig> {
    validateTopicName(name);
    const busy = `topic "${name}" is being changed concurrently; try again`;
    return withRetry(this.ctx, { busy }, async () => {
      const item = await this.ctx.meta.get(metaKeys.topicsPk, metaKeys.topicSk(name));
      if (!item) throw notFound(`topic "${name}" does not exist`, { topic: name });
      const previous = topicItem.decode(item);
      const topic: TopicConfig = {
        ...previous,
        partitionCount: patch.partitions ?? previous.partitionCount,
        retentionMs: patch.retentionMs ?? previous.retentionMs,
        retentionBytes: patch.retentionBytes ?? previous.retentionBytes,
        maxRecordBytes: patch.maxRecordBytes ?? previous.maxRecordBytes,
      };
      this.check(topic, previous);
      const res = await this.ctx.meta.write([{ op: 'put', pk: item.pk, sk: item.sk, data: topicItem.encode(topic), expect: item.version }]);
      if (!res.ok) return RETRY;
      this.cache.set(name, { topic, at: this.ctx.clock.now() });
      return { done: topic };
    });
  }

  /**
   * Deletes the topic at once (it can be created again, with a new topicId); its partitions' index and
   * objects are left for maintenance, which a deleted-topic marker tells what to remove.
   */
  async delete(name: string): Promise<TopicConfig> {
    validateTopicName(name);
    const busy = `topic "${name}" is being changed concurrently; try again`;
    return withRetry(this.ctx, { busy }, async () => {
      const item = await this.ctx.meta.get(metaKeys.topicsPk, metaKeys.topicSk(name));
      if (!item) throw notFound(`topic "${name}" does not exist`, { topic: name });
      const topic = topicItem.decode(item);
      const res = await this.ctx.meta.write([
        { op: 'delete', pk: item.pk, sk: item.sk, expect: item.version },
        {
          op: 'put',
          pk: metaKeys.gcPk,
          sk: metaKeys.deletedTopicSk(topic.topicId),
          data: { ...topicItem.encode(topic), deletedAt: this.ctx.clock.now() },
        },
      ]);
      this.cache.delete(name);
      return res.ok ? { done: topic } : RETRY;
    });
  }
}
