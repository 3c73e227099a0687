/**
 * Push consumers (DESIGN.md §3 "Lambda consumers"): a dispatcher per (consumer, partition) holds a lease with
 * an epoch, reads from the consumer's committed offset, invokes the handler with a batch, and commits on
 * success — in offset order, with retries (exponential backoff and jitter), partial batch failures,
 * bisect-on-error, a dead-letter topic, a records-per-second limit and a cap on concurrent invocations.
 *
 * Delivery is at least once: a crash between an invocation and its commit delivers that batch again.
 * Every commit is a compare-and-set on the state item the lease holder last wrote, so a dispatcher whose lease
 * was taken over can never commit (G7).
 */
import type { Item } from '../../ports/metadata-store';
import type { ConsumerEvent, Invoker } from '../../ports/invoker';
import { fitPrefix } from '../codec/payload-cap';

/** `{"records":[` … `]}` around an event's records. */
const EVENT_OVERHEAD = 16;
import type { CoreContext } from '../context';
import { FerryError, invalid } from '../../protocol/errors';
import { payloadToJson } from '../codec/payload';
import { metaKeys, validateConsumerName, validateTopicName } from '../storage/keys';
import type { FetchedRecord, RecordInput, TopicConfig } from '../model';
import type { Log } from '../log/log';

export type StartingPosition = 'earliest' | 'latest' | { timestamp: number };

/** A push consumer, as declared in ferry.config.json or by `topic.addConsumer`. */
export interface ConsumerConfig {
  topic: string;
  name: string;
  /** A handler module path, a webhook URL or a Lambda function name / ARN, as the Invoker understands it. */
  handler: string;
  batchSize: number;
  maxBatchingWindowMs: number;
  startingPosition: StartingPosition;
  /** Retries of a failing batch before its records go to the dead-letter topic (-1: retry forever). */
  maxRetries: number;
  /** Records older than this are dead-lettered without an invocation (-1: no limit). */
  maxRecordAgeMs: number;
  bisectOnError: boolean;
  deadLetterTopic: string;
  maxRecordsPerSecond?: number;
  maxConcurrency?: number;
}

export const consumerDefaults = {
  batchSize: 100,
  maxBatchingWindowMs: 0,
  startingPosition: 'earliest' as StartingPosition,
  maxRetries: 3,
  maxRecordAgeMs: -1,
  bisectOnError: false,
};

/** The default dead-letter topic of a consumer: `<topic>-<consumer>-dlq`, validated like any topic name. */
export function defaultDeadLetterTopic(topic: string, consumer: string): string {
  return validateTopicName(`${topic}-${consumer}-dlq`);
}

/** Every rule of a consumer config, all problems at once. */
export function checkConsumer(c: ConsumerConfig): void {
  const problems: string[] = [];
  const at = `consumer "${c.name}" of "${c.topic}"`;
  for (const [what, fn] of [
    ['topic', () => validateTopicName(c.topic)],
    ['name', () => validateConsumerName(c.name)],
    ['deadLetterTopic', () => validateTopicName(c.deadLetterTopic)],
  ] as const) {
    try {
      fn();
    } catch (e) {
      problems.push(`${what}: ${(e as Error).message}`);
    }
  }
  const range = (name: string, v: number | undefined, min: number, max: number, allowMinusOne = false) => {
    if (v === undefined) return;
    if (!Number.isInteger(v) || ((v < min || v > max) && !(allowMinusOne && v === -1))) {
      problems.push(`${name} must be an integer from ${min} to ${max}${allowMinusOne ? ' or -1' : ''} (got ${v})`);
    }
  };
  range('batchSize', c.batchSize, 1, 10_000);
  range('maxBatchingWindowMs', c.maxBatchingWindowMs, 0, 300_000);
  range('maxRetries', c.maxRetries, 0, 10_000, true);
  range('maxRecordAgeMs', c.maxRecordAgeMs, 1_000, 7 * 24 * 3600 * 1000, true);
  range('maxRecordsPerSecond', c.maxRecordsPerSecond, 1, 1_000_000);
  range('maxConcurrency', c.maxConcurrency, 1, 10_000);
  if (c.deadLetterTopic === c.topic) problems.push('deadLetterTopic must differ from the topic it serves');
  if (problems.length) throw invalid(`${at}: ${problems.join('; ')}`, { problems });
}

