/**
 * README.md runs: every snippet a user can run here is run, in order, against a real server process —
 * the curl tour, the HTTP and CLI blocks (`ferry` on the PATH), the client TypeScript (imports rewritten to
 * this checkout), the handler module, the config and token files. The only blocks not run are those that
 * need an AWS account or the emulator shell session (the "AWS home" and "Deploy to AWS" sections; the
 * construct example there is compiled and synthesized by test/infra/docs.test.ts) and the long chaos commands
 * of "Reliability" (their short seeded versions are test/chaos/*).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseConfig } from '../../lib/config';
import { tokensFileSchema } from '../../lib/http/auth';
import { runTracked } from '../helpers/processes';
import { startServerProcess, type ServerProcess } from '../helpers/server-process';

const run = (cmd: string, args: string[], o: { env?: NodeJS.ProcessEnv; cwd?: string; timeout: number }) =>
  runTracked(cmd, args, { env: o.env, cwd: o.cwd, timeoutMs: o.timeout });
const ROOT = path.join(__dirname, '..', '..');
// AWS credentials or a second shell with emulators (docs/ holds the long chaos and benchmark runs, not run here).
const NOT_RUN_HERE = ['AWS home', 'Deploy to AWS'];

interface Block {
  section: string;
  lang: string;
  code: string;
}

function blocks(doc: string): Block[] {
  const out: Block[] = [];
  let section = '';
  const lines = doc.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const h = /^## (.*)/.exec(lines[i]);
    if (h) section = h[1];
    const open = /^```(\w+)$/.exec(lines[i]);
    if (!open) continue;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]);
    out.push({ section, lang: open[1], code: `${body.join('\n')}\n` });
  }
  return out;
}

describe('README.md', () => {
  let dir: string;
  let server: ServerProcess;
  let all: Block[];
  let runnable: Block[];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-readme-'));
    server = await startServerProcess(['--data', path.join(dir, 'data')]);
    all = blocks(await fs.readFile(path.join(ROOT, 'README.md'), 'utf8'));
    runnable = all.filter((b) => !NOT_RUN_HERE.some((s) => b.section.startsWith(s)));
    await fs.mkdir(path.join(dir, 'bin'));
    await fs.writeFile(
      path.join(dir, 'bin', 'ferry'),
      `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, 'bin', 'ferry.js')}" "$@"\n`,
      { mode: 0o755 },
    );
  });
  afterAll(async () => {
    await server?.kill('SIGTERM');
    await fs.rm(dir, { recursive: true, force: true });
  });

  const env = () => ({ ...process.env, FERRY_URL: server.url, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}` });
  const local = (code: string) => code.replaceAll('http://127.0.0.1:8080', server.url);

  it('skips only the blocks that need AWS', () => {
    const skipped = all.filter((b) => !runnable.includes(b));
    expect(new Set(skipped.map((b) => b.section))).toEqual(new Set(NOT_RUN_HERE));
    expect(runnable.filter((b) => b.lang === 'sh').length).toBeGreaterThanOrEqual(6);
  });

  it('has shell snippets that run, in order (tour, groups over HTTP, CLI, delayed, idempotent)', async () => {
    const shells = runnable.filter((b) => b.lang === 'sh' && !b.code.includes('npm install') && !b.code.startsWith('npx ferry dev'));
    for (const b of shells) {
      const res = await run('bash', ['-euo', 'pipefail', '-c', local(b.code)], { env: env(), cwd: dir, timeout: 60_000 }).catch((e) => {
        throw new Error(`README block in "${b.section}" failed:\n${b.code}\n${e.stderr ?? e.message}`);
      });
      expect(res.stdout).not.toMatch(/"error":/);
      if (b.section.startsWith('A 30-second tour'))
        expect(res.stdout).toMatch(/"partition":1,"offset":"0"\},\{"partition":1,"offset":"1"\}/);
    }
  });

  it('has client snippets that run, in order', async () => {
    const snippets = runnable.filter((b) => b.lang === 'ts');
    expect(snippets.length).toBe(4);
    const outputs: string[] = [];
    for (const [i, b] of snippets.entries()) {
      expect(b.code).toContain("from 'ferry'");
      const file = path.join(dir, `snippet-${i}.ts`);
      await fs.writeFile(file, b.code);
      // 'ferry' resolves as in a user's project: node_modules/ferry (this package) through its `exports` map.
      const nodePath = path.join(ROOT, 'node_modules');
      const { stdout } = await run(process.execPath, ['-r', require.resolve('tsx/cjs'), file], {
        env: { ...env(), NODE_PATH: nodePath },
        cwd: dir,
        timeout: 30_000,
      });
      outputs.push(stdout);
    }
    expect(outputs[0]).toMatch(/stored in partition \d+ at offset \d+/);
    expect(outputs[1].trim().split('\n')).toHaveLength(2); // two records, then disconnect
    expect(outputs[2].trim().split('\n')).toHaveLength(2);
    expect(outputs[3]).toMatch(/'orders'/);
    // The walk-through stays consistent: orders now has the partition count the push-consumer config declares
    // (ferry dev --config refuses a config topic whose count differs from the server's).
    const config = runnable
      .filter((b) => b.lang === 'json')
      .map((b) => JSON.parse(b.code))
      .find((j) => j.consumers);
    const orders = await (await fetch(`${server.url}/v1/topics/orders`)).json();
    expect(orders.partitionCount).toBe(config.topics.find((t: { name: string }) => t.name === 'orders').partitions);
  });

  it('has a handler module that runs and answers batch item failures', async () => {
    const [handler] = runnable.filter((b) => b.lang === 'js');
    const file = path.join(dir, 'email.mjs');
    await fs.writeFile(file, handler.code);
    const script = `import(${JSON.stringify(file)}).then(async (m) => console.log(JSON.stringify(await m.handler({ records: [
      { topic: 'orders', partition: 0, offset: '1', key: null, value: { id: 1 }, headers: {}, timestamp: 1 },
      { topic: 'orders', partition: 0, offset: '2', key: null, value: null, headers: {}, timestamp: 1 } ] }))))`;
    const { stdout } = await run(process.execPath, ['-e', script], { timeout: 10_000 });
    expect(JSON.parse(stdout)).toEqual({ batchItemFailures: [{ itemIdentifier: '2' }] });
  });

  it('has a config file and a tokens file that Ferry accepts', () => {
    const json = runnable.filter((b) => b.lang === 'json').map((b) => JSON.parse(b.code));
    const config = json.find((j) => j.consumers);
    expect(parseConfig(config).consumers.map((c) => c.name)).toEqual(['email', 'crm']);
    const tokens = json.find((j) => j.tokens);
    expect(tokensFileSchema.parse(tokens).tokens).toHaveLength(3);
  });
});
