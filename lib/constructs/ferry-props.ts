/** `Ferry`'s props, their rule table, and the defaults of its functions. */
import * as path from 'node:path';
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { FunctionRole } from './permissions';
import { durationRule, integerRule, type Rule } from './validation';

/** What the object stores are made of. */
export enum ObjectStoreType {
  /** S3 Standard buckets: each already spans three or more AZs. */
  STANDARD = 'standard',
  /** S3 Express One Zone directory buckets, one per AZ in `availabilityZoneIds`: lower latency, single-AZ each. */
  EXPRESS_ONE_ZONE = 'express-one-zone',
}

/** The entry file of each Ferry function, relative paths resolved from the current directory. */
export interface FerryLambdaEntries {
  /** @default lambda/api.ts */ readonly produce?: string;
  /** @default lambda/api.ts */ readonly fetch?: string;
  /** @default lambda/api.ts */ readonly admin?: string;
  /** @default lambda/api.ts */ readonly groups?: string;
  /** The catch-all route's function (export `fallback`). @default lambda/api.ts */ readonly fallback?: string;
  /** @default lambda/maintenance.ts */ readonly maintenance?: string;
  /** @default lambda/dispatcher.ts */ readonly dispatcher?: string;
  /** @default lambda/topic-resource.ts */ readonly topicResource?: string;
}

export interface FerryProps {
  /**
   * Object stores (replica failure domains); a topic's replicationFactor can be at most this.
   * @default 1, or the number of `availabilityZoneIds` for express stores
   */
  readonly objectStores?: number;
  /** @default ObjectStoreType.STANDARD */
  readonly objectStoreType?: ObjectStoreType;
  /** For `EXPRESS_ONE_ZONE`: one distinct AZ ID (`use1-az4`) per store. */
  readonly availabilityZoneIds?: string[];
  /**
   * Existing buckets to use as the object stores instead of creating them (for example buckets in other
   * regions, one per failure domain). Ferry only adds grants to them.
   * @default - Ferry creates the stores
   */
  readonly buckets?: s3.IBucket[];
  /**
   * What happens to the table and the buckets Ferry created when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /** Where S3 server access logs of the created standard buckets go. @default - no server access logs */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /** Retention of the functions' and the API's log groups. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Steady-state requests per second and burst for the whole API stage. @default - API Gateway's account limits */
  readonly throttle?: apigw.ThrottleSettings;
  /** How often the maintenance job (retention, garbage collection, replica repair) runs. @default Duration.minutes(5) */
  readonly maintenanceInterval?: Duration;
  /** Override the functions' entry files (tests and custom builds). @default - the files in `lambda/` */
  readonly lambdaEntries?: FerryLambdaEntries;
  /**
   * Memory and reserved concurrency per function, e.g. `{ fetch: { memorySize: 256 }, produce: { reservedConcurrentExecutions: 50 } }`
   * (reserved concurrency caps what one route may take from the account's pool, and guarantees it).
   * @default - the sizes in FUNCTION_SETTINGS, no reserved concurrency
   */
  readonly functions?: Partial<Record<FunctionRole, FunctionSizing>>;
}

export interface FunctionSizing {
  /** MB, 128 to 10 240. */
  readonly memorySize?: number;
  /** 0 to 1 000 000 (0 stops the function). */
  readonly reservedConcurrentExecutions?: number;
}

export const MAX_OBJECT_STORES = 16;
export const AZ_ID = /^[a-z0-9]+-az[0-9]+$/;
export const ROOT = path.join(__dirname, '..', '..');
export const DEFAULT_ENTRIES: Required<FerryLambdaEntries> = {
  produce: path.join(ROOT, 'lambda', 'api.ts'),
  fetch: path.join(ROOT, 'lambda', 'api.ts'),
  admin: path.join(ROOT, 'lambda', 'api.ts'),
  groups: path.join(ROOT, 'lambda', 'api.ts'),
  fallback: path.join(ROOT, 'lambda', 'api.ts'),
  maintenance: path.join(ROOT, 'lambda', 'maintenance.ts'),
  dispatcher: path.join(ROOT, 'lambda', 'dispatcher.ts'),
  topicResource: path.join(ROOT, 'lambda', 'topic-resource.ts'),
};

