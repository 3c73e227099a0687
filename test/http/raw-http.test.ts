/** Requests node:http itself refuses still answer in the one error shape, over a raw socket. */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startEmbedded, type Embedded } from '../../lib/embedded';

describe('malformed HTTP/1.1', () => {
  let dir: string;
  let ferry: Embedded;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-raw-'));
    ferry = await startEmbedded({ dataDir: dir, port: 0 });
  });
  afterAll(async () => {
    await ferry.close();
    await rm(dir, { recursive: true, force: true });
  });

  const raw = (request: string) =>
    new Promise<string>((resolve, reject) => {
      const u = new URL(ferry.url);
      const socket = connect(Number(u.port), u.hostname, () => socket.write(request));
      let text = '';
      socket.on('data', (c) => (text += c.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
      socket.setTimeout(5000, () => socket.destroy(new Error('no answer')));
    });

  it.each([
    [
      'two Content-Length headers',
      'POST /v1/topics HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
    ],
    ['a negative Content-Length', 'POST /v1/topics HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'],
    ['a control character in the path', 'GET /v1/to\u0001pics HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['garbage instead of a request line', 'HELLO\r\n\r\n'],
  ])('answers %s with 400 and the error shape', async (_, request) => {
    const answer = await raw(request);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    expect(body).toEqual({ error: 'invalid', message: expect.stringContaining('not valid HTTP'), details: {} });
  });

  it('answers oversized headers with 431 and the error shape', async () => {
    const answer = await raw(`GET /v1/topics HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error).toBe('too_large');
  });

  it('still serves the next connection', async () => {
    expect((await fetch(`${ferry.url}/v1/topics`)).status).toBe(200);
  });
});
