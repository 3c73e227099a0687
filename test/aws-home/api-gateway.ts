/**
 * API Gateway HTTP API as the template declares it: its routes (RouteKey → integration → function), IAM
 * authorisation of `execute-api:Invoke` for callers that sign as a function, payload format 2.0 events, the
 * 30 s integration timeout, and API Gateway's own answers where no function answers:
 *
 * | situation                                  | answer                                   |
 * |--------------------------------------------|------------------------------------------|
 * | no route matches (and no `$default` route) | 404 `{"message":"Not Found"}`            |
 * | caller not allowed by its IAM policy       | 403 `{"message":"User: … not authorized"}` |
 * | the integration takes over 30 s            | 503 `{"message":"Service Unavailable"}`  |
 * | function error, bad or over-6 MB response  | 500 `{"message":"Internal Server Error"}` |
 * | event over Lambda's 6 MB                   | 413 `{"message":"Request Entity Too Large"}` |
 *
 * The path is handed to the function percent-decoded (rawPath), as reports say API Gateway does; a function
 * must validate names as received. Unsigned requests are the harness's admin caller (tests, CLI, client).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { toApiGatewayEvent } from '../helpers/api-gateway';
import { ACCOUNT, REGION } from './intrinsics';
import { listen, readBody, send } from './http-proxy';
import type { InvokeResult } from './lambda-pool';
import { ADMIN_KEY, type Principals } from './principals';
import type { RouteModel } from './stack-model';

export const INTEGRATION_TIMEOUT_MS = 30_000;

export interface GatewayStats {
  requests: number;
  denials: number;
  notFound: number;
  byStatus: Record<number, number>;
}

export interface GatewayOptions {
  apiId: string;
  routes: RouteModel[];
  principals: Principals;
  invoke(functionId: string, event: string): Promise<InvokeResult>;
  integrationTimeoutMs?: number;
}

/** A route's path as a matcher; `{x}` takes one segment, `{x+}` the rest. */
function compile(route: RouteModel): { route: RouteModel; match(segments: string[]): Record<string, string> | undefined; rank: number[] } {
  const parts = route.path === '$default' ? [] : route.path.split('/').slice(1);
  const literal = parts.filter((p) => !p.startsWith('{')).length;
  const greedy = parts.some((p) => p.endsWith('+}'));
  return {
    route,
    // More literal segments first, greedy routes after exact ones, a method before ANY, $default last.
    rank: [route.path === '$default' ? 1 : 0, greedy ? 1 : 0, -literal, route.method === 'ANY' ? 1 : 0],
    match(segments) {
      if (route.path === '$default') return {};
      const params: Record<string, string> = {};
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i];
        if (p.endsWith('+}')) {
          if (i >= segments.length) return undefined;
          params[p.slice(1, -2)] = segments.slice(i).map(decode).join('/');
          return params;
        }
        if (i >= segments.length) return undefined;
        if (p.startsWith('{')) {
          if (segments[i] === '') return undefined;
          params[p.slice(1, -1)] = decode(segments[i]);
        } else if (p !== segments[i]) return undefined;
      }
      return parts.length === segments.length ? params : undefined;
    },
  };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Percent-decoded, but `%2F` and `%25` kept, so the path keeps its segments. */
export function decodedPath(path: string): string {
  return path
    .split(/(%2[fF]|%25)/)
    .map((piece, i) => (i % 2 ? piece : decode(piece)))
    .join('');
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  send(
    res,
    status,
    { 'content-type': 'application/json', 'apigw-requestid': Math.random().toString(36).slice(2), ...headers },
    JSON.stringify(body),
  );

export async function startApiGateway(options: GatewayOptions) {
  const matchers = options.routes.map(compile).sort((a, b) => {
    for (let i = 0; i < a.rank.length; i++) if (a.rank[i] !== b.rank[i]) return a.rank[i] - b.rank[i];
    return 0;
  });
  const timeoutMs = options.integrationTimeoutMs ?? INTEGRATION_TIMEOUT_MS;
  const stats: GatewayStats = { requests: 0, denials: 0, notFound: 0, byStatus: {} };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://gateway');
    const method = req.method ?? 'GET';
    const segments = url.pathname.split('/').slice(1);
    let found: { route: RouteModel; params: Record<string, string> } | undefined;
    for (const m of matchers) {
      if (m.route.method !== 'ANY' && m.route.method !== method) continue;
      const params = m.match(segments);
      if (params) {
        found = { route: m.route, params };
        break;
      }
    }
    if (!found) {
      stats.notFound++;
      return json(res, 404, { message: 'Not Found' });
    }

    const principal = req.headers.authorization ? options.principals.fromHeaders(req.headers) : options.principals.get(ADMIN_KEY);
    if (found.route.authorizationType === 'AWS_IAM') {
      if (!principal) return json(res, 403, { message: 'The security token included in the request is invalid.' });
      const resource = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${options.apiId}/$default/${method}${url.pathname}`;
      const denial = options.principals.authorize(principal, [{ action: 'execute-api:Invoke', resource }]);
      if (denial) {
        stats.denials++;
        return json(res, 403, { message: denial.message });
      }
    }

    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined && k !== 'host') headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    const host = String(req.headers['x-forwarded-host'] ?? `${options.apiId}.execute-api.${REGION}.amazonaws.com`);
    const request = new Request(`https://${host}${url.pathname}${url.search}`, {
      method,
      headers,
      body: body.length ? new Uint8Array(body) : undefined,
    });
    const event = await toApiGatewayEvent(request, {
      routeKey: found.route.routeKey,
      pathParameters: Object.keys(found.params).length ? found.params : undefined,
      rawPath: decodedPath(url.pathname),
      apiId: options.apiId,
      iam: principal ? { accessKey: principal.accessKeyId, userArn: principal.arn } : undefined,
    });

    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const outcome = await Promise.race([options.invoke(found.route.functionId, JSON.stringify(event)), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') return json(res, 503, { message: 'Service Unavailable' });
    if (!outcome.ok) {
      if (outcome.status === 413) return json(res, 413, { message: 'Request Entity Too Large' });
      return json(res, 500, { message: 'Internal Server Error' });
    }
    let result: APIGatewayProxyStructuredResultV2;
    try {
      result = JSON.parse(outcome.payload);
    } catch {
      return json(res, 500, { message: 'Internal Server Error' });
    }
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(result.headers ?? {})) out[k.toLowerCase()] = String(v);
    if (result.cookies?.length) out['set-cookie'] = result.cookies;
    const status = result.statusCode ?? 200;
    const bytes =
      result.body === undefined ? Buffer.alloc(0) : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body);
    send(res, status, out, bytes);
  };

  const server = await listen(
    async (req, res) => {
      stats.requests++;
      const end = res.end.bind(res);
      res.end = ((...args: Parameters<typeof end>) => {
        stats.byStatus[res.statusCode] = (stats.byStatus[res.statusCode] ?? 0) + 1;
        return end(...args);
      }) as typeof res.end;
      await handle(req, res);
    },
    (e) => console.error('api gateway', e),
  );
  return { url: server.url, stats, close: server.close };
}
