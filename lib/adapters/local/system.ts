/** The real clock and id source. */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../ports/clock';
import type { Ids } from '../../ports/ids';

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted || ms <= 0) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    }),
};

/** Ids: 15-digit zero-padded milliseconds, then 16 random hex digits (unique, time-ordered). */
export const randomIds: Ids = {
  timeOrderedId: (nowMs) => `${Math.floor(nowMs).toString().padStart(15, '0')}-${randomBytes(8).toString('hex')}`,
  random: () => Math.random(),
};
