/**
 * Administration: topics and groups, with kafkajs' names where they fit (`createTopics`, `listTopics`,
 * `deleteTopics`, `createPartitions`, `listGroups`, `describeGroups`, `fetchOffsets`, `resetOffsets`,
 * `setOffsets`) plus Ferry's own (`describeTopic`, `alterTopic`, `describeGroup`, `seek`).
 *
 * @example
 *   const admin = new FerryClient({ url }).admin();
 *   await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 6 }] });
 *   await admin.seek({ groupId: 'billing', topic: 'orders', to: { timestamp: Date.now() - 3_600_000 } });
 */
import { FerryError } from '../protocol/errors';
import type { PushConsumerDescription, PushConsumerInfo } from '../protocol/v1';
import type { Transport } from './http';
import type { CommittedOffsets, GroupInfo, SeekTo, TopicInfo } from './types';

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  replicationFactor?: number;
  retentionMs?: number;
  retentionBytes?: number;
  maxRecordBytes?: number;
}

export interface TopicPatch {
  partitions?: number;
  retentionMs?: number;
  retentionBytes?: number;
  maxRecordBytes?: number;
}

export class Admin {
  constructor(private readonly transport: Transport) {}

  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}

  /** Creates topics; answers true when every one was created, false when some already existed. */
  async createTopics({ topics }: { topics: TopicSpec[] }): Promise<boolean> {
    let all = true;
    for (const t of topics) {
      try {
        await this.createTopic(t);
      } catch (e) {
        if (e instanceof FerryError && e.kind === 'conflict') all = false;
        else throw e;
      }
    }
    return all;
  }

  createTopic(t: TopicSpec): Promise<TopicInfo> {
    const { topic, numPartitions, ...rest } = t;
    return this.transport.request({
      method: 'POST',
      path: '/v1/topics',
      body: { name: topic, partitions: numPartitions, ...rest },
      idempotent: false,
    });
  }

  async listTopics(): Promise<string[]> {
    return (await this.listTopicInfos()).map((t) => t.name);
  }

  async listTopicInfos(): Promise<TopicInfo[]> {
    return (await this.transport.request<{ topics: TopicInfo[] }>({ method: 'GET', path: '/v1/topics', idempotent: true })).topics;
  }

  /** One topic with each partition's `logStartOffset` and `highWatermark`. */
  describeTopic(topic: string): Promise<TopicInfo> {
    return this.transport.request({ method: 'GET', path: `/v1/topics/${encodeURIComponent(topic)}`, idempotent: true });
  }

  /** kafkajs' shape: `[{partition, offset: highWatermark, high, low}]`. */
  async fetchTopicOffsets(topic: string): Promise<Array<{ partition: number; offset: string; high: string; low: string }>> {
    const t = await this.describeTopic(topic);
    return (t.partitions ?? []).map((p) => ({
      partition: p.partition,
      offset: p.highWatermark,
      high: p.highWatermark,
      low: p.logStartOffset,
    }));
  }

  alterTopic(topic: string, patch: TopicPatch): Promise<TopicInfo> {
    return this.transport.request({ method: 'PATCH', path: `/v1/topics/${encodeURIComponent(topic)}`, body: patch, idempotent: true });
  }

  async createPartitions({ topicPartitions }: { topicPartitions: Array<{ topic: string; count: number }> }): Promise<void> {
    for (const tp of topicPartitions) await this.alterTopic(tp.topic, { partitions: tp.count });
  }

  async deleteTopics({ topics }: { topics: string[] }): Promise<void> {
    for (const t of topics)
      await this.transport.request({ method: 'DELETE', path: `/v1/topics/${encodeURIComponent(t)}`, idempotent: false });
  }

  async listGroups(): Promise<{ groups: Array<{ groupId: string; generation: number; members: number; state: string }> }> {
    return this.transport.request({ method: 'GET', path: '/v1/groups', idempotent: true });
  }

  /** Members, assignments, committed offsets and lag (records and seconds). */
  describeGroup(groupId: string): Promise<GroupInfo> {
    return this.transport.request({ method: 'GET', path: `/v1/groups/${encodeURIComponent(groupId)}`, idempotent: true });
  }

  /** Delayed records of a topic not yet due, in due-time order. */
  async listScheduled(
    topic: string,
    { limit }: { limit?: number } = {},
  ): Promise<Array<{ partition: number; scheduledId: string; deliverAt: number }>> {
    const res = await this.transport.request<{ scheduled: Array<{ partition: number; scheduledId: string; deliverAt: number }> }>({
      method: 'GET',
      path: `/v1/topics/${encodeURIComponent(topic)}/scheduled`,
      query: { limit },
      idempotent: true,
    });
    return res.scheduled;
  }

  /** Cancels a delayed record before it is due (`not_found` once it was delivered or cancelled). */
  async cancelScheduled(topic: string, scheduledId: string): Promise<void> {
    await this.transport.request({
      method: 'DELETE',
      path: `/v1/topics/${encodeURIComponent(topic)}/scheduled/${encodeURIComponent(scheduledId)}`,
      idempotent: true,
    });
  }

  /** Deletes empty groups with their committed offsets (Kafka's DeleteGroups); a group with a live member is a 409 `conflict`. */
  async deleteGroups(groupIds: string[]): Promise<Array<{ groupId: string }>> {
    for (const g of groupIds)
      await this.transport.request({ method: 'DELETE', path: `/v1/groups/${encodeURIComponent(g)}`, idempotent: false });
    return groupIds.map((groupId) => ({ groupId }));
  }

  async describeGroups(groupIds: string[]): Promise<{ groups: GroupInfo[] }> {
    return { groups: await Promise.all(groupIds.map((g) => this.describeGroup(g))) };
  }

  /**
   * Committed offsets, kafkajs' shape, from OffsetFetch (`GET /v1/groups/{g}/offsets`). With `topics`, every
   * partition of each is listed, `-1` where nothing is committed yet; without, the partitions that have a commit.
   */
  async fetchOffsets({
    groupId,
    topics,
  }: {
    groupId: string;
    topics?: string[];
  }): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>> {
    const path = `/v1/groups/${encodeURIComponent(groupId)}/offsets`;
    if (!topics) {
      const { offsets } = await this.transport.request<CommittedOffsets>({ method: 'GET', path, idempotent: true });
      const out = new Map<string, Array<{ partition: number; offset: string }>>();
      for (const o of offsets) {
        if (!out.has(o.topic)) out.set(o.topic, []);
        out.get(o.topic)!.push({ partition: o.partition, offset: o.offset });
      }
      return [...out].map(([topic, partitions]) => ({ topic, partitions }));
    }
    return Promise.all(
      topics.map(async (topic) => {
        const [{ offsets }, info] = await Promise.all([
          this.transport.request<CommittedOffsets>({ method: 'GET', path: `${path}?topic=${encodeURIComponent(topic)}`, idempotent: true }),
          this.transport.request<TopicInfo>({ method: 'GET', path: `/v1/topics/${encodeURIComponent(topic)}`, idempotent: true }),
        ]);
        const committed = new Map(offsets.map((o) => [o.partition, o.offset]));
        return {
          topic,
          partitions: (info.partitions ?? []).map(({ partition }) => ({ partition, offset: committed.get(partition) ?? '-1' })),
        };
      }),
    );
  }

  /**
   * Moves a group's committed offsets (all partitions of the topic unless `partition` is given). A timestamp
   * lands on the first record at or after it. Running members are fenced and resume from the new offsets.
   */
  async seek(input: {
    groupId: string;
    topic: string;
    partition?: number;
    to: SeekTo;
  }): Promise<{ generation: number; offsets: Array<{ topic: string; partition: number; offset: string }> }> {
    const to =
      typeof input.to === 'string'
        ? input.to
        : 'offset' in input.to
          ? { offset: String(input.to.offset) }
          : { timestamp: input.to.timestamp instanceof Date ? input.to.timestamp.getTime() : input.to.timestamp };
    return this.transport.request({
      method: 'POST',
      path: `/v1/groups/${encodeURIComponent(input.groupId)}/seek`,
      body: { topic: input.topic, ...(input.partition !== undefined && { partition: input.partition }), to },
      idempotent: true, // the same seek twice lands on the same offsets (latest: a later end, still a seek)
    });
  }

  async resetOffsets({ groupId, topic, earliest = false }: { groupId: string; topic: string; earliest?: boolean }): Promise<void> {
    await this.seek({ groupId, topic, to: earliest ? 'earliest' : 'latest' });
  }

  async setOffsets({
    groupId,
    topic,
    partitions,
  }: {
    groupId: string;
    topic: string;
    partitions: Array<{ partition: number; offset: string }>;
  }): Promise<void> {
    for (const p of partitions) await this.seek({ groupId, topic, partition: p.partition, to: { offset: p.offset } });
  }

  /** A topic's push consumers (`GET /v1/topics/{t}/consumers`). */
  async listConsumers(topic: string): Promise<PushConsumerInfo[]> {
    const res = await this.transport.request<{ consumers: PushConsumerInfo[] }>({
      method: 'GET',
      path: consumerPath(topic),
      idempotent: true,
    });
    return res.consumers;
  }

  /** One push consumer per partition: committed offset, lag, lease owner, retry state, paused. */
  describeConsumer(topic: string, name: string): Promise<PushConsumerDescription> {
    return this.transport.request({ method: 'GET', path: consumerPath(topic, name), idempotent: true });
  }

  /** Stops deliveries to a push consumer until `resumeConsumer` (a batch in flight finishes). */
  pauseConsumer(topic: string, name: string): Promise<PushConsumerDescription> {
    return this.transport.request({ method: 'POST', path: `${consumerPath(topic, name)}/pause`, body: {}, idempotent: true });
  }

  resumeConsumer(topic: string, name: string): Promise<PushConsumerDescription> {
    return this.transport.request({ method: 'POST', path: `${consumerPath(topic, name)}/resume`, body: {}, idempotent: true });
  }

  /** Moves a push consumer's committed offsets (all partitions, or one), as a group seek. */
  seekConsumer(topic: string, name: string, to: SeekTo, partition?: number): Promise<PushConsumerDescription> {
    return this.transport.request({
      method: 'POST',
      path: `${consumerPath(topic, name)}/seek`,
      body: { to, ...(partition !== undefined && { partition }) },
      idempotent: true,
    });
  }
}

const consumerPath = (topic: string, name?: string) =>
  `/v1/topics/${encodeURIComponent(topic)}/consumers${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
