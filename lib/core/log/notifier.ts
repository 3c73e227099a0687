/**
 * Wakes long-polling fetches when this process commits to a partition. Commits made elsewhere (another
 * Lambda) are found by the fetch's periodic re-read, so a waiter never depends on a notification alone.
 */
import type { Clock } from '../../ports/clock';

export class Notifier {
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly clock: Clock) {}

  notify(key: string): void {
    const set = this.waiters.get(key);
    if (!set) return;
    this.waiters.delete(key);
    for (const wake of set) wake();
  }

  /** Resolves on the next `notify(key)` or after `ms`, whichever comes first. */
  wait(key: string, ms: number): Promise<void> {
    return this.waitAny([key], ms);
  }

  /** Resolves on the next `notify` of any of `keys`, or after `ms`. */
  async waitAny(keys: readonly string[], ms: number): Promise<void> {
    const abort = new AbortController();
    const wake = () => abort.abort();
    const sets = keys.map((key) => {
      let set = this.waiters.get(key);
      if (!set) this.waiters.set(key, (set = new Set()));
      set.add(wake);
      return [key, set] as const;
    });
    try {
      await this.clock.sleep(ms, abort.signal);
    } finally {
      for (const [key, set] of sets) {
        set.delete(wake);
        if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key);
      }
    }
  }
}
