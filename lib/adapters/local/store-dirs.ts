/**
 * Which object store is which. Each store directory keeps its name in a `STORE` file (so reordering `--store`
 * flags never mixes replicas up), and the metadata remembers every store's name and directory. Index entries
 * name the stores holding each copy, so a start that cannot tell the stores apart — a `STORE` file emptied by
 * a power cut, a store missing, a fresh directory where a store with data used to be — is refused with what
 * to do, never answered by renaming a store (every record it held would then look lost).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FerryError } from '../../protocol/errors';
import { metaKeys } from '../../core/storage/keys';
import type { MetadataStore } from '../../ports/metadata-store';
import { mkdirDurable } from './durable';

const STORE_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export interface StoreDir {
  dir: string;
  name: string;
}

interface Found {
  dir: string;
  /** From its STORE file; undefined: a new (empty) store directory. */
  name?: string;
}

/** Names every directory in `dirs` (in order), checking them against what `meta` remembers. */
export async function nameStores(meta: MetadataStore, dirs: string[]): Promise<StoreDir[]> {
  const found: Found[] = [];
  for (const dir of dirs) found.push({ dir, name: await readStoreFile(dir) });
  const item = await meta.get(metaKeys.homePk, metaKeys.storesSk);
  const known = item ? decodeStores(item.data) : undefined;
  const given = (f: Found[]) => f.map((s) => `--store ${s.dir}`).join(' ');
  const knownList = (k: StoreDir[]) => k.map((s) => `${s.name} (${s.dir})`).join(', ');

  if (known) {
    for (const f of found) {
      if (f.name === undefined) {
        // A fresh directory is accepted only where one of the stores used to be: a replaced disk, whose
        // copies `ferry repair` (or maintenance) restores from the other replicas.
        const was = known.find((k) => k.dir === f.dir && !found.some((o) => o.name === k.name));
        if (!was) {
          throw new FerryError(
            'invalid',
            `${f.dir} is a new, empty object store, but this data directory's stores are ${knownList(known)}. ` +
              `Start with the --store flags it was created with (${given(known)}).`,
            { store: f.dir },
          );
        }
        f.name = was.name;
      } else if (!known.some((k) => k.name === f.name)) {
        throw new FerryError(
          'invalid',
          `${f.dir} holds object store "${f.name}", which this data directory does not know (its stores: ${knownList(known)}).`,
          { store: f.dir },
        );
      }
    }
    const missing = known.filter((k) => !found.some((f) => f.name === k.name));
    if (missing.length) {
      throw new FerryError(
        'invalid',
        `object store ${missing.map((m) => `"${m.name}" (last at ${m.dir})`).join(', ')} is not given, and the index keeps copies there. ` +
          `Start with the --store flags this data directory was created with (${given(known)}).`,
        { missing: missing.map((m) => m.name) },
      );
    }
  } else {
    for (const [i, f] of found.entries()) {
      if (f.name !== undefined) continue;
      let n = i;
      while (found.some((o) => o.name === `s${n}`)) n++;
      f.name = `s${n}`;
    }
  }
  const named = found as StoreDir[];
  const names = named.map((s) => s.name);
  if (new Set(names).size !== names.length) {
    throw new FerryError('invalid', `object stores must have distinct names (${named.map((s) => `${s.dir}: ${s.name}`).join(', ')})`);
  }
  // FsObjectStore.open writes the STORE file of a new store (durably) before its first object.
  const record = { stores: named.map((s) => ({ name: s.name, dir: s.dir })) };
  if (!known || JSON.stringify(known) !== JSON.stringify(record.stores)) {
    const res = await meta.write([
      { op: 'put', pk: metaKeys.homePk, sk: metaKeys.storesSk, data: record, expect: item ? item.version : 'absent' },
    ]);
    if (!res.ok) throw new FerryError('conflict', 'another process changed the object store list while this one started');
  }
  return named;
}

/** The name in `<dir>/STORE`; undefined if there is none yet (a new store, which must then be empty). */
async function readStoreFile(dir: string): Promise<string | undefined> {
  await mkdirDurable(dir);
  const file = path.join(dir, 'STORE');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new FerryError('data', `cannot read ${file}: ${(e as Error).message}`, { file }, { cause: e });
    }
    if (await holdsObjects(dir)) {
      throw new FerryError(
        'data',
        `${dir} holds objects but no STORE file naming the store. Write its name into ${file} (for example "s0\\n" for the ` +
          `first --store when the data directory was created, "s1" for the second), or restore the store from a backup.`,
        { file },
      );
    }
    return undefined;
  }
  const name = text.trim();
  if (!STORE_NAME.test(name)) {
    throw new FerryError(
      'data',
      `${file} is ${text.length ? 'damaged' : 'empty'} (it names this object store; a power cut can empty a file that was never synced). ` +
        `Write the store's name into it — "s0" for the first --store the data directory was created with, "s1" for the second, … — ` +
        `or restore the store from a backup; then \`ferry repair\` checks every copy.`,
      { file },
    );
  }
  return name;
}

async function holdsObjects(dir: string): Promise<boolean> {
  try {
    const entries = await fs.readdir(path.join(dir, 'objects'), { recursive: true, withFileTypes: true });
    return entries.some((e) => e.isFile());
  } catch {
    return false;
  }
}

function decodeStores(data: Record<string, unknown>): StoreDir[] {
  const list = data.stores;
  if (!Array.isArray(list) || !list.every((s) => s && typeof s.name === 'string' && typeof s.dir === 'string')) {
    throw new FerryError('data', `the metadata's store list is damaged: ${JSON.stringify(data).slice(0, 200)}`);
  }
  return list.map((s: StoreDir) => ({ name: s.name, dir: s.dir }));
}
