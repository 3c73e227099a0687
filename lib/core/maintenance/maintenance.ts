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
import { MaintenanceCursor } from './cursor';

export interface MaintenanceReport {
  entriesDeleted: number;
  objectsDeleted: number;
  topicsPurged: number;
  copiesRepaired: number;
  delayedMoved: number;
  /** Topics this run finished, and those whose step failed (the others went on; the next run tries again). */
  topicsDone: number;
  failures: Array<{ topic: string; error: string }>;
  /** The run stopped at its deadline; the next one resumes after the last topic done. */
  stoppedEarly: boolean;
  /** Another run held the maintenance lease: this one did nothing. */
  skipped: boolean;
}

export const emptyReport = (): MaintenanceReport => ({
  entriesDeleted: 0,
  objectsDeleted: 0,
  topicsPurged: 0,
  copiesRepaired: 0,
  delayedMoved: 0,
  topicsDone: 0,
  failures: [],
  stoppedEarly: false,
  skipped: false,
});

export interface RunOptions {
  /**
   * Restore missing replica copies: `presence` compares the stores' listings with the index (LIST calls only,
   * and only for topics with R ≥ 2); `verify` also reads every copy and checks its CRCs (on demand: `ferry repair`).
   */
  repair?: boolean | 'presence' | 'verify';
  /** Clock time after which no new topic is started (a Lambda's remaining time); the next run resumes. */
  deadline?: number;
  /** Hold the maintenance lease (one run at a time) for this long; default: no lease. */
  leaseMs?: number;
}

export class Maintenance {
  private readonly ctx: CoreContext;

  private readonly retention: Retention;
  private readonly gc: GarbageCollector;
  private readonly repairer: ReplicaRepair;
  private readonly cursor: MaintenanceCursor;

  constructor(private readonly log: Log) {
    this.ctx = log.ctx;
    this.cursor = new MaintenanceCursor(log.ctx);
    this.retention = new Retention(log);
    this.gc = new GarbageCollector(log);
    this.repairer = new ReplicaRepair(log);
  }

  /**
   * A pass over the topics, resuming after the last topic the previous run finished (a cursor item), bounded
   * by `deadline`, one run at a time when `leaseMs` is given. A step that fails fails only its topic: the
   * report names it, the pass goes on, and the next pass tries it again.
   */
  async run(options: RunOptions = {}): Promise<MaintenanceReport> {
    const started = this.ctx.clock.now();
    const report = emptyReport();
    const lease = options.leaseMs ? await this.cursor.acquire(options.leaseMs) : undefined;
    if (options.leaseMs && !lease) return { ...report, skipped: true };
    const topics = await this.log.topics.list();
    const after = lease?.after ?? (await this.cursor.read());
    // Topics in name order, starting after the cursor and wrapping around.
    const order = [
      ...topics.filter((t) => after === undefined || t.name > after),
      ...topics.filter((t) => after !== undefined && t.name <= after),
    ];
    let last: string | undefined;
    for (const topic of order) {
      if (options.deadline !== undefined && this.ctx.clock.now() >= options.deadline) {
        report.stoppedEarly = true;
        break;
      }
      try {
        await this.topicPass(topic, options, report);
      } catch (e) {
        report.failures.push({ topic: topic.name, error: (e as Error).message });
        this.ctx.metrics?.add('MaintenanceErrors', 1, { Topic: topic.name });
      }
      report.topicsDone++;
      last = topic.name;
    }
    if (!report.stoppedEarly) {
      try {
        report.topicsPurged += await this.purgeDeletedTopics();
      } catch (e) {
        report.failures.push({ topic: '(deleted topics)', error: (e as Error).message });
      }
    }
    // A finished pass starts the next one from the beginning.
    await this.cursor.save(report.stoppedEarly ? last : undefined, lease).catch(() => undefined);
    this.ctx.metrics?.set('MaintenanceDuration', this.ctx.clock.now() - started, {});
    return report;
  }

  private async topicPass(topic: TopicConfig, options: RunOptions, report: MaintenanceReport): Promise<void> {
    report.delayedMoved += await this.log.scheduler.moveDue(topic);
    this.ctx.metrics?.set('DelayedPending', (await this.ctx.meta.query(metaKeys.duePk(topic.topicId))).length, { Topic: topic.name });
    report.entriesDeleted += await this.applyRetention(topic);
    if (options.repair === 'verify') report.copiesRepaired += await this.repair(topic);
    else if (options.repair && topic.replicationFactor >= 2) report.copiesRepaired += await this.repairer.repairMissing(topic);
    report.objectsDeleted += await this.gc.collectGarbage(topic, options.deadline);
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
