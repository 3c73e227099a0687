/**
 * The group consumer: joins a group, long-polls its partitions, calls your handler, commits after success.
 *
 * - Heartbeats run on their own timer, so a handler may take longer than the session timeout without the
 *   member being thrown out (only a blocked event loop stops them).
 * - A rebalance (a new generation, learnt from a heartbeat or a fenced commit) stops the partition loops after
 *   their current batch, reads the committed offsets again and starts the new assignment. A batch whose
 *   commit is refused because the generation moved on is delivered again: at-least-once.
 * - `disconnect()` (and, by default, SIGINT / SIGTERM) finishes the batches in hand, commits, and leaves the
 *   group, so the others take over at once instead of after the session timeout.
 *
 * @example
 *   const consumer = new FerryClient({ url }).consumer({ groupId: 'billing' });
 *   await consumer.subscribe({ topics: ['orders'] });
 *   await consumer.run({ eachMessage: async ({ partition, message }) => console.log(partition, message.value) });
 *
 *   // or, as an async iterator (a message is committed when the loop asks for the next one):
 *   for await (const { message } of consumer) handle(message.value);
 */
import { EventEmitter } from 'node:events';
import { FerryError } from '../protocol/errors';
import { decodeMessage, type WireFetched } from './codec';
import { sleep, type Transport } from './http';
import type { CommittedOffsets, EachBatchPayload, EachMessagePayload, KafkaMessage, TopicPartitions } from './types';

export interface ConsumerConfig {
  groupId: string;
  /** A member silent this long is removed and its partitions reassigned (default 10 000 ms). */
  sessionTimeoutMs?: number;
  /** Default: a third of the session timeout. */
  heartbeatIntervalMs?: number;
  /** Longest long-poll of one fetch (default 5 000 ms). */
  maxWaitTimeInMs?: number;
  /** Records per fetch (default 500). */
  maxRecords?: number;
  /** Bytes per fetch (default 1 MiB). */
  maxBytesPerPartition?: number;
  /** Handlers running at once, across partitions (default 1: one at a time, as kafkajs). */
  partitionsConsumedConcurrently?: number;
  /** Leave the group cleanly on SIGINT / SIGTERM, then let the signal take its course (default true). */
  handleSignals?: boolean;
  /** Backoff after a handler error before the batch is retried (default 1 000 ms, doubling to 30 s). */
  retryBackoffMs?: number;
}

export interface RunConfig {
  eachMessage?: (payload: EachMessagePayload) => Promise<void>;
  eachBatch?: (payload: EachBatchPayload) => Promise<void>;
  /** Commit after each successful batch (default true). */
  autoCommit?: boolean;
  /** eachBatch: count the whole batch as processed when the handler returns (default true); false commits only `resolveOffset`s. */
  eachBatchAutoResolve?: boolean;
}

export interface SubscribeConfig {
  topics?: string[];
  topic?: string;
  /**
   * Where partitions without a committed offset start. Unset or true: the earliest retained record (Ferry's
   * default, DESIGN §4). False: the end (kafkajs' default).
   */
  fromBeginning?: boolean;
}

interface Membership {
  memberId: string;
  generation: number;
  assignments: TopicPartitions[];
}

/** Tries of the first join in run() before it fails (each with the transport's own retries). */
const FIRST_JOIN_ATTEMPTS = 3;

/** Events: `group.join` (membership), `commit`, `rebalance`, `handler.error`, `crash`, `stop`. */
export class Consumer extends EventEmitter {
  readonly groupId: string;
  private readonly cfg: Required<Omit<ConsumerConfig, 'groupId'>>;
  private topics: string[] = [];
  private from: 'earliest' | 'latest' = 'earliest';
  private member?: Membership;
  private genAbort = new AbortController();
  private stopAbort = new AbortController();
  private heartbeatTimer?: NodeJS.Timeout;
  private heartbeating?: Promise<void>;
  private loop?: Promise<void>;
  private running = false;
  private active = 0;
  private readonly slots: Array<() => void> = [];
  private signalHandlers: Array<[NodeJS.Signals, () => void]> = [];

  constructor(
    private readonly transport: Transport,
    config: ConsumerConfig,
  ) {
    super();
    this.groupId = config.groupId;
    const sessionTimeoutMs = config.sessionTimeoutMs ?? 10_000;
    this.cfg = {
      sessionTimeoutMs,
      heartbeatIntervalMs: config.heartbeatIntervalMs ?? Math.max(100, Math.floor(sessionTimeoutMs / 3)),
      maxWaitTimeInMs: config.maxWaitTimeInMs ?? 5_000,
      maxRecords: config.maxRecords ?? 500,
      maxBytesPerPartition: config.maxBytesPerPartition ?? 1024 * 1024,
      partitionsConsumedConcurrently: config.partitionsConsumedConcurrently ?? 1,
      handleSignals: config.handleSignals ?? true,
      retryBackoffMs: config.retryBackoffMs ?? 1_000,
    };
  }

