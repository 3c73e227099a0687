/**
 * The checker: given a history and what a drain of every partition found after the faults stopped, counts
 * each anomaly RELIABILITY.md names (G1–G10). Every count must be 0. Examples name the ops involved so a
 * failing run can be read without replaying it.
 */
import type {
  CommitValue,
  History,
  InitResultValue,
  JoinResultValue,
  Op,
  PollResultValue,
  PollValue,
  ProduceResultValue,
  ProduceValue,
} from './history';
import { json } from './history';

export const ANOMALIES = [
  'lost',
  'unseen-after-drain',
  'unexpected',
  'aborted-read',
  'inconsistent-offsets',
  'gap',
  'nonmonotonic-send',
  'duplicate',
  'poll-skip',
  'offset-regression',
  'stale-commit',
  'premature-delete',
  'orphan-left',
  'early',
  'double-move',
  '5xx',
  'crash',
] as const;
export type Anomaly = (typeof ANOMALIES)[number];

export type AnomalyCounts = Record<Anomaly, number>;

export const zeroCounts = (): AnomalyCounts => Object.fromEntries(ANOMALIES.map((a) => [a, 0])) as AnomalyCounts;

export function addCounts(into: AnomalyCounts, more: Partial<AnomalyCounts>): AnomalyCounts {
  for (const a of ANOMALIES) into[a] += more[a] ?? 0;
  return into;
}

/** One partition as the final drain read it (after faults stopped and delayed records were moved). */
export interface DrainedPartition {
  topic: string;
  partition: number;
  logStartOffset: bigint;
  highWatermark: bigint;
  records: Array<{ offset: bigint; value: string }>;
  /** Time of the drain (simulated): a delayed record seen then must be due by then. */
  drainedAt: number;
}

export interface CheckInput {
  history: History;
  drained: DrainedPartition[];
  /** Committed offsets read after the faults stopped, per group / topic / partition. */
  finalCommitted?: Array<{ group: string; topic: string; partition: number; offset: bigint }>;
  /** Objects no index entry or delayed record references, after the grace period and a GC pass. */
  orphans?: number;
  /** Topics whose retention may legitimately have removed records (else any acked record below logStartOffset is premature-delete). */
  expiringTopics?: Set<string>;
  fiveXX?: number;
  crashes?: number;
}

export interface CheckResult {
  counts: AnomalyCounts;
  examples: Partial<Record<Anomaly, string[]>>;
  /** How many anomalies in total. */
  total: number;
}

const where = (topic: string, partition: number, offset: bigint) => `${topic}/${partition}/${offset}`;

