/**
 * The commit point of a flush (DESIGN.md §3): per partition batch, the partition's head is put on the
 * condition that it is still at the version read — claiming `[nextOffset, nextOffset + count)`, adding the
 * index entry to the head's tail and, for idempotent requests, the producer's last request on that partition
 * (storage/partition-index.ts). The head also carries the garbage-collection horizon, so the one condition
 * keeps collection and writers apart too. A lost race is claimed again against the new head (segments hold no
 * absolute offsets, so nothing is re-uploaded).
 *
 * Where multi-item writes are costly (DynamoDB: transactions bill twice and are cancelled by any concurrent
 * write to one of their items) every partition batch is its own single-item write, in parallel, and an
 * idempotent request's ring slot is written after its batches committed. Where they are cheap (SQLite) a whole
 * flush is one atomic write, with the producer's epoch and sequence conditions inside it.
 */
import type { WriteOp, WriteResult } from '../../../ports/metadata-store';
import type { CoreContext } from '../../context';
import { FerryError } from '../../../protocol/errors';
import { metaKeys } from '../../storage/keys';
import type { PartitionHeads } from '../../storage/partition-heads';
import type { NewEntry, PartitionIndex, StoredHead } from '../../storage/partition-index';
import { RETRY, withRetry, type Attempt } from '../../storage/cas';
import { decodeSlot, encodeResults, ringSize } from '../../storage/producer-results';
import type { IndexEntry, TopicConfig } from '../../model';
import { mapLimit } from '../fetch';
import type { Notifier } from '../notifier';
import { OPS_PER_PARTITION, resultsOf, SettleRequest, type PartitionBatch, type Pending } from './requests';

/** Which op of a write belongs to what, to explain a failed condition. */
type OpRole = { partition: number } | { idem: Pending; what: 'producer' | 'sequence' | 'previous' };

interface PlannedWrite {
  ops: WriteOp[];
  roles: OpRole[];
  /** Per batch of the group: its partition key, the head read, the head written (undefined: nothing to write). */
  pks: string[];
  heads: StoredHead[];
  next: Array<Omit<StoredHead, 'version'> | undefined>;
}

/** Partition writes in flight at once for one flush where each is its own write. */
const PARALLEL_COMMITS = 16;

export class Committer {
  constructor(
    private readonly ctx: CoreContext,
    private readonly notifier: Notifier,
    private readonly heads: PartitionHeads,
    private readonly index: PartitionIndex,
  ) {}

  private get cheap(): boolean {
    return this.ctx.meta.multiItemWrites === 'cheap';
  }

  /**
   * Commits each partition batch. A batch (or, where writes are grouped, a group) that keeps losing its race,
   * or whose write fails, fails only the requests touching it.
   */
  async commit(
    topic: TopicConfig,
    batches: PartitionBatch[],
    entries: IndexEntry[],
    failed: Map<Pending, unknown>,
    startedAt: number,
  ): Promise<void> {
    const requests = [...new Set(batches.flatMap((b) => b.owners.map(([o]) => o)))];
    const idempotent = requests.filter((r) => r.idem);
    if (idempotent.length) await this.screen(topic, batches, requests.length);
    const perWrite = this.cheap ? Math.max(1, Math.floor(this.ctx.meta.maxOpsPerWrite / (OPS_PER_PARTITION + 1))) : 1;
    const groups: number[] = [];
    for (let start = 0; start < batches.length; start += perWrite) groups.push(start);
    // Where the whole flush is one atomic write, the idempotent conditions and slots go inside it.
    const atomic = this.cheap && groups.length === 1;
    await mapLimit(groups, this.cheap ? 1 : PARALLEL_COMMITS, async (start) => {
      const group = batches.slice(start, start + perWrite);
      try {
        await this.commitGroup(topic, group, entries.slice(start, start + perWrite), startedAt, atomic ? idempotent : []);
      } catch (e) {
        if (e instanceof SettleRequest) throw e;
        for (const b of group) for (const [owner] of b.owners) if (!failed.has(owner)) failed.set(owner, e);
      }
    });
    if (atomic) return;
    for (const req of idempotent) {
      if (failed.has(req)) continue;
      try {
        await this.recordRequest(req, batches);
      } catch (e) {
        failed.set(req, e);
      }
    }
  }

