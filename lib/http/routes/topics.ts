/** Topic administration, produce and fetch routes of HTTP API v1. */
import { isFerryError } from '../../protocol/errors';
import type { RecordInput } from '../../core/model';
import {
  alterTopicSchema,
  createTopicSchema,
  initProducerSchema,
  parseWith,
  produceRecordSchema,
  produceSchema,
  producerRefSchema,
} from '../schemas';
import { parseDeliverAt, parseCount, parseOffset, parsePartition, toHeaders, toPayload, topicJson } from '../wire';
import { TokenAuth } from '../auth';
import { jsonText, type Handlers, type RouteDeps, type RouteModule } from './common';
import { fetchAnswerJson } from '../fetch-answer';

export const topicRoutes: RouteModule = {
  handlers: (deps) => ({ ...topicAdminHandlers(deps), ...recordHandlers(deps), ...scheduleAndProducerHandlers(deps) }),
};

/** Create, list, describe, alter and delete topics. */
function topicAdminHandlers({ log, body, noQuery, topicParam }: RouteDeps): Handlers {
  return {
    'POST /v1/topics': async (c) => {
      noQuery(c);
      const input = parseWith(createTopicSchema, await body(c));
      TokenAuth.check(c.get('grant' as never), 'admin', input.name);
      const topic = await log.topics.create(input);
      const partitions = Array.from({ length: topic.partitionCount }, (_, partition) => ({
        partition,
        logStartOffset: 0n,
        highWatermark: 0n,
      }));
      return c.json(topicJson(topic, partitions), 201);
    },
    'GET /v1/topics': async (c) => {
      noQuery(c);
      const grant = c.get('grant' as never);
      const topics = (await log.topics.list()).filter((t) => TokenAuth.sees(grant, t.name));
      return c.json({ topics: topics.map((t) => topicJson(t)) });
    },
    'GET /v1/topics/:topic': async (c) => {
      const name = topicParam(c);
      noQuery(c);
      const topic = await log.topics.get(name, { fresh: true });
      return c.json(topicJson(topic, await log.topics.partitionStates(topic)));
    },
    'PATCH /v1/topics/:topic': async (c) => {
      const name = topicParam(c);
      noQuery(c);
      const patch = parseWith(alterTopicSchema, await body(c));
      const topic = await log.topics.alter(name, patch);
      return c.json(topicJson(topic, await log.topics.partitionStates(topic)));
    },
    'DELETE /v1/topics/:topic': async (c) => {
      const name = topicParam(c);
      noQuery(c);
      await log.topics.delete(name);
      return c.body(null, 204);
    },
  };
}

