/**
 * Maintenance: retention, garbage collection, deleted-topic cleanup, replica repair and delayed-record moves.
 * Locally the dev server runs it on timers; on AWS a scheduled Lambda does. Every step is safe to run
 * concurrently with producers, readers and other maintenance runs.
 */
import type { CoreContext } from '../context';
import { metaKeys } from '../storage/keys';
import type { TopicConfig } from '../model';
import type { Log } from '../log/log';
import { GarbageCollector } from './gc';
import { ReplicaRepair } from './repair';
import { Retention } from './retention';

export interface MaintenanceReport {
  entriesDeleted: number;
  objectsDeleted: number;
  topicsPurged: number;
  copiesRepaired: number;
  delayedMoved: number;
}

export const emptyReport = (): MaintenanceReport => ({
  entriesDeleted: 0,
  objectsDeleted: 0,
  topicsPurged: 0,
  copiesRepaired: 0,
  delayedMoved: 0,
});

export class Maintenance {
  private readonly ctx: CoreContext;

  private readonly retention: Retention;
  private readonly gc: GarbageCollector;
  private readonly repairer: ReplicaRepair;

  constructor(private readonly log: Log) {
    this.ctx = log.ctx;
    this.retention = new Retention(log);
    this.gc = new GarbageCollector(log);
    this.repairer = new ReplicaRepair(log);
  }

  /** One full pass over every topic. */
  async run(options: { repair?: boolean } = {}): Promise<MaintenanceReport> {
    const started = this.ctx.clock.now();
    const report = emptyReport();
    for (const topic of await this.log.topics.list()) {
      report.delayedMoved += await this.log.scheduler.moveDue(topic);
      this.ctx.metrics?.set('DelayedPending', (await this.ctx.meta.query(metaKeys.duePk(topic.topicId))).length, { Topic: topic.name });
      report.entriesDeleted += await this.applyRetention(topic);
      if (options.repair) report.copiesRepaired += await this.repair(topic);
      report.objectsDeleted += await this.collectGarbage(topic);
    }
    report.topicsPurged += await this.purgeDeletedTopics();
    this.ctx.metrics?.set('MaintenanceDuration', this.ctx.clock.now() - started, {});
    return report;
  }

  /** Publishes every group's lag per topic (records, and the age of the oldest unconsumed record). */
  async reportGroupLag(): Promise<void> {
    const metrics = this.ctx.metrics;
    if (!metrics) return;
    for (const g of await this.log.groups.list()) {
      const d = await this.log.groups.describe(g.groupId);
      const byTopic = new Map<string, { records: bigint; seconds: number }>();
      for (const o of d.offsets) {
        const t = byTopic.get(o.topic) ?? { records: 0n, seconds: 0 };
        t.records += o.lag;
        t.seconds = Math.max(t.seconds, o.lagSeconds);
        byTopic.set(o.topic, t);
      }
      for (const [topic, lag] of byTopic) {
        metrics.set('GroupLagRecords', Number(lag.records), { Group: g.groupId, Topic: topic });
        metrics.set('GroupLagSeconds', lag.seconds, { Group: g.groupId, Topic: topic });
      }
    }
  }

  /** Moves every due delayed record of every topic. */
  async moveDue(): Promise<number> {
    let moved = 0;
    for (const topic of await this.log.topics.list()) moved += await this.log.scheduler.moveDue(topic);
    return moved;
  }

  /** Retention of one topic (retention.ts); answers how many index entries went. */
  applyRetention(topic: TopicConfig): Promise<number> {
    return this.retention.applyRetention(topic);
  }

  /** Garbage collection of one topic's objects (gc.ts); answers how many went. */
  collectGarbage(topic: TopicConfig): Promise<number> {
    return this.gc.collectGarbage(topic);
  }

  /** Removes what deleted topics left (gc.ts). */
  purgeDeletedTopics(): Promise<number> {
    return this.gc.purgeDeletedTopics();
  }

  /** Restores missing or damaged copies (repair.ts); `onLost` hears of every batch with no intact copy left. */
  repair(
    topic: TopicConfig,
    onLost?: (lost: { partition: number; baseOffset: bigint; count: number; objectKey: string }) => void,
  ): Promise<number> {
    return this.repairer.repair(topic, onLost);
  }
}