  /**
   * Before anything is written: an idempotent request that the heads (as this process last saw them) show as
   * fenced, old, or already committed on one of its partitions is settled apart from the flush — or, when it is
   * alone in it, committed where it is missing and answered where it is already stored.
   */
  private async screen(topic: TopicConfig, batches: PartitionBatch[], requestCount: number): Promise<void> {
    for (const b of batches) {
      const head = await this.heads.get(metaKeys.partitionPk(topic.topicId, b.partition));
      for (const [req] of b.owners) {
        if (!req.idem) continue;
        const st = head.producers[req.idem.producerId];
        if (!st) continue;
        if (st.epoch > req.idem.epoch) throw new SettleRequest(req, 'producer');
        if (st.epoch < req.idem.epoch) continue;
        if (st.sequence > req.idem.sequence) throw new SettleRequest(req, 'sequence');
        if (st.sequence === req.idem.sequence && requestCount > 1) throw new SettleRequest(req, 'committed');
      }
    }
  }

  private commitGroup(
    topic: TopicConfig,
    group: PartitionBatch[],
    entries: IndexEntry[],
    startedAt: number,
    idempotent: Pending[],
  ): Promise<void> {
    const busy = `could not commit to topic "${topic.name}" after ${this.ctx.settings.commitAttempts} attempts (concurrent writers); try again`;
    const lastAttempt = (n: number) => n >= this.ctx.settings.commitAttempts;
    // Exponential backoff with full jitter between attempts (withRetry): racing writers (Lambdas on a hot partition) spread out.
    return withRetry(this.ctx, { busy, details: { topic: topic.name } }, async (n): Promise<Attempt<void>> => {
      const planned = await this.plan(topic, group, entries, startedAt, idempotent);
      if (planned.ops.length === 0) return { done: undefined }; // every batch was already committed (a retry)
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
      // Lost a race (another writer, retention, garbage collection, a stale cache): claim again after the
      // backoff against the head read *then* — the head the failed condition returned is already old by the
      // time the backoff ends, and a writer claiming from it keeps losing to one that commits back to back.
      this.ctx.metrics?.add('CommitConflicts', 1, { Topic: topic.name });
      this.heads.forget(...planned.pks);
      if (lastAttempt(n)) this.ctx.metrics?.add('CommitFailures', 1, { Topic: topic.name });
      return RETRY;
    });
  }

  /** The ops of one attempt: per partition its head (with the entry, and a chunk when the tail moves out); then idempotence. */
  private async plan(
    topic: TopicConfig,
    group: PartitionBatch[],
    entries: IndexEntry[],
    startedAt: number,
    idempotent: Pending[],
  ): Promise<PlannedWrite> {
    const pks = group.map((b) => metaKeys.partitionPk(topic.topicId, b.partition));
    const heads = await Promise.all(pks.map((pk) => this.heads.get(pk)));
    const planned: PlannedWrite = { ops: [], roles: [], pks, heads, next: [] };
    for (let i = 0; i < group.length; i++) {
      const b = group[i];
      const h = heads[i];
      // Never reference an upload garbage collection may have taken: the head's version condition makes it atomic.
      if (startedAt <= h.horizon) {
        throw new FerryError(
          'unavailable',
          `the commit to "${topic.name}" took longer than garbage collection waits for an upload; try again`,
        );
      }
      const reused = reuse(h, b);
      if (reused !== undefined) {
        b.base = reused;
        planned.next.push(undefined);
        continue;
      }
      b.base = h.nextOffset;
      const { baseOffset: _, ...entry } = entries[i];
      const { ops, next } = await this.index.prepare(pks[i], h, [{ ...entry, producers: producersOf(b) }]);
      planned.ops.push(...ops);
      for (let k = 0; k < ops.length; k++) planned.roles.push({ partition: i });
      planned.next.push(next);
    }
    for (const req of idempotent) this.idempotenceOps(req, group, planned);
    return planned;
  }

  /** The write landed: the heads moved on by each batch, and readers waiting on them are woken. */
  private committed(group: PartitionBatch[], { pks, heads, next }: PlannedWrite): void {
    group.forEach((_, i) => {
      const n = next[i];
      if (!n) return;
      this.heads.set(pks[i], { ...n, version: heads[i].version + 1 });
      this.notifier.notify(pks[i]);
    });
  }

