/** Which invoke failures are the handler's (counted toward maxRetries) and which mean it was never reached. */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LambdaInvoker, notRun } from '../../lib/adapters/aws/lambda-invoker';
import { WebhookInvoker } from '../../lib/adapters/local/invokers';
import { InvokeUnavailableError } from '../../lib/ports/invoker';
import { LambdaClient } from '@aws-sdk/client-lambda';

const event = { records: [] };

describe('WebhookInvoker', () => {
  let server: http.Server;
  let url: string;
  let answer: { status: number; headers?: Record<string, string> };
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(answer.status, answer.headers).end('{}'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('treats 429 and 503 as not reached, honouring Retry-After', async () => {
    answer = { status: 429, headers: { 'retry-after': '2' } };
    const e = await new WebhookInvoker().invoke(url, event).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvokeUnavailableError);
    expect((e as InvokeUnavailableError).retryAfterMs).toBe(2000);
    answer = { status: 503 };
    await expect(new WebhookInvoker().invoke(url, event)).rejects.toBeInstanceOf(InvokeUnavailableError);
  });

  it("treats a 500 as the handler's failure", async () => {
    answer = { status: 500 };
    const e = await new WebhookInvoker().invoke(url, event).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(InvokeUnavailableError);
  });

  it('treats a refused connection as not reached', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(new WebhookInvoker().invoke(`http://127.0.0.1:${port}/`, event)).rejects.toBeInstanceOf(InvokeUnavailableError);
  });
});

describe('LambdaInvoker', () => {
  it('classifies SDK errors: throttles, 5xx and no answer are retried; a denial is a failure', () => {
    const sdk = (name: string, status?: number, fault?: string) =>
      Object.assign(new Error(name), { name, $fault: fault, $metadata: status === undefined ? {} : { httpStatusCode: status } });
    expect(notRun(sdk('TooManyRequestsException', 429, 'client'))).toBe(true);
    expect(notRun(sdk('ServiceException', 500, 'server'))).toBe(true);
    expect(notRun(sdk('ResourceConflictException', 502, 'server'))).toBe(true);
    expect(notRun(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(notRun(sdk('AccessDeniedException', 403, 'client'))).toBe(false);
    expect(notRun(sdk('ResourceNotFoundException', 404, 'client'))).toBe(false);
  });

  it('turns an unreachable Lambda endpoint into InvokeUnavailableError (real SDK)', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const client = new LambdaClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      maxAttempts: 1,
    });
    await expect(new LambdaInvoker(client).invoke('consumer', event)).rejects.toBeInstanceOf(InvokeUnavailableError);
    client.destroy();
  });
});
