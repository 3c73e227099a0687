/**
 * The AWS home as AWS runs it, on this machine: the example stack's synthesized template deployed onto the
 * emulators — its table and buckets created in DynamoDB Local and s3rver, its functions run as pools of
 * single-request instances of their CDK bundles, its routes served by an API Gateway, every SDK call
 * authorised by the calling function's role as the template grants it, and DynamoDB's transaction conflicts.
 *
 *   test  ─►  API Gateway (routes, IAM)  ─►  Lambda pools (a process per instance, the bundles)
 *                                                 │ SigV4 key = the function
 *                          DynamoDB proxy (IAM, TransactionConflict) ─► DynamoDB Local
 *                          S3 proxy (IAM, directory-bucket rules)    ─► s3rver
 *                          Lambda Invoke API (IAM)                   ─► Lambda pools
 *
 * @example
 *   const aws = await startAwsHarness();
 *   await aws.deployTopics();                       // runs the topic custom resource function
 *   await fetch(`${aws.url}/v1/topics/orders`);     // through API Gateway → the admin function
 *   aws.stats();                                    // requests, denials, TransactionConflicts
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureTable } from '../../lib/adapters/aws/table';
import { awaitEmulators } from '../helpers/emulators';
import { startApiGateway } from './api-gateway';
import { startDynamoProxy } from './dynamodb-proxy';
import { ACCOUNT, REGION } from './intrinsics';
import { FunctionPool, type InvokeResult } from './lambda-pool';
import { startLambdaService } from './lambda-service';
import { Principals } from './principals';
import { startS3Proxy } from './s3-proxy';
import { readStack, type FunctionModel, type StackModel } from './stack-model';
import { synthesizeExample } from './synth';

const ROOT = path.join(__dirname, '..', '..');

export interface HarnessOptions {
  /** Extra environment per function logical-id prefix (test-only knobs, e.g. a shorter dispatch run). */
  env?: Record<string, Record<string, string>>;
  /** How long a transaction's items stay locked (see dynamodb-proxy.ts; default 25 ms). */
  transactionMs?: number;
  /** Bucket logical ids (or their prefixes) to run as S3 Express directory buckets. */
  directoryBuckets?: string[];
}

export type FerryRole = 'Produce' | 'Fetch' | 'Admin' | 'Groups' | 'Fallback' | 'Maintenance' | 'Dispatcher' | 'TopicResource';

export interface HarnessStats {
  apiRequests: number;
  dynamoRequests: number;
  s3Requests: number;
  lambdaApiRequests: number;
  /** Asynchronous invocations (`InvocationType: Event`) accepted by the Lambda Invoke API. */
  asyncInvocations: number;
  /** Every denial, by `function action`. */
  denials: Record<string, number>;
  transactionConflicts: number;
  writeConflicts: number;
  transactions: number;
  invocations: Record<string, { invocations: number; coldStarts: number; maxConcurrent: number; errors: number; throttles: number }>;
}

export interface AwsHarness {
  /** The API's base URL (no trailing slash). */
  url: string;
  /** The authorising proxies, for SDK clients of the tests' own (sign with a principal's access key). */
  endpoints: { dynamodb: string; s3: string; lambda: string };
  model: StackModel;
  principals: Principals;
  /** The Ferry function of a role. */
  fn(role: FerryRole): FunctionModel;
  /** Invokes a function as Lambda would (e.g. the scheduled maintenance run); throws on a function error. */
  invoke<T = unknown>(logicalId: string, event?: unknown): Promise<T>;
  /** Runs every topic custom resource's Create, as CloudFormation would on deploy. */
  deployTopics(): Promise<void>;
  stats(): HarnessStats;
  /** A function's pool of instances (to cap its concurrency as reserved concurrency would). */
  pool(logicalId: string): FunctionPool;
  /** The tail of the functions' own output (console, logs), for a failing test's message; `all`: everything. */
  logs(all?: boolean): string;
  close(): Promise<void>;
}

