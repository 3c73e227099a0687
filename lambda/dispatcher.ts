/**
 * The push-consumer dispatcher on AWS. An EventBridge schedule starts it every minute; each run dispatches
 * every registered consumer's partitions (leases with epochs in DynamoDB, so overlapping runs never deliver a
 * partition twice at once) for up to `FERRY_DISPATCH_MS` (default 55 s), long-polling partition heads, then
 * releases its leases for the next run. Retries wait in the lease item (`retryAt`), so they survive runs.
 *
 * Wake-up: a record produced while a run is active is delivered within the poll interval (≈250 ms); one
 * produced while no run is active waits for the next minute's run.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { EmfMetrics } from '../lib/adapters/aws/emf-metrics';
import { openAwsHome } from '../lib/adapters/aws/home';
import { LambdaInvoker } from '../lib/adapters/aws/lambda-invoker';
import { Dispatcher } from '../lib/core/consumers/dispatcher';
import { ConsumerRunner } from '../lib/core/consumers/runner';
import { createCore } from '../lib/core/create-core';

const logger = new Logger({ serviceName: 'ferry-dispatcher' });
/** Invocations, handler failures, dead letters, throttles and consumer lag: one flush per run. */
const metrics = new EmfMetrics({ Table: process.env.FERRY_TABLE ?? '' });

export async function handler(event: unknown, context: Context): Promise<{ consumers: number; ranMs: number }> {
  try {
    return await dispatch(event, context);
  } finally {
    metrics.flush();
  }
}

async function dispatch(_event: unknown, context: Context): Promise<{ consumers: number; ranMs: number }> {
  logger.addContext(context);
  const started = Date.now();
  const home = await openAwsHome(process.env, { metrics });
  const core = createCore(home.ctx);
  const log = core.log;
  const consumers = await core.consumers.list();
  if (consumers.length === 0) return { consumers: 0, ranMs: Date.now() - started };
  const invoker = new LambdaInvoker();
  const owner = `lambda-${context.awsRequestId}`;
  const runner = new ConsumerRunner(
    log,
    consumers.map((c) => new Dispatcher(log, invoker, c, owner)),
    { onError: (error, consumer) => logger.error('dispatch failed', { consumer, error: (error as Error).message }) },
  );
  await runner.start();
  const budget = Math.min(Number(process.env.FERRY_DISPATCH_MS ?? 55_000), context.getRemainingTimeInMillis() - 15_000);
  await new Promise((r) => setTimeout(r, Math.max(0, budget)));
  await runner.stop();
  logger.info('dispatch run done', { consumers: consumers.length, ranMs: Date.now() - started });
  return { consumers: consumers.length, ranMs: Date.now() - started };
}
