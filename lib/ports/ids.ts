/** Unique ids and randomness, injected so tests can make them deterministic. */
export interface Ids {
  /**
   * A unique id whose lexical order follows `nowMs` (so listing order is age order and garbage collection can
   * tell an object's age from its name). Characters: `[0-9a-z-]`.
   */
  timeOrderedId(nowMs: number): string;
  /** A random float in [0, 1). */
  random(): number;
}
