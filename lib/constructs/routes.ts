import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { apiGatewayPath, V1_ROUTES, type Access as RouteAccess, type ServedBy } from '../protocol/routes';
import { acknowledgeWildcardResources, policyOwner } from './nag';

/** The API stage Ferry deploys (and grants scope to). */
export const API_STAGE = '$default';

/** A group of routes served by one Lambda function with its own least-privilege role. */
export type RouteGroup = ServedBy;

/** Which topic grant includes a route (`cluster` routes are not about one topic). */
export type Access = RouteAccess;

export interface FerryRoute {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** API Gateway route path; `{t}` is the topic name. */
  readonly path: string;
  readonly group: RouteGroup;
  readonly access: Access;
}

/**
 * The HTTP API v1 routes in API Gateway's form, from the one route table (lib/protocol/routes.ts): which
 * function serves each and which grant lets a caller invoke it. API Gateway routes and IAM grants are both
 * derived from it, so they cannot drift apart from each other or from the server.
 */
export const ROUTES: readonly FerryRoute[] = V1_ROUTES.map((r) => ({
  method: r.method,
  path: apiGatewayPath(r.path),
  group: r.servedBy,
  access: r.access,
}));

/**
 * The execute-api resource path of a route for one topic: `{t}` becomes the topic name, `{g}` the group id
 * (pattern), every other path parameter becomes `*` (IAM matches `*` across `/`, so `{p}` and `{id}` stay one
 * segment in practice). Topic names and group ids are `[a-zA-Z0-9._-]` (group patterns may add `*`), so a
 * name can never widen the pattern beyond what it says.
 */
export function resourcePath(route: FerryRoute, topicName: string, groupId = '*'): string {
  return route.path
    .replace('{t}', topicName)
    .replace('{g}', groupId)
    .replace(/\{[a-z]+\}/g, '*');
}

/** Group routes name a group, not a topic (the topics are in the request body): grants scope them by group id. */
export const isGroupRoute = (route: FerryRoute): boolean => route.path.startsWith('/v1/groups');

/** A group id pattern for a grant: a group id, with `*` standing for any run of group-id characters. */
export const GROUP_PATTERN = /^[a-zA-Z0-9._*-]{1,249}$/;

/**
 * Grants `execute-api:Invoke` on `routes` of API `httpApiId` (stage `$default`), for topic `topicName` (`*`:
 * any topic), and acknowledges the cdk-nag IAM5 finding each path-parameter wildcard raises, with `reason`.
 */
export function grantRoutes(
  scope: IConstruct,
  grantee: iam.IGrantable,
  httpApiId: string,
  routes: readonly FerryRoute[],
  topicName: string,
  reason: string,
  groupIds: readonly string[] = ['*'],
): iam.Grant {
  const stack = Stack.of(scope);
  const resourceArns = routes.flatMap((route) =>
    (route.path.includes('{g}') ? groupIds : ['*']).map((group) =>
      stack.formatArn({
        service: 'execute-api',
        resource: httpApiId,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        resourceName: `${API_STAGE}/${route.method}${resourcePath(route, topicName, group)}`,
      }),
    ),
  );
  const grant = iam.Grant.addToPrincipal({ grantee, actions: ['execute-api:Invoke'], resourceArns });
  const owner = policyOwner(grantee);
  if (owner) acknowledgeWildcardResources(owner, resourceArns, reason);
  return grant;
}
