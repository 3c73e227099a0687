/** The client commands of the `ferry` CLI (the `dev` server command lives in bin/ferry.ts). */
import type { Command } from 'commander';
import { registerConsume } from './consume';
import { registerConsumers } from './consumers';
import { registerGroups } from './groups';
import { registerProduce } from './produce';
import { registerScheduled } from './scheduled';
import { registerTopics } from './topics';

export function registerClientCommands(program: Command): void {
  registerTopics(program);
  registerProduce(program);
  registerConsume(program);
  registerGroups(program);
  registerScheduled(program);
  registerConsumers(program);
}
