/**
 * The `ferry` CLI.
 *   ferry dev [--port 8080] [--host 127.0.0.1] [--data ./.ferry] [--store DIR]...
 *   ferry topics create|list|describe|alter|delete · ferry produce <topic> · ferry consume <topic> --group g
 *   ferry groups list|describe|seek        (client commands: --url / FERRY_URL, --json; see lib/cli)
 */
import { Command, InvalidArgumentError } from 'commander';
import * as path from 'node:path';
import { registerClientCommands } from '../lib/cli';
import { exitWithError } from '../lib/cli/main';
import { version } from '../package.json';
import { startEmbedded } from '../lib/embedded';
import { readFileSync } from 'node:fs';
import { tokensFileSchema, type TokensFile } from '../lib/http/auth';
import { parseConfig, type FerryConfig } from '../lib/config';
import { tryItLines } from '../lib/dev-banner';
import { openLocalHome } from '../lib/adapters/local/home';
import { openAwsHome } from '../lib/adapters/aws/home';
import { createCore } from '../lib/core/create-core';
import { devLog, errorFields, type LogFormat } from '../lib/dev-log';

// A closed stdout (ferry dev | head) must not crash the server.
process.stdout.on('error', () => undefined);

const program = new Command();
program
  .name('ferry')
  .description('Ferry: a Kafka-style durable message log, serverless on AWS or embedded here.')
  .version(version, '-V, --version', 'print the version');

const port = (v: string) => {
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new InvalidArgumentError('a port is a number from 0 to 65535');
  return Number(v);
};

program
  .command('dev')
  .description('run the embedded server: files + SQLite, the same HTTP API as on AWS')
  .option('--port <port>', 'port to listen on (0 picks a free one)', port, 8080)
  .option('--host <host>', 'address to bind (keep 127.0.0.1 unless you add tokens)', '127.0.0.1')
  .option('--data <dir>', 'data directory (metadata, and the object store unless --store is given)', './.ferry')
  .option(
    '--store <dir>',
    'an object store directory (a replica failure domain); repeat for more',
    (v: string, prev: string[]) => [...prev, v],
    [] as string[],
  )
  .option('--tokens <file>', 'JSON file of bearer tokens with per-topic produce / consume / admin rights')
  .option(
    '--backend <backend>',
    'local (files + SQLite) or aws (S3 + DynamoDB named by FERRY_TABLE / FERRY_BUCKETS and AWS_* variables)',
    'local',
  )
  .option('--config <file>', 'ferry.config.json: topics to create and push consumers (handler modules, webhooks) to run')
  .option('--log-format <format>', 'text, or json: one JSON object a line with the fields of the Lambda logs', 'text')
  .option('--log-level <level>', 'info, or debug: also one line per request (method, path, status, milliseconds)', 'info')
  .action(
    async (opts: {
      port: number;
      host: string;
      data: string;
      store: string[];
      tokens?: string;
      config?: string;
      backend: string;
      logFormat: string;
      logLevel: string;
    }) => {
      if (opts.logLevel !== 'info' && opts.logLevel !== 'debug')
        throw new Error(`--log-level must be info or debug (got ${opts.logLevel})`);
      if (opts.backend !== 'local' && opts.backend !== 'aws') throw new Error(`--backend must be local or aws (got ${opts.backend})`);
      if (opts.logFormat !== 'text' && opts.logFormat !== 'json')
        throw new Error(`--log-format must be text or json (got ${opts.logFormat})`);
      const log = devLog(opts.logFormat as LogFormat);
      const json = opts.logFormat === 'json';
      const tokens = opts.tokens ? readTokens(opts.tokens) : undefined;
      const config = opts.config ? readConfig(opts.config) : undefined;
      if (!tokens && !['127.0.0.1', 'localhost', '::1'].includes(opts.host)) {
        console.warn(`warning: listening on ${opts.host} without --tokens: anyone who can reach it can read and write`);
      }
      // With emulator endpoints set, the table and buckets are created if missing; a real account is never changed.
      const home =
        opts.backend === 'aws' ? await openAwsHome(process.env, { create: Boolean(process.env.AWS_ENDPOINT_URL_DYNAMODB) }) : undefined;
      const ferry = await startEmbedded({
        home,
        tokens,
        config,
        configDir: opts.config ? path.dirname(path.resolve(opts.config)) : undefined,
        dataDir: opts.data,
        storeDirs: opts.store,
        host: opts.host,
        port: opts.port,
        onUnexpectedError: (e, route) => log.error('unexpected error', { route, error: errorFields(e) }),
        onWarning: (message, fields) => log.error(message, fields),
        onRequest: opts.logLevel === 'debug' ? (r) => log.info(`${r.method} ${r.path} ${r.status} ${r.ms} ms`, { ...r }) : undefined,
        onConsumerEvent: ({ kind, ...event }) =>
          log.error(
            kind === 'retry'
              ? `consumer ${event.consumer}: delivery failed, retrying`
              : `consumer ${event.consumer}: records dead-lettered`,
            event,
          ),
      });
      if (json) {
        log.info('Ferry is running', {
          url: ferry.url,
          backend: opts.backend,
          ...(opts.backend === 'local' ? { data: path.resolve(opts.data) } : {}),
        });
      } else {
        printBanner();
      }
      function printBanner(): void {
        const stores = opts.store.length ? opts.store.map((s) => path.resolve(s)).join(', ') : path.resolve(opts.data, 'store');
        console.log(`Ferry is running at ${ferry.url}`);
        if (opts.backend === 'aws') {
          console.log(`  table:   ${process.env.FERRY_TABLE}`);
          console.log(`  buckets: ${process.env.FERRY_BUCKETS}`);
        } else {
          console.log(`  data:   ${path.resolve(opts.data)}`);
          console.log(`  stores: ${stores}`);
        }
        for (const c of config?.consumers ?? []) {
          console.log(`  consumer: ${c.topic} → ${c.name} (${c.handler}), dead letters to ${c.deadLetterTopic}`);
        }
        console.log('');
        console.log('Try it:');
        const first = config?.topics[0];
        for (const l of tryItLines({
          url: ferry.url,
          tokens: Boolean(tokens),
          topic: first && { name: first.name, partitions: first.partitions },
        }))
          console.log(l);
        console.log('');
        console.log('Press Ctrl-C to stop.');
      }
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info(json ? 'stopping' : `\n${signal}: stopping…`, json ? { signal } : {});
        await ferry.close();
        log.info('Ferry stopped.');
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
      // Under `npx ferry dev` / `npm start`, npm does not pass SIGTERM on: it exits and leaves this process to
      // init. A server whose npm parent went away stops too (a process manager's stop works through npx).
      if (process.env.npm_command) {
        const parent = process.ppid;
        setInterval(() => {
          if (process.ppid !== parent) void stop('parent npm process exited');
        }, 500).unref();
      }
    },
  );