/** Per (consumer, partition): the committed offset, the lease, and the retry state of the batch at that offset. */
interface DispatchState {
  offset: bigint;
  epoch: number;
  owner: string;
  leaseUntil: number;
  attempts: number;
  retryAt: number;
  /** Bisect-on-error: how many records the next attempt may take. */
  limit: number;
  version: number;
}

const statePk = (topic: TopicConfig, consumer: string) => `c#${topic.topicId}#${validateConsumerName(consumer)}`;
const stateSk = (partition: number) => `p#${partition}`;

function decodeState(item: Item): DispatchState {
  const d = item.data;
  return {
    offset: BigInt(String(d.offset)),
    epoch: Number(d.epoch),
    owner: String(d.owner),
    leaseUntil: Number(d.leaseUntil),
    attempts: Number(d.attempts ?? 0),
    retryAt: Number(d.retryAt ?? 0),
    limit: Number(d.limit ?? 0),
    version: item.version,
  };
}

function encodeState(s: Omit<DispatchState, 'version'>) {
  return {
    offset: s.offset.toString(),
    epoch: s.epoch,
    owner: s.owner,
    leaseUntil: s.leaseUntil,
    attempts: s.attempts,
    retryAt: s.retryAt,
    limit: s.limit,
  };
}

/** A token bucket driven by the Clock port: admits at most `rate` records a second (burst: one second). */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ctx: Pick<CoreContext, 'clock'>,
    readonly rate: number,
  ) {
    this.tokens = rate;
    this.last = ctx.clock.now();
  }

  /** Waits until `n` records may go (n is capped at the rate); true if it had to wait (a throttle). */
  async take(n: number): Promise<boolean> {
    const need = Math.min(n, this.rate);
    for (let waited = false; ; waited = true) {
      const now = this.ctx.clock.now();
      this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) * this.rate) / 1000);
      this.last = now;
      if (this.tokens >= need) {
        this.tokens -= need;
        return waited;
      }
      await this.ctx.clock.sleep(Math.ceil(((need - this.tokens) * 1000) / this.rate));
    }
  }
}

/** Caps concurrent invocations of one consumer. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(readonly max: number) {}
  async acquire(): Promise<() => void> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    return () => {
      this.active--;
      this.waiting.shift()?.();
    };
  }
}

export type TickOutcome =
  | { kind: 'leased-elsewhere' }
  | { kind: 'idle' }
  | { kind: 'waiting'; until: number }
  | { kind: 'delivered'; count: number }
  | { kind: 'failed'; attempts: number; retryAt: number; error: string }
  | { kind: 'dead-lettered'; count: number; error: string }
  | { kind: 'fenced' };

export interface DispatchSettings {
  leaseMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

export const defaultDispatchSettings: DispatchSettings = { leaseMs: 30_000, retryBaseMs: 200, retryMaxMs: 60_000 };

/**
 * Dispatches one consumer's partitions. `tick(partition)` does one step (lease, read, invoke, commit) and says
 * what happened; `ConsumerRunner` loops ticks on timers.
 */
