/**
 * Fault-injecting wrappers around the ports (after slatedb's test_utils Flaky / Gated / Recording object
 * stores). Every call to a wrapped ObjectStore or MetadataStore passes a `FaultPlan`, which may, at that call:
 *
 * - `crash-before`: the process dies before the call: nothing happens, and every later call of this
 *   process incarnation fails too (a dead process does nothing more);
 * - `crash-after`: the call's effect is applied, then the process dies before it sees the answer;
 * - `error`: the call fails without effect (a refused request, a 5xx before anything was done);
 * - `lost-answer`: the effect is applied but the caller gets an error (a timeout); the process lives on;
 * - `delay`: the call takes a long (simulated) time — the clock moves on before it runs.
 *
 * A plan fires either at random (seeded, with a probability) or at exactly the n-th call (the step matrix),
 * and can route every call through a gate (`fc.scheduler`) so concurrent callers interleave in a seeded order.
 */
import type { Item, MetadataStore, SkRange, WriteOp, WriteResult } from '../../lib/ports/metadata-store';
import type { ByteRange, ListPage, ObjectStore } from '../../lib/ports/object-store';

export const FAULT_MODES = ['crash-before', 'crash-after', 'error', 'lost-answer', 'delay'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

/** What a call looked like, as the plan sees it: `meta.write`, `s1.putIfAbsent`, … */
export interface CallInfo {
  port: string;
  method: string;
  /** 0-based index of this call among all calls the plan has seen (all processes). */
  index: number;
  /** For metadata writes: a short description of the ops (for the step matrix's labels). */
  detail?: string;
}

/** Thrown by every call of a crashed process incarnation; the harness treats it as "the process died". */
export class ProcessCrashed extends Error {
  constructor(readonly call: string) {
    super(`process crashed (injected at ${call})`);
    this.name = 'ProcessCrashed';
  }
}

/** An injected infrastructure failure; the core reports it as an unknown outcome. */
export class InjectedFault extends Error {
  constructor(
    readonly mode: FaultMode,
    readonly call: string,
  ) {
    super(`injected ${mode} at ${call}`);
    this.name = 'InjectedFault';
  }
}

/** A small seeded PRNG (mulberry32): the same seed gives the same faults. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Gate = <T>(label: string, run: () => Promise<T>) => Promise<T>;

export interface FaultPlanOptions {
  /** Seeded randomness for random faults. */
  random?: () => number;
  /** Chance that a call gets a fault while the plan is armed. */
  probability?: number;
  modes?: readonly FaultMode[];
  /** Exactly this call index gets this mode (the step matrix). */
  at?: { index: number; mode: FaultMode };
  /** Only calls matching this get faults (e.g. `/^meta\./`). */
  only?: RegExp;
  /** Moves simulated time for `delay` faults. */
  delay?: (ms: number) => Promise<void>;
  delayMs?: number;
  /** Routes every call through this (fc.scheduler), so concurrent calls interleave in a seeded order. */
  gate?: Gate;
  /** Sees every call (e.g. to record the step list). */
  onCall?: (call: CallInfo) => void;
}

/**
 * Decides, per call, whether and how to fail. Shared by every wrapper of one simulated cluster; each process
 * incarnation holds a `ProcessFaults` handle so a crash kills only that incarnation.
 */
export class FaultPlan {
  armed = true;
  calls = 0;
  readonly injected: Record<string, number> = {};
  private readonly random: () => number;

  constructor(readonly options: FaultPlanOptions = {}) {
    this.random = options.random ?? prng(1);
  }

  get total(): number {
    return Object.values(this.injected).reduce((a, b) => a + b, 0);
  }

  /** A new process incarnation (after a crash, the harness starts another on the same stores). */
  process(): ProcessFaults {
    return new ProcessFaults(this);
  }

  decide(call: CallInfo): FaultMode | undefined {
    this.options.onCall?.(call);
    if (!this.armed) return undefined;
    const label = `${call.port}.${call.method}`;
    if (this.options.only && !this.options.only.test(label)) return undefined;
    let mode: FaultMode | undefined;
    if (this.options.at) {
      if (this.options.at.index === call.index) mode = this.options.at.mode;
    } else if (this.options.probability && this.random() < this.options.probability) {
      const modes = this.options.modes ?? FAULT_MODES;
      mode = modes[Math.floor(this.random() * modes.length)];
    }
    if (mode) this.injected[mode] = (this.injected[mode] ?? 0) + 1;
    return mode;
  }
}

/** One process incarnation's view of the plan: once it crashed, every call it makes fails. */
export class ProcessFaults {
  crashed?: string;
  private readonly listeners: Array<() => void> = [];

  constructor(readonly plan: FaultPlan) {}

  /** Called once when this incarnation crashes. */
  onCrash(fn: () => void): void {
    this.listeners.push(fn);
  }

  private crash(call: string): ProcessCrashed {
    if (!this.crashed) {
      this.crashed = call;
      for (const fn of this.listeners) fn();
    }
    return new ProcessCrashed(call);
  }

