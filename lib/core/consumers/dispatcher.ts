/**
 * Push consumers (DESIGN.md §3 "Lambda consumers"): a dispatcher per (consumer, partition) holds a lease with
 * an epoch, reads from the consumer's committed offset, invokes the handler with a batch, and commits on
 * success — in offset order, with retries (exponential backoff and jitter), partial batch failures,
 * bisect-on-error, a dead-letter topic, a records-per-second limit and a cap on concurrent invocations.
 *
 * Delivery is at least once: a crash between an invocation and its commit delivers that batch again.
 * Every commit is a compare-and-set on the state item the lease holder last wrote (lease.ts), so a dispatcher
 * whose lease was taken over can never commit (G7).
 */
import type { CoreContext } from '../context';
import { FerryError } from '../../protocol/errors';
import type { FetchedRecord, TopicConfig } from '../model';
import type { Log } from '../log/log';
import { InvokeUnavailableError, type ConsumerEvent, type Invoker } from '../../ports/invoker';
import { checkConsumer, type ConsumerConfig } from './config';
import { sendToDeadLetterTopic } from './dead-letter';
import { consumerEvent, recordsThatFit } from './event';
import { RateLimiter, Semaphore } from './flow-control';
import { PartitionLeases, type DispatchState } from './lease';
import { dispatchStateItem } from '../storage/dispatch-items';
import { ConsumerControl } from './control';
import { passes } from './filters';
import { keyHashBytes, murmur2 } from '../log/partitioner';

export type TickOutcome =
  | { kind: 'leased-elsewhere' }
  /** The consumer is paused (`POST …/pause`): nothing is delivered until it is resumed. */
  | { kind: 'paused' }
  | { kind: 'idle' }
  | { kind: 'waiting'; until: number }
  | { kind: 'delivered'; count: number }
  | { kind: 'failed'; attempts: number; retryAt: number; error: string }
  /** The handler was throttled or unreachable: retried at `retryAt`, not counted toward `maxRetries`. */
  | { kind: 'throttled'; retryAt: number; error: string }
  | { kind: 'dead-lettered'; count: number; error: string }
  | { kind: 'fenced' };

export interface DispatchSettings {
  /** A lease between invocations; during one it lasts past the handler's timeout (`invokeLeaseMs`). */
  leaseMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /**
   * How often a lease is renewed while an invocation is in flight (default `leaseMs / 3`); 0: never — what a
   * paused (SIGSTOPped) dispatcher does, for tests.
   */
  renewEveryMs?: number;
}

export const defaultDispatchSettings: DispatchSettings = { leaseMs: 30_000, retryBaseMs: 200, retryMaxMs: 60_000 };

/** A partition's retry state once its batch is settled. */
const CLEAR = { attempts: 0, misses: 0, retryAt: 0, limit: 0 };

/** Added to the handler's timeout for the lease held during an invocation (the invoke's own round trip). */
const INVOKE_LEASE_MARGIN_MS = 10_000;

/** What one invocation answered: nothing failed, or the index of the first failed record and why. */
interface Invocation {
  /** The handler was not reached (throttled, invoke service failed): retry without counting an attempt. */
  unavailable?: InvokeUnavailableError;
  /** The lease was lost during the invocation (another dispatcher took the partition). */
  fenced?: boolean;
  failedFrom?: number;
  /** Offsets the handler reported as failed (empty when the whole batch failed). */
  reported: Set<string>;
  error: string;
}

/**
 * Dispatches one consumer's partitions. `tick(partition)` does one step (lease, read, invoke, commit) and says
 * what happened; `ConsumerRunner` (runner.ts) loops ticks on timers.
 */
export class Dispatcher {
  readonly limiter?: RateLimiter;
  readonly concurrency?: Semaphore;
  /** Invocations in flight now, and the most ever seen (tests check maxConcurrency with it). */
  inFlight = 0;
  maxInFlight = 0;
  readonly leases: PartitionLeases;
  readonly control: ConsumerControl;

  constructor(
    readonly log: Log,
    private readonly invoker: Invoker,
    readonly config: ConsumerConfig,
    /** This dispatcher's identity in leases. */
    readonly owner: string,
    private readonly settings: DispatchSettings = defaultDispatchSettings,
  ) {
    checkConsumer(config);
    if (config.maxRecordsPerSecond) this.limiter = new RateLimiter(log.ctx, config.maxRecordsPerSecond);
    if (config.maxConcurrency) this.concurrency = new Semaphore(config.maxConcurrency);
    this.leases = new PartitionLeases(log.ctx, config.name, owner, settings.leaseMs);
    this.control = new ConsumerControl(log.ctx, config.name);
  }

  private get ctx(): CoreContext {
    return this.log.ctx;
  }

  /** Lanes per partition (`parallelizationFactor`): each its own lease, offset and in-flight batch. */
  get lanes(): number {
    return this.config.parallelizationFactor ?? 1;
  }

