/**
 * The guard every test file runs with (test/helpers/process-guard.ts): a test that times out while a process
 * it started runs on must not keep jest waiting — the process (its whole group) is killed, the file fails
 * naming it, and jest exits.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runTracked } from '../helpers/processes';

const ROOT = path.join(__dirname, '..', '..');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !existsSync(`/proc/${pid}/stat`) || !/^\d+ \([^)]*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('the process guard', () => {
  it('kills what a timed-out test left running, fails its file naming it, and lets jest exit', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ferry-guard-'));
    const pidFile = path.join(dir, 'pid');
    const config = {
      rootDir: ROOT,
      roots: ['<rootDir>/test/fixtures/guard'],
      testMatch: ['**/*.fixture.ts'],
      transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
      setupFilesAfterEnv: ['<rootDir>/test/helpers/process-guard.ts'],
      forceExit: true,
      testTimeout: 1_500,
    };
    const started = Date.now();
    const res = await runTracked(process.execPath, [require.resolve('jest/bin/jest'), '--runInBand', '--config', JSON.stringify(config)], {
      cwd: ROOT,
      env: { ...process.env, FERRY_GUARD_PID_FILE: pidFile },
      timeoutMs: 50_000,
    }).then(
      () => undefined,
      (e: { code: number | null; stderr: string }) => e,
    );
    try {
      expect(res).toBeDefined(); // jest failed the file …
      expect(res!.code).toBe(1); // … and exited by itself (not killed at 50 s)
      expect(res!.stderr).toMatch(/left 1 process\(es\) running \(killed now\):\n\s+sleep 600/);
      expect(Date.now() - started).toBeLessThan(45_000);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(pid).toBeGreaterThan(0);
      expect(alive(pid)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
