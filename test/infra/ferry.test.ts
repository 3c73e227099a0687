import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Ferry, FerryPropsError, ObjectStoreType, ROUTES, type FerryProps } from '../../lib/constructs';
import { actionsOf, fixtureEntries, statementsOf, templateStack } from './helpers';

function build(props: FerryProps = {}): { stack: Stack; ferry: Ferry; template: Template } {
  const stack = templateStack();
  const ferry = new Ferry(stack, 'Ferry', { lambdaEntries: fixtureEntries, ...props });
  return { stack, ferry, template: Template.fromStack(stack) };
}

describe('Ferry', () => {
  describe('with default props', () => {
    // GIVEN a stack WHEN a Ferry is added with no props
    const { stack, ferry, template } = build();

    test('THEN the table has pk/sk strings, TTL on ttl, a NEW_AND_OLD_IMAGES stream, PITR, on-demand billing', () => {
      template.resourceCountIs('AWS::DynamoDB::Table', 1);
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      });
      template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    });

    test('THEN there is one S3 Standard bucket: public access blocked, SSE-S3, TLS enforced, multipart uploads aborted, no age rule', () => {
      template.resourceCountIs('AWS::S3::Bucket', 1);
      template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
      template.hasResourceProperties('AWS::S3::Bucket', {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        LifecycleConfiguration: {
          Rules: [
            { AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled', Id: 'abort-incomplete-multipart-uploads' },
          ],
        },
        VersioningConfiguration: Match.absent(),
      });
      const rules = JSON.stringify(template.findResources('AWS::S3::Bucket'));
      expect(rules).not.toMatch(/ExpirationInDays|ExpirationDate|"Transitions"/);
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            Match.objectLike({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
          ]),
        },
      });
    });

    test('THEN every v1 route exists and every route requires IAM (SigV4)', () => {
      const routes = template.findResources('AWS::ApiGatewayV2::Route');
      const keys = Object.values(routes)
        .map((r: any) => r.Properties.RouteKey)
        .sort();
      // Every v1 route, plus the catch-all that answers Ferry's 404 / 405 for the rest.
      expect(keys).toEqual(['$default', ...ROUTES.map((r) => `${r.method} ${r.path}`)].sort());
      for (const r of Object.values(routes) as any[]) expect(r.Properties.AuthorizationType).toBe('AWS_IAM');
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('routeKey') },
      });
    });

    test('THEN produce, fetch, admin, groups, fallback and maintenance functions run Node 22 on arm64 with FERRY_TABLE and FERRY_BUCKETS', () => {
      const fns = template.findResources('AWS::Lambda::Function');
      expect(Object.keys(fns)).toHaveLength(6);
      for (const fn of Object.values(fns) as any[]) {
        expect(fn.Properties.Runtime).toBe('nodejs22.x');
        expect(fn.Properties.Architectures).toEqual(['arm64']);
        expect(Object.keys(fn.Properties.Environment.Variables).sort()).toEqual(['FERRY_BUCKETS', 'FERRY_TABLE', 'NODE_OPTIONS']);
        expect(fn.Properties.Environment.Variables.FERRY_TABLE).toEqual({ Ref: stack.getLogicalId(ferry.table.node.defaultChild as any) });
      }
    });

    test('THEN no role uses a managed policy', () => {
      for (const role of Object.values(template.findResources('AWS::IAM::Role')) as any[]) {
        expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      }
    });

    test('THEN the produce role can write and read segments and commit, but cannot delete anything', () => {
      const actions = actionsOf(template, stack, ferry.apiFunctions.produce.role!);
      expect(actions).toEqual(expect.arrayContaining(['s3:PutObject', 's3:GetObject', 'dynamodb:PutItem', 'dynamodb:UpdateItem']));
      expect(actions.filter((a) => /Delete|BatchWrite|Scan/.test(a))).toEqual([]);
    });

    test('THEN the fetch role is read-only', () => {
      const actions = actionsOf(template, stack, ferry.apiFunctions.fetch.role!);
      const data = actions.filter((a) => a.startsWith('s3:') || a.startsWith('dynamodb:'));
      expect(data.filter((a) => /Put|Update|Delete|Write|ConditionCheck/.test(a))).toEqual([]);
      expect(actions).toEqual(expect.arrayContaining(['s3:GetObject', 'dynamodb:Query', 'dynamodb:GetItem']));
    });

    test('THEN the groups role touches only the table, and only maintenance deletes objects', () => {
      expect(actionsOf(template, stack, ferry.apiFunctions.groups.role!).filter((a) => a.startsWith('s3:'))).toEqual([]);
      for (const group of ['produce', 'fetch', 'admin', 'groups'] as const) {
        expect(actionsOf(template, stack, ferry.apiFunctions[group].role!)).not.toContain('s3:DeleteObject');
      }
      expect(actionsOf(template, stack, ferry.maintenanceFunction.role!)).toContain('s3:DeleteObject');
    });

    test('THEN object grants are limited to the topics/ prefix', () => {
      const objectStatements = statementsOf(template, stack, ferry.maintenanceFunction.role!).filter((s) =>
        [s.Action].flat().some((a: string) => a.endsWith('Object')),
      );
      expect(objectStatements.length).toBeGreaterThan(0);
      for (const s of objectStatements) expect(JSON.stringify(s.Resource)).toContain('/topics/*');
    });

    test('THEN the maintenance job runs every 5 minutes', () => {
      template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)', State: 'ENABLED' });
      // Reads never move due delayed records: the delay timer runs the maintenance function every minute.
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 minute)',
        Description: 'Ferry: moves delayed records when they fall due',
        Targets: [Match.objectLike({ Input: JSON.stringify({ job: 'delayed' }) })],
      });
    });

    test('THEN no topic provider or dispatcher exists until a topic or consumer needs one', () => {
      expect(JSON.stringify(template.toJSON())).not.toMatch(/TopicProvider|DispatcherFunction/);
    });
  });

  test('GIVEN objectStores: 3 WHEN synthesized THEN 3 buckets are named in FERRY_BUCKETS in order', () => {
    const { stack, ferry, template } = build({ objectStores: 3 });
    template.resourceCountIs('AWS::S3::Bucket', 3);
    const ref = (i: number) => ({ Ref: stack.getLogicalId((ferry.objectStores[i] as any).bucket.node.defaultChild) });
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function')) as any[]) {
      expect(fn.Properties.Environment.Variables.FERRY_BUCKETS).toEqual({ 'Fn::Join': ['', [ref(0), ',', ref(1), ',', ref(2)]] });
    }
  });

  test('GIVEN EXPRESS_ONE_ZONE in two AZs WHEN synthesized THEN two directory buckets, and fetch sessions are ReadOnly', () => {
    const { stack, ferry, template } = build({
      objectStoreType: ObjectStoreType.EXPRESS_ONE_ZONE,
      availabilityZoneIds: ['euw1-az1', 'euw1-az2'],
    });
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('AWS::S3Express::DirectoryBucket', 2);
    template.hasResourceProperties('AWS::S3Express::DirectoryBucket', {
      DataRedundancy: 'SingleAvailabilityZone',
      LocationName: 'euw1-az2',
      BucketEncryption: Match.anyValue(),
      LifecycleConfiguration: { Rules: [Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } })] },
    });
    const fetch = statementsOf(template, stack, ferry.apiFunctions.fetch.role!).filter((s) => s.Action === 's3express:CreateSession');
    expect(fetch).toHaveLength(2);
    for (const s of fetch) expect(s.Condition).toEqual({ StringEquals: { 's3express:SessionMode': 'ReadOnly' } });
    const produce = statementsOf(template, stack, ferry.apiFunctions.produce.role!).filter((s) => s.Action === 's3express:CreateSession');
    for (const s of produce) expect(s.Condition).toBeUndefined();
    expect(ferry.singleZoneStores).toBe(true);
  });

  test('GIVEN existing buckets WHEN used as stores THEN none is created and each is granted', () => {
    const stack = templateStack();
    const a = s3.Bucket.fromBucketName(stack, 'A', 'ferry-eu-west-1');
    const b = s3.Bucket.fromBucketName(stack, 'B', 'ferry-eu-central-1');
    const ferry = new Ferry(stack, 'Ferry', { lambdaEntries: fixtureEntries, buckets: [a, b] });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    expect(ferry.objectStoreCount).toBe(2);
    const resources = JSON.stringify(statementsOf(template, stack, ferry.apiFunctions.fetch.role!));
    expect(resources).toContain('ferry-eu-west-1/topics/*');
    expect(resources).toContain('ferry-eu-central-1/topics/*');
  });

  test('GIVEN removalPolicy DESTROY WHEN synthesized THEN table and buckets are deleted with the stack', () => {
    const { template } = build({ removalPolicy: RemovalPolicy.DESTROY });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    template.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
  });

  test('GIVEN removalPolicy DESTROY WHEN synthesized THEN every created bucket is emptied before it is deleted', () => {
    const { template } = build({ removalPolicy: RemovalPolicy.DESTROY, objectStores: 2 });
    // A non-empty bucket makes CloudFormation's delete fail; the auto-delete resource empties each one first.
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
  });

  test('GIVEN the default RETAIN WHEN synthesized THEN no bucket is ever emptied', () => {
    build({}).template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  test('GIVEN grantAdmin WHEN granted THEN only the admin routes, on every topic', () => {
    const stack = templateStack();
    const ferry = new Ferry(stack, 'Ferry', { lambdaEntries: fixtureEntries });
    const role = new iam.Role(stack, 'Ops', { assumedBy: new iam.AccountRootPrincipal() });
    ferry.grantAdmin(role);
    const resources = JSON.stringify(statementsOf(Template.fromStack(stack), stack, role));
    expect(resources).toContain('/$default/POST/v1/topics"');
    expect(resources).toContain('/$default/DELETE/v1/topics/*"');
    expect(resources).not.toContain('/records');
    expect(resources).not.toContain('/v1/groups');
  });

  test('GIVEN functions sizing WHEN synthesized THEN that function gets its memory and reserved concurrency, the others their defaults', () => {
    const { template } = build({ functions: { fetch: { memorySize: 256, reservedConcurrentExecutions: 20 } } });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Ferry: fetch routes (long poll)',
      MemorySize: 256,
      ReservedConcurrentExecutions: 20,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Ferry: produce routes',
      MemorySize: 1024,
      ReservedConcurrentExecutions: Match.absent(),
    });
  });

  describe('validation', () => {
    const fails = (props: FerryProps, message: RegExp) => () => {
      expect(() => build(props)).toThrow(message);
    };
    test(
      'fails if a function size is out of range',
      fails(
        { functions: { produce: { memorySize: 64 } } },
        /functions.produce.memorySize must be an integer from 128 to 10240; received 64/,
      ),
    );
    test(
      'fails if objectStores is not an integer from 1 to 16',
      fails({ objectStores: 0 }, /objectStores must be an integer from 1 to 16; received 0/),
    );
    test('fails if objectStores is fractional', fails({ objectStores: 1.5 }, /objectStores .* received 1.5/));
    test('fails if buckets is given with objectStores', () => {
      const stack = templateStack();
      const bucket = s3.Bucket.fromBucketName(stack, 'A', 'ferry-a');
      expect(() => new Ferry(stack, 'Ferry', { lambdaEntries: fixtureEntries, buckets: [bucket], objectStores: 1 })).toThrow(
        /buckets replaces objectStores/,
      );
    });
    test('fails if buckets is empty', fails({ buckets: [] }, /buckets must hold from 1 to 16 buckets; received 0/));
    test(
      'fails if availabilityZoneIds is given for standard stores',
      fails({ availabilityZoneIds: ['use1-az1', 'use1-az2'] }, /availabilityZoneIds applies only to objectStoreType EXPRESS_ONE_ZONE/),
    );
    test(
      'fails if express stores have fewer than 2 AZs',
      fails(
        { objectStoreType: ObjectStoreType.EXPRESS_ONE_ZONE, availabilityZoneIds: ['use1-az1'] },
        /at least 2 distinct AZ IDs.*received \["use1-az1"\]/,
      ),
    );
    test(
      'fails if an AZ is given by name instead of ID',
      fails(
        { objectStoreType: ObjectStoreType.EXPRESS_ONE_ZONE, availabilityZoneIds: ['us-east-1a', 'use1-az2'] },
        /AZ IDs such as "use1-az4".*\["us-east-1a"\]/,
      ),
    );
    test(
      'fails if AZ IDs repeat',
      fails({ objectStoreType: ObjectStoreType.EXPRESS_ONE_ZONE, availabilityZoneIds: ['use1-az1', 'use1-az1'] }, /must be distinct/),
    );
    test(
      'fails if objectStores disagrees with availabilityZoneIds',
      fails(
        { objectStoreType: ObjectStoreType.EXPRESS_ONE_ZONE, availabilityZoneIds: ['use1-az1', 'use1-az2'], objectStores: 3 },
        /objectStores must equal the number of availabilityZoneIds \(2\); received 3/,
      ),
    );
    test('fails if removalPolicy is SNAPSHOT', fails({ removalPolicy: RemovalPolicy.SNAPSHOT }, /removalPolicy must be RETAIN or DESTROY/));
    test(
      'fails if maintenanceInterval is under a minute',
      fails({ maintenanceInterval: Duration.seconds(10) }, /maintenanceInterval must be from 1 minute to 1 day; received 10 seconds/),
    );

    test('reports every violation at once', () => {
      let error: unknown;
      try {
        build({ objectStores: 99, removalPolicy: RemovalPolicy.SNAPSHOT, maintenanceInterval: Duration.days(2) });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(FerryPropsError);
      expect((error as FerryPropsError).problems).toHaveLength(3);
    });
  });
});
