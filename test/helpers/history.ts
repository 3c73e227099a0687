/**
 * A Jepsen-style history: every client operation is an `invoke` followed by exactly one completion —
 * `ok` (it happened, with its answer), `fail` (it definitely did not happen) or `info` (unknown: a timeout,
 * a 5xx, a crash). RELIABILITY.md: a timeout or a 5xx is an unknown outcome, never a failure.
 */

export type OpType = 'produce' | 'poll' | 'commit' | 'join' | 'init' | 'seek';
export type Outcome = 'ok' | 'fail' | 'info';

/** A record as a producer sent it; values are unique strings across a run so the checker can trace them. */
export interface SentRecord {
  value: string;
  partition?: number;
  key?: string;
  /** Epoch ms: a delayed record. */
  deliverAt?: number;
}

export interface ProduceValue {
  topic: string;
  records: SentRecord[];
  producer?: { id: string; epoch: number; sequence: number };
}

export interface PollValue {
  topic: string;
  partition: number;
  from: bigint;
  /** When set: the group member's committed offset that this poll started from. */
  group?: string;
}

export interface CommitValue {
  group: string;
  member: string;
  generation: number;
  topic: string;
  partition: number;
  offset: bigint;
}

export interface Op {
  index: number;
  /** The client (worker) that ran it; one client runs one operation at a time. */
  process: string;
  type: OpType;
  value: unknown;
  /** Simulated (or wall) time at invoke and at completion. */
  invokedAt: number;
  completedAt?: number;
  outcome?: Outcome;
  result?: unknown;
  error?: string;
  /** Attempts made (an idempotent produce retries unknown outcomes). */
  attempts: number;
  /** Set by a harness that knows this op's write was released only after it was fenced (gated zombies). */
  fencedBeforeCommit?: boolean;
}

export interface ProduceResultValue {
  records: Array<{ partition: number; offset?: bigint; scheduledId?: string; deliverAt?: number }>;
}

export interface PollResultValue {
  records: Array<{ offset: bigint; value: string }>;
  highWatermark: bigint;
  logStartOffset: bigint;
}

export interface JoinResultValue {
  group: string;
  member: string;
  generation: number;
  assignments: Array<{ topic: string; partitions: number[] }>;
}

export interface InitResultValue {
  id: string;
  epoch: number;
}

/** Error kinds that mean "this request can never take effect" (a definite failure). */
const DEFINITE = new Set([
  'invalid',
  'unauthorized',
  'forbidden',
  'not_found',
  'method_not_allowed',
  'conflict',
  'fenced',
  'too_large',
  'unsupported_media_type',
  'offset_out_of_range',
]);

/** `fail` for an error that is a definite refusal, `info` for anything else (unknown outcome). */
export function classify(error: unknown): Outcome {
  const kind = (error as { kind?: string } | undefined)?.kind;
  return kind && DEFINITE.has(kind) ? 'fail' : 'info';
}

export class History {
  readonly ops: Op[] = [];

  constructor(private readonly now: () => number) {}

  invoke(process: string, type: OpType, value: unknown): Op {
    const op: Op = { index: this.ops.length, process, type, value, invokedAt: this.now(), attempts: 1 };
    this.ops.push(op);
    return op;
  }

  ok(op: Op, result: unknown): void {
    this.complete(op, 'ok', result);
  }

  fail(op: Op, error: unknown): void {
    this.complete(op, 'fail', undefined, error);
  }

  info(op: Op, error: unknown): void {
    this.complete(op, 'info', undefined, error);
  }

  /** Completes with `fail` or `info` as the error's kind says. */
  error(op: Op, error: unknown): void {
    this.complete(op, classify(error), undefined, error);
  }

  private complete(op: Op, outcome: Outcome, result?: unknown, error?: unknown): void {
    if (op.outcome) throw new Error(`history: op ${op.index} completed twice`);
    op.outcome = outcome;
    op.result = result;
    op.completedAt = this.now();
    if (error !== undefined) {
      const e = error as { kind?: string; message?: string };
      op.error = `${e.kind ?? (error as Error).name ?? 'error'}: ${e.message ?? String(error)}`.slice(0, 300);
    }
  }

  /** Operations never completed (a client still waiting) count as `info`. */
  closeOpen(): void {
    for (const op of this.ops) if (!op.outcome) this.info(op, new Error('never completed'));
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const op of this.ops) {
      const k = `${op.type}:${op.outcome ?? 'open'}`;
      out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  }

  /** One line per op, for failure messages (bigints as strings). */
  format(limit = 400): string {
    const lines = this.ops.map(
      (o) =>
        `${String(o.index).padStart(4)} ${o.process.padEnd(4)} ${o.type.padEnd(7)} ${(o.outcome ?? 'open').padEnd(4)} ` +
        `${json(o.value)}${o.result !== undefined ? ` → ${json(o.result)}` : ''}${o.error ? ` ! ${o.error}` : ''}`,
    );
    return lines.length > limit
      ? [...lines.slice(0, limit / 2), `… ${lines.length - limit} more …`, ...lines.slice(-limit / 2)].join('\n')
      : lines.join('\n');
  }
}

export const json = (v: unknown) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x))?.slice(0, 400);
