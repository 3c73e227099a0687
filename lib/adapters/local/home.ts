/**
 * The embedded home: a data directory holding the SQLite metadata and, unless other stores are given, one
 * object store. A lock file keeps a second server off the same data. Every file and directory it creates is
 * durable (fsynced, with its directory) before anything relies on it; see durable.ts and store-dirs.ts.
 */
import { constants as fsConstants, promises as fs, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import type { CoreContext } from '../../core/context';
import { FerryError } from '../../protocol/errors';
import { makeSettings, type SettingsInput } from '../../core/settings';
import type { Clock } from '../../ports/clock';
import type { Ids } from '../../ports/ids';
import type { Metrics } from '../../ports/metrics';
import { checkHealth, type HealthPart } from '../../ports/health';
import { metaKeys } from '../../core/storage/keys';
import { fsyncDir, mkdirDurable } from './durable';
import { FsObjectStore } from './fs-object-store';
import { SqliteMetadataStore } from './sqlite-metadata-store';
import { nameStores } from './store-dirs';
import { randomIds, systemClock } from '../system';

export interface LocalHomeOptions {
  dataDir: string;
  /** Object store directories (failure domains). Default: `<dataDir>/store`. */
  storeDirs?: string[];
  settings?: SettingsInput;
  clock?: Clock;
  ids?: Ids;
  metrics?: Metrics;
}

export interface LocalHome {
  ctx: CoreContext;
  stores: FsObjectStore[];
  meta: SqliteMetadataStore;
  /** Whether the metadata and every store directory answer (for `GET /health`). */
  health(): Promise<HealthPart[]>;
  close(): Promise<void>;
}

export async function openLocalHome(options: LocalHomeOptions): Promise<LocalHome> {
  const dataDir = path.resolve(options.dataDir);
  await mkdirDurable(dataDir);
  const releaseLock = await lockDataDir(dataDir);
  let meta: SqliteMetadataStore | undefined;
  try {
    const dirs = (options.storeDirs?.length ? options.storeDirs : [path.join(dataDir, 'store')]).map((d) => path.resolve(d));
    if (new Set(dirs).size !== dirs.length) throw new FerryError('invalid', 'the same --store directory is given twice');
    meta = new SqliteMetadataStore(path.join(dataDir, 'meta.sqlite'));
    const stores: FsObjectStore[] = [];
    for (const s of await nameStores(meta, dirs)) stores.push(await new FsObjectStore(s.name, s.dir).open());
    const ctx: CoreContext = {
      meta,
      stores,
      clock: options.clock ?? systemClock,
      ids: options.ids ?? randomIds,
      settings: makeSettings(options.settings),
      metrics: options.metrics,
    };
    const opened = meta;
    return {
      ctx,
      stores,
      meta: opened,
      health: () => localHealth(opened, stores),
      async close() {
        await opened.close();
        releaseLock();
      },
    };
  } catch (e) {
    await meta?.close().catch(() => undefined);
    releaseLock();
    throw e;
  }
}

/**
 * `<data>/ferry.lock` holds the owner's pid. It is created whole or not at all (written and fsynced under a
 * temporary name, then hard-linked into place, which fails if a lock exists), so two servers starting at once
 * cannot both take it, and a power cut leaves no half-written lock. A lock whose process is gone is taken over.
 */
async function lockDataDir(dataDir: string): Promise<() => void> {
  const file = path.join(dataDir, 'ferry.lock');
  const tmp = `${file}.${process.pid}`;
  const fh = await fs.open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(String(process.pid));
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.link(tmp, file);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw e;
      }
      let pid = 0;
      try {
        pid = Number(readFileSync(file, 'utf8').trim());
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile: link again
        throw e;
      }
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new FerryError('conflict', `data directory ${dataDir} is in use by another Ferry server (pid ${pid})`);
      }
      rmSync(file, { force: true }); // left by a process that is gone (a crash, a power cut)
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  await fsyncDir(dataDir);
  return () => {
    try {
      if (Number(readFileSync(file, 'utf8')) === process.pid) rmSync(file, { force: true });
    } catch {
      // already gone
    }
  };
}

function localHealth(meta: SqliteMetadataStore, stores: FsObjectStore[]): Promise<HealthPart[]> {
  return checkHealth([
    ['metadata', () => meta.get(metaKeys.homePk, metaKeys.storesSk)],
    // The directory must still be there and writable (a removed disk answers reads as "missing", not as an error).
    ...stores.map((s): [string, () => Promise<unknown>] => [
      `store ${s.name}`,
      () => fs.access(path.join(s.root, 'objects'), fsConstants.W_OK),
    ]),
  ]);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
