/**
 * The S3 emulator: s3rver 3.7 with conditional PUT added. Run as its own process (emulators.ts starts it with
 * `--openssl-legacy-provider`, which s3rver's DES continuation tokens need on Node >= 17, so the test process
 * itself keeps the default OpenSSL providers):
 *
 *   node --openssl-legacy-provider --import tsx test/helpers/s3-emulator.ts <port> <directory>
 *
 * Prints `s3-emulator ready <port>` once it listens.
 */
import type { IncomingMessage } from 'node:http';

/** The part of a Koa context this middleware uses (s3rver is a Koa app; koa ships no types here). */
interface Context {
  method: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
  req: IncomingMessage;
  get(header: string): string;
  set(header: string, value: string): void;
  status: number;
  body: unknown;
  response: { get(header: string): string };
}
type Next = () => Promise<unknown>;

interface S3rverLike {
  middleware: Array<(ctx: Context, next: Next) => unknown>;
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
interface S3rverStore {
  existsObject(bucket: string, key: string): Promise<boolean>;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3Error = require('s3rver/lib/models/error') as new (code: string, message: string, detail?: object) => Error;

/**
 * `If-None-Match: *` on PUT Object, as S3 has had since 2024: the PUT succeeds only if no object has the key,
 * else 412 PreconditionFailed. A per-key lock held across the write makes check-and-create atomic, so of
 * many concurrent creators exactly one wins (s3rver alone would let the last writer overwrite).
 */
export function conditionalPut() {
  const locks = new Map<string, Promise<void>>();
  return async function conditionalPutMiddleware(ctx: Context, next: Next): Promise<void> {
    const isPlainPut =
      ctx.method === 'PUT' &&
      ctx.get('if-none-match') !== '' &&
      !('x-amz-copy-source' in ctx.headers) &&
      !Object.keys(ctx.query).some((q) => ['uploadId', 'partNumber', 'tagging', 'acl'].includes(q));
    const match = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
    if (!isPlainPut || !match) {
      await next();
      return;
    }
    if (ctx.get('if-none-match').trim() !== '*') {
      throw new S3Error('NotImplemented', 'If-None-Match on PUT takes only "*"');
    }
    const bucket = decodeURIComponent(match[1]);
    const key = decodeURIComponent(match[2]);
    const id = `${bucket}/${key}`;
    const previous = locks.get(id) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const chained = previous.then(() => mine);
    locks.set(id, chained);
    await previous;
    try {
      const store = (ctx as unknown as { store: S3rverStore }).store;
      if (await store.existsObject(bucket, key)) {
        for await (const _ of ctx.req) void _; // read the unused body so the connection stays usable
        throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
          Condition: 'If-None-Match',
        });
      }
      await next();
    } finally {
      release();
      if (locks.get(id) === chained) locks.delete(id);
    }
  };
}

/**
 * s3rver reads `Range: bytes=0-0` as `bytes=0-` (an end of 0 counts as absent) and sends the whole object;
 * S3 sends one byte. Trim the answer to that byte.
 */
export function firstByteRange() {
  return async function firstByteRangeMiddleware(ctx: Context, next: Next): Promise<void> {
    const firstByteOnly = ctx.method === 'GET' && /^bytes=0-0$/.test(ctx.get('range').trim());
    await next();
    if (!firstByteOnly || ctx.status !== 206 || !ctx.body) return;
    const stream = ctx.body as AsyncIterable<Buffer> & { destroy(): void };
    let first = Buffer.alloc(0);
    for await (const chunk of stream) {
      first = Buffer.from(chunk).subarray(0, 1);
      break;
    }
    stream.destroy();
    const size = /\/(\d+)$/.exec(String(ctx.response.get('content-range')))?.[1] ?? '*';
    ctx.body = first;
    ctx.set('Content-Range', `bytes 0-0/${size}`);
  };
}

/** Starts s3rver on 127.0.0.1:port with conditional PUT spliced in just before its router. */
export async function startS3rver(port: number, directory: string): Promise<S3rverLike> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver') as new (options: object) => S3rverLike;
  const server = new S3rver({ address: '127.0.0.1', port, directory, silent: true, allowMismatchedSignatures: true });
  // The router is the last middleware; Koa composes the array when it starts listening.
  server.middleware.splice(server.middleware.length - 1, 0, conditionalPut(), firstByteRange());
  await server.run();
  return server;
}

if (require.main === module) {
  const [port, directory] = process.argv.slice(2);
  startS3rver(Number(port), directory).then(
    () => console.log(`s3-emulator ready ${port}`),
    (e: unknown) => {
      console.error(`s3-emulator failed to start: ${(e as Error).stack ?? String(e)}`);
      process.exit(1);
    },
  );
  process.on('SIGTERM', () => process.exit(0));
}