  /** The lane a record belongs to: by its key's murmur2 (one key, one lane: its order kept), else by offset. */
  private laneOf(r: FetchedRecord): number {
    const n = this.lanes;
    return r.key ? (murmur2(keyHashBytes(r.key)) & 0x7fffffff) % n : Number(r.offset % BigInt(n));
  }

  private async startOffset(topic: TopicConfig, partition: number): Promise<bigint> {
    const head = await this.log.fetcher.head(topic, partition);
    const pos = this.config.startingPosition;
    if (pos === 'earliest') return head.logStartOffset;
    if (pos === 'latest') return head.nextOffset;
    return this.log.groups.offsetForTimestamp(topic, partition, pos.timestamp, head.logStartOffset, head.nextOffset);
  }

  /** One step for one partition. */
  async tick(partition: number, lane = 0): Promise<TickOutcome> {
    const topic = await this.log.topics.get(this.config.topic);
    if (await this.control.paused(topic)) return { kind: 'paused' };
    const item = await this.leases.read(topic, partition, lane);
    if (item) {
      // Nothing to deliver, no retry waiting: idle, and no lease needed to say so (an idle partition costs
      // reads, never writes).
      const seen = dispatchStateItem.decode(item);
      const now = this.ctx.clock.now();
      if (seen.owner !== this.owner && seen.leaseUntil > now) return { kind: 'leased-elsewhere' };
      if (seen.retryAt === 0 && seen.limit === 0) {
        const head = await this.log.fetcher.head(topic, partition);
        if (head.nextOffset <= seen.offset && head.logStartOffset <= seen.offset) {
          this.reportLag(0n, undefined, now);
          return { kind: 'idle' };
        }
      }
    }
    const state = await this.leases.take(topic, partition, () => this.startOffset(topic, partition), { item }, lane);
    if (!state) return { kind: 'leased-elsewhere' };
    const now = this.ctx.clock.now();
    if (state.retryAt > now) return { kind: 'waiting', until: state.retryAt };

    const take = Math.min(this.config.batchSize, state.limit || this.config.batchSize, this.limiter?.rate ?? Infinity);
    let page;
    try {
      page = await this.log.fetch(this.config.topic, partition, state.offset, { maxRecords: take, maxBytes: 6 * 1024 * 1024, waitMs: 0 });
    } catch (e) {
      if (e instanceof FerryError && e.kind === 'offset_out_of_range') {
        // Retention passed the committed offset: continue from the log start (the records are gone).
        const head = await this.log.fetcher.head(topic, partition);
        const moved = await this.leases.commit(topic, partition, state, { offset: head.logStartOffset, attempts: 0, retryAt: 0, limit: 0 });
        return moved ? { kind: 'idle' } : { kind: 'fenced' };
      }
      throw e;
    }
    this.reportLag(page.highWatermark - state.offset, page.records[0]?.timestamp, now);
    if (page.records.length === 0) return { kind: 'idle' };
    const windowEnds = page.records[0].timestamp + this.config.maxBatchingWindowMs;
    if (page.records.length < take && this.config.maxBatchingWindowMs > 0 && now < windowEnds && state.attempts === 0) {
      return { kind: 'waiting', until: windowEnds };
    }
    if (this.config.filters?.length || this.lanes > 1) return this.filtered(topic, partition, state, page.records, now);
    return this.deliver(topic, partition, state, page.records, now);
  }

  /**
   * With filters (or lanes) only matching records (of this lane) are delivered — a commit past them covers the
   * skipped ones between; a page with none is committed past without an invocation.
   */
  private async filtered(topic: TopicConfig, partition: number, state: DispatchState, page: FetchedRecord[], now: number) {
    const wanted = page.filter((r) => (this.lanes === 1 || this.laneOf(r) === state.lane) && passes(this.config.filters, r));
    if (wanted.length === 0) {
      const next = await this.leases.commit(topic, partition, state, { offset: page[page.length - 1].offset + 1n, ...CLEAR });
      return next ? ({ kind: 'delivered', count: 0 } as const) : ({ kind: 'fenced' } as const);
    }
    return this.deliver(topic, partition, state, wanted, now);
  }

