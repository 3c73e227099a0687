/**
 * S3 as AWS runs it, in front of s3rver (path-style requests): every call authorised against the calling
 * function's policies — object actions on `arn:aws:s3:::bucket/key`, bucket actions (ListBucket) on
 * `arn:aws:s3:::bucket` — answering a denial with S3's own `403 AccessDenied` XML. Also as S3 does:
 *
 * - a GET of a missing key by a caller without `s3:ListBucket` is `403 AccessDenied`, not `404 NoSuchKey`;
 * - buckets marked as directory buckets (S3 Express One Zone) refuse `ListObjectsV2` with `start-after`.
 */
import { randomUUID } from 'node:crypto';
import { forward, listen, readBody, send } from './http-proxy';
import { withEmulatorKey, type Check, type Principals } from './principals';

export interface S3ProxyOptions {
  target: string;
  principals: Principals;
  emulatorKey: string;
  /** Bucket names that behave as S3 Express directory buckets. */
  directoryBuckets?: Set<string>;
}

export interface S3Stats {
  requests: number;
  denials: number;
  byAction: Record<string, number>;
}

const XML = 'application/xml';

function errorXml(code: string, message: string): string {
  const id = randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;')}</Message><RequestId>${id}</RequestId><HostId>${id}</HostId></Error>`;
}

/** The IAM checks of one S3 request (bucket and key from the path; the operation from method and query). */
function checksFor(method: string, bucket: string, key: string, query: URLSearchParams, body: Buffer): Check[] {
  const bucketArn = `arn:aws:s3:::${bucket}`;
  const objectArn = `${bucketArn}/${key}`;
  if (!key) {
    if (method === 'POST' && query.has('delete')) {
      const keys = [...body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]);
      return keys.map((k) => ({ action: 's3:DeleteObject', resource: `${bucketArn}/${k}` }));
    }
    if (method === 'GET' || method === 'HEAD') return [{ action: 's3:ListBucket', resource: bucketArn }];
    if (method === 'PUT') return [{ action: 's3:CreateBucket', resource: bucketArn }];
    if (method === 'DELETE') return [{ action: 's3:DeleteBucket', resource: bucketArn }];
  }
  if (method === 'GET' || method === 'HEAD') return [{ action: 's3:GetObject', resource: objectArn }];
  if (method === 'PUT' || method === 'POST') return [{ action: 's3:PutObject', resource: objectArn }];
  if (method === 'DELETE') return [{ action: query.has('uploadId') ? 's3:AbortMultipartUpload' : 's3:DeleteObject', resource: objectArn }];
  return [{ action: `s3:Unknown${method}`, resource: objectArn }];
}

export async function startS3Proxy(options: S3ProxyOptions) {
  const { principals } = options;
  const stats: S3Stats = { requests: 0, denials: 0, byAction: {} };
  const proxy = await listen(
    async (req, res) => {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://s3');
      const [, rawBucket = '', ...rest] = url.pathname.split('/');
      const bucket = decodeURIComponent(rawBucket);
      const key = decodeURIComponent(rest.join('/'));
      const method = req.method ?? 'GET';
      const checks = checksFor(method, bucket, key, url.searchParams, body);
      stats.requests++;
      for (const c of checks) stats.byAction[c.action] = (stats.byAction[c.action] ?? 0) + 1;

      const principal = principals.fromHeaders(req.headers);
      if (!principal)
        return send(
          res,
          403,
          { 'content-type': XML },
          errorXml('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'),
        );
      const denial = principals.authorize(principal, checks);
      if (denial) {
        stats.denials++;
        return send(
          res,
          403,
          { 'content-type': XML },
          method === 'HEAD' ? '' : errorXml('AccessDenied', denial.message.replace(/resource: (\S+)/, 'resource: "$1"')),
        );
      }
      if (options.directoryBuckets?.has(bucket) && !key && url.searchParams.has('start-after')) {
        return send(res, 400, { 'content-type': XML }, errorXml('InvalidArgument', 'StartAfter is not supported for directory buckets.'));
      }

      const headers = { ...req.headers, authorization: withEmulatorKey(req.headers.authorization, options.emulatorKey) };
      const answer = await forward(options.target, req, headers, body);
      if (answer.status === 404 && key && (method === 'GET' || method === 'HEAD')) {
        // Without ListBucket, S3 will not say whether the key exists.
        const list = principals.authorize(principal, [{ action: 's3:ListBucket', resource: `arn:aws:s3:::${bucket}` }]);
        if (list) {
          principals.denials.pop(); // what S3 does here is not a denial of the call the function made
          return send(res, 403, { 'content-type': XML }, method === 'HEAD' ? '' : errorXml('AccessDenied', 'Access Denied'));
        }
      }
      send(res, answer.status, answer.headers, answer.body);
    },
    (e) => console.error('s3 proxy', e),
  );
  return { url: proxy.url, stats, close: proxy.close };
}
