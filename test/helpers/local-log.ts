import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FsObjectStore } from '../../lib/adapters/local/fs-object-store';
import { SqliteMetadataStore } from '../../lib/adapters/local/sqlite-metadata-store';
import { randomIds } from '../../lib/adapters/system';
import type { CoreContext } from '../../lib/core/context';
import type { Log } from '../../lib/core/log/log';
import { createCore } from '../../lib/core/create-core';
import { Maintenance } from '../../lib/core/maintenance/maintenance';
import { makeSettings, type SettingsInput } from '../../lib/core/settings';
import type { RecordInput } from '../../lib/core/model';
import { SimClock } from './sim-clock';
import { jsonPayload } from './records';

export interface LocalLog {
  dir: string;
  clock: SimClock;
  ctx: CoreContext;
  stores: FsObjectStore[];
  log: Log;
  maintenance: Maintenance;
  /** Another process on the same stores: its own caches. */
  twin(): Log;
  cleanup(): Promise<void>;
}

/** A core Log on real local adapters in a temp dir, driven by simulated time. */
export async function makeLocalLog(options: { stores?: number; settings?: SettingsInput } = {}): Promise<LocalLog> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-core-'));
  const clock = new SimClock();
  const stores = await Promise.all(
    Array.from({ length: options.stores ?? 1 }, (_, i) => new FsObjectStore(`s${i}`, path.join(dir, `store${i}`)).open()),
  );
  const meta = new SqliteMetadataStore(path.join(dir, 'meta.sqlite'));
  const ctx: CoreContext = { meta, stores, clock, ids: randomIds, settings: makeSettings({ topicCacheMs: 0, ...options.settings }) };
  const log = createCore(ctx).log;
  return {
    dir,
    clock,
    ctx,
    stores,
    log,
    maintenance: new Maintenance(log),
    twin: () => createCore(ctx).log,
    cleanup: async () => {
      await meta.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const rec = (value: unknown, extra: Partial<RecordInput> = {}): RecordInput => ({
  key: null,
  value: jsonPayload(value),
  headers: Object.create(null),
  ...extra,
});

export const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
