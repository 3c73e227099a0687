import * as fs from 'node:fs';
import { App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { buildExampleApp } from '../../bin/app';
import { Ferry, ObjectStoreType } from '../../lib/constructs';
import { fixtureEntries } from './helpers';

function nagApp(): App {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return app;
}

/** Synthesizes with cdk-nag AwsSolutions on; returns the thrown validation report text, or '' if clean. */
function nagFindings(app: App): string {
  try {
    app.synth();
    return '';
  } catch (e) {
    return String(e);
  }
}

function acknowledgements(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return root.node
    .findAll()
    .flatMap((c) =>
      c.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason }))),
    );
}

describe('cdk-nag AwsSolutions', () => {
  test('GIVEN the example app WHEN synthesized THEN no finding is left unacknowledged', () => {
    const app = nagApp();
    buildExampleApp(app, { lambdaEntries: fixtureEntries });
    expect(nagFindings(app)).toBe('');
  });

  test('GIVEN the example app THEN every acknowledgement names an AwsSolutions rule and gives a reason', () => {
    const app = nagApp();
    buildExampleApp(app, { lambdaEntries: fixtureEntries });
    const acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) {
      expect(a.id).toMatch(/^AwsSolutions::AwsSolutions-[A-Z]+\d+/);
      expect(a.reason.length).toBeGreaterThan(30);
    }
  });

  test('GIVEN removalPolicy DESTROY (buckets emptied on delete) WHEN synthesized THEN no finding is left unacknowledged', () => {
    const app = nagApp();
    const stack = new Stack(app, 'Scratch');
    new Ferry(stack, 'Ferry', { lambdaEntries: fixtureEntries, removalPolicy: RemovalPolicy.DESTROY }).addTopic('t');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(nagFindings(app)).toBe('');
  });

  test('GIVEN express stores, imported buckets, consumers and all grants WHEN synthesized THEN still no finding', () => {
    const app = nagApp();
    const stack = new Stack(app, 'Wide');
    const express = new Ferry(stack, 'Express', {
      lambdaEntries: fixtureEntries,
      objectStoreType: ObjectStoreType.EXPRESS_ONE_ZONE,
      availabilityZoneIds: ['use1-az4', 'use1-az6'],
    });
    const imported = new Ferry(stack, 'Imported', {
      lambdaEntries: fixtureEntries,
      buckets: [s3.Bucket.fromBucketName(stack, 'A', 'ferry-a-bucket'), s3.Bucket.fromBucketName(stack, 'B', 'ferry-b-bucket')],
    });
    const orders = express.addTopic('orders', { partitions: 3, replicationFactor: 2 });
    const dlq = express.addTopic('orders-dlq', { replicationFactor: 2 });
    const other = imported.addTopic('other', { replicationFactor: 2 });
    const user = new lambda.Function(stack, 'User', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    });
    orders.grantProduce(user);
    orders.grantConsume(user);
    orders.grantAdmin(user);
    other.grantConsume(user);
    express.grantAdmin(user);
    orders.addConsumer('email', { handler: user, deadLetterTopic: dlq });
    // The user's own function is the user's business: its managed policy and runtime are not Ferry's findings.
    Validations.of(user).acknowledge(
      { id: 'AwsSolutions::AwsSolutions-L1', reason: 'test function, not part of Ferry' },
      {
        id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'test function, not part of Ferry',
      },
    );
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(nagFindings(app)).toBe('');
  });

  test('GIVEN a bucket outside the baseline WHEN synthesized THEN cdk-nag does report it (the check is live)', () => {
    const app = nagApp();
    buildExampleApp(app, { lambdaEntries: fixtureEntries });
    new s3.Bucket(app.node.findChild('FerryExample') as Stack, 'Loose');
    const findings = nagFindings(app);
    expect(findings).toMatch(/ValidationFailed/);
    const reportPath = /found in: (\S+)/.exec(findings)![1];
    const report = JSON.parse(fs.readFileSync(reportPath, 'utf8'));
    const violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }> = report.pluginReports.flatMap(
      (r: any) => r.violations,
    );
    const reported = violations.flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} ${c.constructPath}`));
    // Only the loose bucket is reported: nothing of Ferry's.
    expect(reported.sort()).toEqual(['AwsSolutions-S1 FerryExample/Loose/Resource', 'AwsSolutions-S10 FerryExample/Loose/Resource']);
  });
});
