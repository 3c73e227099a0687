/**
 * The "Try it" lines `ferry dev` prints at start, fitted to how it was started: a topic the config already
 * made is used as it is (not created again with another partition count), the partition a key lands on is
 * computed (murmur2), and with --tokens every command carries the bearer token.
 */
import { jsonToPayload } from './core/codec/payload';
import { keyHashBytes, partitionForKey } from './core/log/partitioner';

export interface TryItOptions {
  url: string;
  /** The server checks tokens: commands send `$FERRY_TOKEN`. */
  tokens: boolean;
  /** A topic the config declares (it exists once the server is up). */
  topic?: { name: string; partitions: number };
}

export function tryItLines({ url, tokens, topic }: TryItOptions): string[] {
  const auth = tokens ? ` -H "authorization: Bearer $FERRY_TOKEN"` : '';
  const json = ` -H 'content-type: application/json'`;
  const name = topic?.name ?? 'orders';
  const partitions = topic?.partitions ?? 3;
  const key = 'u1';
  const partition = partitionForKey(keyHashBytes(jsonToPayload(key)), partitions);
  const lines: string[] = [];
  if (tokens) lines.push('  export FERRY_TOKEN=<a token from your --tokens file with admin, produce and consume rights>');
  if (!topic) lines.push(`  curl -s -X POST ${url}/v1/topics${auth}${json} -d '{"name":"${name}","partitions":${partitions}}'`);
  lines.push(`  curl -s -X POST ${url}/v1/topics/${name}/records${auth}${json} -d '{"records":[{"key":"${key}","value":{"id":1}}]}'`);
  lines.push(
    `  curl -s${auth} '${url}/v1/topics/${name}/partitions/${partition}/records?offset=0'   # "${key}" lands on partition ${partition} of ${partitions}`,
  );
  return lines;
}
