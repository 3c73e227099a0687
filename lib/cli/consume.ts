/**
 * `ferry consume <topic> --group g`: prints records as a group member, committing as it goes. Without
 * --follow it stops at --max records or once its partitions reach the high watermarks seen at the start.
 */
import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import type { KafkaMessage } from '../client';
import { CatchUp } from './catch-up';
import { clientFor, wholeNumber, withCommon, type CommonOptions } from './common';

interface ConsumeOptions extends CommonOptions {
  group?: string;
  fromBeginning?: boolean;
  max?: number;
  follow?: boolean;
  sessionTimeoutMs?: number;
}

/** Bytes as the API writes them, `{"base64": …}` (not Node's `{"type":"Buffer","data":[…]}`). */
const wire = (v: unknown) => (Buffer.isBuffer(v) ? { base64: v.toString('base64') } : v);

function show(m: KafkaMessage): string {
  const v = m.value;
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return JSON.stringify(v);
}

export function registerConsume(program: Command): void {
  withCommon(program.command('consume <topic>').description('print records as a member of a consumer group (commits as it goes)'))
    .option('-g, --group <id>', 'consumer group (default: a new one, ferry-cli-<random>)')
    .option('--from-beginning', 'a new group starts at the earliest record (default: only new records)')
    .option('-n, --max <n>', 'stop after this many records', wholeNumber('max', 1))
    .option('--follow', 'keep waiting for new records (default: stop at the high watermark)')
    .option('--session-timeout-ms <ms>', 'session timeout of this member', wholeNumber('session timeout', 1))
    .action(async (topic: string, o: ConsumeOptions) => {
      const client = clientFor(o);
      const groupId = o.group ?? `ferry-cli-${randomBytes(4).toString('hex')}`;
      const consumer = client.consumer({ groupId, sessionTimeoutMs: o.sessionTimeoutMs, maxWaitTimeInMs: o.follow ? 5_000 : 500 });
      await consumer.subscribe({ topics: [topic], fromBeginning: o.fromBeginning === true });
      // Where to stop without --follow: the high watermarks now.
      const ends = new Map<number, bigint>();
      if (!o.follow) for (const p of (await client.admin().describeTopic(topic)).partitions ?? []) ends.set(p.partition, BigInt(p.highWatermark));
      const catchUp = new CatchUp(ends);
      let count = 0;
      let finish!: () => void;
      let fail!: (e: unknown) => void;
      const done = new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject)));
      const out: string[] = [];
      const flushOut = () => {
        if (out.length) process.stdout.write(`${out.join('\n')}\n`);
        out.length = 0;
      };
      const caughtUp = () => {
        const m = consumer.assignment();
        return catchUp.done(m && { generation: m.generation, partitions: m.assignments.filter((a) => a.topic === topic).flatMap((a) => a.partitions) });
      };
      consumer.on('group.join', async (e: { generation: number; assignments: Array<{ topic: string; partitions: number[] }> }) => {
        try {
          const info = await client.admin().describeGroup(groupId);
          for (const r of info.offsets) if (r.topic === topic) catchUp.learned(r.partition, BigInt(r.committedOffset ?? r.logStartOffset));
          catchUp.joined(e.generation);
          if (!o.follow && caughtUp()) finish();
        } catch (err) {
          fail(err);
        }
      });
      consumer.on('crash', (e: unknown) => {
        if (e && typeof e === 'object' && 'kind' in e && ['not_found', 'forbidden', 'unauthorized', 'invalid'].includes(String(e.kind))) fail(e);
      });
      await consumer.run({
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset }) => {
          for (const m of batch.messages) {
            if (o.max !== undefined && count >= o.max) break;
            out.push(o.json ? JSON.stringify({ topic, partition: batch.partition, ...m, key: wire(m.key), value: wire(m.value) }) : show(m));
            count++;
            resolveOffset(m.offset);
            catchUp.consumed(batch.partition, BigInt(m.offset));
          }
          flushOut();
          if ((o.max !== undefined && count >= o.max) || (!o.follow && caughtUp())) finish();
        },
      });
      const stop = () => finish();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await done;
      } finally {
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
        await consumer.disconnect();
        flushOut();
      }
      if (!o.json) console.error(`consumed ${count} record${count === 1 ? '' : 's'} from ${topic} as group ${groupId}`);
    });
}
