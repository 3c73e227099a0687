/**
 * The commit protocol (DESIGN.md §3).
 *
 * Concurrent produce requests to one topic coalesce into one flush: one immutable segment object (one batch
 * per partition touched) written to the topic's R object stores, then one conditional metadata write per
 * group of partitions that, per partition, claims `[nextOffset, nextOffset + count)` only if the head is still
 * at the version read and adds the index entry. A producer is acknowledged only after every partition batch
 * of its request committed. Segment objects hold no absolute offsets, so a commit that loses a race is simply
 * retried against the new head, never re-uploaded.
 *
 * Flushes of one topic are pipelined: up to PIPELINE_DEPTH are in flight, each encoding and uploading its
 * object while older ones commit, but commits are applied strictly in flush order (the cached heads assume
 * it: flush N+1 claims offsets from the head flush N left). Requests arriving while every slot is busy wait
 * and go together in the next flush, so throughput grows with concurrency instead of with fsyncs (Kafka's
 * linger, without a fixed wait). A flush holding an idempotent request is a barrier: no newer flush starts
 * until it committed, so requests it hands back (after settling another) are flushed before any newer ones
 * and a producer's sequences are never committed out of order.
 *
 * An idempotent request (producer id, epoch, sequence) adds three conditions to the same atomic write: the
 * producer's epoch is current, its previous sequence was stored, and this sequence was not (its ring slot is
 * as read) — plus the request's offsets, kept for retries in that slot. So a retry can never store a batch
 * twice (G5), and the commit never deletes.
 */
import type { ObjectStore } from '../../ports/object-store';
import type { Expect, WriteOp } from '../../ports/metadata-store';
import type { CoreContext } from '../context';
import { FerryError } from '../../protocol/errors';
import { encodeSegment, recordSize } from '../codec/segment';
import { entryItem, headItem } from '../storage/items';
import { metaKeys, objectKeys } from '../storage/keys';
import type { IndexEntry, PartitionHead, ProduceResult, StoredRecord, TopicConfig } from '../model';
import type { Notifier } from './notifier';
import type { GcFence } from '../storage/gc-fence';
import { backoff, isConflict } from '../storage/cas';
import { decodeResults, decodeSlot, encodeResults, ringSize, sameBatch } from '../storage/producer-results';

export interface AppendRecord {
  partition: number;
  record: StoredRecord;
}

/** An idempotent request's identity, checked (and recorded) in the commit itself. */
export interface IdempotenceClaim {
  producerId: string;
  epoch: number;
  sequence: number;
  /** Version of the producer item when its epoch was read: a newer epoch changes it and fences this claim. */
  producerVersion: number;
  /** The ring slot this sequence overwrites, as read (a racing retry that stored it first changes it). */
  slotVersion: Expect;
  /** The slot holding sequence − 1, as read (absent for sequence 0). */
  previousVersion?: number;
}

interface Pending {
  topic: TopicConfig;
  records: AppendRecord[];
  bytes: number;
  idem?: IdempotenceClaim;
  resolve(results: ProduceResult[]): void;
  reject(error: unknown): void;
}

interface PartitionBatch {
  partition: number;
  records: StoredRecord[];
  /** For each record: which pending request and which index in it. */
  owners: Array<[Pending, number]>;
  base?: bigint;
}

/** Which op of a write belongs to what, to explain a failed condition. */
type OpRole = { partition: number } | { idem: Pending; what: 'producer' | 'sequence' | 'previous' } | { fence: number };

/** A condition of one idempotent request failed: settle it, and flush the others again. */
class SettleRequest {
  constructor(
    readonly request: Pending,
    readonly what: 'producer' | 'sequence' | 'previous',
  ) {}
}

/**
 * Flushes of one topic in flight at once (uploads overlap; commits stay in order). A second flush starts
 * beside a running one only once PIPELINE_MIN_BYTES wait: every flush creates one object, i.e. one journal
 * commit on a local disk, and small concurrent ones contend for the journal (measured: 8 producers of
 * single records lose about a third of their rate at depth 2 and more at 4), whereas big ones gain from
 * overlapping the next one's encoding and upload with the previous commit. Small requests coalesce instead.
 */
const PIPELINE_DEPTH = 2;
/** A partition batch's ops in a commit: its GC fence check, its head, its index entry. */
const OPS_PER_PARTITION = 3;
const PIPELINE_MIN_BYTES = 1024 * 1024;

interface TopicPipe {
  queue: Pending[];
  /** Flushes started and not yet finished. */
  inFlight: number;
  /** Settles when the newest started flush (and every older one) has finished committing. */
  tail: Promise<void>;
  /** An idempotent flush is in flight: start nothing newer until it finished. */
  barrier: boolean;
}

