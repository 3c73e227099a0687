/**
 * The core's explicit wiring: every service built once from the context, in dependency order. The services it
 * returns are the core's public face; `Log` (produce / fetch) is one of them.
 *
 * @example
 *   const core = createCore(home.ctx);
 *   await core.topics.create({ name: 'orders', partitions: 3 });
 *   await core.log.produce('orders', records);
 */
import type { CoreContext } from './context';
import { ConsumerRegistry } from './consumers/registry';
import { ProduceWake } from './consumers/wake';
import { Groups } from './groups/groups';
import { Appender } from './log/append/appender';
import { Scheduler } from './log/delay';
import { Fetcher } from './log/fetch';
import { Log } from './log/log';
import { Notifier } from './log/notifier';
import { Producers } from './log/producers';
import { Topics } from './log/topics';
import { Maintenance } from './maintenance/maintenance';
import { GcFence } from './storage/gc-fence';
import { MultiFetcher } from './log/multi-fetch';
import { PartitionIndex } from './storage/partition-index';

export interface Core {
  readonly ctx: CoreContext;
  readonly log: Log;
  readonly topics: Topics;
  readonly groups: Groups;
  readonly producers: Producers;
  readonly scheduler: Scheduler;
  readonly maintenance: Maintenance;
  /** Push consumers declared for the cloud (the topic custom resource writes them, the dispatcher reads them). */
  readonly consumers: ConsumerRegistry;
}

export function createCore(ctx: CoreContext): Core {
  const topics = new Topics(ctx);
  const notifier = new Notifier(ctx.clock);
  // Between garbage collection and writers: see storage/gc-fence.ts.
  const index = new PartitionIndex(ctx);
  const fence = new GcFence(ctx, index);
  const appender = new Appender(ctx, notifier, index);
  const fetcher = new Fetcher(ctx, notifier, index);
  const groups = new Groups(ctx, topics, fetcher, new MultiFetcher(ctx, notifier, fetcher));
  const producers = new Producers(ctx);
  const consumers = new ConsumerRegistry(ctx);
  const wake = ctx.wake && new ProduceWake(ctx, consumers, ctx.wake);
  const afterCommit = wake && ((topic: string) => wake.committed(topic));
  const scheduler = new Scheduler(ctx, appender, notifier, fence, index, afterCommit);
  const log = new Log(ctx, { topics, appender, fetcher, notifier, fence, index, groups, producers, scheduler, afterCommit });
  return { ctx, log, topics, groups, producers, scheduler, maintenance: new Maintenance(log), consumers };
}
