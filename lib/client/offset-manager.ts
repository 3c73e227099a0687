/**
 * A consumer's offsets (kafkajs' offsetManager): the starting positions from the committed offsets, and the
 * commits, each carrying the member and generation so a stale member cannot commit.
 */
import { FerryError } from '../protocol/errors';
import type { GroupMembership } from './group-membership';
import type { Transport } from './http';
import type { CommittedOffsets, TopicPartitions } from './types';

export type OffsetCommit = Array<{ topic: string; partition: number; offset: string }>;

/** `topic#partition`, the key of a position. */
export const positionKey = (topic: string, partition: number) => `${topic}#${partition}`;

export class OffsetManager {
  constructor(
    private readonly transport: Transport,
    private readonly membership: GroupMembership,
    private readonly onCommit: (commit: { generation: number; offsets: OffsetCommit }) => void,
  ) {}

  /**
   * Committed offsets for the assignment, from OffsetFetch (`GET /v1/groups/{g}/offsets`: metadata only, no
   * lag, no object read — as kafkajs' offset manager, not an admin view); `undefined`: nothing committed (the
   * fetch starts at logStartOffset).
   */
  async committedPositions(assignments: TopicPartitions[]): Promise<Map<string, bigint | undefined>> {
    const out = new Map<string, bigint | undefined>();
    const topics = assignments.filter((a) => a.partitions.length).map((a) => a.topic);
    const answers = await Promise.all(
      topics.map((topic) =>
        this.transport.request<CommittedOffsets>({
          method: 'GET',
          path: `${this.membership.path}/offsets?topic=${encodeURIComponent(topic)}`,
          idempotent: true,
        }),
      ),
    );
    for (const { offsets } of answers) for (const o of offsets) out.set(positionKey(o.topic, o.partition), BigInt(o.offset));
    return out;
  }

  /** Commits for `generation`; refused (`fenced`) when the member is gone or the generation moved on. */
  async commit(generation: number, offsets: OffsetCommit): Promise<void> {
    const member = this.membership.member;
    if (!member) throw new FerryError('fenced', 'the consumer is not a member of its group', { reason: 'unknown_member' });
    await this.transport.request({
      method: 'POST',
      path: `${this.membership.path}/offsets`,
      body: { memberId: member.memberId, generation, offsets },
      idempotent: true,
    });
    this.onCommit({ generation, offsets });
  }
}
