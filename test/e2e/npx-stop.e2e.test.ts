/**
 * `npx ferry dev` stopped the way a process manager stops it — SIGTERM to npm — stops the server too (npm exec
 * does not pass the signal on; the server notices its npm parent is gone).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { spawnTracked } from '../helpers/processes';

const ROOT = path.join(__dirname, '..', '..');

describe('npx ferry dev', () => {
  it('stops when npm gets SIGTERM, instead of running on as an orphan', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ferry-npx-'));
    try {
      const npm = spawnTracked('npx', ['--no-install', 'ferry', 'dev', '--port', '0', '--data', path.join(dir, 'data')], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      npm.stdout!.on('data', (c) => (out += c));
      npm.stderr!.on('data', (c) => (out += c));
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no banner in 30 s:\n${out}`)), 30_000);
        npm.stdout!.on('data', () => {
          const m = /Ferry is running at (http:\/\/\S+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
      });
      expect((await fetch(`${url}/health`)).status).toBe(200);
      process.kill(npm.pid!, 'SIGTERM'); // npm alone, not its process group
      const deadline = Date.now() + 15_000;
      let down = false;
      while (!down && Date.now() < deadline) {
        down = await fetch(`${url}/health`).then(
          () => false,
          () => true,
        );
        if (!down) await new Promise((r) => setTimeout(r, 200));
      }
      expect(down).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
