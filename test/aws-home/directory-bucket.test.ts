/**
 * S3 Express One Zone directory buckets refuse `ListObjectsV2` with `StartAfter`; the harness's S3 proxy does
 * too for a bucket it runs as a directory bucket. S3ObjectStore must page with continuation tokens, so garbage
 * collection and purge get past the first page of a topic's objects.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../lib/adapters/aws/s3-object-store';
import { ADMIN_KEY } from './principals';
import { startAwsHarness, type AwsHarness } from './harness';

describe('S3ObjectStore on an S3 Express directory bucket (no StartAfter)', () => {
  let aws: AwsHarness;
  let client: S3Client;
  let bucket: string;
  const keys = Array.from({ length: 230 }, (_, i) => `topics/t1/${String(i).padStart(20, '0')}.seg`);
  beforeAll(async () => {
    aws = await startAwsHarness({ directoryBuckets: ['FerryStore0'] });
    bucket = aws.model.buckets[0].name;
    client = new S3Client({
      endpoint: aws.endpoints.s3,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: ADMIN_KEY, secretAccessKey: 'x' },
    });
    const store = new S3ObjectStore({ name: 's0', bucket, client, directoryBucket: true });
    for (let i = 0; i < keys.length; i += 20)
      await Promise.all(keys.slice(i, i + 20).map((k) => store.putIfAbsent(k, new Uint8Array([1]))));
  }, 120_000);
  afterAll(async () => {
    client?.destroy();
    await aws?.close();
  });

  const listAll = async (store: S3ObjectStore, limit: number, from?: string) => {
    const got: string[] = [];
    let startAfter = from;
    for (let pages = 0; pages < 100; pages++) {
      const page = await store.list('topics/t1/', { startAfter, limit });
      got.push(...page.objects.map((o) => o.key));
      if (!page.next) return got;
      startAfter = page.next;
    }
    throw new Error('listing never ended');
  };

  it('lists every object in key order across pages, paging with continuation tokens', async () => {
    const store = new S3ObjectStore({ name: 's0', bucket, client, directoryBucket: true });
    expect(await listAll(store, 100)).toEqual(keys);
  });

  it('resumes after a key it did not hand out (another instance), skipping up to it', async () => {
    const store = new S3ObjectStore({ name: 's0', bucket, client, directoryBucket: true });
    expect(await listAll(store, 100, keys[149])).toEqual(keys.slice(150));
  });

  it('is what the proxy enforces: StartAfter on this bucket is refused as S3 Express refuses it', async () => {
    const plain = new S3ObjectStore({ name: 's0', bucket, client, directoryBucket: false });
    await expect(plain.list('topics/t1/', { startAfter: keys[10], limit: 10 })).rejects.toThrow(
      /StartAfter is not supported|InvalidArgument/,
    );
  });
});
