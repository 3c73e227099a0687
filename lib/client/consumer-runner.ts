/**
 * The consumer's fetch loop (kafkajs' runner): one round per generation, one loop per assigned partition —
 * their fetches share one long poll for the member's partitions (fetch-rounds.ts) — the handler called per
 * message or per batch, and a commit after success.
 *
 * A rebalance (a new generation, learnt from a heartbeat or a fenced commit) stops the partition loops after
 * their current batch, reads the committed offsets again and starts the new assignment. A batch whose commit
 * is refused because the generation moved on is delivered again: at-least-once.
 */
import type { EventEmitter } from 'node:events';
import { FerryError } from '../protocol/errors';
import { batchOf } from './batch';
import { decodeMessage } from './codec';
import { FetchRounds } from './fetch-rounds';
import type { ResolvedConsumerConfig, RunConfig } from './consumer-config';
import type { GroupMembership, Membership } from './group-membership';
import { sleep, type Transport } from './http';
import { positionKey, type OffsetManager } from './offset-manager';
import type { PartitionControls } from './partition-controls';
import type { Semaphore } from './semaphore';
import type { KafkaMessage } from './types';

/** What the loops share with their consumer. */
export interface RunnerContext {
  groupId: string;
  cfg: ResolvedConsumerConfig;
  transport: Transport;
  membership: GroupMembership;
  offsets: OffsetManager;
  slots: Semaphore;
  /** Where `group.join`, `rebalance`, `handler.error` and `crash` go. */
  events: Pick<EventEmitter, 'emit'>;
  isRunning: () => boolean;
  /** Aborted by `disconnect()`. */
  stop: AbortSignal;
  /** Joins again, trying until stopped. */
  rejoin: () => Promise<void>;
  /** The user's pause / resume / seek. */
  controls: PartitionControls;
}

/** How often a paused partition looks whether it was resumed. */
const PAUSED_POLL_MS = 100;

/** Rounds until the consumer stops: join if needed, read the positions, run the partition loops. */
export async function runGenerations(ctx: RunnerContext, run: RunConfig): Promise<void> {
  const { membership, events } = ctx;
  while (ctx.isRunning()) {
    if (!membership.member) {
      try {
        await ctx.rejoin();
      } catch (e) {
        if (!ctx.isRunning()) return;
        events.emit('crash', e);
        await sleep(1_000, ctx.stop);
        continue;
      }
    }
    const member = membership.member!;
    const signal = membership.startGeneration();
    let positions: Map<string, bigint | undefined>;
    try {
      positions = await ctx.offsets.committedPositions(member.assignments);
    } catch (e) {
      if (!ctx.isRunning()) return;
      events.emit('crash', e);
      await sleep(500, ctx.stop);
      continue;
    }
    if (membership.member !== member) continue; // a heartbeat moved on meanwhile
    events.emit('group.join', {
      groupId: ctx.groupId,
      memberId: member.memberId,
      generation: member.generation,
      assignments: member.assignments,
    });
    const rounds = new FetchRounds(
      { groupId: ctx.groupId, cfg: ctx.cfg, transport: ctx.transport, membership, emitCrash: (e) => events.emit('crash', e) },
      member,
      signal,
    );
    const loops = member.assignments.flatMap((a) =>
      a.partitions.map((p) => partitionLoop(ctx, run, member, rounds, a.topic, p, positions.get(positionKey(a.topic, p)), signal)),
    );
    if (!loops.length) loops.push(new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true })));
    await Promise.all(loops);
    if (ctx.isRunning()) events.emit('rebalance', { previousGeneration: member.generation });
  }
}

