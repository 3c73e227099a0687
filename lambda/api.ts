/**
 * The HTTP API in Lambda: an API Gateway HTTP API (payload 2.0) event → the same hono app the embedded
 * server runs → the API Gateway result. The AWS home is wired from the environment (FERRY_TABLE,
 * FERRY_BUCKETS; see lib/adapters/aws/home.ts) once per container, on the first request.
 *
 * Logs go through Powertools (JSON, with the Lambda context): unexpected errors and, at DEBUG, one line per
 * request with method, route, status and duration. Never a body, a record, a header or a credential.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { handle, type LambdaEvent } from 'hono/aws-lambda';
import { EmfMetrics } from '../lib/adapters/aws/emf-metrics';
import { openAwsHome } from '../lib/adapters/aws/home';
import { createCore } from '../lib/core/create-core';
import { createApp, createFallbackApp } from '../lib/http/app';

const logger = new Logger({ serviceName: 'ferry-api' });
/** Records and bytes produced and fetched, errors by kind, commit conflicts: one EMF flush per invocation. */
const metrics = new EmfMetrics({ Table: process.env.FERRY_TABLE ?? '' });

type Handle = ReturnType<typeof handle>;
let app: Promise<Handle> | undefined;

async function init(): Promise<Handle> {
  const home = await openAwsHome(process.env, { metrics });
  const log = createCore(home.ctx).log;
  return handle(
    createApp({
      log,
      onUnexpectedError: (error, route) => logger.error('unexpected error', { route, error: describe(error) }),
    }),
  );
}

export async function handler(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
  try {
    return await serveRequest(event, context);
  } finally {
    metrics.flush();
  }
}

async function serveRequest(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
  logger.addContext(context);
  const started = Date.now();
  let serve: Handle;
  try {
    serve = await (app ??= init());
  } catch (error) {
    app = undefined; // a later request tries again (e.g. after a configuration fix)
    logger.error('cannot start the Ferry API', { error: describe(error) });
    return {
      statusCode: 503,
      headers: { 'content-type': 'application/json', 'retry-after': '1' },
      body: JSON.stringify({ error: 'unavailable', message: 'the server is not ready; try again', details: {} }),
    };
  }
  // hono declares its own event shape (body `string | null`); the API Gateway v2 event is that shape.
  const result = (await serve(asReceived(event), context)) as APIGatewayProxyStructuredResultV2;
  logger.debug('request', {
    method: event.requestContext.http.method,
    path: event.rawPath,
    status: result.statusCode,
    ms: Date.now() - started,
  });
  return result;
}

/**
 * The event with its path as received. API Gateway may hand over a percent-decoded `rawPath`; the URL parser
 * hono builds its Request with would then drop tabs and newlines and trim control characters at the ends
 * (`/v1/topics/orders\0` would become `/v1/topics/orders`). Re-encoding every character a URL cannot carry
 * as is keeps `orders\0` for the name validation to refuse (400), as the embedded server does.
 */
export function asReceived(event: APIGatewayProxyEventV2): LambdaEvent {
  const rawPath = event.rawPath.replace(/[^\x21-\x7e]|["<>\\^`{|}]/gu, (c) => encodeURIComponent(c));
  return { ...event, rawPath } as unknown as LambdaEvent;
}

const fallbackApp = handle(createFallbackApp());

/**
 * The API's `$default` route: every request no route of the API matches. It answers Ferry's error shape
 * (404 `not_found`, or 405 `method_not_allowed` with `Allow` on a known path) instead of API Gateway's own
 * `{"message":"Not Found"}`, and touches no table or bucket (its role has no data access).
 */
export async function fallback(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
  return (await fallbackApp(asReceived(event), context)) as APIGatewayProxyStructuredResultV2;
}

/** An error's name, message, stack and causes, without the SDK's request or response objects. */
function describe(error: unknown, depth = 0): Record<string, unknown> {
  if (!(error instanceof Error)) return { value: String(error) };
  const out: Record<string, unknown> = { name: error.name, message: error.message, stack: error.stack };
  const meta = (error as { $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number } }).$metadata;
  if (meta) out.aws = { status: meta.httpStatusCode, requestId: meta.requestId, attempts: meta.attempts };
  if (error.cause !== undefined && depth < 3) out.cause = describe(error.cause, depth + 1);
  return out;
}
