/**
 * `ferry consume <topic> --group g` (no --follow) exits at the high watermark — also when the group's
 * describe answer, read before the consumer's own commit, arrives after it (issue: 1 run in 6 hung forever).
 * A proxy holds the group's answers back so that interleaving happens every time.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startDelayingProxy, type DelayingProxy } from '../helpers/delaying-proxy';
import { runTracked } from '../helpers/processes';
import { startServerProcess, type ServerProcess } from '../helpers/server-process';

const BIN = path.join(__dirname, '..', '..', 'bin', 'ferry.js');

describe('ferry consume without --follow', () => {
  let dir: string;
  let server: ServerProcess;
  let proxy: DelayingProxy;
  const ferry = (url: string, args: string[], input?: string) =>
    runTracked(process.execPath, [BIN, ...args], { env: { ...process.env, FERRY_URL: url }, input, timeoutMs: 15_000 });

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-e2e-consume-'));
    server = await startServerProcess(['--data', path.join(dir, 'data')]);
    // The group's own answers (describe / committed offsets) come back 600 ms late; everything else at once.
    proxy = await startDelayingProxy(server.url, (method, p) => (method === 'GET' && /^\/v1\/groups\/[^/]+$/.test(p) ? 600 : 0));
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.kill('SIGTERM');
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('exits at the high watermark when the group answer is older than the records it just consumed', async () => {
    await ferry(server.url, ['topics', 'create', 't', '-p', '2']);
    await ferry(server.url, ['produce', 't', '--key', 'k'], 'r1\nr2\nr3\nr4\n'); // one key: all on one partition
    expect((await ferry(server.url, ['consume', 't', '--group', 'g', '--from-beginning', '--max', '3'])).stdout).toBe('r1\nr2\nr3\n');
    const started = Date.now();
    const rest = await ferry(proxy.url, ['consume', 't', '--group', 'g']);
    expect(rest.stdout).toBe('r4\n');
    expect(rest.stderr).toMatch(/consumed 1 record from t as group g/);
    expect(Date.now() - started).toBeLessThan(10_000); // it stopped on its own (the run is killed at 15 s)
  });

  it('exits at once when every partition is already consumed (empty partitions included)', async () => {
    const res = await ferry(proxy.url, ['consume', 't', '--group', 'g']);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/consumed 0 records/);
  });
});
