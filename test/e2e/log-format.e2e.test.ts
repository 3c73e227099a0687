/** `ferry dev --log-format json`: one JSON object a line, with the fields of the Lambda logs. */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { devLog, errorFields } from '../../lib/dev-log';
import { spawnTracked } from '../helpers/processes';

const BIN = path.join(__dirname, '..', '..', 'bin', 'ferry.js');

describe('ferry dev --log-format json', () => {
  it('logs start and stop as JSON lines with level, message, timestamp and service', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ferry-logfmt-'));
    const child = spawnTracked(process.execPath, [BIN, 'dev', '--port', '0', '--data', dir, '--log-format', 'json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Array<Record<string, unknown>> = [];
    const rl = readline.createInterface({ input: child.stdout! });
    rl.on('line', (l) => lines.push(JSON.parse(l)));
    try {
      while (!lines.length) await new Promise((r) => setTimeout(r, 50));
      expect(lines[0]).toMatchObject({ level: 'INFO', message: 'Ferry is running', service: 'ferry-dev', backend: 'local', data: dir });
      expect(new Date(String(lines[0].timestamp)).toISOString()).toBe(lines[0].timestamp);
      const url = String(lines[0].url);
      expect((await fetch(`${url}/health`)).status).toBe(200);
      child.kill('SIGTERM');
      await once(child, 'exit');
      expect(lines.map((l) => l.message)).toEqual(['Ferry is running', 'stopping', 'Ferry stopped.']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('with --log-level debug, logs one line per request (also refused ones), never a body', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ferry-reqlog-'));
    const child = spawnTracked(
      process.execPath,
      [BIN, 'dev', '--port', '0', '--data', dir, '--log-format', 'json', '--log-level', 'debug'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const lines: Array<Record<string, unknown>> = [];
    readline.createInterface({ input: child.stdout! }).on('line', (l) => lines.push(JSON.parse(l)));
    try {
      while (!lines.length) await new Promise((r) => setTimeout(r, 50));
      const url = String(lines[0].url);
      const json = { 'content-type': 'application/json' };
      await fetch(`${url}/v1/topics`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'orders', partitions: 1 }) });
      await fetch(`${url}/v1/topics/orders/records`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ records: [{ value: 'secret-value' }] }),
      });
      await fetch(`${url}/v1/topics/nope`);
      while (lines.filter((l) => l.route !== undefined).length < 3) await new Promise((r) => setTimeout(r, 50));
      const requests = lines.filter((l) => l.route !== undefined);
      expect(requests.map((r) => [r.method, r.path, r.route, r.status])).toEqual([
        ['POST', '/v1/topics', '/v1/topics', 201],
        ['POST', '/v1/topics/orders/records', '/v1/topics/:topic/records', 200],
        ['GET', '/v1/topics/nope', '/v1/topics/:topic', 404],
      ]);
      expect(requests.every((r) => typeof r.ms === 'number' && r.level === 'INFO')).toBe(true);
      expect(JSON.stringify(lines)).not.toContain('secret-value');
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes errors with their name, message and cause', () => {
    const err: string[] = [];
    devLog(
      'json',
      () => undefined,
      (l) => err.push(l),
    ).error('unexpected error', { route: '/v1/topics', error: errorFields(new Error('boom', { cause: new Error('disk') })) });
    const line = JSON.parse(err[0]);
    expect(line).toMatchObject({
      level: 'ERROR',
      message: 'unexpected error',
      route: '/v1/topics',
      error: { name: 'Error', message: 'boom', cause: { message: 'disk' } },
    });
    const text: string[] = [];
    devLog(
      'text',
      () => undefined,
      (l) => text.push(l),
    ).error('unexpected error', { route: '/v1/topics' });
    expect(text).toEqual(['ferry: unexpected error (route=/v1/topics)']);
  });
});
