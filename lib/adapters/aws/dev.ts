/**
 * `ferry dev --backend aws`: the embedded HTTP server on the AWS adapters (kept apart from home.ts so the
 * Lambda bundles do not carry a node:http server).
 *
 * @example
 *   // FERRY_TABLE=ferry FERRY_BUCKETS=ferry-s0 AWS_ENDPOINT_URL_S3=http://127.0.0.1:4568 ...
 *   const dev = await startAwsDev({ port: 8080, create: true });
 */
import { Log } from '../../core/log';
import { createApp } from '../../http/app';
import { startServer } from '../../http/node-server';
import { openAwsHome, type AwsHome, type AwsHomeOptions } from './home';

export interface AwsDevOptions extends AwsHomeOptions {
  host?: string;
  port?: number;
  env?: Record<string, string | undefined>;
  onUnexpectedError?: (error: unknown, route: string) => void;
}

/** Serves the HTTP API on the AWS home named by `env` (default: process.env): emulators or a real account. */
export async function startAwsDev(options: AwsDevOptions = {}): Promise<{ url: string; log: Log; home: AwsHome; close(): Promise<void> }> {
  const home = await openAwsHome(options.env ?? process.env, options);
  try {
    const log = new Log(home.ctx);
    const app = createApp({ log, onUnexpectedError: options.onUnexpectedError });
    const server = await startServer(app, {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 8080,
      maxWaitMs: home.ctx.settings.limits.maxWaitMs,
    });
    return {
      url: server.url,
      log,
      home,
      async close() {
        await server.close();
        await home.close();
      },
    };
  } catch (e) {
    await home.close();
    throw e;
  }
}
