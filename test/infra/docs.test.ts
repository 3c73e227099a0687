/**
 * README.md's construct example (Deploy to AWS) is test/infra/fixtures/readme-example.ts, verbatim but for the import
 * path: this file checks that and synthesizes it. The fixture is type-checked with the whole project by
 * `npm run typecheck` (its own CI step; ts-jest runs without diagnostics).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { templateApp } from './helpers';

const ROOT = path.join(__dirname, '..', '..');
const FIXTURE = path.join(__dirname, 'fixtures', 'readme-example.ts');

function exampleBody(): string {
  const text = fs.readFileSync(FIXTURE, 'utf8');
  return text.split('// --- example start\n')[1].split('// --- example end')[0].trim();
}

describe('README.md, Deploy to AWS', () => {
  test('GIVEN the doc WHEN read THEN its construct example is the tested fixture', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(doc).toContain(exampleBody());
    expect(doc).toContain("import { Ferry, FerryDashboard, StartingPosition } from '../lib/constructs';");
    expect(doc).toContain('curl --aws-sigv4');
    expect(doc).toContain('npx cdk deploy');
  });

  // The example uses Ferry's default entries (lambda/*.ts).
  test('GIVEN the construct example WHEN synthesized THEN its topics, grant and consumer are there', () => {
    const cwd = process.cwd();
    process.chdir(path.join(__dirname, 'fixtures')); // Code.fromAsset('handlers/...') is relative
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { EventsStack } = require('./fixtures/readme-example') as typeof import('./fixtures/readme-example');
      const stack = new EventsStack(templateApp(), 'Events');
      const template = Template.fromStack(stack);
      template.resourceCountIs('Custom::FerryTopic', 2);
      template.resourceCountIs('AWS::S3::Bucket', 2);
      template.hasResourceProperties('Custom::FerryTopic', { name: 'orders', consumers: [{ name: 'email', batchSize: 100 }] });
      template.resourceCountIs('AWS::CloudWatch::Alarm', 5); // NoOrders + addAlarms: produce errors, consumer lag, dead letters, maintenance
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    } finally {
      process.chdir(cwd);
    }
  });
});
