/**
 * `Ferry`: one Ferry cluster on AWS — its object stores (S3), the metadata table (DynamoDB), the HTTP API v1
 * behind API Gateway with IAM (SigV4) on every route, and the Lambda functions that serve it, each with a role
 * that can do only what its routes need.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { FerryAlarms, type FerryAlarmsProps } from './alarms';
import { ferryMetric } from './metrics';
import { bucketStore, expressStore, standardStore, type ObjectStore } from './object-stores';
import { ACCESS, type FunctionRole } from './permissions';
import { API_STAGE, ROUTES, grantRoutes, type RouteGroup } from './routes';
import { Topic } from './topic';
import type { IFerryCluster, TopicOptions } from './topic-props';
import { validateProps } from './validation';
import {
  DEFAULT_ENTRIES,
  FERRY_RULES,
  FUNCTION_SETTINGS,
  ObjectStoreType,
  ROOT,
  type FerryLambdaEntries,
  type FerryProps,
} from './ferry-props';

/**
 * A Ferry cluster.
 *
 * @example
 * const ferry = new Ferry(this, 'Events', { objectStores: 2 });
 * const orders = ferry.addTopic('orders', { partitions: 12, replicationFactor: 2 });
 * orders.grantProduce(checkoutFn);
 */
export class Ferry extends Construct implements IFerryCluster {
  /** The metadata table: `pk` / `sk` strings, TTL on `ttl`, stream of new and old images. */
  readonly table: dynamodb.Table;
  /** The object stores, in store order (`s0`, `s1`, ...); their names are `FERRY_BUCKETS`. */
  readonly objectStores: readonly ObjectStore[];
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  /** The API's base URL, `https://{id}.execute-api.{region}.amazonaws.com/`. */
  readonly url: string;
  /** The functions serving the API, by route group. */
  readonly apiFunctions: Readonly<Record<RouteGroup, nodejs.NodejsFunction>>;
  readonly maintenanceFunction: nodejs.NodejsFunction;

