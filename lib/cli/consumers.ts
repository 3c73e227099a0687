/** `ferry consumers list|describe|pause|resume|seek`: push consumers as resources. */
import type { Command } from 'commander';
import type { PushConsumerDescription } from '../protocol/v1';
import { clientFor, printJson, printTable, withCommon, type CommonOptions } from './common';
import { seekOptions, seekToOf, type SeekOptions } from './groups';

function show(d: PushConsumerDescription): void {
  const state = d.paused ? `paused since ${new Date(d.pausedSince ?? 0).toISOString()}` : 'running';
  console.log(`consumer ${d.name} of ${d.topic}: ${state}, handler ${d.handler}, lag ${d.totalLag} records (oldest ${d.maxLagSeconds} s)`);
  console.log('');
  printTable(
    ['PARTITION', 'COMMITTED', 'HIGH-WATERMARK', 'LAG', 'LAG-SECONDS', 'LEASE-OWNER', 'RETRYING'],
    d.partitions.map((p) => [
      p.partition,
      p.committedOffset ?? '-',
      p.highWatermark,
      p.lag,
      p.lagSeconds,
      p.leaseOwner ?? '-',
      p.retrying
        ? `attempt ${p.retrying.attempts}${p.retrying.misses ? `, ${p.retrying.misses} throttled` : ''}, next ${new Date(p.retrying.retryAt).toISOString()}`
        : '-',
    ]),
  );
}

export function registerConsumers(program: Command): void {
  const consumers = program.command('consumers').description("list, describe, pause, resume and seek a topic's push consumers");

  withCommon(consumers.command('list <topic>').description("a topic's push consumers")).action(async (topic: string, o: CommonOptions) => {
    const list = await clientFor(o).admin().listConsumers(topic);
    if (o.json) return printJson({ consumers: list });
    if (!list.length) return console.log(`topic ${topic} has no push consumers`);
    printTable(
      ['CONSUMER', 'HANDLER', 'STATE', 'BATCH', 'RETRIES', 'DEAD-LETTERS'],
      list.map((c) => [c.name, c.handler, c.paused ? 'paused' : 'running', c.batchSize, c.maxRetries, c.deadLetterTopic]),
    );
  });

  withCommon(consumers.command('describe <topic> <consumer>').description('per partition: committed offset, lag, lease, retries')).action(
    async (topic: string, name: string, o: CommonOptions) => {
      const d = await clientFor(o).admin().describeConsumer(topic, name);
      if (o.json) return printJson(d);
      show(d);
    },
  );

  for (const verb of ['pause', 'resume'] as const) {
    const what = verb === 'pause' ? 'stop deliveries (a batch in flight finishes)' : 'deliver again';
    withCommon(consumers.command(`${verb} <topic> <consumer>`).description(what)).action(
      async (topic: string, name: string, o: CommonOptions) => {
        const admin = clientFor(o).admin();
        const d = verb === 'pause' ? await admin.pauseConsumer(topic, name) : await admin.resumeConsumer(topic, name);
        if (o.json) return printJson(d);
        console.log(`consumer ${name} of ${topic} ${verb === 'pause' ? 'paused' : 'resumed'}; lag ${d.totalLag} records`);
      },
    );
  }

  seekOptions(withCommon(consumers.command('seek <topic> <consumer>').description("move a push consumer's committed offsets"))).action(
    async (topic: string, name: string, o: Omit<SeekOptions, 'topic'>) => {
      const d = await clientFor(o).admin().seekConsumer(topic, name, seekToOf(o), o.partition);
      if (o.json) return printJson(d);
      show(d);
    },
  );
}
