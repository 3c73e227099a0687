/**
 * The example stack's producer function: signs a POST with the function's own credentials (SigV4, service
 * execute-api) and appends its event to the topic `FERRY_TOPIC` of the Ferry API at `FERRY_URL`.
 *
 * Bundled (not inline code): the Lambda Node.js runtime ships the AWS SDK v3 packages (`@aws-sdk/*`) but does
 * not promise their `@smithy/*` dependencies as top-level modules, so the signer is bundled with the function.
 */
import { createHash, type Hash } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

/** The SHA-256 the signer needs, from node:crypto. */
class Sha256 {
  private hash: Hash = createHash('sha256');
  update(data: string | Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = createHash('sha256');
  }
}

export async function handler(event: { key?: unknown; value?: unknown }): Promise<{ status: number; body: unknown }> {
  const url = new URL(`v1/topics/${process.env.FERRY_TOPIC}/records`, process.env.FERRY_URL);
  const body = JSON.stringify({ records: [{ key: event.key ?? null, value: event.value ?? event }] });
  const signer = new SignatureV4({
    service: 'execute-api',
    region: process.env.AWS_REGION ?? 'us-east-1',
    sha256: Sha256,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '',
      sessionToken: process.env.AWS_SESSION_TOKEN,
    },
  });
  const request = await signer.sign({
    method: 'POST',
    protocol: 'https:',
    hostname: url.hostname,
    path: url.pathname,
    headers: { host: url.hostname, 'content-type': 'application/json' },
    body,
  });
  const res = await fetch(url, { method: 'POST', headers: request.headers, body });
  return { status: res.status, body: await res.json() };
}
