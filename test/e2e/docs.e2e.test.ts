/**
 * docs/groups.md runs: every ```ts block (the import rewritten to this checkout) as its own process, then the
 * ```sh blocks with `ferry` on the PATH, in order, against a real server process.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { startServerProcess, type ServerProcess } from '../helpers/server-process';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');

function blocks(doc: string, lang: string): string[] {
  return [...doc.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

describe('docs/groups.md', () => {
  let dir: string;
  let server: ServerProcess;
  let doc: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-e2e-docs-'));
    server = await startServerProcess(['--data', path.join(dir, 'data')]);
    doc = await fs.readFile(path.join(ROOT, 'docs', 'groups.md'), 'utf8');
    await fs.mkdir(path.join(dir, 'bin'));
    await fs.writeFile(path.join(dir, 'bin', 'ferry'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, 'bin', 'ferry.js')}" "$@"\n`, { mode: 0o755 });
  });
  afterAll(async () => {
    await server?.kill('SIGTERM');
    await fs.rm(dir, { recursive: true, force: true });
  });

  const env = () => ({ ...process.env, FERRY_URL: server.url, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}` });

  it('has client snippets that run, in order', async () => {
    const snippets = blocks(doc, 'ts');
    expect(snippets.length).toBe(4);
    const outputs: string[] = [];
    for (const [i, code] of snippets.entries()) {
      expect(code).toContain("from 'ferry/lib/client'");
      const file = path.join(dir, `snippet-${i}.ts`);
      await fs.writeFile(file, code.replace("'ferry/lib/client'", JSON.stringify(path.join(ROOT, 'lib', 'client'))));
      const { stdout } = await run(process.execPath, ['-r', require.resolve('tsx/cjs'), file], { env: env(), cwd: dir, timeout: 20_000 });
      outputs.push(stdout);
    }
    expect(outputs[0]).toMatch(/stored in partition \d+ at offset 0/);
    expect(outputs[1].trim().split('\n')).toHaveLength(2); // two records, then disconnect
    expect(outputs[1]).toMatch(/orders \d \d u1 \{ id: 1, total: 42 \}/);
    expect(outputs[2].trim().split('\n')).toHaveLength(2);
    expect(outputs[3]).toMatch(/\[ 'orders' \]/);
    const billing = JSON.parse((await run('curl', ['-s', `${server.url}/v1/groups/billing`])).stdout);
    expect(billing.members).toEqual([]); // left cleanly
  });

  it('has shell snippets (HTTP API and CLI) that run', async () => {
    const shell = blocks(doc, 'sh');
    expect(shell.length).toBe(2);
    const http = await run('bash', ['-euo', 'pipefail', '-c', shell[0]], { env: env(), cwd: dir, timeout: 20_000 });
    expect(http.stdout).toMatch(/"lagSeconds"/);
    const cli = await run('bash', ['-euo', 'pipefail', '-c', shell[1]], { env: env(), cwd: dir, timeout: 40_000 });
    expect(cli.stdout).toMatch(/^readers\s+empty\s+0\s+\d+$/m); // groups list
    expect(cli.stdout).toMatch(/"partitionCount": 6/);
  });
});
