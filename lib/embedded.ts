/**
 * The embedded server (`ferry dev`): the core on files + SQLite, behind the same HTTP app as on AWS, with
 * maintenance on timers (delayed records every `delayPollMs`; retention, garbage collection and replica repair
 * every `maintenanceIntervalMs`).
 *
 * @example
 *   const ferry = await startEmbedded({ dataDir: './.ferry', port: 0 });
 *   await fetch(`${ferry.url}/v1/topics`);
 *   await ferry.close();
 */
import { openLocalHome, type LocalHomeOptions } from './adapters/local/home';
import { Log } from './core/log';
import { Maintenance } from './core/maintenance';
import { createApp } from './http/app';
import { TokenAuth, type TokensFile } from './http/auth';
import { startServer } from './http/node-server';

export interface EmbeddedOptions extends LocalHomeOptions {
  host?: string;
  port?: number;
  /** How often due delayed records are moved (default 50 ms). */
  delayPollMs?: number;
  /** How often retention, garbage collection and repair run (default 60 s; 0 turns them off). */
  maintenanceIntervalMs?: number;
  /** Bearer tokens with per-topic rights (see lib/http/auth.ts); none: no authentication. */
  tokens?: TokensFile;
  onUnexpectedError?: (error: unknown, route: string) => void;
}

export interface Embedded {
  url: string;
  log: Log;
  maintenance: Maintenance;
  close(): Promise<void>;
}

export async function startEmbedded(options: EmbeddedOptions): Promise<Embedded> {
  const home = await openLocalHome(options);
  try {
    const log = new Log(home.ctx);
    const maintenance = new Maintenance(log);
    const auth = options.tokens ? new TokenAuth(options.tokens) : undefined;
    const app = createApp({ log, auth, onUnexpectedError: options.onUnexpectedError });
    const server = await startServer(app, {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 8080,
      maxWaitMs: home.ctx.settings.limits.maxWaitMs,
    });
    const report = (e: unknown) => options.onUnexpectedError?.(e, 'maintenance');
    const loops = [
      every(options.delayPollMs ?? 50, () => maintenance.moveDue(), report),
      ...(options.maintenanceIntervalMs === 0
        ? []
        : [every(options.maintenanceIntervalMs ?? 60_000, () => maintenance.run({ repair: true }), report)]),
    ];
    return {
      url: server.url,
      log,
      maintenance,
      async close() {
        await Promise.all(loops.map((stop) => stop()));
        await server.close();
        await home.close();
      },
    };
  } catch (e) {
    await home.close();
    throw e;
  }
}

/** Runs `task` every `ms` (never overlapping itself); the returned function stops it and waits for a run. */
function every(ms: number, task: () => Promise<unknown>, onError: (e: unknown) => void): () => Promise<void> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = task()
      .catch(onError)
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, ms);
      });
  };
  timer = setTimeout(tick, ms);
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
