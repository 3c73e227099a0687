/**
 * Operations routes of the embedded server: `GET /health` (200 `{"status":"ok"}` when every storage part
 * answers; 503 naming the failing parts) and `GET /metrics` (Prometheus text). Behind tokens when tokens are
 * on (a token with `"metrics": true`, or admin on every topic).
 */
import type { Hono } from 'hono';
import type { HealthPart } from '../../ports/health';
import type { Method } from '../../protocol/routes';
import type { RouteDeps } from './common';

export interface OpsOptions {
  /** Checks each storage part (metadata, every object store). */
  health(): Promise<HealthPart[]>;
  /** The metrics text (refreshing gauges computed on demand, such as group lag). */
  metrics(): Promise<string>;
}

/** Not in the v1 table: the embedded server's own (no API Gateway route, no IAM grant; a token's `metrics` right). */
export const OPS_PATHS: Array<[path: string, methods: Method[]]> = [
  ['/health', ['GET']],
  ['/metrics', ['GET']],
];

export function opsRoutes(ops: OpsOptions): { register(app: Hono, deps: RouteDeps): void } {
  return {
    register(app, deps) {
      app.get('/health', async (c) => {
        deps.noQuery(c);
        const parts = await ops.health();
        const failing = parts.filter((p) => !p.ok);
        const body = failing.length ? { status: 'unavailable', failing } : { status: 'ok' };
        return c.json(body, failing.length ? 503 : 200, failing.length ? { 'retry-after': '1' } : {});
      });
      app.get('/metrics', async (c) => {
        deps.noQuery(c);
        return c.body(await ops.metrics(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      });
    },
  };
}
