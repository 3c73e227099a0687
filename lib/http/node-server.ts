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
    // Requests node:http itself refuses (malformed framing, lying or duplicated Content-Length, bad header
    // bytes, oversized headers) still get the one error shape, then the connection closes.
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable || (err as { code?: string }).code === 'ECONNRESET') {
        socket.destroy();
        return;
      }
      const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
      const status = tooLarge ? 431 : 400;
      const body = JSON.stringify({
        error: tooLarge ? 'too_large' : 'invalid',
        message: tooLarge ? 'the request headers are too large' : `the request is not valid HTTP/1.1 (${err.code ?? 'parse error'})`,
        details: {},
      });
      socket.end(
        `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
          `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    });
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
