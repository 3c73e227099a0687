/**
 * An object store on a local directory (one failure domain; put replicas on different disks).
 *
 * A put creates the object under its final name with O_CREAT|O_EXCL (`wx`: fails if the name exists, so an
 * object is never overwritten), writes it, `fdatasync`s it and `fsync`s its directory before it resolves:
 * a resolved put survives a crash (file data, size and directory entry are all durable).
 *
 * Why no temporary file + link: a crash (or a failed write) part-way leaves a torn file under the final
 * name, and that is safe because nothing ever takes an object's existence as proof it is complete:
 *  - the core references an object (index entry, due-time entry) only in a metadata commit made after
 *    `putIfAbsent` resolved, i.e. after the file and its directory entry were synced; a torn object was
 *    never resolved, so it is never referenced and never read by a fetch — it is an orphan that garbage
 *    collection deletes after its grace period, as it deletes an uncommitted complete upload;
 *  - a flush that failed is retried under a NEW time-ordered id, never the same key, and `putIfAbsent`
 *    answers `{ created: false }` for an existing name (torn or not), which the core treats as an error
 *    ("refusing to overwrite"), never as success;
 *  - repair checks every copy's batch CRCs and deletes a damaged copy before writing it again;
 *  - a put that fails after creating the file removes it (best effort).
 * The directory fsync after the file's `fdatasync` is usually cheap: the file's sync already committed the
 * journal transaction holding the new entry. One journal commit per put instead of two, and four fewer
 * syscalls (no temp create, link, unlink, directory open).
 */
import { promises as fs } from 'node:fs';
import * as fsc from 'node:fs';
import * as path from 'node:path';
import { FerryError } from '../../protocol/errors';
import type { ByteRange, ListPage, ObjectStore } from '../../ports/object-store';
import { fsyncDir, mkdirDurable, writeFileDurable } from './durable';

const MAX_DIR_FDS = 64;

