/**
 * The group consumer: joins a group, long-polls its partitions, calls your handler, commits after success.
 * Its parts, after kafkajs' `src/consumer/`: group-membership.ts (join, heartbeats, leave), consumer-runner.ts
 * (the fetch loop and the handlers), offset-manager.ts (positions and commits), batch.ts, semaphore.ts.
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
import {
  resolveConsumerConfig,
  type ConsumerConfig,
  type ResolvedConsumerConfig,
  type RunConfig,
  type SubscribeConfig,
} from './consumer-config';
import { runGenerations } from './consumer-runner';
import { GroupMembership, isRefusal, type Membership } from './group-membership';
import type { Transport } from './http';
import { OffsetManager } from './offset-manager';
import { PartitionControls, type PartitionSelection } from './partition-controls';
import { Semaphore } from './semaphore';
import { installSignalHandlers } from './signal-handlers';
import type { EachMessagePayload } from './types';

/** Tries of the first join in run() before it fails (each with the transport's own retries). */
const FIRST_JOIN_ATTEMPTS = 3;

/** Events: `group.join` (membership), `commit`, `rebalance`, `handler.error`, `crash`, `stop`. */
export class Consumer extends EventEmitter {
  readonly groupId: string;
  private readonly cfg: ResolvedConsumerConfig;
  private readonly membership: GroupMembership;
  private readonly offsets: OffsetManager;
  private readonly slots: Semaphore;
  private readonly controls = new PartitionControls();
  private topics: string[] = [];
  private from: 'earliest' | 'latest' = 'earliest';
  private stopAbort = new AbortController();
  private loop?: Promise<void>;
  private running = false;
  private removeSignalHandlers?: () => void;

  constructor(
    private readonly transport: Transport,
    config: ConsumerConfig,
  ) {
    super();
    this.groupId = config.groupId;
    this.cfg = resolveConsumerConfig(config);
    this.membership = new GroupMembership(transport, this.groupId, () => this.running);
    this.offsets = new OffsetManager(transport, this.membership, (commit) => this.emit('commit', commit));
    this.slots = new Semaphore(this.cfg.partitionsConsumedConcurrently);
  }

  /** Nothing to open (HTTP); kept so kafkajs code runs unchanged. */
  async connect(): Promise<void> {}

  async subscribe(config: SubscribeConfig): Promise<void> {
    if (this.running) throw new Error('subscribe before run()');
    const topics = [...(config.topics ?? []), ...(config.topic ? [config.topic] : [])];
    if (!topics.length) throw new TypeError('subscribe({ topics }) needs at least one topic');
    const notNames = topics.filter((t) => typeof t !== 'string');
    if (notNames.length) {
      throw new TypeError(
        `subscribe({ topics }) takes topic names; ${String(notNames[0])} is not one (patterns such as /orders.*/ are not supported: list the topics)`,
      );
    }
    this.topics = [...new Set([...this.topics, ...topics])];
    if (config.fromBeginning === false) this.from = 'latest';
  }

  /** The current membership (after the first join). */
  assignment(): Membership | undefined {
    const member = this.membership.member;
    return member && { ...member, assignments: member.assignments.map((a) => ({ ...a, partitions: [...a.partitions] })) };
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
      if (!isRefusal(e)) this.emit('crash', e);
      throw e;
    }
    this.membership.startHeartbeats(this.cfg.heartbeatIntervalMs);
    if (this.cfg.handleSignals) this.removeSignalHandlers = installSignalHandlers(() => this.disconnect());
    const stop = this.stopAbort.signal;
    this.loop = runGenerations(
      {
        groupId: this.groupId,
        cfg: this.cfg,
        transport: this.transport,
        membership: this.membership,
        offsets: this.offsets,
        slots: this.slots,
        events: this,
        isRunning: () => this.running,
        stop,
        rejoin: () => this.join(),
        controls: this.controls,
      },
      config,
    ).catch((e) => {
      this.emit('crash', e);
    });
  }

  /** Stops after the batches in hand (committing them), and leaves the group. */
  async disconnect(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopAbort.abort();
    this.membership.abortGeneration();
    this.membership.stopHeartbeats();
    await this.loop;
    await this.membership.settled();
    this.removeSignalHandlers?.();
    this.removeSignalHandlers = undefined;
    await this.membership.leave();
    this.emit('stop');
  }

  /**
   * Stops fetching `topics` (all their partitions, or the ones named) until `resume`; batches in hand finish.
   *
   * @example
   *   consumer.pause([{ topic: 'orders', partitions: [0] }]);
   */
  pause(topics: PartitionSelection[]): void {
    this.controls.pause(topics);
  }

  resume(topics: PartitionSelection[]): void {
    this.controls.resume(topics);
  }

  /** What is paused now. */
  paused(): PartitionSelection[] {
    return this.controls.paused();
  }

  /**
   * The next fetch of `partition` starts at `offset` (a decimal string); a batch fetched before is dropped. The
   * new position is committed as messages after it are processed (as kafkajs).
   */
  seek({ topic, partition, offset }: { topic: string; partition: number; offset: string }): void {
    if (!/^\d{1,20}$/.test(offset)) throw new TypeError(`seek offset must be a decimal string (got ${JSON.stringify(offset)})`);
    this.controls.seek(topic, partition, BigInt(offset));
  }

  /** Commits offsets (each the next offset to read) for partitions this member owns now. */
  async commitOffsets(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void> {
    const member = this.membership.member;
    if (!member) throw new FerryError('fenced', 'the consumer is not a member of its group');
    await this.offsets.commit(member.generation, offsets);
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

  /** Joins with the subscription; `maxAttempts` bounds the first join only. */
  private join(maxAttempts = Infinity): Promise<void> {
    return this.membership.join(
      { topics: this.topics, sessionTimeoutMs: this.cfg.sessionTimeoutMs, from: this.from },
      this.stopAbort.signal,
      maxAttempts,
    );
  }
}
