/** Push consumers as resources (DESIGN.md §4b): list, describe, pause, resume, seek. */
import type { Context } from 'hono';
import { z } from 'zod';
import { ConsumerRegistry } from '../../core/consumers/registry';
import { PushConsumers, type PushConsumerDescription } from '../../core/consumers/push-consumers';
import type { PushConsumerDescription as PushConsumerAnswer, PushConsumerInfo } from '../../protocol/v1';
import type { ConsumerConfig } from '../../core/consumers/config';
import { validateConsumerName } from '../../core/storage/keys';
import { consumerSeekSchema } from '../group-schemas';
import { parseWith } from '../schemas';
import type { Handlers, RouteDeps, RouteModule } from './common';
import { seekTarget } from './groups';

export const consumerRoutes: RouteModule = { handlers: consumerHandlers };

function consumerHandlers({ log, body, noQuery, topicParam }: RouteDeps): Handlers {
  const consumers = new PushConsumers(log, new ConsumerRegistry(log.ctx));
  const name = (c: Context) => validateConsumerName(c.req.param('consumer'));
  return {
    'GET /v1/topics/:topic/consumers': async (c) => {
      const topic = topicParam(c);
      noQuery(c);
      const list = await consumers.list(topic);
      return c.json({ consumers: list.map((x) => ({ ...configJson(x.config), paused: x.paused })) });
    },
    'GET /v1/topics/:topic/consumers/:consumer': async (c) => {
      const topic = topicParam(c);
      const consumer = name(c);
      noQuery(c);
      return c.json(describeJson(await consumers.describe(topic, consumer)));
    },
    'POST /v1/topics/:topic/consumers/:consumer/pause': async (c) => {
      const topic = topicParam(c);
      const consumer = name(c);
      noQuery(c);
      await emptyBody(c, body);
      return c.json(describeJson(await consumers.pause(topic, consumer)));
    },
    'POST /v1/topics/:topic/consumers/:consumer/resume': async (c) => {
      const topic = topicParam(c);
      const consumer = name(c);
      noQuery(c);
      await emptyBody(c, body);
      return c.json(describeJson(await consumers.resume(topic, consumer)));
    },
    'POST /v1/topics/:topic/consumers/:consumer/seek': async (c) => {
      const topic = topicParam(c);
      const consumer = name(c);
      noQuery(c);
      const input = parseWith(consumerSeekSchema, await body(c));
      return c.json(describeJson(await consumers.seek(topic, consumer, seekTarget(input.to), input.partition)));
    },
  };
}

/** Pause and resume take no body, or an empty JSON object. */
async function emptyBody(c: Context, body: RouteDeps['body']): Promise<void> {
  const text = c.req.header('content-length');
  if (text === undefined || text === '0') return;
  parseWith(consumerControlSchema, await body(c));
}

const consumerControlSchema = z.strictObject({});

function configJson(c: ConsumerConfig): Omit<PushConsumerInfo, 'paused'> {
  return {
    topic: c.topic,
    name: c.name,
    handler: c.handler,
    batchSize: c.batchSize,
    maxBatchingWindowMs: c.maxBatchingWindowMs,
    startingPosition: c.startingPosition,
    maxRetries: c.maxRetries,
    maxRecordAgeMs: c.maxRecordAgeMs,
    bisectOnError: c.bisectOnError,
    deadLetterTopic: c.deadLetterTopic,
    maxRecordsPerSecond: c.maxRecordsPerSecond ?? null,
    maxConcurrency: c.maxConcurrency ?? null,
    timeoutMs: c.timeoutMs ?? null,
    filters: c.filters ?? null,
  };
}

function describeJson(d: PushConsumerDescription): PushConsumerAnswer {
  const round = (s: number) => Math.round(s * 1000) / 1000;
  return {
    ...configJson(d.config),
    paused: d.paused,
    pausedSince: d.pausedSince,
    partitions: d.partitions.map((p) => ({
      partition: p.partition,
      committedOffset: p.committedOffset === null ? null : p.committedOffset.toString(),
      logStartOffset: p.logStartOffset.toString(),
      highWatermark: p.highWatermark.toString(),
      lag: p.lag.toString(),
      lagSeconds: round(p.lagSeconds),
      leaseOwner: p.leaseOwner,
      leaseUntil: p.leaseUntil,
      retrying: p.retrying,
    })),
    totalLag: d.totalLag.toString(),
    maxLagSeconds: round(d.maxLagSeconds),
  };
}
