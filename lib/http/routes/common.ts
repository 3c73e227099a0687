/** What every route module gets, and the shape it has. */
import type { Context } from 'hono';
import type { RouteKey } from '../../protocol/routes';
import type { Log } from '../../core/log/log';

export interface RouteDeps {
  log: Log;
  /** The request's JSON body, read defensively (type, size, UTF-8, depth). */
  body(c: Context): Promise<unknown>;
  /** Refuses any query parameter. */
  noQuery(c: Context): void;
  /** Only the named query parameters, each at most once. */
  query(c: Context, known: readonly string[]): Record<string, string | undefined>;
  /** The validated `:topic` path parameter. */
  topicParam(c: Context): string;
}

/** A route's handler, bound by its `METHOD path` key (lib/protocol/routes.ts). */
export type Handler = (c: Context) => Response | Promise<Response>;
export type Handlers = Partial<Record<RouteKey, Handler>>;

/** Handlers for rows of the route table (V1_ROUTES); the app registers each row's and refuses extras. */
export interface RouteModule {
  handlers(deps: RouteDeps): Handlers;
}

const JSON_TYPE = { 'content-type': 'application/json' };

/** A JSON answer whose text was built by hand (offsets as strings, stored JSON spliced in). */
export function jsonText(text: string, status = 200): Response {
  return new Response(text, { status, headers: JSON_TYPE });
}