export class Dispatcher {
  readonly limiter?: RateLimiter;
  readonly concurrency?: Semaphore;
  /** Invocations in flight now, and the most ever seen (tests check maxConcurrency with it). */
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    private readonly log: Log,
    private readonly invoker: Invoker,
    readonly config: ConsumerConfig,
    /** This dispatcher's identity in leases. */
    readonly owner: string,
    private readonly settings: DispatchSettings = defaultDispatchSettings,
  ) {
    checkConsumer(config);
    if (config.maxRecordsPerSecond) this.limiter = new RateLimiter(log.ctx, config.maxRecordsPerSecond);
    if (config.maxConcurrency) this.concurrency = new Semaphore(config.maxConcurrency);
  }

  private get ctx(): CoreContext {
    return this.log.ctx;
  }

  /** Takes or renews the lease of a partition; undefined if another live dispatcher holds it. */
  async lease(topic: TopicConfig, partition: number): Promise<DispatchState | undefined> {
    const pk = statePk(topic, this.config.name);
    const now = this.ctx.clock.now();
    const item = await this.ctx.meta.get(pk, stateSk(partition));
    let state: Omit<DispatchState, 'version'>;
    if (!item) {
      const offset = await this.startOffset(topic, partition);
      state = { offset, epoch: 1, owner: this.owner, leaseUntil: now + this.settings.leaseMs, attempts: 0, retryAt: 0, limit: 0 };
    } else {
      const s = decodeState(item);
      if (s.owner !== this.owner && s.leaseUntil > now) return undefined;
      state = { ...s, epoch: s.owner === this.owner ? s.epoch : s.epoch + 1, owner: this.owner, leaseUntil: now + this.settings.leaseMs };
    }
    const res = await this.ctx.meta.write([
      { op: 'put', pk, sk: stateSk(partition), data: encodeState(state), expect: item ? item.version : 'absent' },
    ]);
    if (!res.ok) return undefined; // another dispatcher moved first
    return { ...state, version: item ? item.version + 1 : 1 };
  }

  private async startOffset(topic: TopicConfig, partition: number): Promise<bigint> {
    const head = await this.log.fetcher.head(topic, partition);
    const pos = this.config.startingPosition;
    if (pos === 'earliest') return head.logStartOffset;
    if (pos === 'latest') return head.nextOffset;
    return this.log.groups.offsetForTimestamp(topic, partition, pos.timestamp, head.logStartOffset, head.nextOffset);
  }

  /** Writes the state if this dispatcher still holds the lease at the version it last wrote. */
  private async commit(topic: TopicConfig, partition: number, state: DispatchState, next: Partial<DispatchState>): Promise<DispatchState | undefined> {
    const updated = { ...state, ...next };
    const res = await this.ctx.meta.write([
      { op: 'put', pk: statePk(topic, this.config.name), sk: stateSk(partition), data: encodeState(updated), expect: state.version },
    ]);
    return res.ok ? { ...updated, version: state.version + 1 } : undefined;
  }

  /** One step for one partition. */
  async tick(partition: number): Promise<TickOutcome> {
    const topic = await this.log.topics.get(this.config.topic);
    let state = await this.lease(topic, partition);
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
        const moved = await this.commit(topic, partition, state, { offset: head.logStartOffset, attempts: 0, retryAt: 0, limit: 0 });
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

    // Too old to deliver: straight to the dead-letter topic.
    if (this.config.maxRecordAgeMs !== -1) {
      const tooOld = [];
      for (const r of page.records) {
        if (now - r.timestamp > this.config.maxRecordAgeMs) tooOld.push(r);
        else break;
      }
      if (tooOld.length) return this.deadLetter(topic, partition, state, tooOld, `record older than maxRecordAgeMs (${this.config.maxRecordAgeMs} ms)`);
    }

    const batch = page.records;
    // A batch over the invoke payload limit is cut to the records that fit (never failed for its size); a
    // record that cannot fit even alone can never be delivered, so it is dead-lettered at once, saying why.
    const cap = this.invoker.maxEventBytes;
    if (cap !== undefined) {
      const sizes = this.event(partition, batch).records.map((r) => Buffer.byteLength(JSON.stringify(r)));
      const fit = fitPrefix(sizes, cap, EVENT_OVERHEAD);
      if (fit === 0) {
        const why = `record ${batch[0].offset} is ${sizes[0]} bytes as an invoke event, more than the ${cap} bytes one invocation takes`;
        return this.deadLetter(topic, partition, state, [batch[0]], why, batch[0].offset + 1n);
      }
      batch.length = fit;
    }
    if (await this.limiter?.take(batch.length)) this.count('Throttles', 1);
    let failedFrom: number | undefined;
    /** Offsets the handler reported as failed (empty when the whole batch failed). */
    let reported = new Set<string>();
    let error = '';
    const release = await this.concurrency?.acquire();
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      this.count('Invocations', 1);
      const result = await this.invoker.invoke(this.config.handler, this.event(partition, batch));
      reported = new Set(result.batchItemFailures.map((f) => String(f.itemIdentifier)));
      const index = batch.findIndex((r) => reported.has(r.offset.toString()));
      if (reported.size && index === -1) {
        failedFrom = 0;
        error = `batchItemFailures named offsets not in the batch (${[...reported].slice(0, 3).join(', ')})`;
        reported = new Set();
      } else if (index !== -1) {
        failedFrom = index;
        error = `handler reported record ${batch[index].offset} as failed`;
      }
    } catch (e) {
      failedFrom = 0;
      error = (e as Error).message || String(e);
    } finally {
      this.inFlight--;
      release?.();
    }

    if (failedFrom !== undefined) this.count('HandlerFailures', 1);
    if (failedFrom === undefined) {
      state = await this.commit(topic, partition, state, { offset: batch[batch.length - 1].offset + 1n, attempts: 0, retryAt: 0, limit: 0 });
      return state ? { kind: 'delivered', count: batch.length } : { kind: 'fenced' };
    }
    if (failedFrom > 0) {
      // Records before the first failure are done: commit them, retry from the failure.
      const done = await this.commit(topic, partition, state, { offset: batch[failedFrom].offset, attempts: 1, retryAt: this.backoff(1), limit: 0 });
      return done ? { kind: 'failed', attempts: 1, retryAt: done.retryAt, error } : { kind: 'fenced' };
    }
    const attempts = state.attempts + 1;
    if (this.config.bisectOnError && batch.length > 1 && reported.size === 0) {
      const half = Math.ceil(batch.length / 2);
      const next = await this.commit(topic, partition, state, { attempts: 0, retryAt: this.backoff(1), limit: half });
      return next ? { kind: 'failed', attempts, retryAt: next.retryAt, error } : { kind: 'fenced' };
    }
    if (this.config.maxRetries !== -1 && attempts > this.config.maxRetries) {
      // A partial failure dead-letters only the records the handler named: the others succeeded.
      const dead = reported.size ? batch.filter((r) => reported.has(r.offset.toString())) : batch;
      return this.deadLetter(topic, partition, state, dead, error, batch[batch.length - 1].offset + 1n);
    }
    const next = await this.commit(topic, partition, state, { attempts, retryAt: this.backoff(attempts) });
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
   * Sends records to the dead-letter topic (created if missing) with their origin and the error in headers,
   * then moves the partition past them. A crash in between may dead-letter them twice (at least once).
   */
  private async deadLetter(
    topic: TopicConfig,
    partition: number,
    state: DispatchState,
    records: FetchedRecord[],
    error: string,
    resumeAt: bigint = records[records.length - 1].offset + 1n,
  ): Promise<TickOutcome> {
    if (!(await this.isLeaseCurrent(topic, partition, state))) return { kind: 'fenced' };
    const dlq = await this.ensureDeadLetterTopic(topic);
    // Same partition number when the dead-letter topic has it, so its order follows the source partition.
    const target = partition < dlq.partitionCount ? partition : undefined;
    const inputs: RecordInput[] = records.map((r) => ({
      partition: target,
      key: r.key,
      value: r.value,
      timestamp: r.timestamp,
      headers: Object.assign(Object.create(null), r.headers, {
        'ferry-error': error.slice(0, 1000),
        'ferry-source-topic': topic.name,
        'ferry-source-partition': String(partition),
        'ferry-source-offset': r.offset.toString(),
      }),
    }));
    await this.log.produce(this.config.deadLetterTopic, inputs);
    this.count('DeadLettered', records.length);
    const next = await this.commit(topic, partition, state, {
      offset: resumeAt,
      attempts: 0,
      retryAt: 0,
      limit: 0,
    });
    return next ? { kind: 'dead-lettered', count: records.length, error } : { kind: 'fenced' };
  }

  private async isLeaseCurrent(topic: TopicConfig, partition: number, state: DispatchState): Promise<boolean> {
    const item = await this.ctx.meta.get(statePk(topic, this.config.name), stateSk(partition));
    return item?.version === state.version;
  }

  private async ensureDeadLetterTopic(topic: TopicConfig): Promise<TopicConfig> {
    try {
      return await this.log.topics.get(this.config.deadLetterTopic);
    } catch (e) {
      if (!(e instanceof FerryError && e.kind === 'not_found')) throw e;
      try {
        return await this.log.topics.create({
          name: this.config.deadLetterTopic,
          partitions: topic.partitionCount,
          replicationFactor: topic.replicationFactor,
        });
      } catch (again) {
        if (!(again instanceof FerryError && again.kind === 'conflict')) throw again;
        return this.log.topics.get(this.config.deadLetterTopic);
      }
    }
  }

  event(partition: number, records: FetchedRecord[]): ConsumerEvent {
    return {
      records: records.map((r) => ({
        topic: this.config.topic,
        partition,
        offset: r.offset.toString(),
        key: payloadToJson(r.key),
        value: payloadToJson(r.value),
        headers: { ...r.headers },
        timestamp: r.timestamp,
      })),
    };
  }

  /** Gives up the lease of a partition (when stopping), so the next dispatcher need not wait for it to expire. */
  async release(partition: number): Promise<void> {
    const topic = await this.log.topics.get(this.config.topic);
    const pk = statePk(topic, this.config.name);
    const item = await this.ctx.meta.get(pk, stateSk(partition));
    if (!item) return;
    const s = decodeState(item);
    if (s.owner !== this.owner) return;
    await this.ctx.meta.write([{ op: 'put', pk, sk: stateSk(partition), data: encodeState({ ...s, leaseUntil: 0 }), expect: item.version }]);
  }

  /** Committed offset and lease of each partition (for describe / tests). */
  async states(): Promise<Array<{ partition: number; offset: bigint; epoch: number; owner: string }>> {
    const topic = await this.log.topics.get(this.config.topic);
    const items = await this.ctx.meta.query(statePk(topic, this.config.name), { prefix: 'p#' });
    return items.map((i) => ({ partition: Number(i.sk.slice(2)), ...decodeState(i) }));
  }
}

