/**
 * The one test that really bundles: synthesizes the example app with esbuild (no Docker), as `cdk synth`
 * does, and checks the assembly. It bundles the real lambda/ entries; an entry not written yet is replaced by
 * the fixture (and named in the test title), so the test tracks the entries as they land.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildExampleApp } from '../../bin/app';
import type { FerryLambdaEntries } from '../../lib/constructs';
import { FIXTURE_ENTRY } from './helpers';

const LAMBDA_DIR = path.join(__dirname, '..', '..', 'lambda');
const REAL: Required<FerryLambdaEntries> = {
  produce: 'api.ts',
  fetch: 'api.ts',
  admin: 'api.ts',
  groups: 'api.ts',
  fallback: 'api.ts',
  maintenance: 'maintenance.ts',
  dispatcher: 'dispatcher.ts',
  topicResource: 'topic-resource.ts',
};
const missing = [...new Set(Object.values(REAL))].filter((f) => !fs.existsSync(path.join(LAMBDA_DIR, f)));
const entries = Object.fromEntries(
  Object.entries(REAL).map(([role, file]) => [role, missing.includes(file) ? FIXTURE_ENTRY : path.join(LAMBDA_DIR, file)]),
) as Required<FerryLambdaEntries>;
const title = missing.length ? ` (fixture for missing ${missing.join(', ')})` : '';

describe('example app (bin/app.ts)', () => {
  test(`GIVEN the example stack${title} WHEN synthesized with bundling THEN synth succeeds, cdk-nag is clean and every function has a bundle`, () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-synth-'));
    try {
      const app = new App({ outdir });
      const stack = buildExampleApp(app, { lambdaEntries: entries });
      const assembly = app.synth();

      const template = assembly.getStackByName(stack.stackName).template;
      const resources = Object.values(template.Resources) as Array<{ Type: string; Properties: any }>;
      const topics = resources.filter((r) => r.Type === 'Custom::FerryTopic').map((r) => r.Properties.name);
      expect(topics.sort()).toEqual(['audit', 'orders']);

      // Every bundled function's asset directory holds an index.js that esbuild wrote.
      const bundled = resources.filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Code?.S3Key);
      expect(bundled.length).toBeGreaterThanOrEqual(6);
      const assets = fs.readdirSync(outdir).filter((d) => d.startsWith('asset.'));
      const withIndex = assets.filter((d) => fs.existsSync(path.join(outdir, d, 'index.js')));
      // One bundle per distinct entry, plus the Provider framework's own code.
      expect(withIndex.length).toBeGreaterThanOrEqual(new Set(Object.values(entries)).size);
      for (const d of withIndex) expect(fs.readFileSync(path.join(outdir, d, 'index.js'), 'utf8')).toMatch(/handler/);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
