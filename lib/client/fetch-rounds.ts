/**
 * One long poll for all of a member's partitions (`POST /v1/groups/{g}/members/{m}/fetch`): the partition loops
 * of a generation ask here instead of each keeping its own request open, and every loop waiting at the same
 * time shares one request. A loop that asks while a request without its partition is out (it was busy
 * delivering) cancels that request and a new one carries everyone, so no partition waits behind another's
 * long poll.
 */
import { FerryError } from '../protocol/errors';
import type { WireFetched } from './codec';
import type { ResolvedConsumerConfig } from './consumer-config';
import type { GroupMembership, Membership } from './group-membership';
import { sleep, type Transport } from './http';

/** The API's largest `maxBytes` (DESIGN.md §4: larger is 400). */
const MAX_FETCH_BYTES = 16 * 1024 * 1024;

export interface FetchAnswer {
  records: WireFetched[];
  nextOffset: string;
  highWatermark: string;
  logStartOffset: string;
}

/** The answer, the offset to read from instead (retention passed the position), 'retry' or 'stop'. */
export type FetchOutcome = FetchAnswer | bigint | 'retry' | 'stop';

interface Waiter {
  topic: string;
  partition: number;
  offset: bigint | undefined;
  resolve(outcome: FetchOutcome): void;
}

interface MemberFetchAnswer {
  generation: number;
  partitions: Array<FetchAnswer & { topic: string; partition: number }>;
}

export class FetchRounds {
  private readonly waiting = new Map<string, Waiter>();
  private inFlight?: { controller: AbortController; keys: Set<string> };
  private scheduled = false;

  constructor(
    private readonly deps: {
      groupId: string;
      cfg: ResolvedConsumerConfig;
      transport: Transport;
      membership: GroupMembership;
      emitCrash: (e: unknown) => void;
    },
    private readonly member: Membership,
    /** Aborted when the generation ends. */
    private readonly signal: AbortSignal,
  ) {
    signal.addEventListener('abort', () => this.inFlight?.controller.abort(), { once: true });
  }

  fetch(topic: string, partition: number, offset: bigint | undefined): Promise<FetchOutcome> {
    if (this.signal.aborted) return Promise.resolve('stop');
    return new Promise((resolve) => {
      const key = `${topic}#${partition}`;
      this.waiting.get(key)?.resolve('retry');
      this.waiting.set(key, { topic, partition, offset, resolve });
      if (this.inFlight && !this.inFlight.keys.has(key)) this.inFlight.controller.abort();
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    // One turn of the event loop lets the other loops that are ready ask too.
    setTimeout(() => {
      this.scheduled = false;
      void this.round();
    }, 0);
  }

  private async round(): Promise<void> {
    if (this.inFlight || this.waiting.size === 0) return;
    const batch = [...this.waiting.values()];
    if (this.signal.aborted) return this.settleAll(batch, 'stop');
    const controller = new AbortController();
    this.inFlight = { controller, keys: new Set(batch.map((w) => `${w.topic}#${w.partition}`)) };
    const { cfg, transport, groupId } = this.deps;
    try {
      const res = await transport.request<MemberFetchAnswer>({
        method: 'POST',
        path: `/v1/groups/${encodeURIComponent(groupId)}/members/${encodeURIComponent(this.member.memberId)}/fetch`,
        body: {
          positions: batch.map((w) => ({
            topic: w.topic,
            partition: w.partition,
            ...(w.offset !== undefined && { offset: w.offset.toString() }),
          })),
          maxRecords: cfg.maxRecords,
          // maxBytesPerPartition for each partition asked, within the API's cap on one answer (16 MiB).
          maxBytes: Math.min(MAX_FETCH_BYTES, cfg.maxBytesPerPartition * batch.length),
          waitMs: cfg.maxWaitTimeInMs,
        },
        idempotent: true,
        waitMs: cfg.maxWaitTimeInMs,
        signal: controller.signal,
      });
      for (const p of res.partitions) this.take(`${p.topic}#${p.partition}`, batch)?.resolve(p);
    } catch (e) {
      if (this.signal.aborted) {
        this.settleAll(batch, 'stop');
      } else if (controller.signal.aborted) {
        // Cancelled for a loop that asked meanwhile: the next round carries everyone.
      } else if (e instanceof FerryError && e.kind === 'offset_out_of_range' && typeof e.details.topic === 'string') {
        // Retention passed that partition's position (or the topic was recreated): it starts again at the earliest record.
        this.take(`${e.details.topic}#${String(e.details.partition)}`, batch)?.resolve(BigInt(String(e.details.logStartOffset ?? '0')));
      } else if (e instanceof FerryError && e.kind === 'fenced') {
        // Unknown member or a partition no longer ours: the membership learns the new generation.
        this.deps.membership.fenced(e.details.reason);
        this.settleAll(batch, 'stop');
      } else {
        this.deps.emitCrash(e);
        await sleep(1_000, this.signal);
        this.settleAll(batch, 'retry');
      }
    } finally {
      this.inFlight = undefined;
      if (this.waiting.size) this.schedule();
    }
  }

  /** The waiter of `key` if it is still the one this round carried. */
  private take(key: string, batch: Waiter[]): Waiter | undefined {
    const w = this.waiting.get(key);
    if (!w || !batch.includes(w)) return undefined;
    this.waiting.delete(key);
    return w;
  }

  private settleAll(batch: Waiter[], outcome: 'stop' | 'retry'): void {
    for (const w of batch) this.take(`${w.topic}#${w.partition}`, batch)?.resolve(outcome);
  }
}