/**
 * Runs dispatchers on timers until stopped: each partition loops on `tick`, sleeping when idle (woken by
 * commits in this process) or until a retry is due.
 */
export class ConsumerRunner {
  private stopped = false;
  private readonly loops = new Map<string, { dispatcher: Dispatcher; partition: number; done: Promise<void> }>();
  private readonly abort = new AbortController();

  constructor(
    private readonly log: Log,
    readonly dispatchers: Dispatcher[],
    private readonly options: {
      idlePollMs?: number;
      onError?: (e: unknown, consumer: string) => void;
      /** Hears of every failed delivery (to be retried) and every dead-lettered batch, for the server's log. */
      onOutcome?: (d: Dispatcher, partition: number, outcome: Extract<TickOutcome, { kind: 'failed' | 'dead-lettered' }>) => void;
    } = {},
  ) {}

  /** Starts (and, as partitions are added, extends) the loops. */
  async start(): Promise<void> {
    for (const d of this.dispatchers) {
      const topic = await this.log.topics.get(d.config.topic);
      for (let p = 0; p < topic.partitionCount; p++) {
        const key = `${d.config.topic}/${d.config.name}/${p}`;
        if (!this.loops.has(key)) this.loops.set(key, { dispatcher: d, partition: p, done: this.loop(d, topic, p) });
      }
    }
  }

