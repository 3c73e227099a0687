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
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { openLocalHome, type LocalHomeOptions } from './adapters/local/home';
import type { CoreContext } from './core/context';
import type { Log } from './core/log/log';
import { createCore } from './core/create-core';
import { Maintenance } from './core/maintenance/maintenance';
import { createApp, type AppOptions } from './http/app';
import { TokenAuth, type TokensFile } from './http/auth';
import { LocalInvoker } from './adapters/local/invokers';
import { configProblems, type FerryConfig } from './config';
import { Dispatcher } from './core/consumers/dispatcher';
import { ConsumerRunner } from './core/consumers/runner';
import { ConsumerRegistry } from './core/consumers/registry';
import type { ConsumerConfig } from './core/consumers/config';
import { FerryError } from './protocol/errors';
import { metaKeys } from './core/storage/keys';
import type { CreateTopicInput } from './core/log/topics';
import type { Invoker } from './ports/invoker';
import { startServer } from './http/node-server';
import { PrometheusMetrics } from './adapters/local/prometheus-metrics';
import { checkHealth, type HealthPart } from './ports/health';

/** Where the core runs: its context and how to close it (the local home by default; the AWS one for --backend aws). */
export interface Home {
  ctx: CoreContext;
  /** Checks each storage part for `GET /health` (default: a metadata read and a list of each store). */
  health?(): Promise<HealthPart[]>;
  close(): Promise<void>;
}

export interface EmbeddedOptions extends Partial<LocalHomeOptions> {
  /** An already opened home; without it the local home in `dataDir` is opened. */
  home?: Home;
  host?: string;
  port?: number;
  /** How often due delayed records are moved (default 50 ms). */
  delayPollMs?: number;
  /** How often retention, garbage collection and repair run (default 60 s; 0 turns them off). */
  maintenanceIntervalMs?: number;
  /** Topics to create if missing and push consumers to run (ferry.config.json). */
  config?: FerryConfig;
  /** Handler module paths in `config` are relative to this directory (default: the working directory). */
  configDir?: string;
  /** The invoker of push consumers (default: handler modules and webhooks). */
  invoker?: Invoker;
  /** Bearer tokens with per-topic rights (see lib/http/auth.ts); none: no authentication. */
  tokens?: TokensFile;
  onUnexpectedError?: (error: unknown, route: string) => void;
  /** A push consumer's failed delivery (retried later) or dead-lettered records, for the server's log. */
  onConsumerEvent?: (event: ConsumerLogEvent) => void;
  /** Every answered request (method, path, route, status, milliseconds), for a request log. */
  onRequest?: AppOptions['onRequest'];
  /** What the core warns of without failing a request (a replica fallback), for the server's log. */
  onWarning?: (message: string, fields: Record<string, unknown>) => void;
}

export interface ConsumerLogEvent {
  kind: 'retry' | 'dead-lettered';
  consumer: string;
  topic: string;
  partition: number;
  error: string;
  /** retry: the attempt that failed and when the next one runs. */
  attempts?: number;
  retryInMs?: number;
  /** dead-lettered: how many records, and where to. */
  records?: number;
  deadLetterTopic?: string;
}

export interface Embedded {
  url: string;
  log: Log;
  maintenance: Maintenance;
  consumers?: ConsumerRunner;
  close(): Promise<void>;
}

