/**
 * The object stores of a Ferry cluster: S3 buckets, one per replica failure domain. Segments are immutable and
 * live under `topics/`; nothing here expires them by age, because an age rule would delete committed data
 * (orphans are the maintenance job's to collect).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3express from 'aws-cdk-lib/aws-s3express';
import { Construct } from 'constructs';
import { acknowledgeWildcardResources, policyOwner } from './nag';
import { S3_ACTIONS, type DataAccess } from './permissions';

/** Every segment key starts with this prefix (DESIGN.md §3: `topics/{topicId}/{id}.seg`). */
export const SEGMENT_PREFIX = 'topics/';

const SEGMENT_WILDCARD_REASON =
  'Segment objects get new time-ordered keys on every produce; the grant is limited to the topics/ prefix and to the actions in permissions.ts.';

/** Incomplete multipart uploads are aborted after this long; they are never part of a committed segment. */
const ABORT_INCOMPLETE_UPLOADS_AFTER = Duration.days(1);

/** One object store as the functions see it: a bucket name for `FERRY_BUCKETS` and a way to grant access. */
export interface ObjectStore {
  /** The bucket name (a directory bucket's full `name--azid--x-s3` name). */
  readonly bucketName: string;
  /** True when the store lives in a single Availability Zone (S3 Express One Zone). */
  readonly singleZone: boolean;
  /** Grants `grantee` exactly the object actions in `access` under `topics/`. */
  grant(grantee: iam.IGrantable, access: DataAccess): void;
}

export interface StandardStoreOptions {
  readonly removalPolicy: RemovalPolicy;
  readonly serverAccessLogsBucket?: s3.IBucket;
}

/** An S3 Standard bucket (already spread over three or more AZs by S3) with the security baseline. */
export function standardStore(scope: Construct, id: string, options: StandardStoreOptions): ObjectStore & { bucket: s3.Bucket } {
  const bucket = new s3.Bucket(scope, id, {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    encryption: s3.BucketEncryption.S3_MANAGED,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    // Segments are never overwritten, so versions would only keep deleted (expired) data alive.
    versioned: false,
    lifecycleRules: [{ id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOADS_AFTER }],
    removalPolicy: options.removalPolicy,
    // CloudFormation cannot delete a bucket that holds objects: DESTROY must empty it first.
    autoDeleteObjects: options.removalPolicy === RemovalPolicy.DESTROY,
    serverAccessLogsBucket: options.serverAccessLogsBucket,
    serverAccessLogsPrefix: options.serverAccessLogsBucket ? `ferry/${id}/` : undefined,
  });
  return { bucket, ...bucketStore(bucket) };
}

/** Any existing bucket (for example one in another region) used as an object store. */
export function bucketStore(bucket: s3.IBucket): ObjectStore {
  return {
    bucketName: bucket.bucketName,
    singleZone: false,
    grant(grantee, access) {
      const actions = access.objects.flatMap((kind) => S3_ACTIONS[kind]);
      if (actions.length > 0) {
        const resourceArns = [bucket.arnForObjects(`${SEGMENT_PREFIX}*`)];
        iam.Grant.addToPrincipal({ grantee, actions, resourceArns });
        const owner = policyOwner(grantee);
        if (owner) acknowledgeWildcardResources(owner, resourceArns, SEGMENT_WILDCARD_REASON);
      }
      if (access.list) {
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['s3:ListBucket'],
          // No s3:prefix condition: S3 evaluates ListBucket without a prefix when it decides 404 vs 403 on a read.
          resourceArns: [bucket.bucketArn],
        });
      }
      const key = bucket.encryptionKey;
      if (key && access.objects.includes('read')) key.grantDecrypt(grantee);
      if (key && access.objects.includes('write')) key.grantEncryptDecrypt(grantee);
    },
  };
}

export interface ExpressStoreOptions {
  /** The Availability Zone ID (`use1-az4`, not `us-east-1a`) that holds the directory bucket. */
  readonly availabilityZoneId: string;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * An S3 Express One Zone directory bucket in one AZ. Directory buckets always block public access and
 * encrypt (SSE-S3 here). Their IAM model is session based: `s3express:CreateSession` on the bucket, with
 * `ReadOnly` sessions for roles that only read. A `ReadWrite` session may also delete, so on express stores
 * the produce role's "cannot delete" holds only in Ferry's code, not in IAM.
 */
export function expressStore(
  scope: Construct,
  id: string,
  options: ExpressStoreOptions,
): ObjectStore & { bucket: s3express.CfnDirectoryBucket } {
  const bucket = new s3express.CfnDirectoryBucket(scope, id, {
    dataRedundancy: 'SingleAvailabilityZone',
    locationName: options.availabilityZoneId,
    bucketEncryption: {
      serverSideEncryptionConfiguration: [{ serverSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
    },
    lifecycleConfiguration: {
      rules: [
        {
          id: 'abort-incomplete-multipart-uploads',
          status: 'Enabled',
          abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_INCOMPLETE_UPLOADS_AFTER.toDays() },
        },
      ],
    },
  });
  bucket.applyRemovalPolicy(options.removalPolicy);
  return {
    bucket,
    bucketName: bucket.ref,
    singleZone: true,
    grant(grantee, access) {
      if (access.objects.length === 0 && !access.list) return;
      const readOnly = !access.objects.includes('write') && !access.objects.includes('delete');
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3express:CreateSession'],
        resourceArns: [bucket.attrArn],
        conditions: readOnly ? { StringEquals: { 's3express:SessionMode': 'ReadOnly' } } : undefined,
      });
    },
  };
}