export class Appender {
  private readonly pipes = new Map<string, TopicPipe>();
  private readonly heads = new Map<string, PartitionHead>();
  private storeCursor = 0;

  constructor(
    private readonly ctx: CoreContext,
    private readonly notifier: Notifier,
    private readonly fence: GcFence,
  ) {}

  /** Most partitions one idempotent request may touch (all its conditions share one atomic write). */
  get maxIdempotentPartitions(): number {
    return Math.floor((this.ctx.meta.maxOpsPerWrite - 3) / OPS_PER_PARTITION);
  }

  /** Appends records (partitions already chosen); resolves with their offsets, in input order. */
  append(topic: TopicConfig, records: AppendRecord[], idem?: IdempotenceClaim): Promise<ProduceResult[]> {
    if (records.length === 0) return Promise.resolve([]);
    let bytes = 0;
    for (const r of records) bytes += recordSize(r.record);
    return new Promise((resolve, reject) => {
      this.enqueue({ topic, records, bytes, idem, resolve, reject });
    });
  }

  private enqueue(p: Pending): void {
    const id = p.topic.topicId;
    let pipe = this.pipes.get(id);
    if (!pipe) this.pipes.set(id, (pipe = { queue: [], inFlight: 0, tail: Promise.resolve(), barrier: false }));
    pipe.queue.push(p);
    this.pump(id, pipe);
  }

  /** Starts flushes while there is work, a free slot and no idempotent barrier. */
  private pump(topicId: string, pipe: TopicPipe): void {
    while (pipe.queue.length > 0 && !pipe.barrier && (pipe.inFlight === 0 || (pipe.inFlight < PIPELINE_DEPTH && queuedBytes(pipe.queue) >= PIPELINE_MIN_BYTES))) {
      const requests = this.take(pipe.queue);
      const barrier = requests.some((r) => r.idem);
      const previous = pipe.tail;
      pipe.inFlight++;
      if (barrier) pipe.barrier = true;
      const done = this.flush(requests, previous).then(
        (retry) => {
          // Handed back requests go first: nothing newer started meanwhile (the barrier).
          for (const r of retry.reverse()) pipe.queue.unshift(r);
        },
        (e) => {
          for (const r of requests) r.reject(e);
        },
      );
      // The next flush commits only after this one and every older one finished.
      pipe.tail = Promise.all([previous, done]).then(() => undefined);
      void done.then(() => {
        pipe.inFlight--;
        if (barrier) pipe.barrier = false;
        if (pipe.queue.length > 0) this.pump(topicId, pipe);
        else if (pipe.inFlight === 0 && this.pipes.get(topicId) === pipe) this.pipes.delete(topicId);
      });
    }
  }

  /**
   * The next flush: pending requests up to the byte cap. Where one write takes few ops (DynamoDB), an
   * idempotent request goes alone, so all its conditions fit in one atomic write.
   */
  private take(q: Pending[]): Pending[] {
    const limited = this.ctx.meta.maxOpsPerWrite < 10_000;
    const take: Pending[] = [];
    let bytes = 0;
    while (q.length && (take.length === 0 || bytes + q[0].bytes <= this.ctx.settings.flushMaxBytes)) {
      if (limited && take.length > 0 && (q[0].idem || take[0].idem)) break;
      const p = q.shift()!;
      bytes += p.bytes;
      take.push(p);
    }
    return take;
  }

  /**
   * Flushes requests: encodes and uploads at once, commits after `previous` (the older flushes of the topic)
   * finished. Answers those that must be flushed again (after another request was settled).
   */
  private async flush(requests: Pending[], previous: Promise<void>): Promise<Pending[]> {
    // The newest config seen by any request (partitions may have been added meanwhile).
    const topic = requests.reduce((t, r) => (r.topic.partitionCount > t.partitionCount ? r.topic : t), requests[0].topic);
    const byPartition = new Map<number, PartitionBatch>();
    for (const req of requests) {
      req.records.forEach((r, i) => {
        let b = byPartition.get(r.partition);
        if (!b) byPartition.set(r.partition, (b = { partition: r.partition, records: [], owners: [] }));
        b.records.push(r.record);
        b.owners.push([req, i]);
      });
    }
    const batches = [...byPartition.values()].sort((a, b) => a.partition - b.partition);
    const failed = new Map<Pending, unknown>();
    try {
      const startedAt = this.ctx.clock.now();
      const segment = encodeSegment(batches.map((b) => b.records));
      const objectKey = objectKeys.segment(topic.topicId, this.ctx.ids.timeOrderedId(startedAt));
      const replicas = this.pickStores(topic.replicationFactor);
      await this.upload(replicas, objectKey, segment.body);
      // Commits are applied in flush order: wait for the older flushes of this topic to finish theirs.
      await previous;
      const entries: IndexEntry[] = batches.map((b, i) => ({
        baseOffset: 0n,
        count: b.records.length,
        objectKey,
        byteStart: segment.batches[i].byteStart,
        byteLength: segment.batches[i].byteLength,
        maxTimestamp: b.records.reduce((m, r) => Math.max(m, r.timestamp), 0),
        replicas: replicas.map((s) => s.name),
      }));
      await this.commit(topic, batches, entries, failed, startedAt);
    } catch (e) {
      if (e instanceof SettleRequest) {
        await this.settle(e);
        return requests.filter((r) => r !== e.request);
      }
      for (const r of requests) r.reject(e);
      return [];
    }
    for (const req of requests) {
      if (failed.has(req)) req.reject(failed.get(req));
      else req.resolve(resultsOf(req, batches));
    }
    return [];
  }

