/**
 * Scheduled maintenance on AWS, two jobs of one function:
 *
 * - the full pass (every few minutes, `maintenanceInterval`): moves due delayed records, applies retention,
 *   restores missing replica copies, collects orphan objects after the grace period and purges deleted topics —
 *   the same core `Maintenance` pass the dev server runs on a timer;
 * - the delay timer (`{"job": "delayed"}`, every minute): moves delayed records when they fall due, for up to
 *   55 s (see lib/core/log/delay-timer.ts). Reads never move them: the fetch role is read-only.
 *
 * Both are safe to overlap with themselves, with each other and with producers.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { EmfMetrics } from '../lib/adapters/aws/emf-metrics';
import { openAwsHome } from '../lib/adapters/aws/home';
import { runDelayTimer } from '../lib/core/log/delay-timer';
import { createCore, type Core } from '../lib/core/create-core';
import type { MaintenanceReport } from '../lib/core/maintenance/maintenance';

const logger = new Logger({ serviceName: 'ferry-maintenance' });
/** Pass duration, retained and collected objects, delayed records, every group's lag: one flush per run. */
const metrics = new EmfMetrics({ Table: process.env.FERRY_TABLE ?? '' });

/** One home per container: a warm instance reuses its clients. */
let core: Promise<Core> | undefined;

export async function handler(
  event: { job?: string } | undefined,
  context: Context,
): Promise<MaintenanceReport | { delayedMoved: number }> {
  logger.addContext(context);
  try {
    const current = await (core ??= openAwsHome(process.env, { metrics }).then((home) => createCore(home.ctx))).catch((e) => {
      core = undefined;
      throw e;
    });
    if (event?.job === 'delayed') {
      const windowMs = Math.max(
        0,
        Math.min(Number(process.env.FERRY_DELAY_WINDOW_MS ?? 55_000), context.getRemainingTimeInMillis() - 5_000),
      );
      const delayedMoved = await runDelayTimer(current.log, { windowMs });
      logger.info('delay timer done', { delayedMoved });
      return { delayedMoved };
    }
    const { maintenance } = current;
    // Bounded: no topic is started in the last 30 s of the function's time; the next run resumes after the
    // last topic done. One run at a time (a lease a little longer than the function's timeout).
    const report = await maintenance.run({
      repair: 'presence',
      deadline: Date.now() + Math.max(0, context.getRemainingTimeInMillis() - 30_000),
      leaseMs: context.getRemainingTimeInMillis() + 10_000,
    });
    await maintenance.reportGroupLag();
    logger.info('maintenance pass done', { ...report });
    return report;
  } finally {
    metrics.flush();
  }
}