/** Size and time limits per function. API routes stop at 30 s, API Gateway's integration limit. */
export const FUNCTION_SETTINGS: Record<FunctionRole, { memorySize: number; timeout: Duration; description: string }> = {
  produce: { memorySize: 1024, timeout: Duration.seconds(30), description: 'Ferry: produce routes' },
  // Long polls spend most of their billed time waiting, not computing: half the memory halves their cost.
  fetch: { memorySize: 512, timeout: Duration.seconds(30), description: 'Ferry: fetch routes (long poll)' },
  admin: { memorySize: 512, timeout: Duration.seconds(30), description: 'Ferry: topic admin routes' },
  groups: { memorySize: 512, timeout: Duration.seconds(30), description: 'Ferry: consumer group routes' },
  fallback: { memorySize: 256, timeout: Duration.seconds(10), description: 'Ferry: answers requests no route matches' },
  maintenance: { memorySize: 1024, timeout: Duration.minutes(5), description: 'Ferry: retention, garbage collection, repair' },
  dispatcher: { memorySize: 1024, timeout: Duration.minutes(15), description: 'Ferry: pushes records to consumers' },
  topicResource: { memorySize: 512, timeout: Duration.minutes(2), description: 'Ferry: Custom::FerryTopic handler' },
};

export const FERRY_RULES: Rule<FerryProps>[] = [
  integerRule('objectStores', (p) => p.objectStores, 1, MAX_OBJECT_STORES),
  ...(['produce', 'fetch', 'admin', 'groups', 'fallback', 'maintenance', 'dispatcher', 'topicResource'] as const).flatMap((role) => [
    integerRule<FerryProps>(`functions.${role}.memorySize`, (p) => p.functions?.[role]?.memorySize, 128, 10_240),
    integerRule<FerryProps>(
      `functions.${role}.reservedConcurrentExecutions`,
      (p) => p.functions?.[role]?.reservedConcurrentExecutions,
      0,
      1_000_000,
    ),
  ]),
  (p) =>
    p.buckets && (p.objectStores !== undefined || p.objectStoreType !== undefined || p.availabilityZoneIds)
      ? 'buckets replaces objectStores, objectStoreType and availabilityZoneIds; give either buckets or those'
      : undefined,
  (p) =>
    p.buckets && (p.buckets.length < 1 || p.buckets.length > MAX_OBJECT_STORES)
      ? `buckets must hold from 1 to ${MAX_OBJECT_STORES} buckets; received ${p.buckets.length}`
      : undefined,
  (p) =>
    p.objectStoreType !== ObjectStoreType.EXPRESS_ONE_ZONE && p.availabilityZoneIds
      ? `availabilityZoneIds applies only to objectStoreType EXPRESS_ONE_ZONE; received objectStoreType ${p.objectStoreType ?? 'STANDARD (default)'}`
      : undefined,
  (p) => {
    if (p.objectStoreType !== ObjectStoreType.EXPRESS_ONE_ZONE) return undefined;
    const azs = p.availabilityZoneIds ?? [];
    if (azs.length < 2) {
      return `objectStoreType EXPRESS_ONE_ZONE needs availabilityZoneIds with at least 2 distinct AZ IDs (one AZ is one failure domain: use STANDARD); received ${JSON.stringify(azs)}`;
    }
    return undefined;
  },
  (p) => {
    const azs = (p.availabilityZoneIds ?? []).filter((az) => !Token.isUnresolved(az));
    const bad = azs.filter((az) => !AZ_ID.test(az));
    return bad.length > 0
      ? `availabilityZoneIds must be AZ IDs such as "use1-az4" (not AZ names such as "us-east-1a"); received ${JSON.stringify(bad)}`
      : undefined;
  },
  (p) => {
    const azs = (p.availabilityZoneIds ?? []).filter((az) => !Token.isUnresolved(az));
    return new Set(azs).size !== azs.length ? `availabilityZoneIds must be distinct; received ${JSON.stringify(azs)}` : undefined;
  },
  (p) =>
    p.availabilityZoneIds && p.objectStores !== undefined && p.objectStores !== p.availabilityZoneIds.length
      ? `objectStores must equal the number of availabilityZoneIds (${p.availabilityZoneIds.length}); received ${p.objectStores}`
      : undefined,
  (p) => (p.removalPolicy === RemovalPolicy.SNAPSHOT ? `removalPolicy must be RETAIN or DESTROY; received ${p.removalPolicy}` : undefined),
  durationRule('maintenanceInterval', (p) => p.maintenanceInterval, Duration.minutes(1), Duration.days(1)),
];