  /** Runs one port call under the plan. */
  async run<T>(port: string, method: string, effect: () => Promise<T>, detail?: string): Promise<T> {
    const label = `${port}.${method}`;
    const go = async (): Promise<T> => {
      if (this.crashed) throw new ProcessCrashed(this.crashed);
      const call: CallInfo = { port, method, index: this.plan.calls++, detail };
      const mode = this.plan.decide(call);
      switch (mode) {
        case 'crash-before':
          throw this.crash(label);
        case 'error':
          throw new InjectedFault('error', label);
        case 'delay':
          await (this.plan.options.delay ?? (() => new Promise<void>((r) => setImmediate(r))))(this.plan.options.delayMs ?? 2_000);
          break;
        default:
          break;
      }
      const result = await effect();
      if (mode === 'crash-after') throw this.crash(label);
      if (mode === 'lost-answer') throw new InjectedFault('lost-answer', label);
      // A call that was in flight when its process died: its answer reaches nobody.
      if (this.crashed) throw new ProcessCrashed(this.crashed);
      return result;
    };
    return this.plan.options.gate ? this.plan.options.gate(label, go) : go();
  }
}

const describeOps = (ops: WriteOp[]) => ops.map((o) => `${o.op}:${o.sk.replace(/#.*/, '#')}`).join(',');

export class FaultyMetadataStore implements MetadataStore {
  constructor(
    readonly inner: MetadataStore,
    readonly faults: ProcessFaults,
    readonly port = 'meta',
  ) {}

  get maxOpsPerWrite(): number {
    return this.inner.maxOpsPerWrite;
  }

  get multiItemWrites() {
    return this.inner.multiItemWrites;
  }

  get(pk: string, sk: string): Promise<Item | undefined> {
    return this.faults.run(this.port, 'get', () => this.inner.get(pk, sk), sk.replace(/#.*/, '#'));
  }

  query(pk: string, range?: SkRange): Promise<Item[]> {
    return this.faults.run(this.port, 'query', () => this.inner.query(pk, range), pk.replace(/#.*/, '#'));
  }

  write(ops: WriteOp[]): Promise<WriteResult> {
    return this.faults.run(this.port, 'write', () => this.inner.write(ops), describeOps(ops));
  }
}

export class FaultyObjectStore implements ObjectStore {
  constructor(
    readonly inner: ObjectStore,
    readonly faults: ProcessFaults,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  putIfAbsent(key: string, body: Uint8Array): Promise<{ created: boolean }> {
    return this.faults.run(this.inner.name, 'putIfAbsent', () => this.inner.putIfAbsent(key, body));
  }

  get(key: string, range?: ByteRange): Promise<Uint8Array | undefined> {
    return this.faults.run(this.inner.name, 'get', () => this.inner.get(key, range));
  }

  delete(key: string): Promise<void> {
    return this.faults.run(this.inner.name, 'delete', () => this.inner.delete(key));
  }

  list(prefix: string, options?: { startAfter?: string; limit?: number }): Promise<ListPage> {
    return this.faults.run(this.inner.name, 'list', () => this.inner.list(prefix, options));
  }
}

/**
 * Holds calls whose label matches until released: a forced interleaving (slatedb's Gated store). Wrap a
 * port's calls with `gated.gate` as a plan's `gate`, or use `GatedMetadataStore` directly.
 */
export class Gates {
  private readonly held: Array<{ label: string; release: () => void }> = [];
  private readonly waiters: Array<{ match: RegExp; resolve: () => void }> = [];
  private closed: RegExp[] = [];

  /** Calls matching `match` wait from now on, until `open`. */
  close(match: RegExp): void {
    this.closed.push(match);
  }

  /** Releases the held calls matching `match` and lets later ones through. */
  open(match: RegExp): void {
    this.closed = this.closed.filter((m) => m.source !== match.source);
    for (const h of this.held.filter((x) => match.test(x.label))) {
      this.held.splice(this.held.indexOf(h), 1);
      h.release();
    }
  }

  /** Resolves once a call matching `match` is held. */
  reached(match: RegExp): Promise<void> {
    if (this.held.some((h) => match.test(h.label))) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  readonly gate: Gate = async (label, run) => {
    if (this.closed.some((m) => m.test(label))) {
      await new Promise<void>((release) => {
        this.held.push({ label, release });
        for (const w of this.waiters.filter((x) => x.match.test(label))) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve();
        }
      });
    }
    return run();
  };
}

export class GatedMetadataStore implements MetadataStore {
  constructor(
    readonly inner: MetadataStore,
    readonly gates: Gates,
    readonly port = 'meta',
  ) {}

  get maxOpsPerWrite(): number {
    return this.inner.maxOpsPerWrite;
  }

  get multiItemWrites() {
    return this.inner.multiItemWrites;
  }

  get(pk: string, sk: string): Promise<Item | undefined> {
    return this.gates.gate(`${this.port}.get ${pk} ${sk}`, () => this.inner.get(pk, sk));
  }

  query(pk: string, range?: SkRange): Promise<Item[]> {
    return this.gates.gate(`${this.port}.query ${pk}`, () => this.inner.query(pk, range));
  }

  write(ops: WriteOp[]): Promise<WriteResult> {
    return this.gates.gate(`${this.port}.write ${ops.map((o) => `${o.op} ${o.pk} ${o.sk}`).join(' | ')}`, () => this.inner.write(ops));
  }
}
