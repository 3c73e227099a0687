/**
 * Encode / decode pairs for the consumer group items (layout in DESIGN §3 "Consumer groups" and README "Consumer groups"):
 *
 *   pk `g#<group>` sk `state`          membership, generation, assignment (changes only on rebalance or seek)
 *   pk `g#<group>` sk `m#<memberId>`   a member's last heartbeat (written by each heartbeat)
 *   pk `g#<group>` sk `o#<topic>#<p>`  a committed offset (the next offset to read) and its fence: the
 *                                      generation from which commits are accepted (see group-offsets.ts)
 *   pk `groups`    sk `g#<group>`      the registry entry that lists the group
 *
 * Names are stored in arrays, never as object keys: a topic may legally be called `__proto__`.
 */
import { FerryError } from '../../protocol/errors';
import type { Item, ItemData } from '../../ports/metadata-store';

export interface GroupMember {
  memberId: string;
  topics: string[];
  sessionTimeoutMs: number;
  joinedAt: number;
}

/** One member's partitions of one topic. */
export interface MemberTopicAssignment {
  memberId: string;
  topic: string;
  partitions: number[];
}

export interface GroupState {
  generation: number;
  members: GroupMember[];
  assignments: MemberTopicAssignment[];
  /** Partition counts the assignment was computed for; a topic that grows triggers a rebalance. */
  partitionCounts: Array<{ topic: string; count: number }>;
  createdAt: number;
  updatedAt: number;
}

export interface MemberHeartbeat {
  heartbeatAt: number;
}

export interface CommittedOffset {
  /** `null`: nothing committed yet (the item only holds the fence). */
  offset: bigint | null;
  /**
   * Commits from a generation below this are refused. A rebalance or seek raises it on every partition item
   * before the new generation is written, so a commit that read the old generation fails its condition.
   */
  fence: number;
  /** The topic incarnation the offset belongs to: a topic deleted and created again starts over. */
  topicId: string;
  /** Generation and member that committed it; `null` member: a seek or a `from: "latest"` start. */
  generation: number;
  memberId: string | null;
  committedAt: number;
}

function damaged(what: string, item: { pk: string; sk: string }): FerryError {
  return new FerryError('data', `metadata item ${item.pk} / ${item.sk} is not a valid ${what}`, { pk: item.pk, sk: item.sk });
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isOffset = (v: unknown): v is string => typeof v === 'string' && /^\d{1,20}$/.test(v);
const isPartitions = (v: unknown): v is number[] => Array.isArray(v) && v.every((p) => isInt(p) && p >= 0);

export const groupStateItem = {
  encode(s: GroupState): ItemData {
    return {
      generation: s.generation,
      members: s.members.map((m) => ({ ...m, topics: [...m.topics] })),
      assignments: s.assignments.map((a) => ({ ...a, partitions: [...a.partitions] })),
      partitionCounts: s.partitionCounts.map((c) => ({ ...c })),
      createdAt: s.createdAt,
      updatedAt: s.updatedAt,
    };
  },
  decode(item: Item): GroupState {
    const d = item.data;
    const ok =
      isInt(d.generation) &&
      isInt(d.createdAt) &&
      isInt(d.updatedAt) &&
      Array.isArray(d.members) &&
      d.members.every(
        (m: Record<string, unknown>) =>
          m && isStr(m.memberId) && Array.isArray(m.topics) && m.topics.every(isStr) && isInt(m.sessionTimeoutMs) && isInt(m.joinedAt),
      ) &&
      Array.isArray(d.assignments) &&
      d.assignments.every((a: Record<string, unknown>) => a && isStr(a.memberId) && isStr(a.topic) && isPartitions(a.partitions)) &&
      Array.isArray(d.partitionCounts) &&
      d.partitionCounts.every((c: Record<string, unknown>) => c && isStr(c.topic) && isInt(c.count));
    if (!ok) throw damaged('consumer group state', item);
    return {
      generation: d.generation as number,
      members: (d.members as GroupMember[]).map((m) => ({
        memberId: m.memberId,
        topics: [...m.topics],
        sessionTimeoutMs: m.sessionTimeoutMs,
        joinedAt: m.joinedAt,
      })),
      assignments: (d.assignments as MemberTopicAssignment[]).map((a) => ({
        memberId: a.memberId,
        topic: a.topic,
        partitions: [...a.partitions],
      })),
      partitionCounts: (d.partitionCounts as Array<{ topic: string; count: number }>).map((c) => ({ topic: c.topic, count: c.count })),
      createdAt: d.createdAt as number,
      updatedAt: d.updatedAt as number,
    };
  },
};

export const memberItem = {
  encode(m: MemberHeartbeat): ItemData {
    return { heartbeatAt: m.heartbeatAt };
  },
  decode(item: Item): MemberHeartbeat {
    if (!isInt(item.data.heartbeatAt)) throw damaged('group member', item);
    return { heartbeatAt: item.data.heartbeatAt };
  },
};

export const offsetItem = {
  encode(o: CommittedOffset): ItemData {
    return {
      offset: o.offset === null ? null : o.offset.toString(),
      fence: o.fence,
      topicId: o.topicId,
      generation: o.generation,
      memberId: o.memberId,
      committedAt: o.committedAt,
    };
  },
  decode(item: Item): CommittedOffset {
    const d = item.data;
    if (
      !(d.offset === null || isOffset(d.offset)) ||
      !(d.fence === undefined || isInt(d.fence)) ||
      !isStr(d.topicId) ||
      !isInt(d.generation) ||
      !(d.memberId === null || isStr(d.memberId)) ||
      !isInt(d.committedAt)
    ) {
      throw damaged('committed offset', item);
    }
    return {
      offset: d.offset === null ? null : BigInt(d.offset as string),
      fence: (d.fence as number | undefined) ?? 0, // items written before fences existed
      topicId: d.topicId,
      generation: d.generation,
      memberId: d.memberId as string | null,
      committedAt: d.committedAt,
    };
  },
};

export const registryItem = {
  encode(r: { createdAt: number }): ItemData {
    return { createdAt: r.createdAt };
  },
  decode(item: Item): { createdAt: number } {
    if (!isInt(item.data.createdAt)) throw damaged('group registry entry', item);
    return { createdAt: item.data.createdAt };
  },
};
