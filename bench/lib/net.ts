/** Loopback helpers: a free port, a keep-alive JSON client over node:http. */
import * as http from 'node:http';
import * as net from 'node:net';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface HttpAnswer {
  status: number;
  text: string;
}

/**
 * A minimal HTTP/1.1 client with a keep-alive agent: one socket per concurrent request, reused, so the
 * benchmark measures the server and not connection setup.
 */
export class JsonClient {
  private readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(baseUrl: string, maxSockets = 64) {
    const u = new URL(baseUrl);
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) throw new Error(`benchmarks only target loopback, not ${u.hostname}`);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  request(method: string, path: string, body?: string): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = { accept: 'application/json' };
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(body);
      }
      const req = http.request({ host: this.host, port: this.port, method, path, agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      if (body !== undefined) req.end(body);
      else req.end();
    });
  }

  /** JSON answer of a 2xx; anything else throws with the server's message. */
  async json<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const a = await this.request(method, path, body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
    if (a.status < 200 || a.status >= 300) throw new Error(`${method} ${path} → ${a.status}: ${a.text.slice(0, 300)}`);
    return (a.text ? JSON.parse(a.text) : undefined) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}
