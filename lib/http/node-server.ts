/** Serves the app over node:http with timeouts and bounded sockets. */
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Hono } from 'hono';

export interface ServeOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Longest long-poll the app allows; the request timeout leaves room for it. */
  maxWaitMs: number;
  maxConnections?: number;
}

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export function startServer(app: Hono, options: ServeOptions): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: options.host, port: options.port, overrideGlobalObjects: false }) as Server;
    server.headersTimeout = 10_000;
    server.requestTimeout = options.maxWaitMs + 30_000;
    server.keepAliveTimeout = 5_000;
    server.maxHeadersCount = 100;
    server.maxConnections = options.maxConnections ?? 1024;
    server.once('error', reject);
    server.once('listening', () => {
      const { port } = server.address() as AddressInfo;
      const host = options.host.includes(':') ? `[${options.host}]` : options.host;
      resolve({
        server,
        url: `http://${host}:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
