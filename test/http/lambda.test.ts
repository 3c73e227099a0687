/**
 * Parity: the HTTP suite that runs against the embedded server runs, unchanged, against lambda/api.ts driven
 * by API Gateway HTTP API v2 events, on the AWS adapters over the emulators (DynamoDB Local, s3rver). Reads
 * never move due delayed records, so the maintenance function's delay timer runs beside it, as its one-minute
 * schedule runs it on AWS (with a short window here).
 */
import { awaitEmulators, freshBucket, freshTable } from '../helpers/emulators';
import { invokeThroughApiGateway, lambdaContext } from '../helpers/api-gateway';
import { httpSuite } from './suite';

httpSuite('Lambda entry behind API Gateway (HTTP API v2 events) on S3 + DynamoDB emulators', async () => {
  await awaitEmulators();
  // What the CDK construct sets on the function.
  process.env.FERRY_TABLE = await freshTable();
  process.env.FERRY_BUCKETS = [await freshBucket(), await freshBucket()].join(',');
  process.env.FERRY_DELAY_WINDOW_MS = '1000';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN'; // the timer logs each run at INFO
  const { handler } = await import('../../lambda/api');
  const maintenance = await import('../../lambda/maintenance');
  let running = true;
  const timer = (async () => {
    while (running) {
      await maintenance.handler({ job: 'delayed' }, lambdaContext('ferry-maintenance')).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200)); // the next "minute"
    }
  })();
  return {
    fetch: (path, init) =>
      invokeThroughApiGateway(handler, new Request(`https://ferry0api.execute-api.us-east-1.amazonaws.com${path}`, init)),
    close: async () => {
      running = false;
      await timer;
    },
  };
});