/** One partition, until its generation ends or the consumer stops. */
async function partitionLoop(
  ctx: RunnerContext,
  run: RunConfig,
  member: Membership,
  rounds: FetchRounds,
  topic: string,
  partition: number,
  start: bigint | undefined,
  signal: AbortSignal,
): Promise<void> {
  let offset = start;
  let backoff = ctx.cfg.retryBackoffMs;
  const { controls } = ctx;
  while (!signal.aborted) {
    offset = controls.takeSeek(topic, partition) ?? offset;
    if (controls.isPaused(topic, partition)) {
      await sleep(PAUSED_POLL_MS, signal);
      continue;
    }
    const fetched = await rounds.fetch(topic, partition, offset);
    if (fetched === 'stop') return;
    if (fetched === 'retry') continue;
    // Paused or sought while the fetch was out: its records are not delivered (they come again, or the seek wins).
    if (controls.isPaused(topic, partition) || controls.hasSeek(topic, partition)) continue;
    if (typeof fetched === 'bigint') {
      offset = fetched;
      continue;
    }
    const res = fetched;
    if (!res.records.length) {
      offset = BigInt(res.nextOffset);
      continue;
    }
    const messages = res.records.map(decodeMessage);
    const done = await deliver(ctx, run, topic, partition, res.highWatermark, messages, signal);
    if (done === 'stale') return; // a rebalance came first: the batch will be fetched again
    const { resolved, failed } = done;
    if (resolved !== undefined) {
      offset = resolved;
      if (run.autoCommit !== false && !(await commitResolved(ctx, member, topic, partition, resolved))) return;
    }
    if (failed !== undefined) {
      ctx.events.emit('handler.error', { topic, partition, error: failed });
      if (resolved === undefined) offset = BigInt(messages[0].offset);
      await sleep(backoff, signal);
      backoff = Math.min(30_000, backoff * 2);
    } else {
      backoff = ctx.cfg.retryBackoffMs;
    }
    if (!ctx.isRunning()) return;
  }
}

/**
 * Calls the handler on one fetched batch, holding a handler slot. `resolved`: the next offset to read after
 * what was processed (undefined: nothing); `failed`: what the handler threw. 'stale': the generation ended
 * before the handler started.
 */
async function deliver(
  ctx: RunnerContext,
  run: RunConfig,
  topic: string,
  partition: number,
  highWatermark: string,
  messages: KafkaMessage[],
  signal: AbortSignal,
): Promise<{ resolved?: bigint; failed?: unknown } | 'stale'> {
  await ctx.slots.acquire();
  let resolved: bigint | undefined;
  let failed: unknown;
  try {
    if (signal.aborted) return 'stale';
    const heartbeat = () => ctx.membership.heartbeat();
    if (run.eachBatch) {
      await run.eachBatch({
        batch: batchOf(topic, partition, highWatermark, messages),
        resolveOffset: (o) => {
          const next = BigInt(o) + 1n;
          if (resolved === undefined || next > resolved) resolved = next;
        },
        heartbeat,
        isRunning: ctx.isRunning,
        isStale: () => signal.aborted,
      });
      if (run.eachBatchAutoResolve !== false) resolved = BigInt(messages[messages.length - 1].offset) + 1n;
    } else {
      for (const message of messages) {
        await run.eachMessage!({ topic, partition, message, heartbeat });
        resolved = BigInt(message.offset) + 1n;
        if (!ctx.isRunning()) break; // stopping: commit what is done
      }
    }
  } catch (e) {
    failed = e;
  } finally {
    ctx.slots.release();
  }
  return { resolved, failed };
}

/** Commits what the handler processed. False: fenced (the generation moved on), so the loop stops. */
async function commitResolved(
  ctx: RunnerContext,
  member: Membership,
  topic: string,
  partition: number,
  resolved: bigint,
): Promise<boolean> {
  try {
    await ctx.offsets.commit(member.generation, [{ topic, partition, offset: resolved.toString() }]);
  } catch (e) {
    if (e instanceof FerryError && e.kind === 'fenced') {
      ctx.membership.fenced(e.details.reason);
      return false;
    }
    ctx.events.emit('crash', e);
  }
  return true;
}
