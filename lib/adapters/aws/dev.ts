/**
 * `ferry dev --backend aws`: the embedded HTTP server on the AWS adapters (kept apart from home.ts so the
 * Lambda bundles do not carry a node:http server).
 *
 * @example
 *   // FERRY_TABLE=ferry FERRY_BUCKETS=ferry-s0 AWS_ENDPOINT_URL_S3=http://127.0.0.1:4568 ...
 *   const dev = await startAwsDev({ port: 8080, create: true });
 */
import { startEmbedded, type Embedded } from '../../embedded';
import { openAwsHome, type AwsHomeOptions } from './home';

export interface AwsDevOptions extends AwsHomeOptions {
  host?: string;
  port?: number;
  env?: Record<string, string | undefined>;
  onUnexpectedError?: (error: unknown, route: string) => void;
}

/**
 * Serves the HTTP API on the AWS home named by `env` (default: process.env): emulators or a real account —
 * the embedded server with its maintenance timers (delayed records, retention, repair), on S3 + DynamoDB.
 */
export async function startAwsDev(options: AwsDevOptions = {}): Promise<Embedded> {
  const home = await openAwsHome(options.env ?? process.env, options);
  return startEmbedded({ ...options, home, settings: undefined });
}
