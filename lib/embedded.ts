/**
 * The embedded server (`ferry dev`): the core on files + SQLite, behind the same HTTP app as on AWS.
 *
 * @example
 *   const ferry = await startEmbedded({ dataDir: './.ferry', port: 0 });
 *   await fetch(`${ferry.url}/v1/topics`);
 *   await ferry.close();
 */
import { openLocalHome, type LocalHomeOptions } from './adapters/local/home';
import { Log } from './core/log';
import { createApp } from './http/app';
import { startServer } from './http/node-server';

export interface EmbeddedOptions extends LocalHomeOptions {
  host?: string;
  port?: number;
  onUnexpectedError?: (error: unknown, route: string) => void;
}

export interface Embedded {
  url: string;
  log: Log;
  close(): Promise<void>;
}

export async function startEmbedded(options: EmbeddedOptions): Promise<Embedded> {
  const home = await openLocalHome(options);
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
