/**
 * A member's fetch (DESIGN.md §4b, `POST /v1/groups/{g}/members/{m}/fetch`): the records of every partition the
 * member owns in the current generation, from the positions it sends (or the committed offsets), in one long
 * poll — one request and one waiting function instead of one per partition. A read: nothing is written, so
 * the heartbeat keeps the session and the commit moves the offsets, as before.
 */
import type { CoreContext } from '../context';
import { FerryError } from '../../protocol/errors';
import type { FetchOptions } from '../log/fetch';
import type { MultiFetcher, PartitionRead, PartitionReadResult } from '../log/multi-fetch';
import type { Topics } from '../log/topics';
import { validateGroupId } from '../storage/keys';
import { assignmentsOf, checkMemberId, liveMembers, loadGroup, unknownMember } from './group-state';
import type { GroupOffsets } from './offsets';
import type { TopicPartitions } from './types';

export interface MemberFetchInput extends FetchOptions {
  /**
   * Which partitions to read, and from where (no offset: from the committed one, else the log start). Default:
   * every owned partition from its committed offset.
   */
  positions?: Array<{ topic: string; partition: number; offset?: bigint }>;
}

export interface MemberFetchResult {
  generation: number;
  assignments: TopicPartitions[];
  partitions: PartitionReadResult[];
}

export class MemberFetch {
  constructor(
    private readonly ctx: CoreContext,
    private readonly topics: Topics,
    private readonly offsets: GroupOffsets,
    private readonly multi: MultiFetcher,
  ) {}

  async fetch(groupId: string, memberId: string, input: MemberFetchInput): Promise<MemberFetchResult> {
    validateGroupId(groupId);
    checkMemberId(memberId);
    const snap = await loadGroup(this.ctx, groupId);
    const now = this.ctx.clock.now();
    if (!snap.state || !liveMembers(snap, now).some((m) => m.memberId === memberId)) throw unknownMember(groupId, memberId);
    const { generation } = snap.state;
    const assignments = assignmentsOf(snap.state, memberId);
    const owned = new Set(assignments.flatMap((a) => a.partitions.map((p) => `${a.topic}#${p}`)));
    for (const p of input.positions ?? []) {
      if (!owned.has(`${p.topic}#${p.partition}`)) {
        throw new FerryError(
          'fenced',
          `partition ${p.partition} of "${p.topic}" is not assigned to member ${memberId} in generation ${generation}: heartbeat for the current assignment`,
          { reason: 'not_assigned', groupId, memberId, generation, topic: p.topic, partition: p.partition },
        );
      }
    }
    const wanted =
      input.positions ?? assignments.flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition, offset: undefined })));
    const committed = wanted.some((w) => w.offset === undefined) ? await this.offsets.items(groupId) : undefined;
    const reads: PartitionRead[] = [];
    for (const w of wanted) {
      const topic = await this.topics.get(w.topic);
      const c = committed?.get(w.topic)?.get(w.partition);
      // An offset of a topic deleted and created again (another id) is not this topic's.
      const stored = c && c.offset !== null && c.topicId === topic.topicId ? c.offset : undefined;
      reads.push({ topic, partition: w.partition, from: w.offset ?? stored });
    }
    const partitions = await this.multi.fetch(reads, input);
    return { generation, assignments, partitions };
  }
}
