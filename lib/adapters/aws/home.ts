/**
 * The AWS home: the core on S3 buckets (one per failure domain) and one DynamoDB table, wired from the
 * environment the Lambda functions get (and that `ferry dev --backend aws` reads):
 *
 * - `FERRY_TABLE`: the DynamoDB table (see table.ts for its contract).
 * - `FERRY_BUCKETS`: comma-separated buckets; the first is object store `s0`, the next `s1`, and so on. Keep
 *   the order stable: index entries name replicas by store name.
 * - `FERRY_DISPATCHER` (optional): the dispatcher function's name; set on functions that commit records, so a
 *   commit to a topic with push consumers wakes a run when none is live (lib/core/consumers/wake.ts).
 * - the standard AWS variables: `AWS_REGION`, credentials, and `AWS_ENDPOINT_URL_S3` /
 *   `AWS_ENDPOINT_URL_DYNAMODB` to use other endpoints (emulators). Use `127.0.0.1`, not `localhost`, in an
 *   S3 endpoint so the SDK addresses buckets by path.
 *
 * @example
 *   const home = await openAwsHome({ FERRY_TABLE: 'ferry', FERRY_BUCKETS: 'ferry-a,ferry-b', AWS_REGION: 'eu-west-1' });
 *   const log = createCore(home.ctx).log;
 */
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { LambdaDispatcherWake } from './lambda-wake';
import type { CoreContext } from '../../core/context';
import { FerryError } from '../../protocol/errors';
import { makeSettings, type SettingsInput } from '../../core/settings';
import type { Clock } from '../../ports/clock';
import type { Ids } from '../../ports/ids';
import type { Metrics } from '../../ports/metrics';
import { randomIds, systemClock } from '../system';
import { DynamoDBMetadataStore } from './dynamodb-metadata-store';
import { S3ObjectStore } from './s3-object-store';
import { ensureTable } from './table';

/**
 * Lambda takes at most 6 MB (6 291 456 bytes) each way and API Gateway ends a request after 30 s:
 * - a request body travels escaped inside the API Gateway event, where valid JSON at most doubles (each quote,
 *   backslash or newline gains a backslash): 3 000 000 bytes stay under 6 MB with room for the event's headers;
 * - a fetch answer is capped by its size once escaped into the Lambda response (maxResponseBytes, ~5.5 MiB,
 *   leaving ~400 KB for the envelope), and reads at most 5 MiB of raw records;
 * - a long-poll waits at most 25 s.
 */
export const AWS_LIMITS = {
  maxRequestBytes: 3_000_000,
  maxFetchBytes: 5 * 1024 * 1024,
  maxResponseBytes: 5_800_000,
  maxWaitMs: 25_000,
} as const;

export interface AwsHomeOptions {
  settings?: SettingsInput;
  clock?: Clock;
  ids?: Ids;
  /** Create the table and buckets when missing (dev and emulators; in the cloud the CDK app owns them). */
  create?: boolean;
  s3?: S3Client;
  dynamo?: DynamoDBClient;
  /** Where the core's metrics go (the Lambda entries: EmfMetrics, flushed once per invocation). */
  metrics?: Metrics;
}

export interface AwsHome {
  ctx: CoreContext;
  stores: S3ObjectStore[];
  meta: DynamoDBMetadataStore;
  close(): Promise<void>;
}

export interface AwsEnv {
  table: string;
  buckets: string[];
}

/** Reads FERRY_TABLE and FERRY_BUCKETS, reporting every problem at once. */
export function readAwsEnv(env: Record<string, string | undefined>): AwsEnv {
  const problems: string[] = [];
  const table = env.FERRY_TABLE?.trim() ?? '';
  if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(table)) {
    problems.push(
      `FERRY_TABLE must name the DynamoDB table (3-255 characters from [a-zA-Z0-9_.-]); got ${JSON.stringify(env.FERRY_TABLE ?? '')}`,
    );
  }
  const buckets = (env.FERRY_BUCKETS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (buckets.length === 0) problems.push('FERRY_BUCKETS must list at least one S3 bucket (comma-separated; the first is store s0)');
  for (const b of buckets) {
    // General purpose and directory buckets (`name--azid--x-s3`) alike.
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b)) {
      problems.push(`FERRY_BUCKETS: ${JSON.stringify(b)} is not a valid bucket name`);
    }
  }
  if (new Set(buckets).size !== buckets.length) problems.push(`FERRY_BUCKETS names a bucket twice (${buckets.join(', ')})`);
  if (problems.length) throw new FerryError('invalid', `the AWS home is not configured: ${problems.join('; ')}`, { problems });
  return { table, buckets };
}

export async function openAwsHome(env: Record<string, string | undefined> = process.env, options: AwsHomeOptions = {}): Promise<AwsHome> {
  const { table, buckets } = readAwsEnv(env);
  // Unset: the SDK's own chain (AWS_REGION in its process environment, then the profile's region).
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
  // Endpoints from `env` too, so a caller's env object (not only process.env) can point at emulators.
  const s3 = options.s3 ?? new S3Client({ region, endpoint: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined });
  const dynamo =
    options.dynamo ?? new DynamoDBClient({ region, endpoint: env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL || undefined });
  if (options.create) {
    await ensureTable(dynamo, table);
    for (const bucket of buckets) await ensureBucket(s3, bucket);
  }
  const stores = buckets.map((bucket, i) => new S3ObjectStore({ name: `s${i}`, bucket, client: s3 }));
  const meta = new DynamoDBMetadataStore({ table, client: dynamo });
  const ctx: CoreContext = {
    meta,
    stores,
    clock: options.clock ?? systemClock,
    ids: options.ids ?? randomIds,
    metrics: options.metrics,
    ...(env.FERRY_DISPATCHER && {
      wake: new LambdaDispatcherWake(
        env.FERRY_DISPATCHER,
        new LambdaClient({ region, endpoint: env.AWS_ENDPOINT_URL_LAMBDA || env.AWS_ENDPOINT_URL || undefined }),
      ),
    }),
    settings: makeSettings({
      // Concurrent Lambdas race on hot partitions more than one process does: more commit attempts.
      commitAttempts: 20,
      ...options.settings,
      limits: { ...AWS_LIMITS, ...options.settings?.limits },
    }),
  };
  return {
    ctx,
    stores,
    meta,
    async close() {
      if (!options.s3) s3.destroy();
      if (!options.dynamo) dynamo.destroy();
    },
  };
}

async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((e: Error) => {
      if (e.name !== 'BucketAlreadyOwnedByYou') throw e;
    });
  }
}
