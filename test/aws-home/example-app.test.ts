/**
 * The example stack's own functions (bin/app.ts) as a new user deploying it would run them: the producer
 * function loads with only the runtime's modules, signs with its own credentials and may append to its topic
 * (and nothing else); the push consumer gets batches.
 */
import { startAwsHarness, type AwsHarness } from './harness';

describe('the example stack (bin/app.ts) as AWS runs it', () => {
  let aws: AwsHarness;
  beforeAll(async () => {
    aws = await startAwsHarness();
    await aws.deployTopics();
  }, 120_000);
  afterAll(async () => aws?.close());

  const producer = () => [...aws.model.functions.values()].find((f) => f.logicalId.startsWith('Producer'))!;

  it('runs the producer function: it loads, signs as itself and appends its event to orders', async () => {
    const result = await aws.invoke<{ status: number; body: { records: Array<{ partition: number; offset: string }> } }>(
      producer().logicalId,
      {
        key: 'u1',
        value: { id: 1 },
      },
    );
    expect(result.status).toBe(200);
    expect(result.body.records).toEqual([{ partition: expect.any(Number), offset: '0' }]);
    const { records } = await (
      await fetch(`${aws.url}/v1/topics/orders/partitions/${result.body.records[0].partition}/records?offset=0`)
    ).json();
    expect(records.map((r: { key: unknown; value: unknown }) => [r.key, r.value])).toEqual([['u1', { id: 1 }]]);
  });

  it('lets the producer function append to orders only: its grant is denied anywhere else', () => {
    const allowed = aws.principals.authorize(aws.principals.get(producer().logicalId)!, [
      {
        action: 'execute-api:Invoke',
        resource: `arn:aws:execute-api:us-east-1:123456789012:${aws.model.apiId}/$default/POST/v1/topics/orders/records`,
      },
    ]);
    expect(allowed).toBeUndefined();
    const denied = aws.principals.authorize(aws.principals.get(producer().logicalId)!, [
      {
        action: 'execute-api:Invoke',
        resource: `arn:aws:execute-api:us-east-1:123456789012:${aws.model.apiId}/$default/POST/v1/topics/audit/records`,
      },
    ]);
    expect(denied?.decision).toBe('implicit-deny');
    aws.principals.denials.pop();
  });
});