/** Reads a JSON file given on the command line, then checks it with `parse` (which lists every problem). */
function readJsonFile<T>(file: string, what: string, parse: (raw: unknown) => T): T {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read ${what} ${file}: ${(e as Error).message}`, { cause: e });
  }
  return parse(raw);
}

const readConfig = (file: string): FerryConfig => readJsonFile(file, 'config file', parseConfig);

const readTokens = (file: string): TokensFile =>
  readJsonFile(file, 'tokens file', (raw) => {
    const parsed = tokensFileSchema.safeParse(raw);
    if (parsed.success) return parsed.data;
    const problems = parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new Error(`tokens file ${file} is not valid:\n${problems.join('\n')}`);
  });

program
  .command('repair')
  .description('restore missing or damaged segment copies in every object store (run with the server stopped)')
  .option('--data <dir>', 'data directory', './.ferry')
  .option(
    '--store <dir>',
    'an object store directory; give the same list as to ferry dev',
    (v: string, prev: string[]) => [...prev, v],
    [] as string[],
  )
  .action(async (opts: { data: string; store: string[] }) => {
    const home = await openLocalHome({ dataDir: opts.data, storeDirs: opts.store });
    try {
      const { maintenance, topics: allTopics } = createCore(home.ctx);
      const topics = await allTopics.list();
      let repaired = 0;
      const lost: string[] = [];
      for (const [i, topic] of topics.entries()) {
        const n = await maintenance.repair(topic, (l) =>
          lost.push(
            `${topic.name} partition ${l.partition}, offsets ${l.baseOffset}..${l.baseOffset + BigInt(l.count) - 1n} (${l.objectKey})`,
          ),
        );
        repaired += n;
        console.log(`[${i + 1}/${topics.length}] ${topic.name}: ${n} cop${n === 1 ? 'y' : 'ies'} restored`);
      }
      console.log(`Repair done: ${repaired} cop${repaired === 1 ? 'y' : 'ies'} restored across ${topics.length} topic(s).`);
      if (lost.length) {
        console.error(`ferry: ${lost.length} batch(es) have no intact copy in any store (reads of them answer 500 data):`);
        for (const l of lost) console.error(`  ${l}`);
        console.error('Restore the store that held them from a backup, then run ferry repair again.');
        process.exitCode = 1;
      }
    } finally {
      await home.close();
    }
  });

registerClientCommands(program);

program.parseAsync(process.argv).catch(exitWithError);