export function check(input: CheckInput): CheckResult {
  const counts = zeroCounts();
  const examples: Partial<Record<Anomaly, string[]>> = {};
  const flag = (a: Anomaly, what: string) => {
    counts[a]++;
    const list = (examples[a] ??= []);
    if (list.length < 5) list.push(what);
  };
  const ops = input.history.ops;

  // ---- what was attempted ------------------------------------------------------------------------------
  const attempted = new Map<string, { op: Op; i: number }>();
  for (const op of ops) {
    if (op.type !== 'produce') continue;
    (op.value as ProduceValue).records.forEach((r, i) => attempted.set(r.value, { op, i }));
  }

  // ---- the drained log ---------------------------------------------------------------------------------
  const at = new Map<string, string>(); // topic/partition/offset → value
  const locations = new Map<string, string[]>();
  const heads = new Map<string, DrainedPartition>();
  for (const d of input.drained) {
    heads.set(`${d.topic}/${d.partition}`, d);
    // G3: offsets dense from logStartOffset to the high watermark, increasing.
    let expected = d.logStartOffset;
    for (const r of d.records) {
      if (r.offset !== expected) flag('gap', `${d.topic}/${d.partition}: expected offset ${expected}, found ${r.offset}`);
      expected = r.offset + 1n;
      const k = where(d.topic, d.partition, r.offset);
      if (at.has(k)) flag('inconsistent-offsets', `${k} read twice in one drain`);
      at.set(k, r.value);
      const locs = locations.get(r.value) ?? [];
      locs.push(k);
      locations.set(r.value, locs);
    }
    if (expected !== d.highWatermark)
      flag('gap', `${d.topic}/${d.partition}: drain ended at ${expected}, high watermark ${d.highWatermark}`);
  }

  // ---- G2, G5, G9: every stored value was attempted, once, not refused, not early ----------------------
  for (const [value, locs] of locations) {
    const src = attempted.get(value);
    if (!src) {
      flag('unexpected', `${value} at ${locs.join(', ')} was never sent`);
      continue;
    }
    const sent = (src.op.value as ProduceValue).records[src.i];
    if (src.op.outcome === 'fail')
      flag('aborted-read', `${value} at ${locs[0]}: its produce (op ${src.op.index}) failed definitely: ${src.op.error}`);
    if (locs.length > 1)
      flag(sent.deliverAt !== undefined ? 'double-move' : 'duplicate', `${value} stored ${locs.length} times: ${locs.join(', ')}`);
    if (sent.deliverAt !== undefined) {
      const [topic, partition] = locs[0].split('/');
      const d = heads.get(`${topic}/${partition}`);
      if (d && d.drainedAt < sent.deliverAt) flag('early', `${value} visible at drain time ${d.drainedAt} < deliverAt ${sent.deliverAt}`);
    }
    if (src.op.fencedBeforeCommit)
      flag('stale-commit', `${value} of op ${src.op.index} is stored although its writer was fenced before its commit`);
  }

  // ---- G1: every acknowledged record is where its ack said, with its value -----------------------------
  const claimed = new Map<string, string>();
  for (const op of ops) {
    if (op.type !== 'produce' || op.outcome !== 'ok') continue;
    const v = op.value as ProduceValue;
    const res = op.result as ProduceResultValue;
    v.records.forEach((r, i) => {
      const a = res.records[i];
      if (!a) return flag('lost', `op ${op.index} got no answer for record ${i}`);
      if (a.offset === undefined) {
        // Delayed: acknowledged with a scheduled id; after the drain (everything due was moved) it must be there.
        if (!locations.has(r.value))
          flag('lost', `${r.value} (delayed, op ${op.index}) is not in the log after every due record was moved`);
        return;
      }
      const k = where(v.topic, a.partition, a.offset);
      const other = claimed.get(k);
      if (other !== undefined && other !== r.value) flag('inconsistent-offsets', `${k} acknowledged to both ${other} and ${r.value}`);
      claimed.set(k, r.value);
      const head = heads.get(`${v.topic}/${a.partition}`);
      if (head && a.offset < head.logStartOffset) {
        if (!input.expiringTopics?.has(v.topic))
          flag('premature-delete', `${r.value} at ${k} is below logStartOffset ${head.logStartOffset}`);
        return;
      }
      if (at.get(k) !== r.value) {
        flag('lost', `${r.value} acknowledged at ${k} (op ${op.index}); the drain has ${json(at.get(k) ?? null)} there`);
      }
      if (!locations.has(r.value)) flag('unseen-after-drain', `${r.value} (op ${op.index}) appears nowhere in the drain`);
    });
  }

  // ---- G4: one producer's records to one partition keep their order -----------------------------------
  const lastSent = new Map<string, bigint>();
  for (const op of ops) {
    if (op.type !== 'produce' || op.outcome !== 'ok') continue;
    const v = op.value as ProduceValue;
    const res = op.result as ProduceResultValue;
    res.records.forEach((a, i) => {
      if (a.offset === undefined || v.records[i].deliverAt !== undefined) return;
      const k = `${op.process}/${v.topic}/${a.partition}`;
      const prev = lastSent.get(k);
      if (prev !== undefined && a.offset <= prev) {
        flag(
          'nonmonotonic-send',
          `${op.process} sent ${v.records[i].value} after an earlier record, yet it got offset ${a.offset} ≤ ${prev} on ${v.topic}/${a.partition}`,
        );
      }
      lastSent.set(k, a.offset);
    });
  }

  // ---- polls: what a reader saw is what the log holds, dense from where it asked --------------------
  for (const op of ops) {
    if (op.type !== 'poll' || op.outcome !== 'ok') continue;
    const v = op.value as PollValue;
    const res = op.result as PollResultValue;
    let expected = v.from < res.logStartOffset ? res.logStartOffset : v.from;
    if (res.records.length === 0 && expected < res.highWatermark) {
      flag(
        'poll-skip',
        `op ${op.index} polled ${v.topic}/${v.partition} from ${v.from} below high watermark ${res.highWatermark} and got nothing`,
      );
    }
    for (const r of res.records) {
      if (r.offset !== expected)
        flag('poll-skip', `op ${op.index} polled ${v.topic}/${v.partition} from ${v.from}: expected ${expected}, got ${r.offset}`);
      expected = r.offset + 1n;
      const k = where(v.topic, v.partition, r.offset);
      const head = heads.get(`${v.topic}/${v.partition}`);
      if (head && r.offset >= head.logStartOffset && at.get(k) !== r.value) {
        flag('inconsistent-offsets', `op ${op.index} read ${r.value} at ${k}; the drain has ${json(at.get(k) ?? null)}`);
      }
      const src = attempted.get(r.value);
      if (!src) flag('unexpected', `op ${op.index} read ${r.value} at ${k}, never sent`);
      else {
        if (src.op.outcome === 'fail') flag('aborted-read', `op ${op.index} read ${r.value}, whose produce failed definitely`);
        const deliverAt = (src.op.value as ProduceValue).records[src.i].deliverAt;
        if (deliverAt !== undefined && (op.completedAt ?? Infinity) < deliverAt) {
          flag('early', `op ${op.index} read ${r.value} by ${op.completedAt}, before its deliverAt ${deliverAt}`);
        }
      }
    }
  }

  // ---- G6: committed offsets never regress; nothing below them went unread --------------------------
  const commits = ops.filter((o) => o.type === 'commit' && o.outcome === 'ok');
  for (const b of commits) {
    const bv = b.value as CommitValue;
    for (const a of commits) {
      const av = a.value as CommitValue;
      if (a === b || av.group !== bv.group || av.topic !== bv.topic || av.partition !== bv.partition) continue;
      if ((a.completedAt ?? Infinity) < b.invokedAt && a.index < b.index && bv.offset < av.offset) {
        flag(
          'offset-regression',
          `${bv.group} ${bv.topic}/${bv.partition}: op ${b.index} committed ${bv.offset} after op ${a.index} committed ${av.offset}`,
        );
      }
    }
  }
  const seen = new Map<string, Set<bigint>>();
  for (const op of ops) {
    if (op.type !== 'poll' || op.outcome !== 'ok') continue;
    const v = op.value as PollValue;
    if (!v.group) continue;
    const k = `${v.group}/${v.topic}/${v.partition}`;
    const s = seen.get(k) ?? new Set<bigint>();
    for (const r of (op.result as PollResultValue).records) s.add(r.offset);
    seen.set(k, s);
  }
  for (const f of input.finalCommitted ?? []) {
    const best = commits
      .map((c) => c.value as CommitValue)
      .filter((c) => c.group === f.group && c.topic === f.topic && c.partition === f.partition)
      .reduce((m, c) => (c.offset > m ? c.offset : m), -1n);
    if (f.offset < best)
      flag(
        'offset-regression',
        `${f.group} ${f.topic}/${f.partition}: committed ${f.offset} after the drain, but ${best} was acknowledged`,
      );
    const head = heads.get(`${f.topic}/${f.partition}`);
    const s = seen.get(`${f.group}/${f.topic}/${f.partition}`) ?? new Set<bigint>();
    for (let o = head?.logStartOffset ?? 0n; o < f.offset; o++) {
      if (!s.has(o)) {
        flag('poll-skip', `${f.group} committed ${f.topic}/${f.partition} past ${o}, which no member of the group read`);
        break;
      }
    }
  }

  // ---- G7: a stale generation or producer epoch never commits ------------------------------------------
  const joins = ops.filter((o) => o.type === 'join' && o.outcome === 'ok');
  for (const c of commits) {
    const cv = c.value as CommitValue;
    if (c.fencedBeforeCommit) flag('stale-commit', `op ${c.index}: ${cv.member} committed although fenced before its write`);
    for (const j of joins) {
      const jr = j.result as JoinResultValue;
      if (jr.group === cv.group && (j.completedAt ?? Infinity) < c.invokedAt && j.index < c.index && jr.generation > cv.generation) {
        flag(
          'stale-commit',
          `op ${c.index}: ${cv.member} committed with generation ${cv.generation} after generation ${jr.generation} began (op ${j.index})`,
        );
        break;
      }
    }
  }
  const inits = ops.filter((o) => o.type === 'init' && o.outcome === 'ok');
  for (const p of ops) {
    if (p.type !== 'produce' || p.outcome !== 'ok') continue;
    const pv = (p.value as ProduceValue).producer;
    if (!pv) continue;
    if (p.fencedBeforeCommit)
      flag('stale-commit', `op ${p.index}: producer ${pv.id} epoch ${pv.epoch} acknowledged although fenced before its commit`);
    for (const i of inits) {
      const ir = i.result as InitResultValue;
      if (ir.id === pv.id && ir.epoch > pv.epoch && (i.completedAt ?? Infinity) < p.invokedAt && i.index < p.index) {
        flag(
          'stale-commit',
          `op ${p.index}: producer ${pv.id} epoch ${pv.epoch} acknowledged after epoch ${ir.epoch} began (op ${i.index})`,
        );
        break;
      }
    }
  }

  // ---- G8, G10 --------------------------------------------------------------------------------------
  for (let i = 0; i < (input.orphans ?? 0); i++) flag('orphan-left', 'an unreferenced object outlived the grace period and a GC pass');
  counts['5xx'] += input.fiveXX ?? 0;
  counts.crash += input.crashes ?? 0;

  return { counts, examples, total: Object.values(counts).reduce((a, b) => a + b, 0) };
}

/** A failure message: the counts that are not 0, examples, and the history. */
export function describeFailure(result: CheckResult, history: History | undefined, replay: string): string {
  const bad = Object.entries(result.counts).filter(([, n]) => n > 0);
  return [
    `anomalies: ${bad.map(([a, n]) => `${a}=${n}`).join(', ')}`,
    ...Object.entries(result.examples).flatMap(([a, list]) => (list ?? []).map((x) => `  ${a}: ${x}`)),
    `replay: ${replay}`,
    ...(history ? ['history:', history.format()] : []),
  ].join('\n');
}