/** Produce and fetch. */
function recordHandlers({ log, body, noQuery, topicParam, query }: RouteDeps): Handlers {
  const { limits } = log.ctx.settings;
  return {
    'POST /v1/topics/:topic/records': async (c) => {
      const name = topicParam(c);
      noQuery(c);
      const parsed = parseWith(produceSchema(limits.maxRecordsPerRequest), await body(c));
      const producer = parsed.producer === undefined ? undefined : parseWith(producerRefSchema, parsed.producer, { prefix: 'producer.' });
      const now = log.ctx.clock.now();
      const inputs: RecordInput[] = parsed.records.map((raw, index) => {
        const where = `records[${index}]`;
        // Most records are well-formed: check them inline; anything else goes through the schema (its errors).
        const r = plainRecord(raw) ?? parseWith(produceRecordSchema, raw, { prefix: `${where}.`, index });
        try {
          return {
            key: r.key === undefined || r.key === null ? null : toPayload(r.key, `${where}.key`),
            value: toPayload(r.value, `${where}.value`),
            headers: toHeaders(r.headers, where, limits),
            timestamp: r.timestamp,
            partition: r.partition,
            deliverAt: parseDeliverAt(r.deliverAt, r.deliverAfterMs, now, where),
          };
        } catch (e) {
          if (isFerryError(e)) e.details.index = index;
          throw e;
        }
      });
      const answers = await log.produce(name, inputs, { producer });
      const json = answers
        .map((r) =>
          'offset' in r
            ? `{"partition":${r.partition},"offset":"${r.offset}"}`
            : `{"partition":${r.partition},"scheduledId":"${r.scheduledId}","deliverAt":${r.deliverAt}}`,
        )
        .join(',');
      return jsonText(`{"records":[${json}]}`);
    },
    'GET /v1/topics/:topic/partitions/:partition/records': async (c) => {
      const name = topicParam(c);
      const partition = parsePartition(c.req.param('partition')!, limits.maxPartitions);
      const q = query(c, ['offset', 'maxRecords', 'maxBytes', 'waitMs']);
      const maxRecords = parseCount(q.maxRecords, 'maxRecords', 1, limits.maxFetchRecords, Math.min(1000, limits.maxFetchRecords));
      const maxBytes = parseCount(q.maxBytes, 'maxBytes', 1, limits.maxFetchBytes, Math.min(1024 * 1024, limits.maxFetchBytes));
      const waitMs = parseCount(q.waitMs, 'waitMs', 0, limits.maxWaitMs, 0);
      const offset = q.offset === undefined ? undefined : parseOffset(q.offset);
      const res = await log.fetch(name, partition, offset, { maxRecords, maxBytes, waitMs });
      return jsonText(fetchAnswerJson(res, limits.maxResponseBytes));
    },
  };
}

/** Delayed records not yet due, and idempotent producers. */
function scheduleAndProducerHandlers({ log, body, noQuery, topicParam, query }: RouteDeps): Handlers {
  return {
    'GET /v1/topics/:topic/scheduled': async (c) => {
      const name = topicParam(c);
      const q = query(c, ['limit']);
      const limit = parseCount(q.limit, 'limit', 1, 10_000, 1000);
      const topic = await log.topics.get(name);
      const scheduled = await log.scheduler.list(topic, limit);
      return c.json({ scheduled });
    },
    'DELETE /v1/topics/:topic/scheduled/:id': async (c) => {
      const name = topicParam(c);
      noQuery(c);
      const topic = await log.topics.get(name);
      await log.scheduler.cancel(topic, c.req.param('id')!);
      return c.body(null, 204);
    },
    'POST /v1/producers': async (c) => {
      noQuery(c);
      const input = parseWith(initProducerSchema, await body(c));
      return c.json(await log.producers.init(input.id));
    },
  };
}

const RECORD_FIELDS = new Set(['key', 'value', 'headers', 'partition', 'timestamp', 'deliverAt', 'deliverAfterMs']);
const MAX_TIMESTAMP = 8_640_000_000_000_000;

/**
 * A produce record that certainly passes `produceRecordSchema` (same fields, same checks), returned as is;
 * `undefined` for anything else, which the schema then parses and explains. Saves a zod parse per record.
 */
export function plainRecord(raw: unknown): RecordFields | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || !Object.hasOwn(raw, 'value')) return undefined;
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!RECORD_FIELDS.has(k)) return undefined;
  const { partition, timestamp, deliverAt, deliverAfterMs } = r;
  if (partition !== undefined && !(Number.isSafeInteger(partition) && (partition as number) >= 0)) return undefined;
  if (
    timestamp !== undefined &&
    !(Number.isSafeInteger(timestamp) && (timestamp as number) >= 0 && (timestamp as number) <= MAX_TIMESTAMP)
  ) {
    return undefined;
  }
  if (deliverAt !== undefined && !(typeof deliverAt === 'number' ? Number.isFinite(deliverAt) : typeof deliverAt === 'string'))
    return undefined;
  if (deliverAfterMs !== undefined && !(Number.isSafeInteger(deliverAfterMs) && (deliverAfterMs as number) >= 0)) return undefined;
  return r as RecordFields;
}

type RecordFields = ReturnType<typeof produceRecordSchema.parse>;
