/**
 * Maintenance at scale on the AWS adapters (DynamoDB Local + s3rver, started here): fills a topic with
 * `--objects` segment objects (default 50 000; one per produce request, from many writers at once), lets them
 * pass retention and the orphan grace period, then runs bounded maintenance passes the way the AWS function
 * does (a deadline 30 s before a 300 s timeout, the run lease) until every expired object is gone, printing
 * each pass's wall time, entries dropped and objects collected.
 *
 *   npx tsx bench/maintenance-scale.ts [--objects 50000] [--writers 24] [--budget-s 270]
 *
 * What it shows: a pass finishes within its budget (or stops at its deadline and the next resumes), and
 * garbage collection keeps up. What it leaves out: S3's and DynamoDB's real latencies (the emulators run on
 * this 2-core machine, shared with the writers).
 */
import { randomIds, systemClock } from '../lib/adapters/system';
import type { CoreContext } from '../lib/core/context';
import { createCore } from '../lib/core/create-core';
import { Maintenance } from '../lib/core/maintenance/maintenance';
import { makeSettings } from '../lib/core/settings';
import { mapLimit } from '../lib/core/log/fetch';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

async function main(): Promise<void> {
  const objects = arg('objects', 50_000);
  const writers = arg('writers', 24);
  const budgetMs = arg('budget-s', 270) * 1000;
  const { startEmulators, awaitEmulators, useEmulatorEnv, emulatorClients, freshBucket, freshTable } =
    await import('../test/helpers/emulators');
  const emulators = await startEmulators();
  try {
    useEmulatorEnv(emulators.env);
    await awaitEmulators(120_000);
    const { S3ObjectStore } = await import('../lib/adapters/aws/s3-object-store');
    const { DynamoDBMetadataStore } = await import('../lib/adapters/aws/dynamodb-metadata-store');
    const { s3, dynamo } = emulatorClients();
    const ctx: CoreContext = {
      meta: new DynamoDBMetadataStore({ table: await freshTable(), client: dynamo }),
      stores: [new S3ObjectStore({ name: 's0', bucket: await freshBucket(), client: s3 })],
      clock: systemClock,
      ids: randomIds,
      settings: makeSettings({ orphanGraceMs: 1_000 }),
    };
    const admin = createCore(ctx).log;
    await admin.topics.create({ name: 'scale', partitions: 12, retentionMs: 60_000 });
    // Writers of their own (each its own appender, like separate Lambdas): one object per request.
    const logs = Array.from({ length: writers }, () => createCore(ctx).log);
    const started = Date.now();
    let done = 0;
    await mapLimit(
      Array.from({ length: objects }, (_, i) => i),
      writers,
      async (i) => {
        const log = logs[i % writers];
        await log.produce('scale', [
          { key: null, value: { encoding: 'json', bytes: Buffer.from(`"r${i}"`) }, headers: {}, partition: i % 12 },
        ]);
        if (++done % 5000 === 0) console.log(`  ${done} objects written (${((Date.now() - started) / 1000).toFixed(0)} s)`);
      },
    );
    let stored = 0;
    for (let after: string | undefined; ;) {
      const page = await ctx.stores[0].list('topics/', { startAfter: after, limit: 1000 });
      stored += page.objects.length;
      if (!page.next) break;
      after = page.next;
    }
    // Requests of one writer that overlapped share a flush, so there can be a few objects fewer than requests.
    console.log(`${objects} requests, ${stored} objects in ${((Date.now() - started) / 1000).toFixed(0)} s; waiting 61 s for retention`);
    await new Promise((r) => setTimeout(r, 61_000));
    const maintenance = new Maintenance(createCore(ctx).log);
    const rows: string[] = [];
    for (let pass = 1; pass <= 10; pass++) {
      const t0 = Date.now();
      const report = await maintenance.run({ repair: 'presence', deadline: t0 + budgetMs, leaseMs: budgetMs + 40_000 });
      const seconds = (Date.now() - t0) / 1000;
      const left = (await ctx.stores[0].list('topics/', { limit: 1000 })).objects.length;
      const row = `| ${pass} | ${seconds.toFixed(1)} | ${report.entriesDeleted} | ${report.objectsDeleted} | ${report.stoppedEarly ? 'yes' : 'no'} | ${left}${left === 1000 ? '+' : ''} | ${report.failures.length} |`;
      rows.push(row);
      console.log(row);
      if (left === 0) break;
    }
    console.log(
      `\n| pass | seconds (budget ${budgetMs / 1000}) | entries dropped | objects collected | stopped at deadline | objects left | failed topics |\n|---|---:|---:|---:|---|---:|---:|\n${rows.join('\n')}`,
    );
  } finally {
    await emulators.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
