/** What every CLI command shares: the client from --url / FERRY_URL, --json output, human tables. */
import { InvalidArgumentError, type Command } from 'commander';
import { FerryClient } from '../client';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface CommonOptions {
  url?: string;
  json?: boolean;
  token?: string;
}

/** Adds --url, --token and --json to a command. */
export function withCommon(cmd: Command): Command {
  return cmd
    .option('--url <url>', `Ferry's HTTP API (default: $FERRY_URL or ${DEFAULT_URL})`)
    .option('--token <token>', 'bearer token (default: $FERRY_TOKEN)')
    .option('--json', 'print JSON for scripts instead of tables');
}

export function clientFor(opts: CommonOptions): FerryClient {
  const url = opts.url ?? process.env.FERRY_URL ?? DEFAULT_URL;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new Error(`--url / FERRY_URL must be an http(s) URL like ${DEFAULT_URL} (got ${JSON.stringify(url)})`);
  }
  return new FerryClient({ url, token: opts.token ?? process.env.FERRY_TOKEN, retry: { retries: 2 } });
}

export function printJson(v: unknown): void {
  process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
}

/** A plain text table: a header row, then rows, columns padded to their widest cell. */
export function printTable(columns: string[], rows: Array<Array<string | number | null | undefined>>): void {
  const cells = [columns, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const r of cells) process.stdout.write(`${r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i]))).join('  ')}\n`);
}

/** A whole number option (partitions, counts). */
export function wholeNumber(name: string, min = 0) {
  return (v: string): number => {
    if (!/^\d{1,15}$/.test(v) || Number(v) < min) throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min}`);
    return Number(v);
  };
}
