import { CfnParameter, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  Ferry,
  FerryPropsError,
  ObjectStoreType,
  StartingPosition,
  Topic,
  type ConsumerProps,
  type TopicOptions,
} from '../../lib/constructs';
import { fixtureEntries, statementsOf, templateStack } from './helpers';

function cluster(objectStores = 1): { stack: Stack; ferry: Ferry } {
  const stack = templateStack();
  return { stack, ferry: new Ferry(stack, 'Ferry', { lambdaEntries: fixtureEntries, objectStores }) };
}

function fn(stack: Stack, id: string): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
}

/** The execute-api ARNs a role may invoke, rendered as `METHOD path`. */
function invokableRoutes(template: Template, stack: Stack, role: iam.IRole): string[] {
  return statementsOf(template, stack, role)
    .filter((s) => [s.Action].flat().includes('execute-api:Invoke'))
    .flatMap((s) => [s.Resource].flat())
    .map((arn: any) => {
      const parts = arn['Fn::Join'][1] as unknown[];
      const tail = parts[parts.length - 1] as string; // "/$default/POST/v1/topics/orders/records"
      const [, stage, method, ...rest] = tail.split('/');
      expect(stage).toBe('$default');
      return `${method} /${rest.join('/')}`;
    })
    .sort();
}

describe('Topic', () => {
  test('GIVEN a Ferry WHEN a topic is added THEN a Custom::FerryTopic carries its settings, retained by default', () => {
    const { stack, ferry } = cluster(2);
    ferry.addTopic('orders', { partitions: 12, replicationFactor: 2, retention: Duration.days(3), retentionBytes: 1_000_000 });
    const template = Template.fromStack(stack);
    template.hasResource('Custom::FerryTopic', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        ServiceToken: Match.anyValue(),
        name: 'orders',
        partitions: 12,
        replicationFactor: 2,
        retentionMs: 3 * 24 * 3600 * 1000,
        retentionBytes: 1_000_000,
        removalPolicy: 'retain',
        consumers: Match.absent(),
      },
    });
    // The Provider framework's function plus the topic handler join the six cluster functions.
    template.resourceCountIs('AWS::Lambda::Function', 8);
  });

  test('GIVEN defaults WHEN a topic is added THEN 1 partition, replication 1, 7 days, no size cap', () => {
    const { stack, ferry } = cluster();
    const t = ferry.addTopic('audit');
    expect(t.partitionCount).toBe(1);
    Template.fromStack(stack).hasResourceProperties('Custom::FerryTopic', {
      name: 'audit',
      partitions: 1,
      replicationFactor: 1,
      retentionMs: 604_800_000,
      retentionBytes: -1,
    });
  });

  test('GIVEN removalPolicy DESTROY WHEN synthesized THEN the topic is deleted with the construct', () => {
    const { stack, ferry } = cluster();
    ferry.addTopic('scratch', { removalPolicy: RemovalPolicy.DESTROY });
    Template.fromStack(stack).hasResource('Custom::FerryTopic', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ removalPolicy: 'destroy' }),
    });
  });

  test('GIVEN two topics WHEN synthesized THEN they share one provider', () => {
    const { stack, ferry } = cluster();
    ferry.addTopic('a');
    ferry.addTopic('b');
    const template = Template.fromStack(stack);
    template.resourceCountIs('Custom::FerryTopic', 2);
    const tokens = Object.values(template.findResources('Custom::FerryTopic')).map((r: any) => JSON.stringify(r.Properties.ServiceToken));
    expect(new Set(tokens).size).toBe(1);
  });

  describe('grants', () => {
    test("GIVEN two topics WHEN a producer is granted on one THEN it may invoke only that topic's produce route and POST /v1/producers", () => {
      const { stack, ferry } = cluster();
      const orders = ferry.addTopic('orders');
      ferry.addTopic('orders2');
      const producer = fn(stack, 'Producer');
      const grant = orders.grantProduce(producer);
      expect(grant.success).toBe(true);
      const template = Template.fromStack(stack);
      expect(invokableRoutes(template, stack, producer.role!)).toEqual(['POST /v1/producers', 'POST /v1/topics/orders/records']);
      // Nothing else: no other statement than execute-api:Invoke on those two ARNs.
      const all = statementsOf(template, stack, producer.role!);
      expect(all).toHaveLength(1);
      expect(all[0].Action).toBe('execute-api:Invoke');
      expect(all[0].Effect).toBe('Allow');
    });

    test('GIVEN a topic WHEN a consumer is granted THEN it may read that topic only, use no group, not produce or administer', () => {
      const { stack, ferry } = cluster();
      const orders = ferry.addTopic('orders');
      const reader = fn(stack, 'Reader');
      orders.grantConsume(reader);
      expect(invokableRoutes(Template.fromStack(stack), stack, reader.role!)).toEqual([
        'GET /v1/topics/orders',
        'GET /v1/topics/orders/partitions/*/records',
      ]);
    });

    test("GIVEN a consumer granted groups WHEN synthesized THEN it may use those groups only, never another team's", () => {
      const { stack, ferry } = cluster();
      const orders = ferry.addTopic('orders');
      const reader = fn(stack, 'Reader');
      orders.grantConsume(reader, { groups: ['billing', 'audit-*'] });
      expect(invokableRoutes(Template.fromStack(stack), stack, reader.role!)).toEqual([
        'DELETE /v1/groups/audit-*',
        'DELETE /v1/groups/audit-*/members/*',
        'DELETE /v1/groups/billing',
        'DELETE /v1/groups/billing/members/*',
        'GET /v1/groups',
        'GET /v1/groups/audit-*',
        'GET /v1/groups/audit-*/offsets',
        'GET /v1/groups/billing',
        'GET /v1/groups/billing/offsets',
        'GET /v1/topics/orders',
        'GET /v1/topics/orders/partitions/*/records',
        'POST /v1/groups/audit-*/members',
        'POST /v1/groups/audit-*/members/*/fetch',
        'POST /v1/groups/audit-*/members/*/heartbeat',
        'POST /v1/groups/audit-*/offsets',
        'POST /v1/groups/audit-*/seek',
        'POST /v1/groups/billing/members',
        'POST /v1/groups/billing/members/*/fetch',
        'POST /v1/groups/billing/members/*/heartbeat',
        'POST /v1/groups/billing/offsets',
        'POST /v1/groups/billing/seek',
      ]);
    });

    test('fails if a granted group id is not a group id pattern', () => {
      const { stack, ferry } = cluster();
      const orders = ferry.addTopic('orders');
      expect(() => orders.grantConsume(fn(stack, 'Reader'), { groups: ['a/b', 'ok'] })).toThrow(
        /groups must be group ids .* received \["a\/b"\]/,
      );
    });

    test('GIVEN a topic WHEN an admin is granted THEN it may alter, delete and manage scheduled records of that topic only', () => {
      const { stack, ferry } = cluster();
      const orders = ferry.addTopic('orders');
      const admin = fn(stack, 'Admin');
      orders.grantAdmin(admin);
      expect(invokableRoutes(Template.fromStack(stack), stack, admin.role!)).toEqual([
        'DELETE /v1/topics/orders',
        'DELETE /v1/topics/orders/scheduled/*',
        'GET /v1/topics/orders/consumers',
        'GET /v1/topics/orders/consumers/*',
        'GET /v1/topics/orders/scheduled',
        'PATCH /v1/topics/orders',
        'POST /v1/topics/orders/consumers/*/pause',
        'POST /v1/topics/orders/consumers/*/resume',
        'POST /v1/topics/orders/consumers/*/seek',
      ]);
    });

    test('GIVEN an imported topic WHEN a producer is granted THEN the ARN names the given API and topic', () => {
      const stack = templateStack();
      const imported = Topic.fromTopicAttributes(stack, 'Orders', { topicName: 'orders', httpApiId: 'abc123' });
      const role = new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      imported.grantProduce(role);
      Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: [
            {
              Action: 'execute-api:Invoke',
              Effect: 'Allow',
              Resource: Match.arrayWith([
                {
                  'Fn::Join': [
                    '',
                    [
                      'arn:',
                      { Ref: 'AWS::Partition' },
                      ':execute-api:eu-west-1:111111111111:abc123/$default/POST/v1/topics/orders/records',
                    ],
                  ],
                },
              ]),
            },
          ],
        },
      });
      expect(imported.topicName).toBe('orders');
    });
  });

  describe('metrics', () => {
    test('GIVEN a topic WHEN metricRecordsProduced THEN Ferry namespace, Table and Topic dimensions, Sum', () => {
      const { stack, ferry } = cluster();
      const m = ferry.addTopic('orders').metricRecordsProduced({ period: Duration.minutes(1) });
      expect(m.namespace).toBe('Ferry');
      expect(m.metricName).toBe('RecordsProduced');
      expect(m.statistic).toBe('Sum');
      expect(m.period.toSeconds()).toBe(60);
      expect(Object.keys(m.dimensions!).sort()).toEqual(['Table', 'Topic']);
      expect(m.dimensions!.Topic).toBe('orders');
      expect(stack.resolve(m.dimensions!.Table)).toEqual({ Ref: stack.getLogicalId(ferry.table.node.defaultChild as any) });
    });

    test('GIVEN a topic WHEN the other metricXxx are asked for THEN each names its metric', () => {
      const { ferry } = cluster();
      const t = ferry.addTopic('orders');
      expect(
        [t.metricBytesProduced(), t.metricRecordsFetched(), t.metricBytesFetched(), t.metric('Custom')].map((m) => m.metricName),
      ).toEqual(['BytesProduced', 'RecordsFetched', 'BytesFetched', 'Custom']);
    });
  });

  describe('addConsumer', () => {
    test('GIVEN a topic WHEN a consumer is added THEN its definition is recorded and the dispatcher may invoke exactly that handler', () => {
      const { stack, ferry } = cluster();
      const orders = ferry.addTopic('orders', { partitions: 4 });
      const dlq = ferry.addTopic('orders-email-dlq');
      const email = fn(stack, 'Email');
      orders.addConsumer('email', {
        handler: email,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(2),
        startingPosition: StartingPosition.LATEST,
        maxRetries: 5,
        maxRecordsPerSecond: 50,
        maxConcurrency: 2,
        deadLetterTopic: dlq,
        bisectOnError: true,
        maxRecordAge: Duration.hours(1),
      });
      const template = Template.fromStack(stack);
      template.hasResourceProperties('Custom::FerryTopic', {
        name: 'orders',
        consumers: [
          {
            name: 'email',
            functionArn: { 'Fn::GetAtt': [stack.getLogicalId(email.node.defaultChild as any), 'Arn'] },
            batchSize: 100,
            maxBatchingWindowMs: 2000,
            startingPosition: 'latest',
            maxRetries: 5,
            maxRecordsPerSecond: 50,
            maxConcurrency: 2,
            deadLetterTopic: 'orders-email-dlq',
            bisectOnError: true,
            maxRecordAgeMs: 3_600_000,
          },
        ],
      });
      const dispatcherRole = (ferry as any)._dispatcher().role as iam.IRole;
      const dispatcherId = stack.getLogicalId((ferry as any)._dispatcher().node.defaultChild);
      const invoke = statementsOf(template, stack, dispatcherRole).filter((s) => s.Action === 'lambda:InvokeFunction');
      expect(invoke).toEqual([
        {
          Action: 'lambda:InvokeFunction',
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [stack.getLogicalId(email.node.defaultChild as any), 'Arn'] },
        },
        // Its own successor, when a run runs out of time with records left.
        { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [dispatcherId, 'Arn'] } },
      ]);
      // The produce function wakes it (and may invoke nothing else).
      const produceRole = (ferry as any).apiFunctions.produce.role as iam.IRole;
      expect(statementsOf(template, stack, produceRole).filter((s) => s.Action === 'lambda:InvokeFunction')).toEqual([
        { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [dispatcherId, 'Arn'] } },
      ]);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ FERRY_DISPATCHER: { Ref: dispatcherId } }) },
      });
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(5 minutes)',
        Description: 'Ferry: sweeps push consumers for due retries and lost wake-ups',
        Targets: [Match.objectLike({ Input: JSON.stringify({ job: 'sweep' }) })],
      });
    });

    test('GIVEN defaults WHEN a consumer is added THEN batch 100, no window, earliest, 3 retries, no bisect', () => {
      const { stack, ferry } = cluster();
      const def = ferry.addTopic('orders').addConsumer('audit', { handler: fn(stack, 'H') });
      expect(def).toMatchObject({
        batchSize: 100,
        maxBatchingWindowMs: 0,
        startingPosition: 'earliest',
        maxRetries: 3,
        bisectOnError: false,
      });
    });
  });

  describe('validation', () => {
    const failsTopic =
      (options: TopicOptions & { name?: string }, message: RegExp, stores = 1) =>
      () => {
        const { ferry } = cluster(stores);
        expect(() => ferry.addTopic(options.name ?? 'orders', options)).toThrow(message);
      };
    test(
      'fails if the name has a character outside [a-zA-Z0-9._-]',
      failsTopic({ name: 'orders!' }, /topicName must be 1 to 249 characters .* received "orders!"/),
    );
    test('fails if the name is ..', failsTopic({ name: '..' }, /not "\." or "\.\."; received "\.\."/));
    test('fails if the name is longer than 249', failsTopic({ name: 'x'.repeat(250) }, /topicName must be 1 to 249/));
    test('fails if partitions is 0', failsTopic({ partitions: 0 }, /partitions must be an integer from 1 to 10000; received 0/));
    test('fails if partitions is over 10000', failsTopic({ partitions: 10_001 }, /received 10001/));
    test(
      'fails if replicationFactor exceeds the object stores',
      failsTopic(
        { replicationFactor: 3 },
        /replicationFactor must be an integer from 1 to 2 \(the cluster's object stores\); received 3/,
        2,
      ),
    );
    test('fails if replicationFactor is 0', failsTopic({ replicationFactor: 0 }, /replicationFactor .* received 0/));
    test(
      'fails if retention is under a minute',
      failsTopic({ retention: Duration.seconds(5) }, /retention must be from 1 minute to 36500 days; received 5 seconds/),
    );
    test('fails if retentionBytes is 0', failsTopic({ retentionBytes: 0 }, /retentionBytes must be an integer from 1 to \d+; received 0/));
    test('fails if removalPolicy is SNAPSHOT', failsTopic({ removalPolicy: RemovalPolicy.SNAPSHOT }, /a topic has no snapshot/));

    test('reports every topic violation at once, echoing each value', () => {
      const { ferry } = cluster();
      try {
        ferry.addTopic('bad/name', { partitions: -1, replicationFactor: 9, retentionBytes: 0.5 });
        throw new Error('no error');
      } catch (e) {
        expect(e).toBeInstanceOf(FerryPropsError);
        expect((e as FerryPropsError).problems).toEqual([
          expect.stringContaining('received "bad/name"'),
          expect.stringContaining('received -1'),
          expect.stringContaining('received 9'),
          expect.stringContaining('received 0.5'),
        ]);
      }
    });

    test('skips unresolved tokens', () => {
      const { stack, ferry } = cluster();
      const partitions = new CfnParameter(stack, 'Partitions', { type: 'Number' }).valueAsNumber;
      expect(() => ferry.addTopic('orders', { partitions })).not.toThrow();
    });

    const failsConsumer =
      (props: Partial<ConsumerProps>, message: RegExp, name = 'email') =>
      () => {
        const { stack, ferry } = cluster();
        const orders = ferry.addTopic('orders', { partitions: 4 });
        orders.addConsumer('taken', { handler: fn(stack, 'First') });
        expect(() => orders.addConsumer(name, { handler: fn(stack, 'H'), ...props })).toThrow(message);
      };
    test('fails if a consumer name is invalid', failsConsumer({}, /consumer name must be 1 to 249 .* received "e mail"/, 'e mail'));
    test('fails if a consumer name is taken', failsConsumer({}, /"taken" is taken/, 'taken'));
    test('fails if batchSize is 0', failsConsumer({ batchSize: 0 }, /batchSize must be an integer from 1 to 10000; received 0/));
    test(
      'fails if maxBatchingWindow is over 5 minutes',
      failsConsumer(
        { maxBatchingWindow: Duration.minutes(6) },
        /maxBatchingWindow must be from 0 seconds to 5 minutes; received 6 minutes/,
      ),
    );
    test(
      'fails if maxRetries is negative',
      failsConsumer({ maxRetries: -1 }, /maxRetries must be an integer from 0 to 10000; received -1/),
    );
    test(
      'fails if maxRecordsPerSecond is 0',
      failsConsumer({ maxRecordsPerSecond: 0 }, /maxRecordsPerSecond must be an integer from 1 to 1000000; received 0/),
    );
    test(
      'fails if maxConcurrency exceeds the partitions',
      failsConsumer({ maxConcurrency: 5 }, /maxConcurrency must be an integer from 1 to 4; received 5/),
    );
    test(
      'fails if maxRecordAge is under a second',
      failsConsumer({ maxRecordAge: Duration.millis(10) }, /maxRecordAge must be from 1 second .* received 10 millis/),
    );
    test('fails if the dead-letter topic is the source topic', () => {
      const { stack, ferry } = cluster();
      const orders = ferry.addTopic('orders');
      expect(() => orders.addConsumer('email', { handler: fn(stack, 'H'), deadLetterTopic: orders })).toThrow(
        /deadLetterTopic must be another topic/,
      );
    });
    test('fails if the dead-letter topic is in another cluster', () => {
      const { stack, ferry } = cluster();
      const other = Topic.fromTopicAttributes(stack, 'Other', { topicName: 'dlq', httpApiId: 'other' });
      expect(() => ferry.addTopic('orders').addConsumer('email', { handler: fn(stack, 'H'), deadLetterTopic: other })).toThrow(
        /same Ferry cluster/,
      );
    });
  });

  test('GIVEN single-AZ express stores WHEN a topic keeps one copy THEN synth warns', () => {
    const stack = templateStack();
    const ferry = new Ferry(stack, 'Ferry', {
      lambdaEntries: fixtureEntries,
      objectStoreType: ObjectStoreType.EXPRESS_ONE_ZONE,
      availabilityZoneIds: ['euw1-az1', 'euw1-az2'],
    });
    ferry.addTopic('risky');
    ferry.addTopic('safe', { replicationFactor: 2 });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('single-AZ store'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].id).toBe('/Test/Ferry/risky');
  });
});