  /** Nothing to open (HTTP); kept so kafkajs code runs unchanged. */
  async connect(): Promise<void> {}

  async subscribe(config: SubscribeConfig): Promise<void> {
    if (this.running) throw new Error('subscribe before run()');
    const topics = [...(config.topics ?? []), ...(config.topic ? [config.topic] : [])];
    if (!topics.length) throw new TypeError('subscribe({ topics }) needs at least one topic');
    const notNames = topics.filter((t) => typeof t !== 'string');
    if (notNames.length) {
      throw new TypeError(`subscribe({ topics }) takes topic names; ${String(notNames[0])} is not one (patterns such as /orders.*/ are not supported: list the topics)`);
    }
    this.topics = [...new Set([...this.topics, ...topics])];
    if (config.fromBeginning === false) this.from = 'latest';
  }

  /** The current membership (after the first join). */
  assignment(): Membership | undefined {
    return this.member && { ...this.member, assignments: this.member.assignments.map((a) => ({ ...a, partitions: [...a.partitions] })) };
  }

  /** Joins and starts consuming; resolves once the member has joined (consumption goes on in the background). */
  async run(config: RunConfig): Promise<void> {
    if (this.running) throw new Error('the consumer is already running');
    if (!this.topics.length) throw new Error('subscribe({ topics }) before run()');
    if (!config.eachBatch === !config.eachMessage) throw new TypeError('run() takes exactly one of eachMessage or eachBatch');
    this.running = true;
    this.stopAbort = new AbortController();
    try {
      // The first join gives up after a few tries (each one the transport's retries): a server that cannot be
      // reached fails run() and emits `crash`, instead of waiting forever. Later rejoins keep trying.
      await this.join(FIRST_JOIN_ATTEMPTS);
    } catch (e) {
      this.running = false;
      // A refusal (unknown topic, no right) is the answer to run(); an unreachable or failing server also crashes.
      if (!(e instanceof FerryError && e.status < 500 && e.status !== 429)) this.emit('crash', e);
      throw e;
    }
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.cfg.heartbeatIntervalMs);
    this.heartbeatTimer.unref?.();
    if (this.cfg.handleSignals) this.installSignalHandlers();
    this.loop = this.mainLoop(config).catch((e) => {
      this.emit('crash', e);
    });
  }

  /** Stops after the batches in hand (committing them), and leaves the group. */
  async disconnect(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopAbort.abort();
    this.genAbort.abort();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    await this.loop;
    await this.heartbeating;
    const member = this.member;
    this.member = undefined;
    for (const [sig, fn] of this.signalHandlers) process.removeListener(sig, fn);
    this.signalHandlers = [];
    if (member) {
      try {
        await this.transport.request({ method: 'DELETE', path: `${this.groupPath()}/members/${member.memberId}`, idempotent: true, retries: 2 });
      } catch {
        // the session timeout removes it anyway
      }
    }
    this.emit('stop');
  }

  /** Commits offsets (each the next offset to read) for partitions this member owns now. */
  async commitOffsets(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void> {
    const member = this.member;
    if (!member) throw new FerryError('fenced', 'the consumer is not a member of its group');
    await this.commit(member.generation, offsets);
  }

  /** Messages one by one; each is committed when the loop asks for the next. Leaving the loop disconnects. */
  [Symbol.asyncIterator](): AsyncIterator<EachMessagePayload> {
    let handoff: { payload: EachMessagePayload; ack: () => void; nack: (e: Error) => void } | undefined;
    let waiter: ((r: IteratorResult<EachMessagePayload>) => void) | undefined;
    let started: Promise<void> | undefined;
    const finished = () => {
      handoff?.nack(new Error('the iteration ended before this message was done'));
      handoff = undefined;
    };
    const start = () =>
      (started ??= this.run({
        eachMessage: (payload) =>
          new Promise<void>((ack, nack) => {
            handoff = { payload, ack, nack };
            if (waiter) {
              const w = waiter;
              waiter = undefined;
              w({ value: payload, done: false });
            }
          }),
      }));
    this.once('stop', () => waiter?.({ value: undefined, done: true }));
    return {
      next: async () => {
        if (handoff) {
          const h = handoff;
          handoff = undefined;
          h.ack();
        }
        await start();
        if (!this.running) return { value: undefined, done: true };
        if (handoff) return { value: (handoff as { payload: EachMessagePayload }).payload, done: false };
        return new Promise((resolve) => (waiter = resolve));
      },
      return: async () => {
        finished();
        await this.disconnect();
        return { value: undefined, done: true };
      },
    };
  }

  // ---- internals ----------------------------------------------------------------------------------------

  private groupPath() {
    return `/v1/groups/${encodeURIComponent(this.groupId)}`;
  }

  private async join(maxAttempts = Infinity): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const m = await this.transport.request<Membership>({
          method: 'POST',
          path: `${this.groupPath()}/members`,
          body: { topics: this.topics, sessionTimeoutMs: this.cfg.sessionTimeoutMs, ...(this.from === 'latest' && { from: 'latest' }) },
          // A repeated join adds a second member, which the session timeout removes: safe enough to retry.
          idempotent: true,
          signal: this.stopAbort.signal,
        });
        this.member = m;
        return;
      } catch (e) {
        if (this.stopAbort.signal.aborted || (e instanceof FerryError && e.status < 500 && e.status !== 429)) throw e;
        if (attempt + 1 >= maxAttempts) throw e;
        await sleep(Math.min(5_000, 200 * 2 ** attempt), this.stopAbort.signal);
      }
    }
  }

  /** One heartbeat at a time; a new generation aborts the partition loops, an unknown member rejoins. */
  private heartbeat(): Promise<void> {
    if (this.heartbeating || !this.running) return this.heartbeating ?? Promise.resolve();
    const member = this.member;
    if (!member) return Promise.resolve();
    this.heartbeating = (async () => {
      try {
        const m = await this.transport.request<Membership>({
          method: 'POST',
          path: `${this.groupPath()}/members/${member.memberId}/heartbeat`,
          idempotent: true,
          retries: 1,
        });
        if (this.member === member && m.generation !== member.generation) {
          this.member = m;
          this.genAbort.abort();
        }
      } catch (e) {
        if (e instanceof FerryError && e.kind === 'fenced' && this.member === member) {
          this.member = undefined; // UNKNOWN_MEMBER_ID: join again
          this.genAbort.abort();
        }
        // network trouble: the next tick tries again
      } finally {
        this.heartbeating = undefined;
      }
    })();
    return this.heartbeating;
  }

  private async mainLoop(run: RunConfig): Promise<void> {
    while (this.running) {
      if (!this.member) {
        try {
          await this.join();
        } catch (e) {
          if (!this.running) return;
          this.emit('crash', e);
          await sleep(1_000, this.stopAbort.signal);
          continue;
        }
      }
      const member = this.member!;
      this.genAbort = new AbortController();
      const signal = this.genAbort.signal;
      let positions: Map<string, bigint | undefined>;
      try {
        positions = await this.committedPositions(member.assignments);
      } catch (e) {
        if (!this.running) return;
        this.emit('crash', e);
        await sleep(500, this.stopAbort.signal);
        continue;
      }
      if (this.member !== member) continue; // a heartbeat moved on meanwhile
      this.emit('group.join', { groupId: this.groupId, memberId: member.memberId, generation: member.generation, assignments: member.assignments });
      const loops = member.assignments.flatMap((a) =>
        a.partitions.map((p) => this.partitionLoop(run, member, a.topic, p, positions.get(`${a.topic}#${p}`), signal)),
      );
      if (!loops.length) loops.push(new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true })));
      await Promise.all(loops);
      if (this.running) this.emit('rebalance', { previousGeneration: member.generation });
    }
  }

  /**
   * Committed offsets for the assignment, from OffsetFetch (`GET /v1/groups/{g}/offsets`: metadata only, no
   * lag, no object read — as kafkajs' offset manager, not an admin view); `undefined`: nothing committed (the
   * fetch starts at logStartOffset).
   */
  private async committedPositions(assignments: TopicPartitions[]): Promise<Map<string, bigint | undefined>> {
    const out = new Map<string, bigint | undefined>();
    const topics = assignments.filter((a) => a.partitions.length).map((a) => a.topic);
    const answers = await Promise.all(
      topics.map((topic) =>
        this.transport.request<CommittedOffsets>({ method: 'GET', path: `${this.groupPath()}/offsets?topic=${encodeURIComponent(topic)}`, idempotent: true }),
      ),
    );
    for (const { offsets } of answers) for (const o of offsets) out.set(`${o.topic}#${o.partition}`, BigInt(o.offset));
    return out;
  }

  private async acquire(): Promise<void> {
    if (this.active < this.cfg.partitionsConsumedConcurrently) {
      this.active++;
      return;
    }
    await new Promise<void>((r) => this.slots.push(r));
  }

  private release(): void {
    const next = this.slots.shift();
    if (next) next();
    else this.active--;
  }

  private async partitionLoop(
    run: RunConfig,
    member: Membership,
    topic: string,
    partition: number,
    start: bigint | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    let offset = start;
    let backoff = this.cfg.retryBackoffMs;
    const path = `/v1/topics/${encodeURIComponent(topic)}/partitions/${partition}/records`;
    while (!signal.aborted) {
      let res: { records: WireFetched[]; nextOffset: string; highWatermark: string; logStartOffset: string };
      try {
        res = await this.transport.request({
          method: 'GET',
          path,
          query: { offset: offset?.toString(), maxRecords: this.cfg.maxRecords, maxBytes: this.cfg.maxBytesPerPartition, waitMs: this.cfg.maxWaitTimeInMs },
          idempotent: true,
          waitMs: this.cfg.maxWaitTimeInMs,
          signal,
        });
      } catch (e) {
        if (signal.aborted) return;
        if (e instanceof FerryError && e.kind === 'offset_out_of_range') {
          // Retention passed the position (or the topic was recreated): start again at the earliest record.
          offset = BigInt(String(e.details.logStartOffset ?? '0'));
          continue;
        }
        this.emit('crash', e);
        await sleep(1_000, signal);
        continue;
      }
      if (!res.records.length) {
        offset = BigInt(res.nextOffset);
        continue;
      }
      const messages = res.records.map(decodeMessage);
      await this.acquire();
      let resolved: bigint | undefined;
      let failed: unknown;
      try {
        if (signal.aborted) return; // a rebalance came first: the batch will be fetched again
        const heartbeat = () => this.heartbeat();
        if (run.eachBatch) {
          await run.eachBatch({
            batch: batchOf(topic, partition, res.highWatermark, messages),
            resolveOffset: (o) => {
              const next = BigInt(o) + 1n;
              if (resolved === undefined || next > resolved) resolved = next;
            },
            heartbeat,
            isRunning: () => this.running,
            isStale: () => signal.aborted,
          });
          if (run.eachBatchAutoResolve !== false) resolved = BigInt(messages[messages.length - 1].offset) + 1n;
        } else {
          for (const message of messages) {
            await run.eachMessage!({ topic, partition, message, heartbeat });
            resolved = BigInt(message.offset) + 1n;
            if (!this.running) break; // stopping: commit what is done
          }
        }
      } catch (e) {
        failed = e;
      } finally {
        this.release();
      }
      if (resolved !== undefined) {
        offset = resolved;
        if (run.autoCommit !== false) {
          try {
            await this.commit(member.generation, [{ topic, partition, offset: resolved.toString() }]);
          } catch (e) {
            if (e instanceof FerryError && e.kind === 'fenced') {
              if (e.details.reason === 'unknown_member') this.member = undefined;
              void this.heartbeat();
              this.genAbort.abort();
              return;
            }
            this.emit('crash', e);
          }
        }
      }
      if (failed !== undefined) {
        this.emit('handler.error', { topic, partition, error: failed });
        if (resolved === undefined) offset = BigInt(messages[0].offset);
        await sleep(backoff, signal);
        backoff = Math.min(30_000, backoff * 2);
      } else {
        backoff = this.cfg.retryBackoffMs;
      }
      if (!this.running) return;
    }
  }

  private async commit(generation: number, offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void> {
    const member = this.member;
    if (!member) throw new FerryError('fenced', 'the consumer is not a member of its group', { reason: 'unknown_member' });
    await this.transport.request({
      method: 'POST',
      path: `${this.groupPath()}/offsets`,
      body: { memberId: member.memberId, generation, offsets },
      idempotent: true,
    });
    this.emit('commit', { generation, offsets });
  }

  private installSignalHandlers(): void {
    for (const sig of ['SIGINT', 'SIGTERM'] as NodeJS.Signals[]) {
      const fn = () => {
        void this.disconnect().finally(() => {
          // Let the signal take its course unless the application handles it too.
          if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
        });
      };
      process.once(sig, fn);
      this.signalHandlers.push([sig, fn]);
    }
  }
}

function batchOf(topic: string, partition: number, highWatermark: string, messages: KafkaMessage[]) {
  return {
    topic,
    partition,
    highWatermark,
    messages,
    firstOffset: () => messages[0]?.offset ?? null,
    lastOffset: () => messages[messages.length - 1]?.offset ?? String(BigInt(highWatermark) - 1n),
  };
}
