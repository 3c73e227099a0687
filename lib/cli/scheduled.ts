/** `ferry scheduled list|cancel`: delayed records not yet due. */
import type { Command } from 'commander';
import { clientFor, printJson, printTable, wholeNumber, withCommon, type CommonOptions } from './common';

export function registerScheduled(program: Command): void {
  const scheduled = program.command('scheduled').description('list and cancel delayed records that are not yet due');

  withCommon(scheduled.command('list <topic>').description('delayed records of a topic, soonest first'))
    .option('-n, --limit <n>', 'at most this many', wholeNumber('limit', 1))
    .action(async (topic: string, o: CommonOptions & { limit?: number }) => {
      const list = await clientFor(o).admin().listScheduled(topic, { limit: o.limit });
      if (o.json) return printJson({ scheduled: list });
      if (!list.length) return console.error(`nothing scheduled on ${topic}`);
      printTable(
        ['SCHEDULED-ID', 'PARTITION', 'DELIVER-AT'],
        list.map((s) => [s.scheduledId, s.partition, new Date(s.deliverAt).toISOString()]),
      );
    });

  withCommon(scheduled.command('cancel <topic> <scheduledId>').description('cancel a delayed record before it is due')).action(
    async (topic: string, id: string, o: CommonOptions) => {
      await clientFor(o).admin().cancelScheduled(topic, id);
      if (o.json) return printJson({ cancelled: id });
      console.log(`cancelled ${id}`);
    },
  );
}
