/** `ferry topics create|list|describe|alter|delete`. */
import type { Command } from 'commander';
import type { TopicInfo } from '../client';
import { clientFor, printJson, printTable, wholeNumber, withCommon, type CommonOptions } from './common';

interface TopicOptions extends CommonOptions {
  partitions?: number;
  replicationFactor?: number;
  retentionMs?: number;
  retentionBytes?: number;
  maxRecordBytes?: number;
}

const retention = (name: string) => (v: string) => {
  if (v === '-1') return -1;
  return wholeNumber(name, 1)(v);
};

function describeHuman(t: TopicInfo): void {
  console.log(`topic ${t.name}  (id ${t.topicId})`);
  console.log(
    `  partitions ${t.partitionCount}, replicationFactor ${t.replicationFactor}, retentionMs ${t.retentionMs}, retentionBytes ${t.retentionBytes}, maxRecordBytes ${t.maxRecordBytes}`,
  );
  console.log(`  created ${t.createdAt}`);
  if (t.partitions) {
    console.log('');
    printTable(
      ['PARTITION', 'LOG-START', 'HIGH-WATERMARK', 'RECORDS'],
      t.partitions.map((p) => [
        p.partition,
        p.logStartOffset,
        p.highWatermark,
        (BigInt(p.highWatermark) - BigInt(p.logStartOffset)).toString(),
      ]),
    );
  }
}

export function registerTopics(program: Command): void {
  const topics = program.command('topics').description('create, list, describe, alter and delete topics');

  withCommon(topics.command('create <name>').description('create a topic'))
    .requiredOption('-p, --partitions <n>', 'number of partitions', wholeNumber('partitions', 1))
    .option('--replication-factor <n>', 'object stores holding each segment', wholeNumber('replication factor', 1))
    .option('--retention-ms <ms>', 'keep records this long (-1: forever)', retention('retention'))
    .option('--retention-bytes <n>', 'keep at most this many bytes per partition (-1: no limit)', retention('retention bytes'))
    .option('--max-record-bytes <n>', 'largest record', wholeNumber('max record bytes', 1))
    .action(async (name: string, o: TopicOptions) => {
      const t = await clientFor(o).admin().createTopic({
        topic: name,
        numPartitions: o.partitions!,
        replicationFactor: o.replicationFactor,
        retentionMs: o.retentionMs,
        retentionBytes: o.retentionBytes,
        maxRecordBytes: o.maxRecordBytes,
      });
      if (o.json) printJson(t);
      else console.log(`created topic ${t.name} with ${t.partitionCount} partition${t.partitionCount === 1 ? '' : 's'}`);
    });

  withCommon(topics.command('list').description('list topics')).action(async (o: CommonOptions) => {
    const list = await clientFor(o).admin().listTopicInfos();
    if (o.json) return printJson({ topics: list });
    printTable(
      ['TOPIC', 'PARTITIONS', 'REPLICATION', 'RETENTION-MS', 'CREATED'],
      list.map((t) => [t.name, t.partitionCount, t.replicationFactor, t.retentionMs, t.createdAt]),
    );
  });

  withCommon(topics.command('describe <name>').description('a topic and its partitions (log start, high watermark)')).action(
    async (name: string, o: CommonOptions) => {
      const t = await clientFor(o).admin().describeTopic(name);
      if (o.json) printJson(t);
      else describeHuman(t);
    },
  );

  withCommon(topics.command('alter <name>').description('add partitions or change retention'))
    .option('-p, --partitions <n>', 'new number of partitions (can only grow)', wholeNumber('partitions', 1))
    .option('--retention-ms <ms>', 'keep records this long (-1: forever)', retention('retention'))
    .option('--retention-bytes <n>', 'bytes per partition (-1: no limit)', retention('retention bytes'))
    .option('--max-record-bytes <n>', 'largest record', wholeNumber('max record bytes', 1))
    .action(async (name: string, o: TopicOptions) => {
      const patch = {
        partitions: o.partitions,
        retentionMs: o.retentionMs,
        retentionBytes: o.retentionBytes,
        maxRecordBytes: o.maxRecordBytes,
      };
      if (Object.values(patch).every((v) => v === undefined))
        throw new Error('nothing to change: give --partitions, --retention-ms, --retention-bytes or --max-record-bytes');
      const t = await clientFor(o).admin().alterTopic(name, patch);
      if (o.json) printJson(t);
      else describeHuman(t);
    });

  withCommon(topics.command('delete <name>').description('delete a topic and its records')).action(
    async (name: string, o: CommonOptions) => {
      await clientFor(o)
        .admin()
        .deleteTopics({ topics: [name] });
      if (o.json) printJson({ deleted: name });
      else console.log(`deleted topic ${name}`);
    },
  );
}
