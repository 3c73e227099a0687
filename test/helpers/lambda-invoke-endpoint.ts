/**
 * A local endpoint that speaks Lambda's Invoke API (POST /2015-03-31/functions/{name}/invocations) and runs a
 * real handler module, so LambdaInvoker is exercised through the unmodified AWS SDK.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = (event: unknown) => unknown;

export async function startLambdaEndpoint(
  functions: Record<string, Handler>,
): Promise<{ url: string; calls: string[]; close(): Promise<void> }> {
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(req.url ?? '');
      const fn = m && functions[decodeURIComponent(m[1])];
      if (req.method !== 'POST' || !fn) {
        res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' });
        res.end(JSON.stringify({ Type: 'User', message: `Function not found: ${m?.[1]}` }));
        return;
      }
      calls.push(decodeURIComponent(m[1]));
      try {
        const result = await fn(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' });
        res.end(JSON.stringify(result ?? null));
      } catch (e) {
        res.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' });
        res.end(JSON.stringify({ errorType: 'Error', errorMessage: (e as Error).message }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, calls, close: () => new Promise((r) => server.close(() => r())) };
}