  /** Delivers a batch read at the committed offset: dead-letters what cannot go, invokes, settles the outcome. */
  private async deliver(
    topic: TopicConfig,
    partition: number,
    state: DispatchState,
    batch: FetchedRecord[],
    now: number,
  ): Promise<TickOutcome> {
    // Too old to deliver: straight to the dead-letter topic.
    if (this.config.maxRecordAgeMs !== -1) {
      const tooOld = [];
      for (const r of batch) {
        if (now - r.timestamp > this.config.maxRecordAgeMs) tooOld.push(r);
        else break;
      }
      if (tooOld.length)
        return this.deadLetter(topic, partition, state, tooOld, `record older than maxRecordAgeMs (${this.config.maxRecordAgeMs} ms)`);
    }
    // A batch over the invoke payload limit is cut to the records that fit (never failed for its size); a
    // record that cannot fit even alone can never be delivered, so it is dead-lettered at once, saying why.
    const cap = this.invoker.maxEventBytes;
    if (cap !== undefined) {
      const { fit, firstBytes } = recordsThatFit(this.config.topic, partition, batch, cap);
      if (fit === 0) {
        const why = `record ${batch[0].offset} is ${firstBytes} bytes as an invoke event, more than the ${cap} bytes one invocation takes`;
        return this.deadLetter(topic, partition, state, [batch[0]], why, batch[0].offset + 1n);
      }
      batch.length = fit;
    }
    if (await this.limiter?.take(batch.length)) this.count('Throttles', 1);
    const held = { state };
    const outcome = await this.invokeHolding(topic, partition, held, batch);
    if (outcome.fenced) return { kind: 'fenced' };
    if (outcome.unavailable) return this.deferred(topic, partition, held.state, outcome.unavailable);
    if (outcome.failedFrom !== undefined) this.count('HandlerFailures', 1);
    return this.settle(topic, partition, held.state, batch, outcome);
  }

  /** How long a lease must last from the start of an invocation: past the handler's timeout. */
  private get invokeLeaseMs(): number {
    return Math.max(this.settings.leaseMs, (this.config.timeoutMs ?? 0) + INVOKE_LEASE_MARGIN_MS);
  }

  /**
   * Invokes while holding the lease: extends it past the handler's timeout first, then renews it every
   * `renewEveryMs` until the invocation ends, so no other dispatcher invokes the same records meanwhile
   * (`held.state` follows each renewal, for the settling commit). A renewal refused by the lease's
   * compare-and-set stops renewing: the settling commit then finds the partition fenced.
   */
  private async invokeHolding(topic: TopicConfig, partition: number, held: { state: DispatchState }, batch: FetchedRecord[]) {
    const lease = this.invokeLeaseMs;
    const now = this.ctx.clock.now();
    // The lease must cover the handler's timeout, and last until the first renewal (a third of `leaseMs`
    // from now, at most): the common case — a lease just taken, no timeout given — costs no write here.
    const needed = now + Math.max((this.settings.leaseMs * 2) / 3, this.config.timeoutMs === undefined ? 0 : lease);
    if (held.state.leaseUntil < needed) {
      const extended = await this.leases.extend(topic, partition, held.state, now + lease);
      if (!extended) return { fenced: true, reported: new Set<string>(), error: '' } satisfies Invocation;
      held.state = extended;
    }
    const done = new AbortController();
    const every = this.settings.renewEveryMs ?? this.settings.leaseMs / 3;
    const renewing = this.leases.renewWhile(topic, partition, held, { until: lease, every }, done.signal);
    try {
      return await this.invoke(partition, batch);
    } finally {
      done.abort();
      await renewing;
    }
  }

  /** The handler was not reached: back off (growing with each such miss) without counting an attempt. */
  private async deferred(topic: TopicConfig, partition: number, state: DispatchState, e: InvokeUnavailableError): Promise<TickOutcome> {
    this.count('Throttles', 1);
    const misses = state.misses + 1;
    const retryAt = Math.max(this.backoff(misses), this.ctx.clock.now() + (e.retryAfterMs ?? 0));
    const next = await this.leases.commit(topic, partition, state, {
      misses,
      retryAt,
      leaseUntil: this.ctx.clock.now() + this.settings.leaseMs,
    });
    return next ? { kind: 'throttled', retryAt, error: e.message } : { kind: 'fenced' };
  }

