/**
 * The push-consumer dispatcher on AWS (DESIGN.md §4c "Push delivery"). Runs start on demand:
 *
 * - `{"job": "wake"}` — from a producer whose commit found no live run (lib/core/consumers/wake.ts), or from a
 *   run that reached its time limit with work left;
 * - `{"job": "sweep"}` — the 5-minute schedule: retries due and wake-ups lost (a producer that died between its
 *   commit and the wake). It reads and, when nothing is to do, ends without a write.
 *
 * A run dispatches every registered consumer's partitions (leases with epochs: overlapping runs never deliver a
 * partition twice at once) until all of them are idle for `FERRY_DISPATCH_IDLE_MS` (default 3 s), then
 * releases its leases, waits, and looks once more before it ends (lib/core/consumers/dispatch-run.ts).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { EmfMetrics } from '../lib/adapters/aws/emf-metrics';
import { openAwsHome } from '../lib/adapters/aws/home';
import { LambdaInvoker } from '../lib/adapters/aws/lambda-invoker';
import { LambdaDispatcherWake } from '../lib/adapters/aws/lambda-wake';
import { runDispatch, type DispatchRunReport } from '../lib/core/consumers/dispatch-run';
import { createCore, type Core } from '../lib/core/create-core';

const logger = new Logger({ serviceName: 'ferry-dispatcher' });
/** Invocations, handler failures, dead letters, throttles and consumer lag: one flush per run. */
const metrics = new EmfMetrics({ Table: process.env.FERRY_TABLE ?? '' });

/** One home per container: a warm instance reuses its clients. */
let core: Promise<Core> | undefined;

export async function handler(event: { job?: string } | undefined, context: Context): Promise<DispatchRunReport & { ranMs: number }> {
  logger.addContext(context);
  const started = Date.now();
  try {
    const current = await (core ??= openAwsHome(process.env, { metrics }).then((home) => createCore(home.ctx))).catch((e) => {
      core = undefined;
      throw e;
    });
    // Stop dispatching with time left for the longest handler invocation to finish and the leases to be released.
    const longest = Math.max(0, ...(await current.consumers.list()).map((c) => c.timeoutMs ?? 0));
    // (At least a minute: a handler as long as the function itself may be cut off — its lease still holds the
    // partition until it must have ended, and the batch is delivered again: at least once.)
    const remaining = context.getRemainingTimeInMillis() - 20_000;
    const budget = Math.min(Number(process.env.FERRY_DISPATCH_MS ?? 600_000), Math.max(remaining - longest, Math.min(60_000, remaining)));
    const report = await runDispatch(current, {
      owner: `lambda-${context.awsRequestId}`,
      invoker: new LambdaInvoker(),
      deadline: started + Math.max(0, budget),
      reason: event?.job === 'sweep' ? 'sweep' : 'wake',
      idleEndMs: Number(process.env.FERRY_DISPATCH_IDLE_MS ?? 3_000),
      onError: (error, consumer) => logger.error('dispatch failed', { consumer, error: (error as Error).message }),
      onOutcome: (d, partition, out) =>
        logger.warn(out.kind === 'failed' ? 'delivery failed, will retry' : 'records dead-lettered', {
          consumer: d.config.name,
          topic: d.config.topic,
          partition,
          error: out.error,
        }),
    });
    // Time ran out with records left: hand over to a fresh run at once rather than wait for the next produce.
    if (report.unfinished) await new LambdaDispatcherWake(context.functionName).wake();
    logger.info('dispatch run done', { ...report, ranMs: Date.now() - started });
    return { ...report, ranMs: Date.now() - started };
  } finally {
    metrics.flush();
  }
}