  /** The conditions and the record of one idempotent request, inside the flush's one atomic write. */
  private idempotenceOps(req: Pending, group: PartitionBatch[], planned: PlannedWrite): void {
    const idem = req.idem!;
    const pk = metaKeys.producerRequestsPk(idem.producerId, idem.epoch, req.topic.topicId);
    const ring = ringSize(this.ctx.settings.producerRequestsKept);
    planned.ops.push({ op: 'check', pk: metaKeys.producersPk, sk: metaKeys.producerSk(idem.producerId), expect: idem.producerVersion });
    planned.roles.push({ idem: req, what: 'producer' });
    const data = { sequence: idem.sequence, ...encodeResults(resultsOf(req, group)) };
    planned.ops.push({ op: 'put', pk, sk: metaKeys.producerSlotSk(idem.sequence % ring), data, expect: idem.slotVersion });
    planned.roles.push({ idem: req, what: 'sequence' });
    if (idem.sequence > 0) {
      const previous = idem.previousVersion ?? 'absent'; // unset only if sequence − 1 was never stored: fails
      planned.ops.push({ op: 'check', pk, sk: metaKeys.producerSlotSk((idem.sequence - 1) % ring), expect: previous });
      planned.roles.push({ idem: req, what: 'previous' });
    }
  }

  /**
   * Where batches commit one by one: the request's offsets go to its ring slot once every batch committed, so
   * a retry answers them and the next sequence finds its predecessor. A racing retry that stored the same
   * sequence first is as good; anything else leaves the outcome unknown (the client retries the sequence).
   */
  private async recordRequest(req: Pending, batches: PartitionBatch[]): Promise<void> {
    const idem = req.idem!;
    const pk = metaKeys.producerRequestsPk(idem.producerId, idem.epoch, req.topic.topicId);
    const sk = metaKeys.producerSlotSk(idem.sequence % ringSize(this.ctx.settings.producerRequestsKept));
    const data = { sequence: idem.sequence, ...encodeResults(resultsOf(req, batches)) };
    const res = await this.ctx.meta.write([{ op: 'put', pk, sk, data, expect: idem.slotVersion }]);
    if (res.ok) return;
    if (res.current && decodeSlot(res.current).sequence === idem.sequence) return;
    throw new FerryError('unavailable', `could not record request ${idem.sequence} of producer ${idem.producerId}; retry it`);
  }
}

/**
 * The base offset of a batch that is already committed: its one idempotent owner's last request on this
 * partition is this very request (a retry, or a racing copy, got there first). A batch that others share
 * cannot be split any more (screening hands such requests back before anything is written), so a copy that
 * committed meanwhile makes it retriable.
 */
function reuse(head: StoredHead, b: PartitionBatch): bigint | undefined {
  const owners = new Set(b.owners.map(([o]) => o));
  const alone = owners.size === 1;
  /** The request's own error when the batch is its alone; otherwise the others in it may simply retry. */
  const refuse = (kind: 'fenced' | 'conflict', message: string) =>
    alone ? new FerryError(kind, message) : new FerryError('unavailable', 'a concurrent copy of a request committed meanwhile; try again');
  for (const req of owners) {
    const idem = req.idem;
    const st = idem && head.producers[idem.producerId];
    if (!idem || !st) continue;
    if (st.epoch > idem.epoch) {
      throw refuse(
        'fenced',
        `producer ${idem.producerId} epoch ${idem.epoch} is no longer current (partition ${b.partition} has seen epoch ${st.epoch})`,
      );
    }
    if (st.epoch < idem.epoch || st.sequence < idem.sequence) continue;
    if (st.sequence > idem.sequence) {
      throw refuse('conflict', `sequence ${idem.sequence} of producer ${idem.producerId} is older than one it already stored`);
    }
    // This very request is committed on this partition already.
    if (!alone) throw refuse('conflict', '');
    if (st.count !== b.records.length) {
      throw new FerryError(
        'conflict',
        `sequence ${idem.sequence} of producer ${idem.producerId} was stored with ${st.count} records on partition ${b.partition}; this retry has ${b.records.length}`,
      );
    }
    return st.base;
  }
  return undefined;
}

/** The idempotent requests in a batch, each with where its records start in the batch and how many there are. */
function producersOf(b: PartitionBatch): NewEntry['producers'] {
  const runs: NonNullable<NewEntry['producers']> = [];
  b.owners.forEach(([req], pos) => {
    if (!req.idem) return;
    const last = runs[runs.length - 1];
    if (last && last.id === req.idem.producerId && last.sequence === req.idem.sequence) last.count++;
    else runs.push({ id: req.idem.producerId, epoch: req.idem.epoch, sequence: req.idem.sequence, skip: pos, count: 1 });
  });
  return runs.length ? runs : undefined;
}
