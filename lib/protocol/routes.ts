/**
 * HTTP API v1 as one table (DESIGN.md §4, §4b), pure data: each route once, with the token right the embedded
 * server checks, the Lambda function that serves it on AWS and the topic grant (`grantProduce` /
 * `grantConsume` / `grantAdmin`, or the cluster's admin) that lets an IAM caller invoke it. lib/http binds a
 * handler to every row and answers 404 / 405 from it; lib/http/auth.ts checks tokens from it;
 * lib/constructs/routes.ts makes the API Gateway routes, the functions and the IAM grants from it.
 */

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** The right a token needs, on the topic the path names (on any topic for `groups` / `producers` / create, whose body names it). */
export type TokenRight = 'produce' | 'consume' | 'admin' | 'any';

/** The Lambda function (one least-privilege role each) that serves a route on AWS. */
export type ServedBy = 'produce' | 'fetch' | 'admin' | 'groups';

/** Which topic grant includes a route (`cluster-admin`: routes not about one topic). */
export type Access = 'produce' | 'consume' | 'admin' | 'cluster-admin';

export interface RouteSpec {
  readonly method: Method;
  /** hono-style path: `:topic`, `:partition`, `:group`, `:member`, `:id`. */
  readonly path: string;
  readonly right: TokenRight;
  readonly servedBy: ServedBy;
  readonly access: Access;
}

const route = (method: Method, path: string, right: TokenRight, servedBy: ServedBy, access: Access): RouteSpec => ({
  method,
  path,
  right,
  servedBy,
  access,
});

export const V1_ROUTES: readonly RouteSpec[] = [
  route('POST', '/v1/topics/:topic/records', 'produce', 'produce', 'produce'),
  route('POST', '/v1/producers', 'produce', 'produce', 'produce'),

  route('GET', '/v1/topics/:topic/partitions/:partition/records', 'consume', 'fetch', 'consume'),

  route('GET', '/v1/topics/:topic', 'consume', 'admin', 'consume'),
  route('PATCH', '/v1/topics/:topic', 'admin', 'admin', 'admin'),
  route('DELETE', '/v1/topics/:topic', 'admin', 'admin', 'admin'),
  // Listing and cancelling delayed records: a producer's or consumer's business locally, an admin grant on AWS.
  route('GET', '/v1/topics/:topic/scheduled', 'consume', 'admin', 'admin'),
  route('DELETE', '/v1/topics/:topic/scheduled/:id', 'produce', 'admin', 'admin'),
  // The body names the topic to create (the route checks admin on it); the list shows only visible topics.
  route('POST', '/v1/topics', 'admin', 'admin', 'cluster-admin'),
  route('GET', '/v1/topics', 'any', 'admin', 'cluster-admin'),

  route('GET', '/v1/groups', 'consume', 'groups', 'consume'),
  route('GET', '/v1/groups/:group', 'consume', 'groups', 'consume'),
  route('DELETE', '/v1/groups/:group', 'consume', 'groups', 'consume'),
  route('POST', '/v1/groups/:group/members', 'consume', 'groups', 'consume'),
  route('POST', '/v1/groups/:group/members/:member/heartbeat', 'consume', 'groups', 'consume'),
  route('DELETE', '/v1/groups/:group/members/:member', 'consume', 'groups', 'consume'),
  // A member's records from all its partitions in one long poll: a read, served by the read-only fetch function.
  route('POST', '/v1/groups/:group/members/:member/fetch', 'consume', 'fetch', 'consume'),
  route('GET', '/v1/groups/:group/offsets', 'consume', 'groups', 'consume'),
  route('POST', '/v1/groups/:group/offsets', 'consume', 'groups', 'consume'),
  // A timestamp seek reads the batch holding the answer (S3), and the groups function has no object access.
  route('POST', '/v1/groups/:group/seek', 'consume', 'admin', 'consume'),

  // Push consumers as resources: reading their state is a consumer's right, steering them an admin's.
  route('GET', '/v1/topics/:topic/consumers', 'consume', 'admin', 'admin'),
  route('GET', '/v1/topics/:topic/consumers/:consumer', 'consume', 'admin', 'admin'),
  route('POST', '/v1/topics/:topic/consumers/:consumer/pause', 'admin', 'admin', 'admin'),
  route('POST', '/v1/topics/:topic/consumers/:consumer/resume', 'admin', 'admin', 'admin'),
  route('POST', '/v1/topics/:topic/consumers/:consumer/seek', 'admin', 'admin', 'admin'),
];

/** `METHOD path`, the key a handler is bound under. */
export type RouteKey = `${Method} ${string}`;
export const routeKey = (r: Pick<RouteSpec, 'method' | 'path'>): RouteKey => `${r.method} ${r.path}`;

/** The order methods are named in a 405's Allow header and message, whatever the table's row order. */
const METHOD_ORDER: readonly Method[] = ['GET', 'POST', 'PATCH', 'DELETE'];

/** Every path of the table with the methods it takes (any other method there answers 405). */
export function allowedMethods(routes: readonly RouteSpec[] = V1_ROUTES): Array<[path: string, methods: Method[]]> {
  const byPath = new Map<string, Method[]>();
  for (const r of routes) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r.method]);
  return [...byPath].map(([path, methods]) => [path, METHOD_ORDER.filter((m) => methods.includes(m))]);
}

/** The route a request path (its segments, decoded) matches, with its parameters (undefined: none of the table's). */
export function matchRoute(method: string, segments: readonly string[]): { route: RouteSpec; params: Record<string, string> } | undefined {
  for (const r of V1_ROUTES) {
    if (r.method !== method) continue;
    const pattern = r.path.split('/').filter(Boolean);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    if (pattern.every((p, i) => (p.startsWith(':') ? ((params[p.slice(1)] = segments[i]), true) : p === segments[i])))
      return { route: r, params };
  }
  return undefined;
}

/** The API Gateway form of a path: `{t}` topic, `{p}` partition, `{g}` group, `{m}` member, `{c}` consumer, `{id}`. */
export function apiGatewayPath(path: string): string {
  const names: Record<string, string> = { topic: 't', partition: 'p', group: 'g', member: 'm', id: 'id', consumer: 'c' };
  return path.replace(/:([a-z]+)/g, (_, name: string) => `{${names[name] ?? name}}`);
}
