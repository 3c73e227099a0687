/**
 * HTTP API v1 as one web-standard app (hono): the same routes, validation and error table serve the
 * embedded server (node:http) and, on AWS, API Gateway through Lambda.
 */
import { Hono, type Context } from 'hono';
import { FerryError, invalid, isFerryError } from '../core/errors';
import { validateTopicName } from '../core/keys';
import type { Log } from '../core/log';
import type { RecordInput } from '../core/model';
import { readJsonBody } from './body';
import {
  alterTopicSchema,
  createTopicSchema,
  parseWith,
  produceRecordSchema,
  produceSchema,
} from './schemas';
import {
  fetchedRecordJson,
  parseCount,
  parseOffset,
  parsePartition,
  queryParams,
  toHeaders,
  toPayload,
  topicJson,
} from './wire';

export interface AppOptions {
  log: Log;
  /** Called with unexpected errors (never with record values or credentials). */
  onUnexpectedError?: (error: unknown, route: string) => void;
}

const JSON_TYPE = { 'content-type': 'application/json' };

/** Builds the app. `app.fetch(request)` answers any request. */
export function createApp({ log, onUnexpectedError }: AppOptions): Hono {
  const app = new Hono();
  const { limits } = log.ctx.settings;

  const body = (c: Context) => readJsonBody(c.req.raw, limits.maxRequestBytes, limits.maxJsonDepth);
  const noQuery = (c: Context) => queryParams(new URL(c.req.url), []);
  const topicParam = (c: Context) => validateTopicName(c.req.param('topic'));

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
    const q = queryParams(new URL(c.req.url), ['offset', 'maxRecords', 'maxBytes', 'waitMs']);
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

  // Known paths with a method they do not take: 405 with Allow.
  const allowed: Array<[string, string[]]> = [
    ['/v1/topics', ['GET', 'POST']],
    ['/v1/topics/:topic', ['GET', 'PATCH', 'DELETE']],
    ['/v1/topics/:topic/records', ['POST']],
    ['/v1/topics/:topic/partitions/:partition/records', ['GET']],
  ];
  for (const [path, methods] of allowed) {
    app.all(path, (c) => {
      throw new FerryError('method_not_allowed', `${c.req.method} is not allowed on ${path}; use ${methods.join(', ')}`, {
        allow: methods,
      });
    });
  }

  app.notFound((c) => errorResponse(new FerryError('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));

  app.onError((err, c) => {
    if (!isFerryError(err)) onUnexpectedError?.(err, c.req.routePath);
    return errorResponse(err);
  });

  return app;
}

/** A 200 answer whose JSON text was built by hand (offsets as strings, stored JSON spliced in). */
function jsonText(text: string): Response {
  return new Response(text, { status: 200, headers: JSON_TYPE });
}

/** The one error shape: `{error: kind, message, details}`, status from the kind table. */
export function errorResponse(err: unknown): Response {
  const e = isFerryError(err)
    ? err
    : new FerryError('unavailable', 'the server hit an unexpected error; try again', {});
  const headers: Record<string, string> = { ...JSON_TYPE };
  if (e.kind === 'unavailable' || e.kind === 'throttled') headers['retry-after'] = '1';
  if (e.kind === 'method_not_allowed' && Array.isArray(e.details.allow)) headers.allow = e.details.allow.join(', ');
  return new Response(JSON.stringify({ error: e.kind, message: e.message, details: e.details }), {
    status: e.status,
    headers,
  });
}
