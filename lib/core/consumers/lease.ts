/**
 * A push consumer's partition leases. The state item of (consumer, partition) holds the committed offset and
 * the lease (owner, epoch, expiry); every write is a compare-and-set on the version this dispatcher last
 * wrote, so one whose lease was taken over can never commit (G7).
 */
import type { CoreContext } from '../context';
import { dispatchStateItem, type DispatchState } from '../storage/dispatch-items';
import { metaKeys } from '../storage/keys';
import type { TopicConfig } from '../model';
import type { Item } from '../../ports/metadata-store';

export type { DispatchState };

export class PartitionLeases {
  constructor(
    private readonly ctx: CoreContext,
    private readonly consumer: string,
    /** This dispatcher's identity in leases. */
    private readonly owner: string,
    private readonly leaseMs: number,
  ) {}

  /**
   * Takes or renews the lease of a partition; undefined if another live dispatcher holds it. A lease this
   * dispatcher holds with more than half its time left is returned as read, without a write: an idle partition
   * costs a read per poll, and a write only every `leaseMs / 2`.
   */
  async take(
    topic: TopicConfig,
    partition: number,
    startOffset: () => Promise<bigint>,
    /** The state item as just read (`read`), to spare a second read; omitted: read now. */
    known?: { item: Item | undefined },
    lane = 0,
  ): Promise<DispatchState | undefined> {
    const pk = metaKeys.dispatchPk(topic.topicId, this.consumer);
    const now = this.ctx.clock.now();
    const item = known ? known.item : await this.ctx.meta.get(pk, metaKeys.dispatchSk(partition, lane));
    if (item) {
      const held = dispatchStateItem.decode(item);
      if (held.owner === this.owner && held.leaseUntil - now > this.leaseMs / 2) return held;
    }
    let state: Omit<DispatchState, 'version'>;
    if (!item) {
      state = {
        offset: await startOffset(),
        epoch: 1,
        owner: this.owner,
        leaseUntil: now + this.leaseMs,
        attempts: 0,
        misses: 0,
        retryAt: 0,
        limit: 0,
        lane,
      };
    } else {
      const s = dispatchStateItem.decode(item);
      if (s.owner !== this.owner && s.leaseUntil > now) return undefined;
      state = { ...s, epoch: s.owner === this.owner ? s.epoch : s.epoch + 1, owner: this.owner, leaseUntil: now + this.leaseMs };
    }
    const res = await this.ctx.meta.write([
      {
        op: 'put',
        pk,
        sk: metaKeys.dispatchSk(partition, lane),
        data: dispatchStateItem.encode(state),
        expect: item ? item.version : 'absent',
      },
    ]);
    if (!res.ok) return undefined; // another dispatcher moved first
    return { ...state, version: item ? item.version + 1 : 1 };
  }

  /** The partition's state item as stored (undefined: the consumer never dispatched it). */
  read(topic: TopicConfig, partition: number, lane = 0): Promise<Item | undefined> {
    return this.ctx.meta.get(metaKeys.dispatchPk(topic.topicId, this.consumer), metaKeys.dispatchSk(partition, lane));
  }

  /** Writes the state if this dispatcher still holds the lease at the version it last wrote. */
  async commit(
    topic: TopicConfig,
    partition: number,
    state: DispatchState,
    next: Partial<DispatchState>,
  ): Promise<DispatchState | undefined> {
    const updated = { ...state, ...next };
    const res = await this.ctx.meta.write([
      {
        op: 'put',
        pk: metaKeys.dispatchPk(topic.topicId, this.consumer),
        sk: metaKeys.dispatchSk(partition, state.lane),
        data: dispatchStateItem.encode(updated),
        expect: state.version,
      },
    ]);
    return res.ok ? { ...updated, version: state.version + 1 } : undefined;
  }

  /**
   * Extends a held lease to `until` (during an invocation: past the handler's timeout, so a dispatcher that
   * dies mid-invoke keeps its partition until that invocation must have ended). Undefined when fenced.
   */
  extend(topic: TopicConfig, partition: number, state: DispatchState, until: number): Promise<DispatchState | undefined> {
    return this.commit(topic, partition, state, { leaseUntil: Math.max(until, state.leaseUntil) });
  }

  /**
   * Renews `held` every `every` ms (to `until` ms from each renewal) until `signal` aborts; `held.state` follows
   * each renewal. Stops at a refused compare-and-set (taken over: the holder's next commit will be refused
   * too); a store that does not answer is tried again at the next renewal. `every` 0: never renews.
   */
  async renewWhile(
    topic: TopicConfig,
    partition: number,
    held: { state: DispatchState },
    timing: { until: number; every: number },
    signal: AbortSignal,
  ): Promise<void> {
    if (!timing.every) return;
    // Yield once first: an invocation that answers at once ends before any renewal timer starts.
    await this.ctx.clock.sleep(0, signal);
    while (!signal.aborted) {
      await this.ctx.clock.sleep(timing.every, signal);
      if (signal.aborted) return;
      try {
        const next = await this.extend(topic, partition, held.state, this.ctx.clock.now() + timing.until);
        if (!next) return;
        held.state = next;
      } catch {
        // The store did not answer: the lease still runs; try at the next renewal.
      }
    }
  }

  /** True while nobody else has written the state since `state` (this dispatcher still holds the lease). */
  async isCurrent(topic: TopicConfig, partition: number, state: DispatchState): Promise<boolean> {
    const item = await this.ctx.meta.get(metaKeys.dispatchPk(topic.topicId, this.consumer), metaKeys.dispatchSk(partition, state.lane));
    return item?.version === state.version;
  }

  /** Gives up the lease of a partition (when stopping), so the next dispatcher need not wait for it to expire. */
  async release(topic: TopicConfig, partition: number, lane = 0): Promise<void> {
    const pk = metaKeys.dispatchPk(topic.topicId, this.consumer);
    const item = await this.ctx.meta.get(pk, metaKeys.dispatchSk(partition, lane));
    if (!item) return;
    const s = dispatchStateItem.decode(item);
    if (s.owner !== this.owner) return;
    const data = dispatchStateItem.encode({ ...s, leaseUntil: 0 });
    await this.ctx.meta.write([{ op: 'put', pk, sk: metaKeys.dispatchSk(partition, lane), data, expect: item.version }]);
  }

  /** Every partition's state. */
  async all(topic: TopicConfig): Promise<Array<DispatchState & { partition: number }>> {
    const items = await this.ctx.meta.query(metaKeys.dispatchPk(topic.topicId, this.consumer), { prefix: metaKeys.dispatchSkPrefix });
    return items.map((i) => ({ partition: metaKeys.dispatchPartition(i.sk), ...dispatchStateItem.decode(i) }));
  }
}
