/**
 * The client commands on their own (bin/ferry.js runs this for `topics`, `produce`, `consume`, `groups`):
 * they never load the embedded server, SQLite or the AWS SDK, so each call starts in a fraction of the time.
 */
import { Command } from 'commander';
import { isFerryError } from '../protocol/errors';
import { registerClientCommands } from '.';
import { version } from '../../package.json';

export const CLIENT_COMMANDS = ['topics', 'produce', 'consume', 'groups', 'scheduled', 'consumers'];

export function main(argv: string[]): void {
  const program = new Command();
  program
    .name('ferry')
    .description('Ferry: a Kafka-style durable message log, serverless on AWS or embedded here.')
    .version(version, '-V, --version', 'print the version');
  registerClientCommands(program);
  program.parseAsync(argv).catch(exitWithError);
}

/** What to try next, for the errors a newcomer meets first. */
export function hint(e: unknown): string | undefined {
  if (isFerryError(e) && e.kind === 'unavailable' && e.details.code === 'ECONNREFUSED') {
    return 'is the server running? Start one with `npx ferry dev`, or point --url / FERRY_URL at yours';
  }
  if (isFerryError(e) && e.kind === 'unauthorized') return 'this server wants a token: pass --token <token> or set FERRY_TOKEN';
  if ((e as NodeJS.ErrnoException)?.code === 'EADDRINUSE') return 'that port is taken (another ferry dev?): try --port 0 for a free one';
  return undefined;
}

/**
 * Prints the error as `ferry: <message>` (the server's message for server errors) and exits 1; with --json,
 * as one JSON object on stderr: `{"error": {"kind", "message", "details"?, "hint"?}}`.
 */
export function exitWithError(e: unknown, json = process.argv.includes('--json')): never {
  // The message is the useful part; a stack only helps when debugging Ferry itself (FERRY_DEBUG=1).
  const shown = isFerryError(e) || (e instanceof Error && !process.env.FERRY_DEBUG) ? e.message : ((e as Error).stack ?? String(e));
  const tip = hint(e);
  if (json) {
    const kind = isFerryError(e) ? e.kind : 'cli';
    const details = isFerryError(e) && Object.keys(e.details).length ? e.details : undefined;
    console.error(JSON.stringify({ error: { kind, message: shown, ...(details && { details }), ...(tip && { hint: tip }) } }));
    process.exit(1);
  }
  console.error(`ferry: ${shown}`);
  if (tip) console.error(`hint: ${tip}`);
  process.exit(1);
}