/** A node:fs callback call as a promise (lighter than FileHandle's). */
function call<T = void>(f: (cb: (err: NodeJS.ErrnoException | null, result?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => f((err, result) => (err ? reject(err) : resolve(result as T))));
}

const SAFE_KEY = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

export class FsObjectStore implements ObjectStore {
  private readonly objects: string;
  private readonly tmp: string;
  private readonly knownDirs = new Set<string>();
  private readonly dirFds = new Map<string, number>();

  /** @param root the store's directory; created if missing. */
  constructor(
    readonly name: string,
    readonly root: string,
  ) {
    this.objects = path.join(root, 'objects');
    this.tmp = path.join(root, 'tmp');
  }

  async open(): Promise<this> {
    await mkdirDurable(this.objects);
    await mkdirDurable(this.tmp);
    await this.writeName();
    // Temporary files left by a crash are never referenced.
    for (const f of await fs.readdir(this.tmp)) await fs.rm(path.join(this.tmp, f), { force: true });
    await fsyncDir(this.root);
    return this;
  }

  /** `<root>/STORE` names the store (see store-dirs.ts); written once, durably, before any object. */
  private async writeName(): Promise<void> {
    const file = path.join(this.root, 'STORE');
    try {
      await fs.access(file);
    } catch {
      await writeFileDurable(file, `${this.name}\n`);
    }
  }

  private file(key: string): string {
    if (!SAFE_KEY.test(key) || key.split('/').some((p) => p === '.' || p === '..')) {
      throw new Error(`internal: unsafe object key ${JSON.stringify(key)}`);
    }
    return path.join(this.objects, key);
  }

  async putIfAbsent(key: string, body: Uint8Array): Promise<{ created: boolean }> {
    try {
      return await this.put(key, body);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw this.wrap('write', key, e);
      // The store's directories were removed (a replaced disk): make them again, once — with the STORE
      // file naming the store, so the next start knows what the new objects are.
      this.knownDirs.clear();
      this.forgetDirFds();
      try {
        await mkdirDurable(this.objects);
        await this.writeName();
        return await this.put(key, body);
      } catch (again) {
        throw this.wrap('write', key, again);
      }
    }
  }

  private async put(key: string, body: Uint8Array): Promise<{ created: boolean }> {
    const target = this.file(key);
    const dir = path.dirname(target);
    await this.ensureDir(dir);
    let fd: number;
    try {
      fd = await call<number>((cb) => fsc.open(target, 'wx', 0o644, cb));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { created: false };
      throw e;
    }
    try {
      let written = 0;
      while (written < body.byteLength) {
        written += await call<number>((cb) => fsc.write(fd, body, written, body.byteLength - written, written, cb));
      }
      await call((cb) => fsc.fdatasync(fd, cb));
    } catch (e) {
      await call((cb) => fsc.close(fd, cb)).catch(() => undefined);
      // Never leave a torn file behind when we can help it (a crash can: see the header).
      await fs.rm(target, { force: true }).catch(() => undefined);
      throw e;
    }
    await call((cb) => fsc.close(fd, cb));
    await this.syncDir(dir);
    return { created: true };
  }

  /** fsyncs a directory through a kept descriptor (one per directory written to, bounded). */
  private async syncDir(dir: string): Promise<void> {
    let fd = this.dirFds.get(dir);
    if (fd === undefined) {
      fd = await call<number>((cb) => fsc.open(dir, 'r', cb));
      if (this.dirFds.size >= MAX_DIR_FDS) this.forgetDirFds();
      this.dirFds.set(dir, fd);
    }
    await call((cb) => fsc.fsync(fd, cb));
  }

  private forgetDirFds(): void {
    for (const fd of this.dirFds.values()) fsc.close(fd, () => undefined);
    this.dirFds.clear();
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    const created = await fs.mkdir(dir, { recursive: true });
    // The mkdir made `objects` itself (or the root) again: the store's directory was removed under us (a
    // replaced disk). Name the store before any object lands in it, or the next start could not tell it.
    if (created && !path.resolve(created).startsWith(this.objects + path.sep)) await this.writeName();
    if (created) {
      // Make the new directory entries durable, from the parent of the first one created up to `objects`.
      let d = dir;
      while (d.length >= this.objects.length) {
        await fsyncDir(d);
        if (d === this.objects) break;
        d = path.dirname(d);
      }
      await fsyncDir(path.dirname(this.objects));
    }
    this.knownDirs.add(dir);
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array | undefined> {
    const file = this.file(key);
    let fd: number;
    try {
      fd = await call<number>((cb) => fsc.open(file, 'r', cb));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.wrap('read', key, e);
    }
    try {
      const start = range ? range.start : 0;
      const length = range ? range.length : (await call<fsc.Stats>((cb) => fsc.fstat(fd, cb))).size;
      const buf = Buffer.allocUnsafe(length);
      let read = 0;
      while (read < length) {
        const n = await call<number>((cb) => fsc.read(fd, buf, read, length - read, start + read, cb));
        if (n === 0) break;
        read += n;
      }
      return read === length ? buf : buf.subarray(0, read);
    } catch (e) {
      throw this.wrap('read', key, e);
    } finally {
      fsc.close(fd, () => undefined);
    }
  }

  async delete(key: string): Promise<void> {
    const target = this.file(key);
    await fs.rm(target, { force: true });
    await fsyncDir(path.dirname(target)).catch(() => undefined);
  }

  async list(prefix: string, options: { startAfter?: string; limit?: number } = {}): Promise<ListPage> {
    const limit = options.limit ?? 1000;
    const keys: string[] = [];
    const walk = async (dir: string, rel: string) => {
      let names: string[];
      try {
        names = await fs.readdir(dir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
      for (const n of names) {
        const key = rel ? `${rel}/${n}` : n;
        if (!key.startsWith(prefix) && !prefix.startsWith(`${key}/`)) continue;
        const st = await fs.stat(path.join(dir, n));
        if (st.isDirectory()) await walk(path.join(dir, n), key);
        else keys.push(key);
      }
    };
    await walk(this.objects, '');
    keys.sort();
    const from = options.startAfter;
    const selected = keys.filter((k) => from === undefined || k > from).slice(0, limit + 1);
    const page = selected.slice(0, limit);
    const objects = await Promise.all(page.map(async (key) => ({ key, size: (await fs.stat(path.join(this.objects, key))).size })));
    return { objects, next: selected.length > limit ? page[page.length - 1] : undefined };
  }

  private wrap(what: string, key: string, cause: unknown): FerryError {
    return new FerryError('unavailable', `object store ${this.name}: cannot ${what} ${key}: ${(cause as Error).message}`, {}, { cause });
  }
}
