/**
 * API Gateway HTTP API (payload format 2.0) in a test: a web Request becomes the event API Gateway would
 * send to the Lambda integration, and the Lambda's result becomes the Response API Gateway would send back,
 * with Lambda's 6 MB synchronous payload limit enforced both ways.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

/** Lambda's limit for a synchronous invocation's request and response payloads. */
const LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024;

/** Content types API Gateway passes as text; anything else (or bytes that are not UTF-8) arrives base64. */
const TEXT_TYPE = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;

/** What the route match and the caller add to the event (the harness's API Gateway sets them from the template). */
export interface EventOptions {
  routeKey?: string;
  pathParameters?: Record<string, string>;
  /** The path as API Gateway hands it to the function (default: the request's, still percent-encoded). */
  rawPath?: string;
  apiId?: string;
  /** The caller's IAM identity. */
  iam?: { accessKey: string; userArn: string };
}

export async function toApiGatewayEvent(req: Request, options: EventOptions = {}): Promise<APIGatewayProxyEventV2WithIAMAuthorizer> {
  const url = new URL(req.url);
  const routeKey = options.routeKey ?? '$default';
  const rawPath = options.rawPath ?? url.pathname;
  const headers: Record<string, string> = {};
  req.headers.forEach((value, name) => {
    if (name !== 'cookie') headers[name] = value; // Headers already lowercases and joins repeats with ", "
  });
  headers.host = url.host;
  headers['x-forwarded-proto'] = url.protocol.replace(':', '');
  headers['x-forwarded-for'] ??= '203.0.113.7';
  const cookie = req.headers.get('cookie');
  const bytes = new Uint8Array(await req.arrayBuffer());
  let body: string | undefined;
  let isBase64Encoded = false;
  if (bytes.length > 0) {
    const text = TEXT_TYPE.test(req.headers.get('content-type') ?? '') ? utf8(bytes) : undefined;
    if (text === undefined) {
      body = Buffer.from(bytes).toString('base64');
      isBase64Encoded = true;
    } else {
      body = text;
    }
  }
  const query = new URLSearchParams(url.search);
  const queryStringParameters: Record<string, string> = {};
  for (const key of new Set(query.keys())) queryStringParameters[key] = query.getAll(key).join(',');
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: url.search.slice(1),
    cookies: cookie ? cookie.split(/;\s*/) : undefined,
    headers,
    queryStringParameters: url.search ? queryStringParameters : undefined,
    pathParameters: options.pathParameters,
    requestContext: {
      accountId: '123456789012',
      apiId: options.apiId ?? 'ferry0api',
      authorizer: {
        iam: {
          accessKey: options.iam?.accessKey ?? 'AKIAIOSFODNN7EXAMPLE',
          accountId: '123456789012',
          callerId: 'AIDACKCEVSQ6C2EXAMPLE',
          cognitoIdentity: null as never,
          principalOrgId: null as never,
          userArn: options.iam?.userArn ?? 'arn:aws:iam::123456789012:user/producer',
          userId: 'AIDACKCEVSQ6C2EXAMPLE',
        },
      },
      domainName: url.host,
      domainPrefix: url.hostname.split('.')[0],
      http: {
        method: req.method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: req.headers.get('user-agent') ?? 'test',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body,
    isBase64Encoded,
  };
}

function utf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

export function fromApiGatewayResult(result: APIGatewayProxyStructuredResultV2): Response {
  const headers = new Headers();
  for (const [k, v] of Object.entries(result.headers ?? {})) headers.set(k, String(v));
  for (const c of result.cookies ?? []) headers.append('set-cookie', c);
  const status = result.statusCode ?? 200;
  const noBody = status === 204 || status === 304 || status === 205;
  const body = noBody || result.body === undefined ? null : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
  return new Response(body, { status, headers });
}

export function lambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/01/01/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

type Handler = (event: APIGatewayProxyEventV2WithIAMAuthorizer, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** `fetch` through API Gateway to a Lambda handler. */
export async function invokeThroughApiGateway(handler: Handler, req: Request, functionName = 'ferry-api'): Promise<Response> {
  const event = await toApiGatewayEvent(req);
  if (Buffer.byteLength(JSON.stringify(event)) > LAMBDA_PAYLOAD_LIMIT) {
    return new Response('{"message":"Request Entity Too Large"}', { status: 413, headers: { 'content-type': 'application/json' } });
  }
  // The event crosses a JSON boundary, as it does on the way to Lambda.
  const result = await handler(JSON.parse(JSON.stringify(event)), lambdaContext(functionName));
  if (Buffer.byteLength(JSON.stringify(result)) > LAMBDA_PAYLOAD_LIMIT) {
    // What API Gateway answers when the function's response is over Lambda's limit.
    return new Response('{"message":"Internal Server Error"}', { status: 500, headers: { 'content-type': 'application/json' } });
  }
  return fromApiGatewayResult(JSON.parse(JSON.stringify(result)));
}
