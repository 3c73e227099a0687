/**
 * The client's producer is idempotent by default: when the answer to a produce is lost after the server stored
 * it, the client retries, and the records are stored once with their original offsets (G5).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FerryClient } from '../../lib/client';
import { startEmbedded, type Embedded } from '../../lib/embedded';

/** A proxy to Ferry that cuts the connection instead of answering the first `dropFirst` produce requests. */
async function lossyProxy(target: string, dropFirst: number): Promise<{ url: string; dropped: () => number; close(): Promise<void> }> {
  let dropped = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const upstream = await fetch(target + req.url, {
        method: req.method,
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
        body: chunks.length ? Buffer.concat(chunks) : undefined,
      });
      const body = Buffer.from(await upstream.arrayBuffer());
      if (req.method === 'POST' && req.url?.endsWith('/records') && dropped < dropFirst) {
        dropped++;
        req.socket.destroy(); // stored by Ferry, answer lost on the way back
        return;
      }
      res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    dropped: () => dropped,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('idempotent client producer', () => {
  let dir: string;
  let ferry: Embedded;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-idem-'));
    ferry = await startEmbedded({ dataDir: dir, port: 0 });
    await new FerryClient({ url: ferry.url }).admin().createTopics({ topics: [{ topic: 'orders', numPartitions: 2 }] });
  });
  afterAll(async () => {
    await ferry.close();
    await rm(dir, { recursive: true, force: true });
  });

  const highWatermarks = async () => {
    const res = await (await fetch(`${ferry.url}/v1/topics/orders`)).json();
    return res.partitions.map((p: { highWatermark: string }) => p.highWatermark);
  };

  it('retries a produce whose answer was lost and stores it once, with the original offsets', async () => {
    const proxy = await lossyProxy(ferry.url, 2);
    try {
      const producer = new FerryClient({ url: proxy.url, retry: { initialRetryTime: 10 } }).producer({ lingerMs: 0 });
      const first = await producer.send({
        topic: 'orders',
        messages: [
          { value: 'a', partition: 0 },
          { value: 'b', partition: 1 },
        ],
      });
      expect(proxy.dropped()).toBe(2); // the answer was lost twice; the third try got the stored offsets
      expect(first.map((r) => [r.partition, r.offset])).toEqual([
        [0, '0'],
        [1, '0'],
      ]);
      const second = await producer.send({ topic: 'orders', messages: [{ value: 'c', partition: 0 }] });
      expect(second[0].offset).toBe('1');
      expect(await highWatermarks()).toEqual(['2', '1']); // a, b once; c once
    } finally {
      await proxy.close();
    }
  });

  it('a plain (non-idempotent) producer does not retry a lost answer: an unknown outcome', async () => {
    const proxy = await lossyProxy(ferry.url, 1);
    try {
      const producer = new FerryClient({ url: proxy.url, retry: { initialRetryTime: 10 } }).producer({ lingerMs: 0, idempotent: false });
      const before = await highWatermarks();
      await expect(producer.send({ topic: 'orders', messages: [{ value: 'd', partition: 1 }] })).rejects.toThrow();
      const after = await highWatermarks();
      expect(Number(after[1])).toBe(Number(before[1]) + 1); // stored, though the client was told it failed
    } finally {
      await proxy.close();
    }
  });
});
