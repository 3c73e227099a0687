/**
 * The `ferry` CLI end to end against a real server process: topics, produce a 10 000-line file, consume it
 * back with a group, compare; groups list / describe / seek; errors print the server's message, exit 1.
 */
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTracked } from '../helpers/processes';
import { startServerProcess, type ServerProcess } from '../helpers/server-process';

const BIN = path.join(__dirname, '..', '..', 'bin', 'ferry.js');

describe('ferry CLI', () => {
  let dir: string;
  let server: ServerProcess;
  const ferry = (args: string[], input?: string) => {
    return runTracked(process.execPath, [BIN, ...args], { env: { ...process.env, FERRY_URL: server.url }, input, timeoutMs: 30_000 });
  };
  const fails = async (args: string[], input?: string) => {
    try {
      await ferry(args, input);
    } catch (e) {
      return e as { code: number; stderr: string };
    }
    throw new Error(`ferry ${args.join(' ')} succeeded`);
  };

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-e2e-cli-'));
    server = await startServerProcess(['--data', path.join(dir, 'data')]);
  });
  afterAll(async () => {
    await server?.kill('SIGTERM');
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('creates, lists, describes and alters topics', async () => {
    expect((await ferry(['topics', 'create', 'lines', '--partitions', '4'])).stdout).toMatch(/created topic lines with 4 partitions/);
    expect((await ferry(['topics', 'list'])).stdout).toMatch(/^TOPIC\s+PARTITIONS.*\nlines\s+4/);
    const described = JSON.parse((await ferry(['topics', 'describe', 'lines', '--json'])).stdout);
    expect(described).toMatchObject({ name: 'lines', partitionCount: 4 });
    expect(described.partitions).toHaveLength(4);
    expect((await ferry(['topics', 'alter', 'lines', '--partitions', '5'])).stdout).toMatch(/partitions 5/);
    const created = await fails(['topics', 'create', 'lines', '--partitions', '4']);
    expect(created.code).toBe(1);
    expect(created.stderr).toMatch(/ferry: topic "lines" already exists/);
  });

  it('produces a file of 10 000 lines and consumes them back with a group', async () => {
    const lines = Array.from({ length: 10_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
    const file = path.join(dir, 'lines.txt');
    await fs.writeFile(file, `${lines.join('\n')}\n`);
    const produced = JSON.parse((await ferry(['produce', 'lines', '--file', file, '--json'])).stdout);
    expect(produced.records).toBe(10_000);
    const { stdout } = await ferry(['consume', 'lines', '--group', 'readers', '--from-beginning']);
    const got = stdout.split('\n').filter((l) => l.length);
    expect(got).toHaveLength(10_000);
    expect([...got].sort()).toEqual([...lines].sort());
    // Order is kept within a partition: for each partition, line numbers increase.
    // Committed: a second run of the same group reads nothing new.
    expect((await ferry(['consume', 'lines', '--group', 'readers'])).stdout).toBe('');
    const described = JSON.parse((await ferry(['groups', 'describe', 'readers', '--json'])).stdout);
    expect(described.totalLag).toBe('0');
    expect(
      described.offsets.map((o: { committedOffset: string }) => Number(o.committedOffset)).reduce((a: number, b: number) => a + b, 0),
    ).toBe(10_000);
  });

  it('produces stdin lines as JSON with a key, consumes with --max, lists, describes and seeks groups', async () => {
    await ferry(['topics', 'create', 'json', '-p', '2']);
    await ferry(['produce', 'json', '--parse-json', '--key', 'k1'], '{"a":1}\n[2]\n"three"\n4\n');
    const out = (await ferry(['consume', 'json', '--group', 'j', '--from-beginning', '--max', '3', '--json'])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out.map((r) => r.value)).toEqual([{ a: 1 }, [2], 'three']);
    expect(out.every((r) => r.key === 'k1')).toBe(true);
    expect((await ferry(['consume', 'json', '--group', 'j'])).stdout).toBe('4\n'); // --max committed exactly 3
    expect((await ferry(['groups', 'list'])).stdout).toMatch(
      /^GROUP\s+STATE\s+MEMBERS\s+GENERATION\s+LAG\s+LAG-SECONDS\n(.*\n)*j\s+empty\s+0\s+\d+\s+0\s+0\n/,
    );
    expect((await ferry(['groups', 'describe', 'j'])).stdout).toMatch(/group j: empty/);
    const seek = JSON.parse(
      (await ferry(['groups', 'seek', 'j', '--topic', 'json', '--to-offset', '1', '--partition', String(out[0].partition), '--json']))
        .stdout,
    );
    expect(seek.offsets[0].offset).toBe('1');
    expect((await ferry(['consume', 'json', '--group', 'j'])).stdout).toBe('[2]\nthree\n4\n');
    const bad = await ferry(['produce', 'json', '--parse-json'], 'not json\n').then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad?.code).toBe(1);
    expect(bad?.stderr).toMatch(/ferry: line 1 is not JSON/);
  });

  it('prints the server message and exits non-zero on errors', async () => {
    const missing = await fails(['consume', 'nope', '--group', 'x']);
    expect(missing.stderr).toMatch(/ferry: topic "nope" does not exist/);
    // With --json the error is JSON too, for scripts.
    const asJson = await fails(['topics', 'describe', 'nope', '--json']);
    expect(JSON.parse(asJson.stderr.trim())).toEqual({
      error: { kind: 'not_found', message: 'topic "nope" does not exist', details: { topic: 'nope', status: 404 } },
    });
    const badSeek = await fails(['groups', 'seek', 'j', '--topic', 'json', '--to-offset', '999']);
    expect(badSeek.stderr).toMatch(/ferry: offset 999 is outside partition/);
    const unreachable = await fails(['topics', 'list', '--url', 'http://127.0.0.1:1']);
    expect(unreachable.stderr).toMatch(/ferry: cannot reach Ferry at http:\/\/127.0.0.1:1/);
    const refused = await fails(['topics', 'list', '--url', 'http://127.0.0.1:59999']);
    expect(refused.stderr).toMatch(/ECONNREFUSED\nhint: is the server running\? Start one with `npx ferry dev`/);
  });

  it('prints its version, and binary values in --json as the API writes them', async () => {
    expect((await ferry(['--version'])).stdout.trim()).toBe(
      JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')).version,
    );
    await ferry(['topics', 'create', 'bin', '-p', '1']);
    const res = await fetch(`${server.url}/v1/topics/bin/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ records: [{ key: { base64: 'AAE=' }, value: { base64: '/wA=' } }] }),
    });
    expect(res.status).toBe(200);
    const [line] = (await ferry(['consume', 'bin', '--group', 'b', '--from-beginning', '--json'])).stdout.trim().split('\n');
    expect(JSON.parse(line)).toMatchObject({ topic: 'bin', partition: 0, offset: '0', key: { base64: 'AAE=' }, value: { base64: '/wA=' } });
  });

  it('peeks at a partition with no group, leaves no group behind without --group, and deletes groups', async () => {
    await ferry(['topics', 'create', 'peek', '-p', '2']);
    await ferry(['produce', 'peek', '--partition', '1'], 'a\nb\nc\n');
    const before = JSON.parse((await ferry(['groups', 'list', '--json'])).stdout).groups.map((g: { groupId: string }) => g.groupId);
    expect((await ferry(['consume', 'peek', '--partition', '1', '--offset', '1'])).stdout).toBe('b\nc\n');
    expect((await ferry(['consume', 'peek', '--partition', '1', '--max', '1', '--json'])).stdout).toMatch(
      /^\{"topic":"peek","partition":1,"offset":"0"/,
    );
    const grouped = await ferry(['consume', 'peek', '--from-beginning']);
    expect(grouped.stdout.split('\n').filter(Boolean).sort()).toEqual(['a', 'b', 'c']);
    expect(grouped.stderr).toMatch(/as a temporary group \(deleted\)/);
    // Neither the peeks nor the consume without --group left a group.
    expect(JSON.parse((await ferry(['groups', 'list', '--json'])).stdout).groups.map((g: { groupId: string }) => g.groupId)).toEqual(
      before,
    );
    expect((await fails(['consume', 'peek', '--offset', '1'])).stderr).toMatch(/--offset needs --partition/);
    await ferry(['consume', 'peek', '--group', 'doomed', '--from-beginning']);
    expect((await ferry(['groups', 'delete', 'doomed'])).stdout).toBe('deleted group doomed\n');
    expect((await fails(['groups', 'describe', 'doomed'])).stderr).toMatch(/consumer group "doomed" does not exist/);
    expect((await fails(['groups', 'delete', 'doomed'])).stderr).toMatch(/does not exist/);
  });

  it('produces keys (-K), headers (-H) and delayed records, prints records by template (-f), lists and cancels scheduled ones', async () => {
    await ferry(['topics', 'create', 'fmt', '-p', '1']);
    await ferry(['produce', 'fmt', '-K', ':', '-H', 'source=cli', '-H', 'v=2'], 'u1:hello\nno key here\nu2:a:b\n');
    const { stdout } = await ferry(['consume', 'fmt', '--partition', '0', '-f', '%k|%v|%p:%o|%h']);
    expect(stdout).toBe('u1|hello|0:0|source=cli,v=2\n|no key here|0:1|source=cli,v=2\nu2|a:b|0:2|source=cli,v=2\n');
    const later = JSON.parse((await ferry(['produce', 'fmt', '--deliver-after', '600000', '--json'], 'soon\nsooner\n')).stdout);
    expect(later.records).toBe(2);
    const listed = JSON.parse((await ferry(['scheduled', 'list', 'fmt', '--json'])).stdout).scheduled;
    expect(listed).toHaveLength(2);
    expect(listed[0].deliverAt).toBeGreaterThan(Date.now() + 500_000);
    expect((await ferry(['scheduled', 'cancel', 'fmt', listed[0].scheduledId])).stdout).toBe(`cancelled ${listed[0].scheduledId}\n`);
    expect((await ferry(['scheduled', 'list', 'fmt'])).stdout).toMatch(/^SCHEDULED-ID\s+PARTITION\s+DELIVER-AT\n\S+\s+0\s+\d{4}-/);
    expect((await fails(['produce', 'fmt', '-H', 'novalue'], 'x\n')).stderr).toMatch(/--header takes name=value/);
  });
});
