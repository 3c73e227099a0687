/**
 * The commit point of a flush (DESIGN.md §3): per group of partitions, one conditional metadata write that
 * claims, per partition, `[nextOffset, nextOffset + count)` only if the head is still at the version read,
 * adds the index entry, checks the partition's GC fence — and, for an idempotent request, its producer epoch
 * and sequence conditions and its stored results. A lost race is claimed again against the new head (segments
 * hold no absolute offsets, so nothing is re-uploaded).
 */
import type { WriteOp, WriteResult } from '../../../ports/metadata-store';
import type { CoreContext } from '../../context';
import { entryItem, headItem } from '../../storage/items';
import { metaKeys } from '../../storage/keys';
import type { GcFence } from '../../storage/gc-fence';
import type { PartitionHeads } from '../../storage/partition-heads';
import { RETRY, withRetry, type Attempt } from '../../storage/cas';
import { encodeResults, ringSize } from '../../storage/producer-results';
import type { IndexEntry, PartitionHead, TopicConfig } from '../../model';
import type { Notifier } from '../notifier';
import { OPS_PER_PARTITION, resultsOf, SettleRequest, type PartitionBatch, type Pending } from './requests';

/** Which op of a write belongs to what, to explain a failed condition. */
type OpRole = { partition: number } | { idem: Pending; what: 'producer' | 'sequence' | 'previous' } | { fence: number };

interface PlannedWrite {
  ops: WriteOp[];
  roles: OpRole[];
  pks: string[];
  heads: PartitionHead[];
}

export class Committer {
  constructor(
    private readonly ctx: CoreContext,
    private readonly notifier: Notifier,
    private readonly fence: GcFence,
    private readonly heads: PartitionHeads,
  ) {}

  /**
   * Commits each partition batch; groups of partitions share one atomic metadata write (as many as the store
   * takes). A group that keeps losing its race, or whose write fails, fails only the requests touching it.
   */
  async commit(
    topic: TopicConfig,
    batches: PartitionBatch[],
    entries: IndexEntry[],
    failed: Map<Pending, unknown>,
    startedAt: number,
  ): Promise<void> {
    const idempotent = batches.some((b) => b.owners.some(([o]) => o.idem));
    const perWrite = idempotent ? batches.length : Math.max(1, Math.floor(this.ctx.meta.maxOpsPerWrite / OPS_PER_PARTITION));
    for (let start = 0; start < batches.length; start += perWrite) {
      const group = batches.slice(start, start + perWrite);
      try {
        await this.commitGroup(topic, group, entries.slice(start, start + perWrite), startedAt);
      } catch (e) {
        if (e instanceof SettleRequest) throw e;
        for (const b of group) for (const [owner] of b.owners) if (!failed.has(owner)) failed.set(owner, e);
      }
    }
  }

  private commitGroup(topic: TopicConfig, group: PartitionBatch[], entries: IndexEntry[], startedAt: number): Promise<void> {
    const busy = `could not commit to topic "${topic.name}" after ${this.ctx.settings.commitAttempts} attempts (concurrent writers); try again`;
    const lastAttempt = (n: number) => n >= this.ctx.settings.commitAttempts;
    // Exponential backoff with full jitter between attempts (withRetry): racing writers (Lambdas on a hot partition) spread out.
    return withRetry(this.ctx, { busy, details: { topic: topic.name } }, async (n): Promise<Attempt<void>> => {
      const planned = await this.plan(topic, group, entries, startedAt);
      let res: WriteResult;
      try {
        res = await this.ctx.meta.write(planned.ops);
      } catch (e) {
        // Unknown outcome: forget cached heads so the next flush reads what really happened. (A store's
        // conflict report — nothing applied — is a lost race that withRetry tries again.)
        this.heads.forget(...planned.pks);
        throw e;
      }
      if (res.ok) {
        this.committed(group, planned);
        return { done: undefined };
      }
      const role = planned.roles[res.failedIndex];
      if ('idem' in role) throw new SettleRequest(role.idem, role.what);
      if ('fence' in role) {
        await this.fence.refresh(topic.topicId, role.fence); // collection ran: the next attempt checks the upload's age
        return RETRY;
      }
      // Lost a race (another writer, retention, a stale cache): re-read the heads and claim again.
      this.ctx.metrics?.add('CommitConflicts', 1, { Topic: topic.name });
      this.heads.forget(...planned.pks);
      if (res.current && res.current.sk === metaKeys.headSk) this.heads.set(planned.ops[res.failedIndex].pk, headItem.decode(res.current));
      if (lastAttempt(n)) this.ctx.metrics?.add('CommitFailures', 1, { Topic: topic.name });
      return RETRY;
    });
  }

