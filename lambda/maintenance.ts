/**
 * Scheduled maintenance on AWS (every few minutes): moves due delayed records, applies retention, restores
 * missing replica copies, collects orphan objects after the grace period and purges deleted topics — the same
 * core `Maintenance` pass the dev server runs on a timer. Safe to overlap with itself and with producers.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { EmfMetrics } from '../lib/adapters/aws/emf-metrics';
import { openAwsHome } from '../lib/adapters/aws/home';
import { Log } from '../lib/core/log';
import { Maintenance, type MaintenanceReport } from '../lib/core/maintenance';

const logger = new Logger({ serviceName: 'ferry-maintenance' });
/** Pass duration, retained and collected objects, delayed records, every group's lag: one flush per run. */
const metrics = new EmfMetrics({ Table: process.env.FERRY_TABLE ?? '' });

export async function handler(_event: unknown, context: Context): Promise<MaintenanceReport> {
  logger.addContext(context);
  try {
    const home = await openAwsHome(process.env, { metrics });
    const maintenance = new Maintenance(new Log(home.ctx));
    const report = await maintenance.run({ repair: true });
    await maintenance.reportGroupLag();
    logger.info('maintenance pass done', { ...report });
    return report;
  } finally {
    metrics.flush();
  }
}
