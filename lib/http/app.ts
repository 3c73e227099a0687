/**
 * HTTP API v1 as one web-standard app (hono): the same routes, validation and error table serve the
 * embedded server (node:http) and, on AWS, API Gateway through Lambda.
 */
import { Hono } from 'hono';
import { FerryError, isFerryError } from '../protocol/errors';
import { validateTopicName } from '../core/storage/keys';
import type { Log } from '../core/log/log';
import type { TokenAuth } from './auth';
import { readJsonBody } from './body';
import { allowedMethods, routeKey, V1_ROUTES } from '../protocol/routes';
import type { ErrorBody } from '../protocol/v1';
import type { Handlers, RouteDeps, RouteModule } from './routes/common';
import { consumerRoutes } from './routes/consumers';
import { groupRoutes } from './routes/groups';
import { OPS_PATHS, opsRoutes, type OpsOptions } from './routes/ops';
import { topicRoutes } from './routes/topics';
import { queryParams } from './wire';

export interface AppOptions {
  log: Log;
  /** Bearer tokens with per-topic rights; none: every request is allowed. */
  auth?: TokenAuth;
  /** Called with unexpected errors (never with record values or credentials). */
  onUnexpectedError?: (error: unknown, route: string) => void;
  /** `GET /health` and `GET /metrics` (the embedded server). */
  ops?: OpsOptions;
  /** Hears of every request once answered (`ferry dev --log-level debug`): never a body, a header or a token. */
  onRequest?: (request: RequestLogEntry) => void;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  /** The route pattern that matched (`/v1/topics/:topic/records`), or `*` for none. */
  route: string;
  status: number;
  ms: number;
}

/** The handlers of API v1's route table (lib/protocol/routes.ts); a new route adds its row there, its handler here. */
const MODULES: RouteModule[] = [topicRoutes, groupRoutes, consumerRoutes];

/** Registers every row of the table with its handler; a row without one, or a handler without a row, is a bug. */
function registerRoutes(app: Hono, deps: RouteDeps): void {
  const handlers: Handlers = Object.assign({}, ...MODULES.map((m) => m.handlers(deps)));
  for (const r of V1_ROUTES) {
    const handler = handlers[routeKey(r)];
    if (!handler) throw new Error(`internal: no handler for ${routeKey(r)}`);
    app.on(r.method, r.path, handler);
    delete handlers[routeKey(r)];
  }
  const extra = Object.keys(handlers);
  if (extra.length) throw new Error(`internal: handlers for routes not in the table: ${extra.join(', ')}`);
}

/** Builds the app. `app.fetch(request)` answers any request. */
export function createApp({ log, auth, onUnexpectedError, ops, onRequest }: AppOptions): Hono {
  const app = new Hono();
  const { limits } = log.ctx.settings;
  const deps: RouteDeps = {
    log,
    body: (c) => readJsonBody(c.req.raw, limits.maxRequestBytes, limits.maxJsonDepth),
    noQuery: (c) => void queryParams(new URL(c.req.url), []),
    query: (c, known) => queryParams(new URL(c.req.url), known),
    topicParam: (c) => validateTopicName(c.req.param('topic')),
  };
  if (onRequest) {
    app.use('*', async (c, next) => {
      const started = performance.now();
      await next();
      const ms = Math.round((performance.now() - started) * 10) / 10;
      onRequest({ method: c.req.method, path: new URL(c.req.url).pathname, route: c.req.routePath, status: c.res.status, ms });
    });
  }
  if (auth) app.use('*', auth.middleware());
  registerRoutes(app, deps);
  if (ops) opsRoutes(ops).register(app, deps);
  addFallbacks(app, ops ? [...allowedMethods(), ...OPS_PATHS] : allowedMethods());

  app.onError((err, c) => {
    if (!isFerryError(err)) onUnexpectedError?.(err, c.req.routePath);
    countError(log, c.req.method, c.req.routePath, c.req.param('topic'), err);
    return errorResponse(err);
  });

  return app;
}

/**
 * An app that serves no route and only answers what no route matched: 405 with Allow on a known path, else
 * 404. API Gateway's catch-all route uses it, so unknown routes get the same answers as on the embedded server
 * without a function that can reach the data.
 */
export function createFallbackApp(): Hono {
  const app = new Hono();
  addFallbacks(app, allowedMethods());
  app.onError((err) => errorResponse(err));
  return app;
}

function addFallbacks(app: Hono, allowed: Array<[path: string, methods: string[]]>): void {
  // Known paths with a method they do not take: 405 with Allow.
  for (const [path, methods] of allowed) {
    app.all(path, (c) => {
      // Only the fallback app gets here with a listed method: a route this deployment does not serve.
      if (methods.includes(c.req.method)) throw new FerryError('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`);
      throw new FerryError('method_not_allowed', `${c.req.method} is not allowed on ${path}; use ${methods.join(', ')}`, {
        allow: methods,
      });
    });
  }

  app.notFound((c) => errorResponse(new FerryError('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));
}

const PRODUCE_ROUTE = '/v1/topics/:topic/records';
const FETCH_ROUTE = '/v1/topics/:topic/partitions/:partition/records';
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** Produce and fetch errors by kind; the topic only when it exists (no label for every name a client tries). */
function countError(log: Log, method: string, route: string, topic: string | undefined, err: unknown): void {
  const name =
    method === 'POST' && route === PRODUCE_ROUTE ? 'ProduceErrors' : method === 'GET' && route === FETCH_ROUTE ? 'FetchErrors' : undefined;
  if (!name) return;
  const kind = isFerryError(err) ? err.kind : 'unavailable';
  const known = topic !== undefined && TOPIC_NAME.test(topic) && kind !== 'not_found' && kind !== 'invalid';
  log.ctx.metrics?.add(name, 1, { Topic: known ? topic : '-', Kind: kind });
}

/** The one error shape: `{error: kind, message, details}`, status from the kind table. */
export function errorResponse(err: unknown): Response {
  const e = isFerryError(err) ? err : new FerryError('unavailable', 'the server hit an unexpected error; try again', {});
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (e.kind === 'unavailable' || e.kind === 'throttled') headers['retry-after'] = '1';
  if (e.kind === 'method_not_allowed' && Array.isArray(e.details.allow)) headers.allow = e.details.allow.join(', ');
  if (e.kind === 'unauthorized') headers['www-authenticate'] = 'Bearer realm="ferry"';
  const body: ErrorBody = { error: e.kind, message: e.message, details: e.details };
  return new Response(JSON.stringify(body), {
    status: e.status,
    headers,
  });
}
