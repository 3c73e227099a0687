/**
 * Each function's role, as the synthesized template grants it, tested both ways through the authorising
 * proxies: a call the function needs passes, a call it must not make is denied with the service's own error
 * (DynamoDB 400 AccessDeniedException, S3 403 AccessDenied, Lambda 403 AccessDeniedException).
 */
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { startAwsHarness, type AwsHarness, type FerryRole } from './harness';

type Call =
  | 'GetItem'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'Scan'
  | 'TransactDelete'
  | 'GetObject'
  | 'PutObject'
  | 'DeleteObject'
  | 'ListBucket';

/** What each function needs (it must pass) and what it must never do (it must be denied). */
const ROLES: Array<{ role: FerryRole; needs: Call[]; never: Call[] }> = [
  // The produce path never deletes (results live in overwritten slots): no DeleteItem, as on the table today.
  {
    role: 'Produce',
    needs: ['GetItem', 'PutItem', 'UpdateItem', 'PutObject', 'GetObject', 'ListBucket'],
    never: ['DeleteItem', 'TransactDelete', 'DeleteObject', 'Scan'],
  },
  {
    role: 'Fetch',
    needs: ['GetItem', 'GetObject', 'ListBucket'],
    never: ['PutItem', 'UpdateItem', 'DeleteItem', 'TransactDelete', 'PutObject', 'DeleteObject'],
  },
  { role: 'Admin', needs: ['GetItem', 'PutItem', 'DeleteItem', 'TransactDelete'], never: ['PutObject', 'DeleteObject', 'Scan'] },
  { role: 'Groups', needs: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'], never: ['GetObject', 'PutObject', 'ListBucket', 'Scan'] },
  { role: 'Fallback', needs: [], never: ['GetItem', 'PutItem', 'GetObject', 'ListBucket'] },
  {
    role: 'Maintenance',
    needs: ['GetItem', 'PutItem', 'DeleteItem', 'Scan', 'GetObject', 'PutObject', 'DeleteObject', 'ListBucket'],
    never: [],
  },
  { role: 'Dispatcher', needs: ['GetItem', 'PutItem', 'GetObject', 'PutObject'], never: ['DeleteObject', 'Scan'] },
  { role: 'TopicResource', needs: ['GetItem', 'PutItem', 'DeleteItem'], never: ['PutObject', 'DeleteObject'] },
];

describe('each function has exactly the rights its template role grants (both ways)', () => {
  let aws: AwsHarness;
  let table: string;
  let bucket: string;
  beforeAll(async () => {
    aws = await startAwsHarness();
    table = aws.model.tables[0].name;
    bucket = aws.model.buckets[0].name;
  }, 120_000);
  afterAll(async () => aws?.close());

  const clientsFor = (accessKeyId: string) => {
    const credentials = { accessKeyId, secretAccessKey: 'harness-secret' };
    return {
      dynamo: new DynamoDBClient({ endpoint: aws.endpoints.dynamodb, region: 'us-east-1', credentials, maxAttempts: 1 }),
      s3: new S3Client({ endpoint: aws.endpoints.s3, region: 'us-east-1', credentials, forcePathStyle: true, maxAttempts: 1 }),
    };
  };
  const key = (sk: string) => ({ pk: { S: 'harness-probe' }, sk: { S: sk } });

  async function attempt(accessKeyId: string, call: Call): Promise<{ ok: boolean; name?: string; status?: number }> {
    const { dynamo, s3 } = clientsFor(accessKeyId);
    const k = `topics/probe/${accessKeyId}.seg`;
    const run: Record<Call, () => Promise<unknown>> = {
      GetItem: () => dynamo.send(new GetItemCommand({ TableName: table, Key: key('a') })),
      PutItem: () => dynamo.send(new PutItemCommand({ TableName: table, Item: { ...key(accessKeyId), v: { N: '1' } } })),
      UpdateItem: () =>
        dynamo.send(
          new UpdateItemCommand({
            TableName: table,
            Key: key(accessKeyId),
            UpdateExpression: 'SET v = :v',
            ExpressionAttributeValues: { ':v': { N: '2' } },
          }),
        ),
      DeleteItem: () => dynamo.send(new DeleteItemCommand({ TableName: table, Key: key(`${accessKeyId}-gone`) })),
      Scan: () => dynamo.send(new ScanCommand({ TableName: table, Limit: 1 })),
      // A transaction is authorised action by action: its Delete needs dynamodb:DeleteItem.
      TransactDelete: () =>
        dynamo.send(new TransactWriteItemsCommand({ TransactItems: [{ Delete: { TableName: table, Key: key(`${accessKeyId}-tx`) } }] })),
      GetObject: () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'topics/probe/missing.seg' })),
      PutObject: () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: 'x' })),
      DeleteObject: () => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: k })),
      ListBucket: () => s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'topics/' })),
    };
    try {
      await run[call]();
      return { ok: true };
    } catch (e) {
      const err = e as { name: string; $metadata?: { httpStatusCode?: number } };
      // A GET of a missing key by a role that may list answers 404: the call itself was allowed.
      if (call === 'GetObject' && err.name === 'NoSuchKey') return { ok: true };
      return { ok: false, name: err.name, status: err.$metadata?.httpStatusCode };
    } finally {
      dynamo.destroy();
      s3.destroy();
    }
  }

  const idOf = (role: FerryRole) => aws.fn(role).logicalId;

  describe.each(ROLES)('$role function', ({ role, needs, never }) => {
    it.each(needs.length ? needs : ['(none)' as Call])('may %s', async (call) => {
      if ((call as string) === '(none)') return expect(needs).toEqual([]); // a function that needs no data access
      expect(await attempt(idOf(role), call)).toEqual({ ok: true });
    });
    it.each(never.length ? never : ['(none)' as Call])('is denied %s, as the service answers a denial', async (call) => {
      if ((call as string) === '(none)') return expect(never).toEqual([]); // maintenance is the one role with every data right
      const result = await attempt(idOf(role), call);
      const s3Call = ['GetObject', 'PutObject', 'DeleteObject', 'ListBucket'].includes(call);
      expect(result).toEqual(
        s3Call ? { ok: false, name: 'AccessDenied', status: 403 } : { ok: false, name: 'AccessDeniedException', status: 400 },
      );
    });
  });

  it('lets the dispatcher invoke the push consumer it serves, and no other function', async () => {
    const lambda = new LambdaClient({
      endpoint: aws.endpoints.lambda,
      region: 'us-east-1',
      credentials: { accessKeyId: aws.fn('Dispatcher').logicalId, secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    const shipping = [...aws.model.functions.values()].find((f) => f.logicalId.startsWith('Shipping'))!;
    const ok = await lambda.send(new InvokeCommand({ FunctionName: shipping.arn, Payload: JSON.stringify({ records: [] }) }));
    expect(ok.StatusCode).toBe(200);
    await expect(lambda.send(new InvokeCommand({ FunctionName: aws.fn('Admin').arn, Payload: '{}' }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 403 },
    });
    lambda.destroy();
  });
});
