/**
 * An HTTP proxy in front of a Ferry server that holds chosen answers back: the request reaches the server at
 * once, its answer waits. Tests use it to force an interleaving (an answer read before a write, delivered
 * after it) that real timing produces only sometimes.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DelayingProxy {
  url: string;
  close(): Promise<void>;
}

/** `delayFor(method, path)` says how long to hold that answer back (0: pass it through). */
export async function startDelayingProxy(target: string, delayFor: (method: string, path: string) => number): Promise<DelayingProxy> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers.set(k, v);
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      const hold = delayFor(req.method ?? 'GET', (req.url ?? '/').split('?')[0]);
      fetch(new URL(req.url ?? '/', target), { method: req.method, headers, body })
        .then(async (answer) => {
          const bytes = Buffer.from(await answer.arrayBuffer());
          if (hold > 0) await new Promise((r) => setTimeout(r, hold));
          const out: Record<string, string> = {};
          answer.headers.forEach((v, k) => {
            if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection' && k !== 'content-encoding') out[k] = v;
          });
          res.writeHead(answer.status, { ...out, 'content-length': String(bytes.length) });
          res.end(bytes);
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
