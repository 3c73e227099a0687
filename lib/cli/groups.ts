/** `ferry groups list|describe|seek|delete`. */
import { InvalidArgumentError, type Command } from 'commander';
import type { SeekTo } from '../client';
import { clientFor, printJson, printTable, wholeNumber, withCommon, type CommonOptions } from './common';

export interface SeekOptions extends CommonOptions {
  topic: string;
  partition?: number;
  toEarliest?: boolean;
  toLatest?: boolean;
  toOffset?: string;
  toDatetime?: string;
}

function datetime(v: string): number {
  if (/^\d{1,16}$/.test(v)) return Number(v);
  const ms = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || !Number.isFinite(ms))
    throw new InvalidArgumentError('give an ISO-8601 time (2024-05-01T12:00:00Z) or epoch milliseconds');
  return ms;
}

/** Exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime → a seek target. */
export function seekToOf(o: Omit<SeekOptions, 'topic'>): SeekTo {
  const given = [o.toEarliest, o.toLatest, o.toOffset, o.toDatetime].filter((v) => v !== undefined);
  if (given.length !== 1) throw new Error('give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime');
  if (o.toEarliest) return 'earliest';
  if (o.toLatest) return 'latest';
  return o.toOffset !== undefined ? { offset: o.toOffset } : { timestamp: datetime(o.toDatetime!) };
}

/** The seek target options of `groups seek` and `consumers seek`. */
export function seekOptions(cmd: Command): Command {
  return cmd
    .option('-p, --partition <n>', 'only this partition (default: all)', wholeNumber('partition'))
    .option('--to-earliest', 'to the earliest retained record')
    .option('--to-latest', 'to the end (skip everything so far)')
    .option('--to-offset <offset>', 'to this offset')
    .option('--to-datetime <time>', 'to the first record at or after this time (ISO-8601 or epoch ms)');
}

export function registerGroups(program: Command): void {
  const groups = program.command('groups').description('list, describe, seek and delete consumer groups');

  withCommon(groups.command('list').description('list consumer groups')).action(async (o: CommonOptions) => {
    const admin = clientFor(o).admin();
    const { groups: list } = await admin.listGroups();
    // Lag is in each group's description (one read per group, from the index: no records are read).
    const lag = await Promise.all(
      list.map((g) => admin.describeGroup(g.groupId).then((d) => ({ totalLag: d.totalLag, maxLagSeconds: d.maxLagSeconds }))),
    );
    if (o.json) return printJson({ groups: list.map((g, i) => ({ ...g, ...lag[i] })) });
    printTable(
      ['GROUP', 'STATE', 'MEMBERS', 'GENERATION', 'LAG', 'LAG-SECONDS'],
      list.map((g, i) => [g.groupId, g.state, g.members, g.generation, lag[i].totalLag, lag[i].maxLagSeconds]),
    );
  });

  withCommon(groups.command('describe <group>').description('members, assignments, committed offsets and lag')).action(
    async (group: string, o: CommonOptions) => {
      const g = await clientFor(o).admin().describeGroup(group);
      if (o.json) return printJson(g);
      console.log(
        `group ${g.groupId}: ${g.state}, generation ${g.generation}, ${g.members.length} member${g.members.length === 1 ? '' : 's'}, lag ${g.totalLag} records (oldest ${g.maxLagSeconds} s)`,
      );
      if (g.members.length) {
        console.log('');
        printTable(
          ['MEMBER', 'TOPICS', 'ASSIGNED', 'LAST-HEARTBEAT'],
          g.members.map((m) => [
            m.memberId,
            m.topics.join(','),
            m.assignments.map((a) => `${a.topic}:${a.partitions.join(',')}`).join(' ') || '-',
            m.lastHeartbeat,
          ]),
        );
      }
      console.log('');
      printTable(
        ['TOPIC', 'PARTITION', 'COMMITTED', 'HIGH-WATERMARK', 'LAG', 'LAG-SECONDS', 'OWNER'],
        g.offsets.map((r) => [r.topic, r.partition, r.committedOffset, r.highWatermark, r.lag, r.lagSeconds, r.owner]),
      );
    },
  );

  seekOptions(
    withCommon(
      groups.command('seek <group>').description("move a group's committed offsets (running members resume from them)"),
    ).requiredOption('-t, --topic <topic>', 'topic'),
  ).action(async (group: string, o: SeekOptions) => {
    const to = seekToOf(o);
    const res = await clientFor(o).admin().seek({ groupId: group, topic: o.topic, partition: o.partition, to });
    if (o.json) return printJson(res);
    printTable(
      ['TOPIC', 'PARTITION', 'NEW-OFFSET'],
      res.offsets.map((r) => [r.topic, r.partition, r.offset]),
    );
  });

  withCommon(
    groups.command('delete <group...>').description('delete empty groups and their committed offsets (refused while a member is live)'),
  ).action(async (ids: string[], o: CommonOptions) => {
    const deleted = await clientFor(o).admin().deleteGroups(ids);
    if (o.json) return printJson({ deleted: deleted.map((d) => d.groupId) });
    for (const d of deleted) console.log(`deleted group ${d.groupId}`);
  });
}
