/** The next generation of a group: a sticky, even assignment over the members' topics' partitions. */
import { assign, type Assignment } from './assignor';
import { FerryError } from '../../protocol/errors';
import type { GroupMember, GroupState, MemberTopicAssignment } from '../storage/group-items';
import type { Topics } from '../log/topics';

export class Rebalancer {
  constructor(private readonly topics: Topics) {}

  async partitionCounts(members: GroupMember[]): Promise<Map<string, number>> {
    const names = [...new Set(members.flatMap((m) => m.topics))].sort();
    const counts = new Map<string, number>();
    for (const name of names) {
      try {
        counts.set(name, (await this.topics.get(name)).partitionCount);
      } catch (e) {
        if (!(e instanceof FerryError && e.kind === 'not_found')) throw e;
        counts.set(name, 0); // deleted: nothing to assign
      }
    }
    return counts;
  }

  async countsChanged(state: GroupState, members: GroupMember[]): Promise<boolean> {
    const now = await this.partitionCounts(members);
    const before = new Map(state.partitionCounts.map((c) => [c.topic, c.count]));
    return [...now].some(([t, c]) => before.get(t) !== c);
  }

  /** The next generation for `members`: a sticky, even assignment computed from the current one. */
  async rebalance(state: GroupState, members: GroupMember[], now: number): Promise<GroupState> {
    const counts = await this.partitionCounts(members);
    const previous: Assignment = new Map();
    for (const a of state.assignments) {
      if (!previous.has(a.memberId)) previous.set(a.memberId, new Map());
      previous.get(a.memberId)!.set(a.topic, a.partitions);
    }
    const next = assign(members, counts, previous);
    const assignments: MemberTopicAssignment[] = [];
    for (const [memberId, topics] of next) {
      for (const [topic, partitions] of topics) assignments.push({ memberId, topic, partitions });
    }
    return {
      generation: state.generation + 1,
      members,
      assignments,
      partitionCounts: [...counts].map(([topic, count]) => ({ topic, count })),
      createdAt: state.createdAt,
      updatedAt: now,
    };
  }
}
