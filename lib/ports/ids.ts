/** Unique ids and randomness, injected so tests can make them deterministic. */
export interface Ids {
  /**
   * A unique id whose lexical order follows `nowMs` (so listing order is age order and garbage collection can
   * tell an object's age from its name): `<nowMs as 15 zero-padded digits>-<[0-9a-z]+>`, e.g.
   * `001764583200000-9f2c41d07a3b5e68`.
   */
  timeOrderedId(nowMs: number): string;
  /** A random float in [0, 1). */
  random(): number;
}