export async function startAwsHarness(options: HarnessOptions = {}): Promise<AwsHarness> {
  await awaitEmulators();
  const emulatorKey = process.env.AWS_ACCESS_KEY_ID ?? 'S3RVER';
  const { template, assemblyDir } = synthesizeExample();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-harness-'));
  const model = readStack(template, assemblyDir, path.join(work, 'inline'));

  // The stand-in for the Node.js runtime's own modules: the AWS SDK v3, and nothing else.
  const runtimeModules = path.join(work, 'runtime', 'node_modules');
  fs.mkdirSync(runtimeModules, { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules', '@aws-sdk'), path.join(runtimeModules, '@aws-sdk'));

  // "Deploy" the stateful resources, as CloudFormation would (with the emulators' own credentials).
  const dynamo = new DynamoDBClient({});
  const s3 = new S3Client({});
  const keySchema = new Map<string, string[]>();
  for (const t of model.tables) {
    await ensureTable(dynamo, t.name);
    const schema = template.Resources[t.logicalId].Properties.KeySchema as Array<{ AttributeName: string }>;
    keySchema.set(
      t.name,
      schema.map((k) => k.AttributeName),
    );
  }
  for (const b of model.buckets) await s3.send(new CreateBucketCommand({ Bucket: b.name }));
  dynamo.destroy();
  s3.destroy();

  const principals = new Principals();
  for (const f of model.functions.values()) {
    const role = f.roleArn.split('/').pop();
    principals.add({ accessKeyId: f.logicalId, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${f.name}`, statements: f.statements });
  }

  const dynamoProxy = await startDynamoProxy({
    target: process.env.AWS_ENDPOINT_URL_DYNAMODB!,
    principals,
    keySchema,
    emulatorKey,
    transactionMs: options.transactionMs,
  });
  const directory = new Set(
    model.buckets.filter((b) => b.directory || options.directoryBuckets?.some((id) => b.logicalId.startsWith(id))).map((b) => b.name),
  );
  const s3Proxy = await startS3Proxy({ target: process.env.AWS_ENDPOINT_URL_S3!, principals, emulatorKey, directoryBuckets: directory });

  const pools = new Map<string, FunctionPool>();
  const invoke = (id: string, event: string): Promise<InvokeResult> => {
    const pool = pools.get(id);
    if (!pool) throw new Error(`harness: no function ${id}`);
    return pool.invoke(event);
  };
  const lambdaService = await startLambdaService({ principals, functions: model.functions, invoke });
  const gateway = await startApiGateway({ apiId: model.apiId, routes: model.routes, principals, invoke });

  const logFile = path.join(work, 'functions.log');
  for (const f of model.functions.values()) {
    const extra = Object.entries(options.env ?? {})
      .filter(([prefix]) => f.logicalId.startsWith(prefix))
      .map(([, e]) => e);
    pools.set(
      f.logicalId,
      new FunctionPool(
        f,
        Object.assign(
          {
            AWS_REGION: REGION,
            AWS_DEFAULT_REGION: REGION,
            AWS_ACCESS_KEY_ID: f.logicalId,
            AWS_SECRET_ACCESS_KEY: 'harness-secret',
            AWS_LAMBDA_FUNCTION_NAME: f.name,
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
            AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
            AWS_ENDPOINT_URL_DYNAMODB: dynamoProxy.url,
            AWS_ENDPOINT_URL_S3: s3Proxy.url,
            AWS_ENDPOINT_URL_LAMBDA: lambdaService.url,
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
            NODE_PATH: runtimeModules,
            FERRY_HARNESS_EXECUTE_API: gateway.url,
          },
          ...extra,
        ),
        logFile,
      ),
    );
  }

  const fn = (role: FerryRole): FunctionModel => {
    const f = [...model.functions.values()].find((x) => x.logicalId.startsWith(`Ferry${role}Function`));
    if (!f) throw new Error(`harness: the template has no Ferry ${role} function`);
    return f;
  };

  const invokeOrThrow = async <T>(id: string, event: unknown = {}): Promise<T> => {
    const r = await invoke(id, JSON.stringify(event));
    if (!r.ok) throw new Error(`${id} failed: ${r.errorType}: ${r.errorMessage}\n--- function output ---\n${tail(logFile)}`);
    return JSON.parse(r.payload) as T;
  };

  return {
    url: gateway.url,
    endpoints: { dynamodb: dynamoProxy.url, s3: s3Proxy.url, lambda: lambdaService.url },
    model,
    principals,
    fn,
    invoke: invokeOrThrow,
    async deployTopics() {
      for (const t of model.topics) {
        // The Provider framework function is CDK's own code; the harness calls the user handler it wraps.
        const { ServiceToken, ...props } = t.properties;
        const provider = [...model.functions.values()].find((f) => f.arn === ServiceToken);
        const onEvent = [...model.functions.values()].find((f) => f.arn === provider?.env.USER_ON_EVENT_FUNCTION_ARN);
        if (!onEvent) throw new Error(`harness: no onEvent function behind ${t.logicalId}`);
        await invokeOrThrow(onEvent.logicalId, {
          RequestType: 'Create',
          ServiceToken,
          ResponseURL: 'https://cloudformation-custom-resource-response.example/',
          StackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/FerryExample/x`,
          RequestId: `create-${t.logicalId}`,
          LogicalResourceId: t.logicalId,
          ResourceType: 'Custom::FerryTopic',
          ResourceProperties: { ServiceToken, ...(asCloudFormationStrings(props) as Record<string, unknown>) },
        });
      }
    },
    stats() {
      const denials: Record<string, number> = {};
      for (const d of principals.denials) denials[`${d.principal} ${d.action}`] = (denials[`${d.principal} ${d.action}`] ?? 0) + 1;
      return {
        apiRequests: gateway.stats.requests,
        dynamoRequests: dynamoProxy.stats.requests,
        s3Requests: s3Proxy.stats.requests,
        lambdaApiRequests: lambdaService.stats.requests,
        asyncInvocations: lambdaService.stats.asyncInvocations,
        denials,
        transactionConflicts: dynamoProxy.stats.transactionConflicts,
        writeConflicts: dynamoProxy.stats.writeConflicts,
        transactions: dynamoProxy.stats.transactions,
        invocations: Object.fromEntries([...pools].filter(([, p]) => p.stats.invocations > 0).map(([id, p]) => [id, { ...p.stats }])),
      };
    },
    pool(id) {
      const p = pools.get(id);
      if (!p) throw new Error(`harness: no function ${id}`);
      return p;
    },
    logs: (all = false) => (all ? fs.readFileSync(logFile, 'utf8') : tail(logFile)),
    async close() {
      await Promise.all([...pools.values()].map((p) => p.close()));
      await Promise.all([gateway.close(), lambdaService.close(), dynamoProxy.close(), s3Proxy.close()]);
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
}

/** CloudFormation hands custom resources every scalar property as a string. */
function asCloudFormationStrings(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asCloudFormationStrings);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asCloudFormationStrings(v)]));
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').slice(-6000);
  } catch {
    return '(no output)';
  }
}
