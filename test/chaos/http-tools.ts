/**
 * Tools for hammering the real server process with bad input: raw requests (any method, any bytes),
 * raw sockets (lying Content-Length, oversized headers, slow senders), a state snapshot to prove a refused
 * request changed nothing, and the server's RSS from /proc.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { readFileSync } from 'node:fs';

export interface RawAnswer {
  status: number;
  body: string;
  json?: { error?: string; message?: string; details?: unknown };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/** One request with node:http (fetch refuses odd methods and bodies on GET). Status -1: no answer; -2: the client refused to send it. */
export async function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
  timeoutMs = 15_000,
): Promise<RawAnswer> {
  const first = await sendOnce(base, method, path, headers, body, timeoutMs, agent);
  // A reused keep-alive socket may be closed by the server just as the request goes out (a client-side race,
  // not an answer): try once more on a new connection before calling it "no answer".
  return first.status === -1 ? sendOnce(base, method, path, headers, body, timeoutMs, false) : first;
}

function sendOnce(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | Buffer | undefined,
  timeoutMs: number,
  via: http.Agent | false,
): Promise<RawAnswer> {
  const url = new URL(base);
  return new Promise((resolve) => {
    let req: http.ClientRequest;
    try {
      req = http.request(
        {
          host: url.hostname,
          port: url.port,
          method,
          path,
          headers: { ...headers, ...(body !== undefined && { 'content-length': String(Buffer.byteLength(body)) }) },
          agent: via,
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? -1, body: text, json });
          });
          res.on('error', () => resolve({ status: -1, body: '' }));
        },
      );
    } catch (e) {
      return resolve({ status: -2, body: String(e) });
    }
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: -1, body: String(e) }));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * Writes raw bytes on a new connection; answers what came back (the status line's code, or -1) once the server
 * closed the connection or `waitMs` passed.
 */
export function rawSocket(
  base: string,
  chunks: Array<string | Buffer>,
  options: { waitMs?: number; gapMs?: number; endAfter?: boolean } = {},
): Promise<{ status: number; text: string; closedByServer: boolean; elapsedMs: number }> {
  const url = new URL(base);
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let text = '';
    let closedByServer = false;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : -1, text, closedByServer, elapsedMs: Date.now() - started });
    };
    const timer = setTimeout(finish, options.waitMs ?? 5_000);
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('end', () => {
      closedByServer = true;
      finish();
    });
    socket.on('close', () => {
      closedByServer = true;
      finish();
    });
    socket.on('error', () => finish());
    socket.on('connect', async () => {
      for (const c of chunks) {
        if (done) return;
        socket.write(c);
        if (options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
      }
      if (options.endAfter) socket.end();
    });
  });
}

/** What a refused request must not change: topics, their offsets, scheduled records, groups and their offsets. */
export async function snapshot(base: string, topics: string[], groups: string[]): Promise<string> {
  const parts: string[] = [];
  const list = await send(base, 'GET', '/v1/topics');
  parts.push(
    JSON.stringify(
      (list.json as { topics?: Array<{ name: string; partitionCount: number }> } | undefined)?.topics
        ?.map((t) => [t.name, t.partitionCount])
        .sort(),
    ),
  );
  for (const t of topics) {
    const one = await send(base, 'GET', `/v1/topics/${t}`);
    parts.push(`${one.status} ${JSON.stringify((one.json as { partitions?: unknown } | undefined)?.partitions)}`);
    const scheduled = await send(base, 'GET', `/v1/topics/${t}/scheduled`);
    parts.push(`${scheduled.status} ${scheduled.body}`);
  }
  for (const g of groups) {
    const d = await send(base, 'GET', `/v1/groups/${g}`);
    const j = d.json as
      | {
          generation?: number;
          members?: Array<{ memberId: string }>;
          offsets?: Array<{ partition: number; committedOffset: string | null }>;
        }
      | undefined;
    parts.push(
      `${d.status} ${j?.generation} ${JSON.stringify(j?.members?.map((m) => m.memberId))} ${JSON.stringify(j?.offsets?.map((o) => [o.partition, o.committedOffset]))}`,
    );
  }
  return parts.join('\n');
}

/** Resident memory of a process, in bytes (Linux). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

export function closeAgent(): void {
  agent.destroy();
}
