/**
 * The client commands on their own (bin/ferry.js runs this for `topics`, `produce`, `consume`, `groups`):
 * they never load the embedded server, SQLite or the AWS SDK, so each call starts in a fraction of the time.
 */
import { Command } from 'commander';
import { isFerryError } from '../core/errors';
import { registerClientCommands } from '.';

export const CLIENT_COMMANDS = ['topics', 'produce', 'consume', 'groups'];

export function main(argv: string[]): void {
  const program = new Command();
  program.name('ferry').description('Ferry: a Kafka-style durable message log, serverless on AWS or embedded here.');
  registerClientCommands(program);
  program.parseAsync(argv).catch(exitWithError);
}

/** Prints the error as `ferry: <message>` (the server's message for server errors) and exits 1. */
export function exitWithError(e: unknown): never {
  // The message is the useful part; a stack only helps when debugging Ferry itself (FERRY_DEBUG=1).
  const shown = isFerryError(e) || (e instanceof Error && !process.env.FERRY_DEBUG) ? e.message : (e as Error).stack ?? String(e);
  console.error(`ferry: ${shown}`);
  process.exit(1);
}
