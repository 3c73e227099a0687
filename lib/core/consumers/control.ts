/**
 * A push consumer's control item (`c#{topicId}#{consumer}` / `control`): whether it is paused, and since when.
 * Dispatchers read it at most once a second per consumer (`ConsumerControl.paused`).
 */
import type { CoreContext } from '../context';
import { metaKeys } from '../storage/keys';
import type { TopicConfig } from '../model';

export const CONTROL_SK = 'control';
const CACHE_MS = 1_000;

export interface ControlState {
  paused: boolean;
  /** When it was last paused or resumed (ms), null if never. */
  since: number | null;
}

export async function readControl(ctx: CoreContext, topic: TopicConfig, consumer: string): Promise<ControlState> {
  const item = await ctx.meta.get(metaKeys.dispatchPk(topic.topicId, consumer), CONTROL_SK);
  return { paused: item?.data.paused === true, since: typeof item?.data.since === 'number' ? item.data.since : null };
}

/** Sets the consumer paused or running (a plain put: the last operator's word wins). */
export async function writeControl(ctx: CoreContext, topic: TopicConfig, consumer: string, paused: boolean): Promise<void> {
  const data = { paused, since: ctx.clock.now() };
  await ctx.meta.write([{ op: 'put', pk: metaKeys.dispatchPk(topic.topicId, consumer), sk: CONTROL_SK, data }]);
}

/** A dispatcher's cached view of its consumer's control item. */
export class ConsumerControl {
  private cached?: { at: number; paused: boolean; topicId: string };
  constructor(
    private readonly ctx: CoreContext,
    private readonly consumer: string,
  ) {}

  async paused(topic: TopicConfig): Promise<boolean> {
    const now = this.ctx.clock.now();
    if (this.cached && this.cached.topicId === topic.topicId && now - this.cached.at < CACHE_MS) return this.cached.paused;
    const { paused } = await readControl(this.ctx, topic, this.consumer);
    this.cached = { at: now, paused, topicId: topic.topicId };
    return paused;
  }
}