  /** Answers an idempotent request whose condition failed: a duplicate gets its original offsets. */
  private async settle({ request, what }: SettleRequest): Promise<void> {
    const idem = request.idem!;
    try {
      if (what === 'sequence') {
        const item = await this.ctx.meta.get(
          metaKeys.producerRequestsPk(idem.producerId, idem.epoch, request.topic.topicId),
          metaKeys.producerSlotSk(idem.sequence % ringSize(this.ctx.settings.producerRequestsKept)),
        );
        const stored = item && decodeSlot(item);
        if (stored && stored.sequence === idem.sequence) {
          const ref = { id: idem.producerId, sequence: idem.sequence };
          return request.resolve(sameBatch(decodeResults(stored.data), request.records.length, ref));
        }
        throw new FerryError('conflict', `sequence ${idem.sequence} of producer ${idem.producerId} is too old to answer again`);
      }
      if (what === 'previous') {
        throw new FerryError(
          'conflict',
          `sequence gap: producer ${idem.producerId} sent sequence ${idem.sequence} but ${idem.sequence - 1} was never stored`,
          { producerId: idem.producerId, sequence: idem.sequence },
        );
      }
      throw new FerryError('fenced', `producer ${idem.producerId} epoch ${idem.epoch} is no longer current`, {
        producerId: idem.producerId,
        epoch: idem.epoch,
      });
    } catch (e) {
      request.reject(e);
    }
  }

  /** R distinct stores, rotating the first one so a cluster with R < N spreads its writes. */
  private pickStores(r: number): ObjectStore[] {
    const stores = this.ctx.stores;
    if (r > stores.length) {
      throw new FerryError('invalid', `replicationFactor ${r} exceeds the ${stores.length} object stores`);
    }
    const start = this.storeCursor++ % stores.length;
    return Array.from({ length: r }, (_, i) => stores[(start + i) % stores.length]);
  }

  private async upload(stores: ObjectStore[], key: string, body: Uint8Array): Promise<void> {
    const results = await Promise.all(stores.map((s) => s.putIfAbsent(key, body)));
    if (results.some((r) => !r.created)) {
      // Ids are unique: an existing key means the id source is broken. Never overwrite.
      throw new FerryError('unavailable', `segment ${key} already exists; refusing to overwrite it`);
    }
  }

