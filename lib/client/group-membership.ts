/**
 * A consumer's place in its group (kafkajs' consumerGroup): join, heartbeat, leave, and the abort signal of
 * the current generation, which stops the partition loops when the generation moves on.
 *
 * Heartbeats run on their own timer, so a handler may take longer than the session timeout without the
 * member being thrown out (only a blocked event loop stops them).
 */
import { FerryError } from '../protocol/errors';
import { sleep, type Transport } from './http';
import type { TopicPartitions } from './types';

export interface Membership {
  memberId: string;
  generation: number;
  assignments: TopicPartitions[];
}

/** What a join asks for (`POST /v1/groups/{g}/members`). */
export interface JoinRequest {
  topics: string[];
  sessionTimeoutMs: number;
  from: 'earliest' | 'latest';
}

export const groupPath = (groupId: string) => `/v1/groups/${encodeURIComponent(groupId)}`;

/** A refusal (unknown topic, no right): retrying cannot help. */
export const isRefusal = (e: unknown) => e instanceof FerryError && e.status < 500 && e.status !== 429;

export class GroupMembership {
  /** The current membership; undefined before the first join and after the server forgot the member. */
  member?: Membership;
  private genAbort = new AbortController();
  private heartbeatTimer?: NodeJS.Timeout;
  private heartbeating?: Promise<void>;

  constructor(
    private readonly transport: Transport,
    private readonly groupId: string,
    private readonly isRunning: () => boolean,
  ) {}

  get path(): string {
    return groupPath(this.groupId);
  }

  /** Joins (a new member each time); gives up after `maxAttempts`, at once on a refusal or a stop. */
  async join(req: JoinRequest, stop: AbortSignal, maxAttempts = Infinity): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const m = await this.transport.request<Membership>({
          method: 'POST',
          path: `${this.path}/members`,
          body: { topics: req.topics, sessionTimeoutMs: req.sessionTimeoutMs, ...(req.from === 'latest' && { from: 'latest' }) },
          // A repeated join adds a second member, which the session timeout removes: safe enough to retry.
          idempotent: true,
          signal: stop,
        });
        this.member = m;
        return;
      } catch (e) {
        if (stop.aborted || isRefusal(e)) throw e;
        if (attempt + 1 >= maxAttempts) throw e;
        await sleep(Math.min(5_000, 200 * 2 ** attempt), stop);
      }
    }
  }

  /** A fresh signal for the generation about to be consumed. */
  startGeneration(): AbortSignal {
    this.genAbort = new AbortController();
    return this.genAbort.signal;
  }

  /** Stops the current generation's partition loops after their batch in hand. */
  abortGeneration(): void {
    this.genAbort.abort();
  }

  /** A commit was fenced: forget an unknown member (the next round joins again), learn the new generation. */
  fenced(reason: unknown): void {
    if (reason === 'unknown_member') this.member = undefined;
    void this.heartbeat();
    this.genAbort.abort();
  }

  /** One heartbeat at a time; a new generation aborts the partition loops, an unknown member rejoins. */
  heartbeat(): Promise<void> {
    if (this.heartbeating || !this.isRunning()) return this.heartbeating ?? Promise.resolve();
    const member = this.member;
    if (!member) return Promise.resolve();
    this.heartbeating = (async () => {
      try {
        const m = await this.transport.request<Membership>({
          method: 'POST',
          path: `${this.path}/members/${member.memberId}/heartbeat`,
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

  startHeartbeats(intervalMs: number): void {
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), intervalMs);
    this.heartbeatTimer.unref?.();
  }

  stopHeartbeats(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
  }

  /** Resolves when the heartbeat in flight, if any, has finished. */
  async settled(): Promise<void> {
    await this.heartbeating;
  }

  /** Leaves the group, so the others take over at once instead of after the session timeout. */
  async leave(): Promise<void> {
    const member = this.member;
    this.member = undefined;
    if (!member) return;
    try {
      await this.transport.request({ method: 'DELETE', path: `${this.path}/members/${member.memberId}`, idempotent: true, retries: 2 });
    } catch {
      // the session timeout removes it anyway
    }
  }
}