  /** The ops of one attempt: per partition its fence check, head claim and index entry; then idempotence. */
  private async plan(topic: TopicConfig, group: PartitionBatch[], entries: IndexEntry[], startedAt: number): Promise<PlannedWrite> {
    const pks = group.map((b) => metaKeys.partitionPk(topic.topicId, b.partition));
    // Never reference an upload garbage collection may have taken; the fence conditions below make it atomic.
    const fences = await Promise.all(group.map((b) => this.fence.current(topic.topicId, b.partition)));
    for (const f of fences) this.fence.ensureAlive(f, startedAt, `the commit to "${topic.name}"`);
    const heads = await Promise.all(pks.map((pk) => this.heads.get(pk)));
    const ops: WriteOp[] = [];
    const roles: OpRole[] = [];
    group.forEach((b, i) => {
      ops.push(this.fence.check(topic.topicId, b.partition, fences[i]));
      roles.push({ fence: b.partition });
      const h = heads[i];
      b.base = h.nextOffset;
      const next = headItem.encode({ nextOffset: h.nextOffset + BigInt(b.records.length), logStartOffset: h.logStartOffset });
      ops.push(
        { op: 'put', pk: pks[i], sk: metaKeys.headSk, data: next, expect: h.version === 0 ? 'absent' : h.version },
        {
          op: 'put',
          pk: pks[i],
          sk: metaKeys.entrySk(h.nextOffset),
          data: entryItem.encode({ ...entries[i], baseOffset: h.nextOffset }),
          expect: 'absent',
        },
      );
      roles.push({ partition: i }, { partition: i });
    });
    for (const req of new Set(group.flatMap((b) => b.owners.map(([o]) => o)))) {
      if (req.idem) this.idempotenceOps(req, group, ops, roles);
    }
    return { ops, roles, pks, heads };
  }

  /** The write landed: the heads moved on by each batch, and readers waiting on them are woken. */
  private committed(group: PartitionBatch[], { pks, heads }: PlannedWrite): void {
    group.forEach((b, i) => {
      const h = heads[i];
      this.heads.set(pks[i], {
        nextOffset: h.nextOffset + BigInt(b.records.length),
        logStartOffset: h.logStartOffset,
        version: h.version + 1,
      });
      this.notifier.notify(pks[i]);
    });
  }

  /** The conditions and the record of one idempotent request, appended to its commit's ops. */
  private idempotenceOps(req: Pending, group: PartitionBatch[], ops: WriteOp[], roles: OpRole[]): void {
    const idem = req.idem!;
    const pk = metaKeys.producerRequestsPk(idem.producerId, idem.epoch, req.topic.topicId);
    const ring = ringSize(this.ctx.settings.producerRequestsKept);
    ops.push({ op: 'check', pk: metaKeys.producersPk, sk: metaKeys.producerSk(idem.producerId), expect: idem.producerVersion });
    roles.push({ idem: req, what: 'producer' });
    const data = { sequence: idem.sequence, ...encodeResults(resultsOf(req, group)) };
    ops.push({ op: 'put', pk, sk: metaKeys.producerSlotSk(idem.sequence % ring), data, expect: idem.slotVersion });
    roles.push({ idem: req, what: 'sequence' });
    if (idem.sequence > 0) {
      const previous = idem.previousVersion ?? 'absent'; // unset only if sequence − 1 was never stored: fails
      ops.push({ op: 'check', pk, sk: metaKeys.producerSlotSk((idem.sequence - 1) % ring), expect: previous });
      roles.push({ idem: req, what: 'previous' });
    }
  }
}
