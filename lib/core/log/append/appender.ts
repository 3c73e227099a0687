/**
 * The write path (DESIGN.md §3): concurrent produce requests to one topic coalesce into one flush — one
 * immutable segment object (one batch per partition touched) written to the topic's R object stores
 * (segment-writer.ts), then committed (commit.ts). A producer is acknowledged only after every partition batch
 * of its request committed.
 *
 * Flushes of one topic are pipelined: up to PIPELINE_DEPTH are in flight, each encoding and uploading its
 * object while older ones commit, but commits are applied strictly in flush order (the cached heads assume
 * it: flush N+1 claims offsets from the head flush N left). Requests arriving while every slot is busy wait
 * and go together in the next flush, so throughput grows with concurrency instead of with fsyncs (Kafka's
 * linger, without a fixed wait). A flush holding an idempotent request is a barrier: no newer flush starts
 * until it committed, so requests it hands back (after settling another) are flushed before any newer ones
 * and a producer's sequences are never committed out of order.
 *
 * An idempotent request (producer id, epoch, sequence) is recorded in each partition head it commits to (the
 * producer's last request there), so a retry — or a racing copy — can never store a batch twice on a partition
 * (G5); its offsets go to the producer's ring slot for retries (commit.ts). The commit never deletes.
 */
import type { CoreContext } from '../../context';
import { FerryError } from '../../../protocol/errors';
import { recordSize } from '../../codec/segment';
import { metaKeys } from '../../storage/keys';
import { PartitionHeads } from '../../storage/partition-heads';
import type { PartitionIndex } from '../../storage/partition-index';
import { decodeResults, decodeSlot, ringSize, sameBatch } from '../../storage/producer-results';
import type { ProduceResult, TopicConfig } from '../../model';
import type { Notifier } from '../notifier';
import { Committer } from './commit';
import {
  batchesOf,
  OPS_PER_IDEMPOTENT_REQUEST,
  OPS_PER_PARTITION,
  queuedBytes,
  resultsOf,
  SettleRequest,
  type AppendRecord,
  type IdempotenceClaim,
  type Pending,
} from './requests';
import { SegmentWriter } from './segment-writer';

export type { AppendRecord, IdempotenceClaim };

/**
 * Flushes of one topic in flight at once (uploads overlap; commits stay in order). A second flush starts
 * beside a running one only once PIPELINE_MIN_BYTES wait: every flush creates one object, i.e. one journal
 * commit on a local disk, and small concurrent ones contend for the journal (measured: 8 producers of
 * single records lose about a third of their rate at depth 2 and more at 4), whereas big ones gain from
 * overlapping the next one's encoding and upload with the previous commit. Small requests coalesce instead.
 */
const PIPELINE_DEPTH = 2;
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
  private readonly heads: PartitionHeads;
  private readonly writer: SegmentWriter;
  private readonly committer: Committer;

  constructor(
    private readonly ctx: CoreContext,
    notifier: Notifier,
    index: PartitionIndex,
  ) {
    this.heads = new PartitionHeads(index);
    this.writer = new SegmentWriter(ctx);
    this.committer = new Committer(ctx, notifier, this.heads, index);
  }

  /** Most partitions one idempotent request may touch (where a flush is one atomic write, all its ops share it). */
  get maxIdempotentPartitions(): number {
    if (this.ctx.meta.multiItemWrites === 'costly') return Number.POSITIVE_INFINITY;
    return Math.floor((this.ctx.meta.maxOpsPerWrite - OPS_PER_IDEMPOTENT_REQUEST) / OPS_PER_PARTITION);
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

  /** Drops a cached head (after maintenance changed it out of band). */
  forgetHead(pk: string): void {
    this.heads.forget(pk);
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
    while (
      pipe.queue.length > 0 &&
      !pipe.barrier &&
      (pipe.inFlight === 0 || (pipe.inFlight < PIPELINE_DEPTH && queuedBytes(pipe.queue) >= PIPELINE_MIN_BYTES))
    ) {
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
   * The next flush: pending requests up to the byte cap. Where a flush holding an idempotent request commits
   * in one atomic write, another request joins it only while that write's ops (per partition touched, and
   * per idempotent request) still fit what the store takes in one write; otherwise it goes alone. Two
   * requests of one producer never share a flush (the second may be a retry of the first), and a request
   * marked `alone` goes by itself.
   */
  private take(q: Pending[]): Pending[] {
    const take: Pending[] = [];
    const partitions = new Set<number>();
    const producers = new Set<string>();
    let idempotent = 0;
    let bytes = 0;
    while (q.length && (take.length === 0 || bytes + q[0].bytes <= this.ctx.settings.flushMaxBytes)) {
      const next = q[0];
      if (take.length > 0 && (next.alone || take[0].alone || (next.idem && producers.has(next.idem.producerId)))) break;
      if (take.length > 0 && (idempotent > 0 || next.idem) && this.ctx.meta.multiItemWrites === 'cheap') {
        const joined = new Set(partitions);
        for (const r of next.records) joined.add(r.partition);
        const ops = joined.size * OPS_PER_PARTITION + (idempotent + (next.idem ? 1 : 0)) * OPS_PER_IDEMPOTENT_REQUEST;
        if (ops > this.ctx.meta.maxOpsPerWrite) break;
      }
      q.shift();
      for (const r of next.records) partitions.add(r.partition);
      if (next.idem) {
        idempotent++;
        producers.add(next.idem.producerId);
      }
      bytes += next.bytes;
      take.push(next);
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
    const batches = batchesOf(requests);
    const failed = new Map<Pending, unknown>();
    try {
      const startedAt = this.ctx.clock.now();
      const entries = await this.writer.write(topic, batches, startedAt);
      // Commits are applied in flush order: wait for the older flushes of this topic to finish theirs.
      await previous;
      await this.committer.commit(topic, batches, entries, failed, startedAt);
    } catch (e) {
      if (e instanceof SettleRequest) {
        if (e.what === 'committed') {
          e.request.alone = true;
          return requests;
        }
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
          return request.resolve(
            sameBatch(
              decodeResults(
                stored.data,
                request.records.map((r) => r.partition),
              ),
              request.records.length,
              ref,
            ),
          );
        }
        throw new FerryError('conflict', `sequence ${idem.sequence} of producer ${idem.producerId} is too old to answer again`);
      }
      if (what === 'previous') {
        throw new FerryError(
          'conflict',
          `sequence gap: producer ${idem.producerId} sent sequence ${idem.sequence} but ${idem.sequence - 1} was never stored`,
          {
            producerId: idem.producerId,
            sequence: idem.sequence,
          },
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
}