  private readonly entries: Required<FerryLambdaEntries>;
  private readonly sizing: NonNullable<FerryProps['functions']>;
  private readonly logRetention: logs.RetentionDays;
  private readonly maintenanceInterval: Duration;
  private provider?: cr.Provider;
  private dispatcher?: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: FerryProps = {}) {
    super(scope, id);
    validateProps(`Ferry ${id}`, props, FERRY_RULES);
    this.entries = { ...DEFAULT_ENTRIES, ...props.lambdaEntries };
    this.sizing = props.functions ?? {};
    this.logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.maintenanceInterval = props.maintenanceInterval ?? Duration.minutes(5);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'ttl',
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Encrypted at rest with the AWS owned key (no KMS charge per request).
      encryption: dynamodb.TableEncryption.DEFAULT,
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    });

    this.objectStores = this.createStores(props, removalPolicy);

    const functions = {} as Record<RouteGroup, nodejs.NodejsFunction>;
    for (const group of ['produce', 'fetch', 'admin', 'groups'] as const) functions[group] = this.createFunction(group);
    this.apiFunctions = functions;

    [this.api, this.stage] = this.createApi(props);
    this.url = this.stage.url;

    this.addRoutes(functions);

    this.maintenanceFunction = this.createFunction('maintenance');
    this.schedule(this.maintenanceFunction);
  }

  /** Duration (ms) of the maintenance passes; as long as the interval: it falls behind. Maximum. */
  metricMaintenanceDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return ferryMetric('MaintenanceDuration', this.tableName, {}, props).attachTo(this);
  }

  /**
   * Alarms on group and push-consumer lag, dead letters, produce errors and maintenance falling behind.
   *
   * @example
   *   ferry.addAlarms({ topics: [orders], groups: [{ topic: orders, group: 'billing', maxLagSeconds: 300 }] });
   */
  addAlarms(props: Omit<FerryAlarmsProps, 'tableName' | 'maintenanceInterval'> = {}, id = 'Alarms'): FerryAlarms {
    return new FerryAlarms(this, id, { ...props, tableName: this.tableName, maintenanceInterval: this.maintenanceInterval });
  }

  get httpApiId(): string {
    return this.api.apiId;
  }

  get tableName(): string {
    return this.table.tableName;
  }

  get objectStoreCount(): number {
    return this.objectStores.length;
  }

  get singleZoneStores(): boolean {
    return this.objectStores.every((s) => s.singleZone);
  }

  /**
   * Declares a topic in this cluster; `name` is the topic name and the construct id.
   *
   * @example
   * const orders = ferry.addTopic('orders', { partitions: 12, retention: Duration.days(7) });
   */
  addTopic(name: string, options: TopicOptions = {}): Topic {
    return new Topic(this, name, { ...options, ferry: this, topicName: name });
  }

  /**
   * Lets `grantee` create, list and administer every topic: `execute-api:Invoke` on `POST /v1/topics`,
   * `GET /v1/topics`, and on every topic `GET`, `PATCH`, `DELETE /v1/topics/{t}`,
   * `GET /v1/topics/{t}/scheduled`, `DELETE /v1/topics/{t}/scheduled/{id}`.
   */
  grantAdmin(grantee: iam.IGrantable): iam.Grant {
    return grantRoutes(
      this,
      grantee,
      this.api.apiId,
      // The topic routes the admin function serves (it also serves group seek, which is a consumer's right).
      ROUTES.filter((r) => r.group === 'admin' && r.path.startsWith('/v1/topics')),
      '*',
      'Cluster administration covers every topic: the * stands for any topic name (and scheduled id) on the admin routes only.',
    );
  }

  /** @internal */
  _topicServiceToken(): string {
    if (!this.provider) {
      const onEvent = this.createFunction('topicResource');
      const providerLogs = new logs.LogGroup(this, 'TopicProviderLogs', {
        retention: this.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      this.provider = new cr.Provider(this, 'TopicProvider', { onEventHandler: onEvent, logGroup: providerLogs });
      const reason = 'The CDK Provider framework function: its role and runtime are managed by aws-cdk-lib.';
      for (const id of [
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(onEvent.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
        'AwsSolutions-L1',
      ]) {
        Validations.of(this.provider).acknowledge({ id: `AwsSolutions::${id}`, reason });
      }
    }
    return this.provider.serviceToken;
  }

  /**
   * The push-consumer dispatcher, made with the first consumer: woken by the produce function after a commit
   * finds no run live (`FERRY_DISPATCHER`, an asynchronous invoke), by itself when a run runs out of time with
   * work left, and every 5 minutes by a sweep for due retries and lost wake-ups (lambda/dispatcher.ts).
   * @internal
   */
  _dispatcher(): lambda.IFunction {
    if (!this.dispatcher) {
      const dispatcher = (this.dispatcher = this.createFunction('dispatcher'));
      new events.Rule(this, 'DispatcherSchedule', {
        description: 'Ferry: sweeps push consumers for due retries and lost wake-ups',
        schedule: events.Schedule.rate(Duration.minutes(5)),
        targets: [new targets.LambdaFunction(dispatcher, { retryAttempts: 0, event: events.RuleTargetInput.fromObject({ job: 'sweep' }) })],
      });
      // Whoever commits records wakes it: the produce function, the delay timer moving due records, and the
      // admin function resuming or seeking a consumer.
      for (const committer of [this.apiFunctions.produce, this.maintenanceFunction, this.apiFunctions.admin]) {
        committer.addEnvironment('FERRY_DISPATCHER', dispatcher.functionName);
        iam.Grant.addToPrincipal({ grantee: committer, actions: ['lambda:InvokeFunction'], resourceArns: [dispatcher.functionArn] });
      }
      // Its own successor: a policy of its own (not the role's default one the function depends on), so
      // naming the function's ARN makes no dependency cycle.
      new iam.Policy(this, 'DispatcherSelfInvoke', {
        roles: [dispatcher.role!],
        statements: [new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [dispatcher.functionArn] })],
      });
    }
    return this.dispatcher;
  }

  /** The HTTP API (IAM on every route) and its one stage, with access logs that never hold bodies or credentials. */
  private createApi(props: FerryProps): [apigw.HttpApi, apigw.HttpStage] {
    const api = new apigw.HttpApi(this, 'Api', {
      description: 'Ferry HTTP API v1',
      createDefaultStage: false,
      defaultAuthorizer: new HttpIamAuthorizer(),
    });
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: this.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stage = new apigw.HttpStage(this, 'Stage', {
      httpApi: api,
      stageName: API_STAGE,
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        // Who called what and how it ended; never bodies, headers or credentials.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTimeEpoch',
            caller: '$context.identity.userArn',
            sourceIp: '$context.identity.sourceIp',
            route: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            responseLength: '$context.responseLength',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    return [api, stage];
  }

  /** One API Gateway route per row of the route table, to the function serving it; Ferry's 404/405 for the rest. */
  private addRoutes(functions: Record<RouteGroup, nodejs.NodejsFunction>): void {
    const integrations = {} as Record<RouteGroup, HttpLambdaIntegration>;
    for (const group of Object.keys(functions) as RouteGroup[]) {
      // One invoke permission per function (for this API), not one per route.
      integrations[group] = new HttpLambdaIntegration(`${pascal(group)}Integration`, functions[group], {
        payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
        scopePermissionToRoute: false,
      });
    }
    for (const route of ROUTES) {
      this.api.addRoutes({
        path: route.path,
        methods: [apigw.HttpMethod[route.method]],
        integration: integrations[route.group],
      });
    }
    // Whatever no route matches gets Ferry's 404 / 405 (with Allow), not API Gateway's {"message":"Not Found"}.
    new apigw.HttpRoute(this, 'FallbackRoute', {
      httpApi: this.api,
      routeKey: apigw.HttpRouteKey.DEFAULT,
      integration: new HttpLambdaIntegration('FallbackIntegration', this.createFunction('fallback', 'fallback'), {
        payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
        scopePermissionToRoute: false,
      }),
      authorizer: new HttpIamAuthorizer(),
    });
  }

  /** Maintenance every `maintenanceInterval`, and the one-minute delay timer (lambda/maintenance.ts). */
  private schedule(maintenance: nodejs.NodejsFunction): void {
    new events.Rule(this, 'MaintenanceSchedule', {
      description: 'Ferry: runs retention, garbage collection and replica repair',
      schedule: events.Schedule.rate(this.maintenanceInterval),
      targets: [new targets.LambdaFunction(maintenance, { retryAttempts: 0 })],
    });
    // Reads never move due delayed records (the fetch role is read-only): a one-minute timer does, watching
    // each minute for up to 55 s and ending at once when nothing falls due (lambda/maintenance.ts).
    new events.Rule(this, 'DelayTimerSchedule', {
      description: 'Ferry: moves delayed records when they fall due',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [
        new targets.LambdaFunction(maintenance, {
          retryAttempts: 0,
          event: events.RuleTargetInput.fromObject({ job: 'delayed' }),
        }),
      ],
    });
  }
  private createStores(props: FerryProps, removalPolicy: RemovalPolicy): ObjectStore[] {
    if (props.buckets) return props.buckets.map(bucketStore);
    if (props.objectStoreType === ObjectStoreType.EXPRESS_ONE_ZONE) {
      return (props.availabilityZoneIds ?? []).map((az, i) => expressStore(this, `Store${i}`, { availabilityZoneId: az, removalPolicy }));
    }
    return Array.from({ length: props.objectStores ?? 1 }, (_, i) => {
      const store = standardStore(this, `Store${i}`, { removalPolicy, serverAccessLogsBucket: props.serverAccessLogsBucket });
      if (!props.serverAccessLogsBucket) {
        Validations.of(store.bucket).acknowledge({
          id: 'AwsSolutions::AwsSolutions-S1',
          reason:
            'One access log line per segment read or write would cost about as much as the data; CloudTrail data events or the serverAccessLogsBucket prop turn logging on.',
        });
      }
      return store;
    });
  }

  private createFunction(role: FunctionRole, handler = 'handler'): nodejs.NodejsFunction {
    const id = pascal(role);
    const settings = FUNCTION_SETTINGS[role];
    const logGroup = new logs.LogGroup(this, `${id}Logs`, { retention: this.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    // An explicit role without managed policies: logs to its own group, data access from permissions.ts.
    const fnRole = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${settings.description} (least privilege)`,
    });
    logGroup.grantWrite(fnRole);
    const fn = new nodejs.NodejsFunction(this, `${id}Function`, {
      entry: this.entries[role],
      handler,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: this.sizing[role]?.memorySize ?? settings.memorySize,
      reservedConcurrentExecutions: this.sizing[role]?.reservedConcurrentExecutions,
      timeout: settings.timeout,
      description: settings.description,
      role: fnRole,
      logGroup,
      environment: {
        FERRY_TABLE: this.table.tableName,
        FERRY_BUCKETS: this.objectStores.map((s) => s.bucketName).join(','),
        NODE_OPTIONS: '--enable-source-maps',
      },
      projectRoot: ROOT,
      depsLockFilePath: path.join(ROOT, 'package-lock.json'),
      bundling: {
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: 'node22',
        format: nodejs.OutputFormat.CJS,
        // The SDK v3 comes with the runtime. @node-rs/crc32 is a native module without an arm64 binary here:
        // left out, lib/core/codec/crc32c.ts falls back to the pure-JS CRC32C.
        externalModules: ['@aws-sdk/*', '@node-rs/crc32'],
      },
    });

    const access = ACCESS[role];
    if (access.table.length > 0)
      iam.Grant.addToPrincipal({ grantee: fnRole, actions: [...access.table], resourceArns: [this.table.tableArn] });
    for (const store of this.objectStores) store.grant(fnRole, access);

    Validations.of(fn).acknowledge({
      id: 'AwsSolutions::AwsSolutions-L1',
      reason: 'Pinned to Node.js 22 (TOOLCHAIN.md): the runtime the code is tested on; move with the toolchain, not with each release.',
    });
    return fn;
  }

  private acknowledgeOwnFindings(_accessLogs: logs.LogGroup): void {
    // Filled in from the cdk-nag report; each acknowledgement carries its reason.
  }
}

function pascal(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
