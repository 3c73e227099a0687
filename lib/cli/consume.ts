/**
 * `ferry consume <topic> --group g`: prints records as a group member, committing as it goes. Without
 * --follow it stops at --max records or once its partitions reach the high watermarks seen at the start.
 * Without --group it joins a group of its own and deletes it on the way out; with --partition (and
 * --offset) it reads that partition with no group at all (a peek).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { randomBytes } from 'node:crypto';
import type { FerryClient, KafkaMessage, PartitionPage } from '../client';
import { CatchUp } from './catch-up';
import { clientFor, wholeNumber, withCommon, type CommonOptions } from './common';

interface ConsumeOptions extends CommonOptions {
  group?: string;
  format?: string;
  partition?: number;
  offset?: string;
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
    .option('-g, --group <id>', 'consumer group (default: a group of its own, ferry-cli-<random>, deleted when it stops)')
    .option('-p, --partition <n>', 'read only this partition, with no group (a peek: nothing is committed)', wholeNumber('partition'))
    .option('-o, --offset <offset>', 'with --partition: the first offset to read (default: the earliest retained record)')
    .option('--from-beginning', 'a new group starts at the earliest record (default: only new records)')
    .option('-n, --max <n>', 'stop after this many records', wholeNumber('max', 1))
    .option('--follow', 'keep waiting for new records (default: stop at the high watermark)')
    .option(
      '-f, --format <fmt>',
      'each record as this template (as kcat -f): %k key, %v value, %p partition, %o offset, %t timestamp (ms), %h headers, \\n, \\t',
    )
    .option('--session-timeout-ms <ms>', 'session timeout of this member', wholeNumber('session timeout', 1))
    .action(async (topic: string, o: ConsumeOptions) => {
      if (o.offset !== undefined && o.partition === undefined)
        throw new InvalidArgumentError('--offset needs --partition (a group starts at its committed offsets)');
      if (o.partition !== undefined) {
        if (o.group !== undefined) throw new InvalidArgumentError('--partition reads without a group: leave out --group');
        return peek(topic, o.partition, o);
      }
      return consumeAsGroup(topic, o);
    });
}

/** As a group member (its own group, deleted at the end, without --group), committing as it goes. */
async function consumeAsGroup(topic: string, o: ConsumeOptions): Promise<void> {
  const client = clientFor(o);
  const temporary = o.group === undefined;
  const groupId = o.group ?? `ferry-cli-${randomBytes(4).toString('hex')}`;
  const consumer = client.consumer({ groupId, sessionTimeoutMs: o.sessionTimeoutMs, maxWaitTimeInMs: o.follow ? 5_000 : 500 });
  await consumer.subscribe({ topics: [topic], fromBeginning: o.fromBeginning === true });
  const catchUp = new CatchUp(o.follow ? new Map() : await highWatermarks(client, topic));
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
    return catchUp.done(
      m && { generation: m.generation, partitions: m.assignments.filter((a) => a.topic === topic).flatMap((a) => a.partitions) },
    );
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
    if (e && typeof e === 'object' && 'kind' in e && ['not_found', 'forbidden', 'unauthorized', 'invalid'].includes(String(e.kind)))
      fail(e);
  });
  await consumer.run({
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset }) => {
      for (const m of batch.messages) {
        if (o.max !== undefined && count >= o.max) break;
        out.push(line(o, topic, batch.partition, m));
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
    // Its own group is of no use to anyone once it stops (the member left above, so the group is empty).
    if (temporary)
      await client
        .admin()
        .deleteGroups([groupId])
        .catch(() => undefined);
  }
  if (!o.json)
    console.error(
      `consumed ${count} record${count === 1 ? '' : 's'} from ${topic} as ${temporary ? 'a temporary group (deleted)' : `group ${groupId}`}`,
    );
}

/** Where to stop without --follow: the high watermarks now. */
async function highWatermarks(client: FerryClient, topic: string): Promise<Map<number, bigint>> {
  const ends = new Map<number, bigint>();
  for (const p of (await client.admin().describeTopic(topic)).partitions ?? []) ends.set(p.partition, BigInt(p.highWatermark));
  return ends;
}

const line = (o: ConsumeOptions, topic: string, partition: number, m: KafkaMessage) =>
  o.json
    ? JSON.stringify({ topic, partition, ...m, key: wire(m.key), value: wire(m.value) })
    : o.format !== undefined
      ? formatted(o.format, partition, m)
      : show(m);

/** A kcat-style template (no trailing newline: one record a line). */
function formatted(fmt: string, partition: number, m: KafkaMessage): string {
  const text = (v: unknown) => (v === null || v === undefined ? '' : show({ ...m, value: v }));
  const fields: Record<string, () => string> = {
    k: () => text(m.key),
    v: () => text(m.value),
    p: () => String(partition),
    o: () => m.offset,
    t: () => String(m.timestamp),
    h: () =>
      Object.entries(m.headers)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    '%': () => '%',
  };
  return fmt.replace(/%([kvpoth%])|\\([nt])/g, (_, f: string | undefined, esc: string | undefined) =>
    f ? fields[f]() : esc === 'n' ? '\n' : '\t',
  );
}

/** Reads one partition from an offset with no group: to the high watermark seen at the start, --max, or on with --follow. */
async function peek(topic: string, partition: number, o: ConsumeOptions): Promise<void> {
  const client = clientFor(o);
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let count = 0;
  try {
    const first = await client.read(topic, partition, { offset: o.offset, maxRecords: 1 });
    const end = BigInt(first.highWatermark);
    let offset: string = o.offset ?? first.logStartOffset;
    while (!abort.signal.aborted && (o.max === undefined || count < o.max)) {
      if (!o.follow && BigInt(offset) >= end) break;
      const page: PartitionPage | undefined = await client
        .read(topic, partition, {
          offset,
          maxRecords: Math.min(1000, o.max === undefined ? 1000 : o.max - count),
          waitMs: o.follow ? 5_000 : 0,
          signal: abort.signal,
        })
        .catch((e) => {
          if (abort.signal.aborted) return undefined;
          throw e;
        });
      if (!page) break;
      const take = page.messages
        .filter((m) => o.follow || BigInt(m.offset) < end)
        .slice(0, o.max === undefined ? undefined : o.max - count);
      if (take.length) process.stdout.write(`${take.map((m) => line(o, topic, partition, m)).join('\n')}\n`);
      count += take.length;
      offset = page.nextOffset;
    }
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
  if (!o.json) console.error(`read ${count} record${count === 1 ? '' : 's'} from ${topic} partition ${partition} (no group)`);
}
