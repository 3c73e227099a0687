/** The real clock and id source. */
import { randomBytes } from 'node:crypto';
import { setTimeout as wait } from 'node:timers/promises';
import type { Clock } from '../ports/clock';
import type { Ids } from '../ports/ids';

export const systemClock: Clock = {
  now: () => Date.now(),
  // An aborted wait ends early and quietly: a sleep is never an error.
  sleep: (ms, signal) => (signal?.aborted || ms <= 0 ? Promise.resolve() : wait(ms, undefined, { signal }).catch(() => undefined)),
};

/** Ids: 15-digit zero-padded milliseconds, then 16 random hex digits (unique, time-ordered). */
export const randomIds: Ids = {
  timeOrderedId: (nowMs) => `${Math.floor(nowMs).toString().padStart(15, '0')}-${randomBytes(8).toString('hex')}`,
  random: () => Math.random(),
};
