/** What every route module gets, and the shape it has. */
import type { Context, Hono } from 'hono';
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

export interface RouteModule {
  /** Paths and the methods they take; any other method on them answers 405. */
  allowed: Array<[path: string, methods: string[]]>;
  register(app: Hono, deps: RouteDeps): void;
}

const JSON_TYPE = { 'content-type': 'application/json' };

/** A JSON answer whose text was built by hand (offsets as strings, stored JSON spliced in). */
export function jsonText(text: string, status = 200): Response {
  return new Response(text, { status, headers: JSON_TYPE });
}
