/**
 * Scheduled maintenance on AWS (every few minutes): moves due delayed records, applies retention, restores
 * missing replica copies, collects orphan objects after the grace period and purges deleted topics — the same
 * core `Maintenance` pass the dev server runs on a timer. Safe to overlap with itself and with producers.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { openAwsHome } from '../lib/adapters/aws/home';
import { Log } from '../lib/core/log';
import { Maintenance, type MaintenanceReport } from '../lib/core/maintenance';

const logger = new Logger({ serviceName: 'ferry-maintenance' });

export async function handler(_event: unknown, context: Context): Promise<MaintenanceReport> {
  logger.addContext(context);
  const home = await openAwsHome(process.env);
  const report = await new Maintenance(new Log(home.ctx)).run({ repair: true });
  logger.info('maintenance pass done', { ...report });
  return report;
}
