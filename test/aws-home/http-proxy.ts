/** Small node:http helpers shared by the proxies: read a body, forward a request, answer. */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export interface Forwarded {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Sends the request on to `target` (an http://host:port) and buffers the answer. */
export function forward(target: string, req: IncomingMessage, headers: Record<string, unknown>, body: Buffer): Promise<Forwarded> {
  const url = new URL(target);
  return new Promise((resolve, reject) => {
    const out = request(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.url,
        headers: { ...headers, host: url.host, 'content-length': String(body.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    out.on('error', reject);
    out.end(body);
  });
}

export function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer | string,
): void {
  const clean = Object.fromEntries(
    Object.entries(headers).filter(([k, v]) => v !== undefined && !['content-length', 'transfer-encoding', 'connection'].includes(k)),
  );
  res.writeHead(status, { ...clean, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

/** Listens on 127.0.0.1 at a free port; resolves with the base URL. */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  onError: (e: unknown) => void,
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    handler(req, res).catch((e: unknown) => {
      onError(e);
      if (!res.headersSent) send(res, 500, { 'content-type': 'text/plain' }, `harness proxy error: ${(e as Error).message}`);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
