/** Topic administration, produce and fetch routes of HTTP API v1. */
import { invalid, isFerryError } from '../../core/errors';
import type { RecordInput } from '../../core/model';
import { alterTopicSchema, createTopicSchema, parseWith, produceRecordSchema, produceSchema } from '../schemas';
import {
  fetchedRecordJson,
  parseCount,
  parseOffset,
  parsePartition,
  toHeaders,
  toPayload,
  topicJson,
} from '../wire';
import { jsonText, type RouteModule } from './common';

export const topicRoutes: RouteModule = {
  allowed: [
    ['/v1/topics', ['GET', 'POST']],
    ['/v1/topics/:topic', ['GET', 'PATCH', 'DELETE']],
    ['/v1/topics/:topic/records', ['POST']],
    ['/v1/topics/:topic/partitions/:partition/records', ['GET']],
  ],
  register(app, { log, body, noQuery, topicParam, query }) {
    const { limits } = log.ctx.settings;
    app.post('/v1/topics', async (c) => {
      noQuery(c);
      const input = parseWith(createTopicSchema, await body(c));
      const topic = await log.topics.create(input);
      const partitions = Array.from({ length: topic.partitionCount }, (_, partition) => ({
        partition,
        logStartOffset: 0n,
        highWatermark: 0n,
      }));
      return c.json(topicJson(topic, partitions), 201);
    });

    app.get('/v1/topics', async (c) => {
      noQuery(c);
      const topics = await log.topics.list();
      return c.json({ topics: topics.map((t) => topicJson(t)) });
    });

    app.get('/v1/topics/:topic', async (c) => {
      const name = topicParam(c);
      noQuery(c);
      const topic = await log.topics.get(name, { fresh: true });
      return c.json(topicJson(topic, await log.topics.partitionStates(topic)));
    });

    app.patch('/v1/topics/:topic', async (c) => {
      const name = topicParam(c);
      noQuery(c);
      const patch = parseWith(alterTopicSchema, await body(c));
      const topic = await log.topics.alter(name, patch);
      return c.json(topicJson(topic, await log.topics.partitionStates(topic)));
    });

    app.delete('/v1/topics/:topic', async (c) => {
      const name = topicParam(c);
      noQuery(c);
      await log.topics.delete(name);
      return c.body(null, 204);
    });

    app.post('/v1/topics/:topic/records', async (c) => {
      const name = topicParam(c);
      noQuery(c);
      const parsed = parseWith(produceSchema(limits.maxRecordsPerRequest), await body(c));
      if (parsed.producer !== undefined) {
        throw invalid('idempotent producers ("producer") are not supported yet by this server');
      }
      const inputs: RecordInput[] = parsed.records.map((raw, index) => {
        const where = `records[${index}]`;
        const r = parseWith(produceRecordSchema, raw, { prefix: `${where}.`, index });
        if (r.deliverAt !== undefined || r.deliverAfterMs !== undefined) {
          throw invalid(`${where}: delayed delivery ("deliverAt", "deliverAfterMs") is not supported yet by this server`, { index });
        }
        try {
          return {
            key: r.key === undefined || r.key === null ? null : toPayload(r.key, `${where}.key`),
            value: toPayload(r.value, `${where}.value`),
            headers: toHeaders(r.headers, where, limits),
            timestamp: r.timestamp,
            partition: r.partition,
          };
        } catch (e) {
          if (isFerryError(e)) e.details.index = index;
          throw e;
        }
      });
      const results = await log.produce(name, inputs);
      const json = results.map((r) => `{"partition":${r.partition},"offset":"${r.offset}"}`).join(',');
      return jsonText(`{"records":[${json}]}`);
    });

    app.get('/v1/topics/:topic/partitions/:partition/records', async (c) => {
      const name = topicParam(c);
      const partition = parsePartition(c.req.param('partition'), limits.maxPartitions);
      const q = query(c, ['offset', 'maxRecords', 'maxBytes', 'waitMs']);
      const maxRecords = parseCount(q.maxRecords, 'maxRecords', 1, limits.maxFetchRecords, Math.min(1000, limits.maxFetchRecords));
      const maxBytes = parseCount(q.maxBytes, 'maxBytes', 1, limits.maxFetchBytes, Math.min(1024 * 1024, limits.maxFetchBytes));
      const waitMs = parseCount(q.waitMs, 'waitMs', 0, limits.maxWaitMs, 0);
      const offset = q.offset === undefined ? undefined : parseOffset(q.offset);
      const res = await log.fetch(name, partition, offset, { maxRecords, maxBytes, waitMs });
      const json =
        `{"records":[${res.records.map(fetchedRecordJson).join(',')}],"nextOffset":"${res.nextOffset}",` +
        `"highWatermark":"${res.highWatermark}","logStartOffset":"${res.logStartOffset}"}`;
      return jsonText(json);
    });
  },
};
