/**
 * The embedded home: a data directory holding the SQLite metadata and, unless other stores are given, one
 * object store. A lock file keeps a second server off the same data.
 */
import { promises as fs, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { CoreContext } from '../../core/context';
import { FerryError } from '../../core/errors';
import { makeSettings, type SettingsInput } from '../../core/settings';
import type { Clock } from '../../ports/clock';
import type { Ids } from '../../ports/ids';
import { FsObjectStore } from './fs-object-store';
import { SqliteMetadataStore } from './sqlite-metadata-store';
import { randomIds, systemClock } from './system';

export interface LocalHomeOptions {
  dataDir: string;
  /** Object store directories (failure domains). Default: `<dataDir>/store`. */
  storeDirs?: string[];
  settings?: SettingsInput;
  clock?: Clock;
  ids?: Ids;
}

export interface LocalHome {
  ctx: CoreContext;
  stores: FsObjectStore[];
  meta: SqliteMetadataStore;
  close(): Promise<void>;
}

export async function openLocalHome(options: LocalHomeOptions): Promise<LocalHome> {
  const dataDir = path.resolve(options.dataDir);
  await fs.mkdir(dataDir, { recursive: true });
  const releaseLock = lockDataDir(dataDir);
  try {
    const dirs = (options.storeDirs?.length ? options.storeDirs : [path.join(dataDir, 'store')]).map((d) => path.resolve(d));
    if (new Set(dirs).size !== dirs.length) throw new FerryError('invalid', 'the same --store directory is given twice');
    const stores: FsObjectStore[] = [];
    for (const [i, dir] of dirs.entries()) stores.push(await new FsObjectStore(await storeName(dir, i), dir).open());
    if (new Set(stores.map((s) => s.name)).size !== stores.length) {
      throw new FerryError('invalid', `object stores must have distinct names (${stores.map((s) => s.name).join(', ')})`);
    }
    const meta = new SqliteMetadataStore(path.join(dataDir, 'meta.sqlite'));
    const ctx: CoreContext = {
      meta,
      stores,
      clock: options.clock ?? systemClock,
      ids: options.ids ?? randomIds,
      settings: makeSettings(options.settings),
    };
    return {
      ctx,
      stores,
      meta,
      async close() {
        await meta.close();
        releaseLock();
      },
    };
  } catch (e) {
    releaseLock();
    throw e;
  }
}

/** A store keeps its name in a `STORE` file, so reordering `--store` flags never mixes replicas up. */
async function storeName(dir: string, index: number): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, 'STORE');
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch {
    const name = `s${index}`;
    await fs.writeFile(file, `${name}\n`, { flag: 'wx' });
    return name;
  }
}

function lockDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, 'ferry.lock');
  try {
    const pid = Number(readFileSync(file, 'utf8'));
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new FerryError('conflict', `data directory ${dataDir} is in use by another Ferry server (pid ${pid})`);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  writeFileSync(file, String(process.pid));
  return () => {
    try {
      if (Number(readFileSync(file, 'utf8')) === process.pid) rmSync(file, { force: true });
    } catch {
      // already gone
    }
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
