/**
 * The group assignor: every subscribed partition to exactly one member, spread evenly, moving as few
 * partitions as possible from the previous assignment (sticky, in the spirit of Kafka's StickyAssignor).
 *
 * With identical subscriptions the result is balanced (member sizes differ by at most one) and only the
 * partitions that must move do: a joiner receives exactly its share, a leaver's partitions are all that move.
 * With different subscriptions the spread is best-effort: a partition only goes to members subscribed to it.
 * Deterministic: the same input always gives the same output (members and partitions are sorted first).
 */

export interface AssignorMember {
  memberId: string;
  topics: readonly string[];
}

/** member → topic → partitions (ascending). */
export type Assignment = Map<string, Map<string, number[]>>;

const SEP = '#'; // outside the topic name character set

/**
 * @example
 *   assign([{ memberId: 'a', topics: ['t'] }, { memberId: 'b', topics: ['t'] }], new Map([['t', 6]]), new Map())
 *   // a → t: [0, 2, 4], b → t: [1, 3, 5]
 */
export function assign(members: readonly AssignorMember[], partitionCounts: ReadonlyMap<string, number>, previous: Assignment): Assignment {
  const ids = members.map((m) => m.memberId).sort();
  const subs = new Map(members.map((m) => [m.memberId, new Set(m.topics)]));
  const owned = new Map<string, string[]>(ids.map((id) => [id, []]));
  const owner = new Map<string, string>();
  const subscribers = new Map<string, string[]>();
  for (const id of ids) {
    for (const t of subs.get(id)!) {
      if (!subscribers.has(t)) subscribers.set(t, []);
      subscribers.get(t)!.push(id);
    }
  }

  const all: string[] = [];
  for (const topic of [...subscribers.keys()].sort()) {
    const count = partitionCounts.get(topic) ?? 0;
    for (let p = 0; p < count; p++) all.push(`${topic}${SEP}${p}`);
  }
  const topicOf = (key: string) => key.slice(0, key.lastIndexOf(SEP));
  const valid = new Set(all);

  // 1. Keep what each remaining member still may own.
  for (const id of ids) {
    const topics = previous.get(id);
    if (!topics) continue;
    for (const [topic, partitions] of [...topics].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (!subs.get(id)!.has(topic)) continue;
      for (const p of [...partitions].sort((a, b) => a - b)) {
        const key = `${topic}${SEP}${p}`;
        if (!valid.has(key) || owner.has(key)) continue;
        owner.set(key, id);
        owned.get(id)!.push(key);
      }
    }
  }

  const fewest = (candidates: readonly string[]) => {
    let best = candidates[0];
    for (const c of candidates) if (owned.get(c)!.length < owned.get(best)!.length) best = c;
    return best;
  };

  // 2. Give each unowned partition to the eligible member holding the fewest.
  for (const key of all) {
    if (owner.has(key)) continue;
    const to = fewest(subscribers.get(topicOf(key))!);
    owner.set(key, to);
    owned.get(to)!.push(key);
  }

  // 3. One partition at a time, from the fullest member that has one some eligible member holds two or more
  //    fewer of, to that member. Always draining the fullest first keeps moves minimal; each move lowers the
  //    sum of squared sizes, so this ends.
  for (;;) {
    const order = [...ids].sort((a, b) => owned.get(b)!.length - owned.get(a)!.length || (a < b ? -1 : 1));
    let moved = false;
    for (const from of order) {
      const list = owned.get(from)!;
      for (let i = list.length - 1; i >= 0 && !moved; i--) {
        const key = list[i];
        const to = fewest(subscribers.get(topicOf(key))!);
        if (list.length - owned.get(to)!.length > 1) {
          list.splice(i, 1);
          owned.get(to)!.push(key);
          owner.set(key, to);
          moved = true;
        }
      }
      if (moved) break;
    }
    if (!moved) break;
  }

  const out: Assignment = new Map();
  for (const id of ids) {
    const byTopic = new Map<string, number[]>();
    for (const key of owned.get(id)!) {
      const topic = topicOf(key);
      if (!byTopic.has(topic)) byTopic.set(topic, []);
      byTopic.get(topic)!.push(Number(key.slice(topic.length + 1)));
    }
    for (const ps of byTopic.values()) ps.sort((a, b) => a - b);
    out.set(id, new Map([...byTopic].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  }
  return out;
}

/** How many partitions changed owner between two assignments (a partition newly created counts as moved). */
export function movedPartitions(before: Assignment, after: Assignment): number {
  const ownerBefore = new Map<string, string>();
  for (const [id, topics] of before) for (const [t, ps] of topics) for (const p of ps) ownerBefore.set(`${t}${SEP}${p}`, id);
  let moved = 0;
  for (const [id, topics] of after) for (const [t, ps] of topics) for (const p of ps) if (ownerBefore.get(`${t}${SEP}${p}`) !== id) moved++;
  return moved;
}