  /**
   * Commits each partition batch; groups of partitions share one atomic metadata write (as many as the store
   * takes). A group that keeps losing its race, or whose write fails, fails only the requests touching it.
   */
  private async commit(
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
      const groupEntries = entries.slice(start, start + perWrite);
      try {
        await this.commitGroup(topic, group, groupEntries, startedAt);
      } catch (e) {
        if (e instanceof SettleRequest) throw e;
        for (const b of group) for (const [owner] of b.owners) if (!failed.has(owner)) failed.set(owner, e);
      }
    }
  }

  private async commitGroup(topic: TopicConfig, group: PartitionBatch[], entries: IndexEntry[], startedAt: number): Promise<void> {
    const pks = group.map((b) => metaKeys.partitionPk(topic.topicId, b.partition));
    const { commitAttempts } = this.ctx.settings;
    for (let attempt = 1; ; attempt++) {
      // Never reference an upload garbage collection may have taken; the fence conditions below make it atomic.
      const fences = await Promise.all(group.map((b) => this.fence.current(topic.topicId, b.partition)));
      for (const f of fences) this.fence.ensureAlive(f, startedAt, `the commit to "${topic.name}"`);
      const heads = await Promise.all(pks.map((pk) => this.head(pk)));
      const ops: WriteOp[] = [];
      const roles: OpRole[] = [];
      group.forEach((b, i) => {
        ops.push(this.fence.check(topic.topicId, b.partition, fences[i]));
        roles.push({ fence: b.partition });
        const h = heads[i];
        b.base = h.nextOffset;
        const entry = { ...entries[i], baseOffset: h.nextOffset };
        ops.push(
          {
            op: 'put',
            pk: pks[i],
            sk: metaKeys.headSk,
            data: headItem.encode({ nextOffset: h.nextOffset + BigInt(b.records.length), logStartOffset: h.logStartOffset }),
            expect: h.version === 0 ? 'absent' : h.version,
          },
          { op: 'put', pk: pks[i], sk: metaKeys.entrySk(h.nextOffset), data: entryItem.encode(entry), expect: 'absent' },
        );
        roles.push({ partition: i }, { partition: i });
      });
      for (const req of new Set(group.flatMap((b) => b.owners.map(([o]) => o)))) {
        if (req.idem) this.idempotenceOps(req, resultsOf(req, group), ops, roles);
      }
      let res;
      try {
        res = await this.ctx.meta.write(ops);
      } catch (e) {
        // Unknown outcome: forget cached heads so the next flush reads what really happened.
        for (const pk of pks) this.heads.delete(pk);
        // Cancelled by another in-flight transaction on one of its items: nothing applied, a lost race.
        if (!isConflict(e) || attempt >= commitAttempts) throw e;
        await backoff(this.ctx, attempt);
        continue;
      }
      if (res.ok) {
        group.forEach((b, i) => {
          const h = heads[i];
          this.heads.set(pks[i], {
            nextOffset: h.nextOffset + BigInt(b.records.length),
            logStartOffset: h.logStartOffset,
            version: h.version + 1,
          });
          this.notifier.notify(pks[i]);
        });
        return;
      }
      const role = roles[res.failedIndex];
      if ('idem' in role) throw new SettleRequest(role.idem, role.what);
      if ('fence' in role) {
        await this.fence.refresh(topic.topicId, role.fence); // collection ran: the next attempt checks the upload's age
        continue;
      }
      // Lost a race (another writer, retention, a stale cache): re-read the heads and claim again.
      this.ctx.metrics?.add('CommitConflicts', 1, { Topic: topic.name });
      for (const pk of pks) this.heads.delete(pk);
      const failedPk = ops[res.failedIndex].pk;
      if (res.current && res.current.sk === metaKeys.headSk) this.heads.set(failedPk, headItem.decode(res.current));
      if (attempt >= commitAttempts) {
        this.ctx.metrics?.add('CommitFailures', 1, { Topic: topic.name });
        throw new FerryError(
          'unavailable',
          `could not commit to topic "${topic.name}" after ${attempt} attempts (concurrent writers); try again`,
          { topic: topic.name },
        );
      }
      // Exponential backoff with full jitter: racing writers (Lambdas on a hot partition) spread out.
      await backoff(this.ctx, attempt);
    }
  }

  /** The conditions and the record of one idempotent request, appended to its commit's ops. */
  private idempotenceOps(req: Pending, results: ProduceResult[], ops: WriteOp[], roles: OpRole[]): void {
    const idem = req.idem!;
    const pk = metaKeys.producerRequestsPk(idem.producerId, idem.epoch, req.topic.topicId);
    const ring = ringSize(this.ctx.settings.producerRequestsKept);
    ops.push({ op: 'check', pk: metaKeys.producersPk, sk: metaKeys.producerSk(idem.producerId), expect: idem.producerVersion });
    roles.push({ idem: req, what: 'producer' });
    const data = { sequence: idem.sequence, ...encodeResults(results) };
    ops.push({ op: 'put', pk, sk: metaKeys.producerSlotSk(idem.sequence % ring), data, expect: idem.slotVersion });
    roles.push({ idem: req, what: 'sequence' });
    if (idem.sequence > 0) {
      const previous = idem.previousVersion ?? 'absent'; // unset only if sequence − 1 was never stored: fails
      ops.push({ op: 'check', pk, sk: metaKeys.producerSlotSk((idem.sequence - 1) % ring), expect: previous });
      roles.push({ idem: req, what: 'previous' });
    }
  }

  private async head(pk: string): Promise<PartitionHead> {
    const cached = this.heads.get(pk);
    if (cached) return cached;
    const head = headItem.decode(await this.ctx.meta.get(pk, metaKeys.headSk));
    this.heads.set(pk, head);
    return head;
  }

  /** Drops a cached head (after maintenance changed it out of band). */
  forgetHead(pk: string): void {
    this.heads.delete(pk);
  }
}

function queuedBytes(q: Pending[]): number {
  let n = 0;
  for (const p of q) n += p.bytes;
  return n;
}

/** A request's (partition, offset) per record, in its order, once bases are known. */
function resultsOf(req: Pending, batches: PartitionBatch[]): ProduceResult[] {
  const results: ProduceResult[] = new Array(req.records.length);
  for (const b of batches) {
    b.owners.forEach(([owner, i], pos) => {
      if (owner === req) results[i] = { partition: b.partition, offset: b.base! + BigInt(pos) };
    });
  }
  return results;
}
