/**
 * The example stack (bin/app.ts) synthesized with real bundling, as `cdk synth` does: its template and the
 * assembly directory that holds the bundles CDK's esbuild produced. The harness runs those bundles, so a
 * bundling defect (a module left external that the runtime lacks) shows in the tests.
 *
 * Synthesis with bundling takes ~10 s, so one assembly is kept per content of the sources it is built from
 * (lib/, lambda/, bin/app.ts, package-lock.json) in the OS temp directory, shared by every test file of a run.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const SOURCES = ['lib', 'lambda', 'bin/app.ts', 'package-lock.json', 'test/aws-home/synth.ts'];

export interface Synthesized {
  /** The CloudFormation template (JSON) of the example stack. */
  template: CfnTemplate;
  /** The cloud assembly directory: asset directories `asset.<hash>/` hold the bundles. */
  assemblyDir: string;
}

export interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties?: any; DependsOn?: unknown; Metadata?: any }>;
  Outputs?: Record<string, unknown>;
}

function sourceHash(): string {
  const hash = createHash('sha256');
  const walk = (p: string) => {
    const full = path.join(ROOT, p);
    const stat = fs.statSync(full);
    if (stat.isDirectory()) for (const child of fs.readdirSync(full).sort()) walk(path.join(p, child));
    else hash.update(p).update('\0').update(fs.readFileSync(full));
  };
  for (const s of SOURCES) walk(s);
  return hash.digest('hex').slice(0, 16);
}

/** Synthesizes (or reuses) the example stack's assembly. */
export function synthesizeExample(): Synthesized {
  const dir = path.join(os.tmpdir(), `ferry-aws-home-${sourceHash()}`);
  const templateFile = path.join(dir, 'FerryExample.template.json');
  if (!fs.existsSync(path.join(dir, 'done'))) {
    const tmp = `${dir}.${process.pid}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    // Loaded here, not at the top: reusing an assembly then needs no CDK at all.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { App } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildExampleApp } = require('../../bin/app') as typeof import('../../bin/app');
    const app = new App({ outdir: tmp });
    buildExampleApp(app);
    app.synth();
    fs.writeFileSync(path.join(tmp, 'done'), '');
    try {
      fs.renameSync(tmp, dir);
    } catch {
      fs.rmSync(tmp, { recursive: true, force: true }); // another process won the race: use its copy
    }
  }
  return { template: JSON.parse(fs.readFileSync(templateFile, 'utf8')) as CfnTemplate, assemblyDir: dir };
}
