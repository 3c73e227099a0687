/**
 * Parity: the HTTP suite that runs against the embedded server runs, unchanged, against lambda/api.ts driven
 * by API Gateway HTTP API v2 events, on the AWS adapters over the emulators (DynamoDB Local, s3rver).
 */
import { awaitEmulators, freshBucket, freshTable } from '../helpers/emulators';
import { invokeThroughApiGateway } from '../helpers/api-gateway';
import { httpSuite } from './suite';

httpSuite('Lambda entry behind API Gateway (HTTP API v2 events) on S3 + DynamoDB emulators', async () => {
  await awaitEmulators();
  // What the CDK construct sets on the function.
  process.env.FERRY_TABLE = await freshTable();
  process.env.FERRY_BUCKETS = [await freshBucket(), await freshBucket()].join(',');
  const { handler } = await import('../../lambda/api');
  return {
    fetch: (path, init) => invokeThroughApiGateway(handler, new Request(`https://ferry0api.execute-api.us-east-1.amazonaws.com${path}`, init)),
    close: async () => undefined,
  };
});