  private async loop(d: Dispatcher, topic: TopicConfig, partition: number): Promise<void> {
    const clock = this.log.ctx.clock;
    const idle = this.options.idlePollMs ?? 250;
    const pk = metaKeys.partitionPk(topic.topicId, partition);
    while (!this.stopped) {
      let wait = 0;
      try {
        const out = await d.tick(partition);
        if (out.kind === 'failed' || out.kind === 'dead-lettered') this.options.onOutcome?.(d, partition, out);
        if (out.kind === 'idle') {
          await this.log.notifier.wait(pk, idle);
          continue;
        }
        if (out.kind === 'waiting') wait = out.until - clock.now();
        if (out.kind === 'failed') wait = out.retryAt - clock.now();
        if (out.kind === 'leased-elsewhere' || out.kind === 'fenced') wait = idle;
      } catch (e) {
        this.options.onError?.(e, d.config.name);
        wait = 1000;
      }
      if (wait > 0 && !this.stopped) await clock.sleep(Math.min(wait, 5000), this.abort.signal);
    }
  }

  /** Stops every loop, waits for in-flight batches, and releases the leases. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await Promise.all([...this.loops.values()].map((l) => l.done));
    await Promise.all([...this.loops.values()].map((l) => l.dispatcher.release(l.partition).catch(() => undefined)));
  }
}
