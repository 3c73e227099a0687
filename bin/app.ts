/**
 * The example Ferry stack: one cluster, two topics, a small producer function allowed to append to one of
 * them, and a push consumer of it. `npx cdk synth` / `npx cdk deploy` run this file (cdk.json); cdk-nag AwsSolutions checks every
 * synth and fails it on any unacknowledged finding.
 */
import * as path from 'node:path';
import { App, CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { Ferry, type FerryLambdaEntries } from '../lib/constructs';

export interface FerryExampleStackProps extends StackProps {
  /** Entry files of the Ferry functions (tests use a fixture). @default - the files in `lambda/` */
  readonly lambdaEntries?: FerryLambdaEntries;
}

// The producer function's code: lambda/example-producer.ts, bundled with its SigV4 signer (the runtime ships
// @aws-sdk/*, not the @smithy/* modules an inline function would need).
const PRODUCER_ENTRY = path.join(__dirname, '..', 'lambda', 'example-producer.ts');

// The push consumer: gets {records: [{topic, partition, offset, key, value, headers, timestamp}]} batches.
// It logs offsets only (never values) and reports no failures.
const CONSUMER_CODE = `
exports.handler = async (event) => {
  const r = event.records;
  console.log(JSON.stringify({ partition: r[0] && r[0].partition, from: r[0] && r[0].offset, count: r.length, oldest: r[0] && r[0].timestamp, at: Date.now() }));
  return { batchItemFailures: [] };
};
`;

export class FerryExampleStack extends Stack {
  readonly ferry: Ferry;

  constructor(scope: Construct, id: string, props: FerryExampleStackProps = {}) {
    super(scope, id, { description: 'Ferry example: a serverless Kafka-style log (HTTP API v1 + S3 + DynamoDB)', ...props });

    this.ferry = new Ferry(this, 'Ferry', { lambdaEntries: props.lambdaEntries });
    const orders = this.ferry.addTopic('orders', {
      partitions: 6,
      retention: Duration.days(7),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const audit = this.ferry.addTopic('audit', {
      partitions: 1,
      retention: Duration.days(30),
      retentionBytes: 10 * 1024 ** 3,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const producer = this.exampleFunction('Producer', {
      description: 'Ferry example: appends its event to the orders topic',
      entry: PRODUCER_ENTRY,
      timeout: Duration.seconds(10),
      environment: { FERRY_URL: this.ferry.url, FERRY_TOPIC: orders.topicName },
    });
    orders.grantProduce(producer);

    // A push consumer: the dispatcher invokes it with batches of orders, in order per partition, at most
    // 50 records a second; records that fail 3 retries go to the orders-shipping-dlq topic.
    const shipping = this.exampleFunction('Shipping', {
      description: 'Ferry example: a push consumer of the orders topic',
      code: CONSUMER_CODE,
      timeout: Duration.seconds(30),
    });
    orders.addConsumer('shipping', { handler: shipping, batchSize: 100, maxRecordsPerSecond: 50, maxRetries: 3 });

    new CfnOutput(this, 'Url', { value: this.ferry.url, description: 'Ferry HTTP API v1 base URL (SigV4, service execute-api)' });
    new CfnOutput(this, 'TableName', { value: this.ferry.tableName });
    new CfnOutput(this, 'ProducerFunctionName', { value: producer.functionName });
    new CfnOutput(this, 'Topics', { value: [orders.topicName, audit.topicName].join(',') });
  }

  /** A small inline Node.js 22 function with its own role and a one-week log group. */
  private exampleFunction(
    id: string,
    props: { description: string; code?: string; entry?: string; timeout: Duration; environment?: Record<string, string> },
  ): lambda.Function {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: logs.RetentionDays.ONE_WEEK,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    const common = {
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout,
      role,
      logGroup,
      environment: props.environment,
    };
    const fn = props.entry
      ? new nodejs.NodejsFunction(this, id, {
          ...common,
          entry: props.entry,
          handler: 'handler',
          projectRoot: path.join(__dirname, '..'),
          depsLockFilePath: path.join(__dirname, '..', 'package-lock.json'),
          bundling: { minify: true, target: 'node22', format: nodejs.OutputFormat.CJS, externalModules: ['@aws-sdk/*'] },
        })
      : new lambda.Function(this, id, { ...common, handler: 'index.handler', code: lambda.Code.fromInline(props.code ?? '') });
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions::AwsSolutions-L1',
      reason: 'Pinned to Node.js 22 like the Ferry functions (TOOLCHAIN.md).',
    });
    return fn;
  }
}

/** Adds the example stack to `app` and turns cdk-nag AwsSolutions on for the whole app. */
export function buildExampleApp(app: App, props: FerryExampleStackProps = {}): FerryExampleStack {
  const stack = new FerryExampleStack(app, 'FerryExample', props);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}

if (require.main === module) {
  const app = new App();
  buildExampleApp(app);
  app.synth();
}