export async function startEmbedded(options: EmbeddedOptions): Promise<Embedded> {
  const metrics = new PrometheusMetrics();
  const home: Home = options.home ?? (await openLocalHome({ ...options, metrics, dataDir: options.dataDir ?? './.ferry' }));
  home.ctx.metrics ??= metrics;
  if (options.onWarning) home.ctx.warnings ??= { warn: options.onWarning };
  try {
    const { log, maintenance } = createCore(home.ctx);
    const consumers = options.config ? await applyConfig(log, options.config, options) : undefined;
    const auth = options.tokens ? new TokenAuth(options.tokens) : undefined;
    const ops = {
      health: () => (home.health ? home.health() : genericHealth(home.ctx)),
      metrics: async () => {
        await maintenance.reportGroupLag(); // group lag is computed when it is asked for
        return metrics.render();
      },
    };
    const app = createApp({ log, auth, onUnexpectedError: options.onUnexpectedError, ops, onRequest: options.onRequest });
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
      consumers,
      async close() {
        await consumers?.stop();
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

/**
 * Checks the config against the server and the handlers, then creates its topics (and consumers' dead-letter
 * topics) if missing and starts its consumers. Every problem is reported at once, before anything is created.
 */
async function applyConfig(log: Log, config: FerryConfig, options: EmbeddedOptions): Promise<ConsumerRunner> {
  const invoker = options.invoker ?? new LocalInvoker(options.configDir ?? process.cwd());
  const existing = async (name: string) =>
    log.topics.get(name).catch((e) => {
      if (e instanceof FerryError && e.kind === 'not_found') return undefined;
      throw e;
    });
  const problems: string[] = [];
  for (const [i, t] of config.topics.entries()) {
    const found = await existing(t.name);
    if (found && found.partitionCount !== t.partitions) {
      problems.push(
        `topics.${i}: topic "${t.name}" has ${found.partitionCount} partitions on the server, the config says ${t.partitions} ` +
          (t.partitions > found.partitionCount
            ? `(add them with: ferry topics alter ${t.name} --partitions ${t.partitions}, or change the config)`
            : `(partitions cannot be removed: change the config to ${found.partitionCount})`),
      );
    }
  }
  for (const [i, c] of config.consumers.entries()) {
    const inConfig = config.topics.some((t) => t.name === c.topic);
    if (!inConfig && !(await existing(c.topic))) {
      problems.push(`consumers.${i}: consumer "${c.name}" reads topic "${c.topic}", which is neither in the config nor on the server`);
    }
    await invoker.check?.(c.handler).catch((e: Error) => problems.push(`consumers.${i}.handler: ${e.message}`));
  }
  if (problems.length) throw configProblems(problems);
  const ensure = async (t: CreateTopicInput) => (await existing(t.name)) ?? (await log.topics.create(t));
  for (const t of config.topics) await ensure(t);
  for (const c of config.consumers) {
    const topic = await log.topics.get(c.topic);
    await ensure({ name: c.deadLetterTopic, partitions: topic.partitionCount, replicationFactor: topic.replicationFactor });
  }
  // The config's consumers are the registry's on the local home (what `GET /v1/topics/{t}/consumers` lists);
  // a home given from outside keeps its own registry (on AWS, the stack's).
  if (!options.home) await syncRegistry(new ConsumerRegistry(log.ctx), config.consumers);
  // The lease owner of this server's push consumers. On the local home the data directory's lock lets one
  // process in at a time, so an owner named after the directory is never shared by two live servers: a
  // restart (after kill -9) takes over its own leases at once instead of waiting 30 s for them to expire.
  // A home given from outside (the AWS backend: many servers, one table) keeps an owner per process.
  const owner = options.home
    ? `dev-${process.pid}`
    : `dev-${createHash('sha256')
        .update(path.resolve(options.dataDir ?? './.ferry'))
        .digest('hex')
        .slice(0, 16)}`;
  const runner = new ConsumerRunner(
    log,
    config.consumers.map((c) => new Dispatcher(log, invoker, c, owner)),
    {
      onError: (e, name) => options.onUnexpectedError?.(e, `consumer ${name}`),
      onOutcome: (d, partition, out) => {
        const base = { consumer: d.config.name, topic: d.config.topic, partition, error: out.error };
        options.onConsumerEvent?.(
          out.kind === 'failed'
            ? { ...base, kind: 'retry', attempts: out.attempts, retryInMs: Math.max(0, out.retryAt - log.ctx.clock.now()) }
            : { ...base, kind: 'dead-lettered', records: out.count, deadLetterTopic: d.config.deadLetterTopic },
        );
      },
    },
  );
  await runner.start();
  return runner;
}

/** Makes the registry hold exactly `consumers` (topics no longer in the config lose theirs). */
async function syncRegistry(registry: ConsumerRegistry, consumers: ConsumerConfig[]): Promise<void> {
  const byTopic = new Map<string, ConsumerConfig[]>();
  for (const c of await registry.list()) byTopic.set(c.topic, []);
  for (const c of consumers) byTopic.set(c.topic, [...(byTopic.get(c.topic) ?? []), c]);
  for (const [topic, list] of byTopic) await registry.replaceForTopic(topic, list);
}

/** Any home: the metadata answers a read, every store a list. */
function genericHealth(ctx: CoreContext): Promise<HealthPart[]> {
  return checkHealth([
    ['metadata', () => ctx.meta.get(metaKeys.homePk, metaKeys.storesSk)],
    ...ctx.stores.map((s): [string, () => Promise<unknown>] => [`store ${s.name}`, () => s.list('health/', { limit: 1 })]),
  ]);
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