  private async invoke(partition: number, batch: FetchedRecord[]): Promise<Invocation> {
    const release = await this.concurrency?.acquire();
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      this.count('Invocations', 1);
      const result = await this.invoker.invoke(this.config.handler, this.event(partition, batch));
      const reported = new Set(result.batchItemFailures.map((f) => String(f.itemIdentifier)));
      const index = batch.findIndex((r) => reported.has(r.offset.toString()));
      if (reported.size && index === -1) {
        return {
          failedFrom: 0,
          reported: new Set(),
          error: `batchItemFailures named offsets not in the batch (${[...reported].slice(0, 3).join(', ')})`,
        };
      }
      if (index !== -1) return { failedFrom: index, reported, error: `handler reported record ${batch[index].offset} as failed` };
      return { reported, error: '' };
    } catch (e) {
      if (e instanceof InvokeUnavailableError) return { unavailable: e, reported: new Set(), error: e.message };
      return { failedFrom: 0, reported: new Set(), error: (e as Error).message || String(e) };
    } finally {
      this.inFlight--;
      release?.();
    }
  }

  /** Commits a delivered batch, or records the retry, the bisection or the dead letters of a failed one. */
  private async settle(
    topic: TopicConfig,
    partition: number,
    state: DispatchState,
    batch: FetchedRecord[],
    outcome: Invocation,
  ): Promise<TickOutcome> {
    const { failedFrom, reported, error } = outcome;
    // Every settling write ends the invocation's long lease and the throttle count.
    const leaseUntil = this.ctx.clock.now() + this.settings.leaseMs;
    const commit = (next: Partial<DispatchState>) => this.leases.commit(topic, partition, state, { misses: 0, leaseUntil, ...next });
    if (failedFrom === undefined) {
      const done = await commit({ offset: batch[batch.length - 1].offset + 1n, attempts: 0, retryAt: 0, limit: 0 });
      return done ? { kind: 'delivered', count: batch.length } : { kind: 'fenced' };
    }
    if (failedFrom > 0) {
      // Records before the first failure are done: commit them, retry from the failure.
      const done = await commit({ offset: batch[failedFrom].offset, attempts: 1, retryAt: this.backoff(1), limit: 0 });
      return done ? { kind: 'failed', attempts: 1, retryAt: done.retryAt, error } : { kind: 'fenced' };
    }
    const attempts = state.attempts + 1;
    if (this.config.bisectOnError && batch.length > 1 && reported.size === 0) {
      const next = await commit({ attempts: 0, retryAt: this.backoff(1), limit: Math.ceil(batch.length / 2) });
      return next ? { kind: 'failed', attempts, retryAt: next.retryAt, error } : { kind: 'fenced' };
    }
    if (this.config.maxRetries !== -1 && attempts > this.config.maxRetries) {
      // A partial failure dead-letters only the records the handler named: the others succeeded.
      const dead = reported.size ? batch.filter((r) => reported.has(r.offset.toString())) : batch;
      return this.deadLetter(topic, partition, state, dead, error, batch[batch.length - 1].offset + 1n);
    }
    const next = await commit({ attempts, retryAt: this.backoff(attempts) });
    return next ? { kind: 'failed', attempts, retryAt: next.retryAt, error } : { kind: 'fenced' };
  }

  private count(name: 'Invocations' | 'HandlerFailures' | 'DeadLettered' | 'Throttles', n: number): void {
    this.ctx.metrics?.add(name, n, { Topic: this.config.topic, Consumer: this.config.name });
  }

  /** Lag at a fetch: records after the position, and the age of the first of them (the iterator age). */
  private reportLag(records: bigint, oldest: number | undefined, now: number): void {
    const dims = { Topic: this.config.topic, Consumer: this.config.name };
    this.ctx.metrics?.set('ConsumerLagRecords', Number(records > 0n ? records : 0n), dims);
    this.ctx.metrics?.set('ConsumerLagSeconds', oldest === undefined ? 0 : Math.max(0, (now - oldest) / 1000), dims);
  }

  /** Exponential backoff with full jitter between half and all of the step. */
  private backoff(attempts: number): number {
    const step = Math.min(this.settings.retryMaxMs, this.settings.retryBaseMs * 2 ** (attempts - 1));
    return this.ctx.clock.now() + Math.round(step * (0.5 + this.ctx.ids.random() / 2));
  }

  /**
   * Sends records to the dead-letter topic, then moves the partition past them. A crash in between may
   * dead-letter them twice (at least once).
   */
  private async deadLetter(
    topic: TopicConfig,
    partition: number,
    state: DispatchState,
    records: FetchedRecord[],
    error: string,
    resumeAt: bigint = records[records.length - 1].offset + 1n,
  ): Promise<TickOutcome> {
    if (!(await this.leases.isCurrent(topic, partition, state))) return { kind: 'fenced' };
    await sendToDeadLetterTopic(this.log, this.config, topic, partition, records, error);
    this.count('DeadLettered', records.length);
    const leaseUntil = this.ctx.clock.now() + this.settings.leaseMs;
    const next = await this.leases.commit(topic, partition, state, { offset: resumeAt, ...CLEAR, leaseUntil });
    return next ? { kind: 'dead-lettered', count: records.length, error } : { kind: 'fenced' };
  }

  event(partition: number, records: FetchedRecord[]): ConsumerEvent {
    return consumerEvent(this.config.topic, partition, records);
  }

  /** Gives up the lease of a partition (when stopping), so the next dispatcher need not wait for it to expire. */
  async release(partition: number, lane = 0): Promise<void> {
    await this.leases.release(await this.log.topics.get(this.config.topic), partition, lane);
  }

  /** Committed offset and lease of each partition (for describe / tests). */
  async states(): Promise<Array<{ partition: number; offset: bigint; epoch: number; owner: string }>> {
    return this.leases.all(await this.log.topics.get(this.config.topic));
  }
}
