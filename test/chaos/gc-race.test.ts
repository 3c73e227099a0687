/**
 * BUG found by the chaos simulation (seeds 20240834, 20240839 of `npm run chaos -- --seed 20240611`):
 * garbage collection can delete the segment of a batch that is then committed (or was just committed), so an
 * ACKNOWLEDGED record becomes unreadable (`data`: object missing on every replica) — G1 / G8.
 *
 * The commit protects itself from GC with a time check (lib/core/log/append.ts, commitGroup: refuse when
 * `now - startedAt > orphanGraceMs / 2`), but the check and the conditional write are not one atomic step:
 * a writer paused between them (GC pause, SIGSTOP, a slow metadata call) commits after GC listed the index,
 * found the object unreferenced and old, and deleted it. Delayed records have no check at all
 * (lib/core/log/delay.ts, Scheduler.schedule writes the due item however old its upload is).
 *
 * These tests hold the writer at its metadata write with a gate, run GC past the grace period, then let the
 * write go. Fixed by the GC fence (lib/core/storage/gc-fence.ts): collection raises each partition's horizon (in its
 * head, and in a fence item for due items) before it reads references, and every referencing write carries a condition on it — so the paused writer's commit is refused
 * (a definite `unavailable`, nothing visible) instead of indexing a deleted object. Either way, what was
 * acknowledged must be readable.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FsObjectStore } from '../../lib/adapters/local/fs-object-store';
import { SqliteMetadataStore } from '../../lib/adapters/local/sqlite-metadata-store';
import { randomIds } from '../../lib/adapters/system';
import { createCore } from '../../lib/core/create-core';
import { Maintenance } from '../../lib/core/maintenance/maintenance';
import { makeSettings } from '../../lib/core/settings';
import { Gates, GatedMetadataStore } from '../helpers/faults';
import { jsonPayload } from '../helpers/records';
import { SimClock } from '../helpers/sim-clock';

const GRACE = 10_000;

async function cluster() {
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-gcrace-'));
  const meta = new SqliteMetadataStore(path.join(dir, 'meta.sqlite'));
  const stores = [await new FsObjectStore('s0', path.join(dir, 's0')).open()];
  const clock = new SimClock();
  const settings = makeSettings({ topicCacheMs: 0, orphanGraceMs: GRACE });
  const gates = new Gates();
  const writer = createCore({ meta: new GatedMetadataStore(meta, gates), stores, clock, ids: randomIds, settings }).log;
  const other = createCore({ meta, stores, clock, ids: randomIds, settings }).log;
  await other.topics.create({ name: 'orders', partitions: 1, retentionMs: -1 });
  return {
    clock,
    gates,
    writer,
    other,
    gc: new Maintenance(other),
    close: async () => (await meta.close(), await rm(dir, { recursive: true, force: true })),
  };
}

const rec = (v: string, deliverAt?: number) => ({
  key: null,
  value: jsonPayload(v),
  headers: Object.create(null),
  partition: 0,
  deliverAt,
});

describe('GC vs a paused writer', () => {
  it('an acknowledged record stays readable when its writer paused between the age check and the commit', async () => {
    const c = await cluster();
    try {
      c.gates.close(/^meta\.write put p#\S+ head/); // the commit: the head, carrying the index entry
      const acked = c.writer.produce('orders', [rec('paused')]);
      await c.gates.reached(/^meta\.write put p#\S+ head/); // uploaded, age checked, about to write
      c.clock.advance(GRACE + 1); // the pause
      await c.gc.run();
      c.gates.open(/^meta\.write put p#\S+ head/);
      const outcome = await acked.then(
        (answers) => ({ acked: true as const, answers }),
        (e: { kind?: string }) => ({ acked: false as const, kind: e.kind }),
      );
      const read = await c.other.fetch('orders', 0, 0n, { maxRecords: 10, maxBytes: 1 << 20, waitMs: 0 });
      // The fence refuses the commit: not acknowledged, nothing visible (had it been acknowledged, it must read).
      expect(outcome).toEqual({ acked: false, kind: 'unavailable' });
      expect(read.records).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('an acknowledged delayed record is delivered when its writer paused between the upload and the due item', async () => {
    const c = await cluster();
    try {
      c.gates.close(/^meta\.write .*put d#/); // the due-time index item
      const acked = c.writer.produce('orders', [rec('later', c.clock.now() + 1_000)]);
      await c.gates.reached(/^meta\.write .*put d#/);
      c.clock.advance(GRACE + 1);
      await c.gc.run();
      c.gates.open(/^meta\.write .*put d#/);
      const outcome = await acked.then(
        () => ({ acked: true as const }),
        (e: { kind?: string }) => ({ acked: false as const, kind: e.kind }),
      );
      c.clock.advance(2_000);
      await c.gc.moveDue();
      const read = await c.other.fetch('orders', 0, 0n, { maxRecords: 10, maxBytes: 1 << 20, waitMs: 0 });
      // Refused by the fence (never acknowledged), so nothing is delivered and nothing points at a deleted batch.
      expect(outcome).toEqual({ acked: false, kind: 'unavailable' });
      expect(read.records).toEqual([]);
    } finally {
      await c.close();
    }
  });
});
