/**
 * An object store on a local directory (one failure domain; put replicas on different disks).
 * A put writes a temporary file, fsyncs it, links it into place (link fails if the name exists, so an object
 * is never overwritten) and fsyncs the directory before it resolves: a resolved put survives a crash.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FerryError } from '../../core/errors';
import type { ByteRange, ListPage, ObjectStore } from '../../ports/object-store';

const SAFE_KEY = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

export class FsObjectStore implements ObjectStore {
  private readonly objects: string;
  private readonly tmp: string;
  private readonly knownDirs = new Set<string>();

  /** @param root the store's directory; created if missing. */
  constructor(
    readonly name: string,
    readonly root: string,
  ) {
    this.objects = path.join(root, 'objects');
    this.tmp = path.join(root, 'tmp');
  }

  async open(): Promise<this> {
    await fs.mkdir(this.objects, { recursive: true });
    await fs.mkdir(this.tmp, { recursive: true });
    // Temporary files left by a crash are never referenced.
    for (const f of await fs.readdir(this.tmp)) await fs.rm(path.join(this.tmp, f), { force: true });
    await fsyncDir(this.root);
    return this;
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
      // The store's directories were removed (a replaced disk): make them again, once.
      this.knownDirs.clear();
      await fs.mkdir(this.tmp, { recursive: true });
      try {
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
    const tmp = path.join(this.tmp, `${randomBytes(8).toString('hex')}.tmp`);
    const fh = await fs.open(tmp, 'wx');
    try {
      await fh.writeFile(body);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    try {
      await fs.link(tmp, target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { created: false };
      throw e;
    } finally {
      await fs.rm(tmp, { force: true });
    }
    await fsyncDir(dir);
    return { created: true };
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    const created = await fs.mkdir(dir, { recursive: true });
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
    let fh;
    try {
      fh = await fs.open(this.file(key), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.wrap('read', key, e);
    }
    try {
      if (!range) return await fh.readFile();
      const buf = Buffer.allocUnsafe(range.length);
      let read = 0;
      while (read < range.length) {
        const { bytesRead } = await fh.read(buf, read, range.length - read, range.start + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      return read === range.length ? buf : buf.subarray(0, read);
    } catch (e) {
      throw this.wrap('read', key, e);
    } finally {
      await fh.close();
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
    const objects = await Promise.all(
      page.map(async (key) => ({ key, size: (await fs.stat(path.join(this.objects, key))).size })),
    );
    return { objects, next: selected.length > limit ? page[page.length - 1] : undefined };
  }

  private wrap(what: string, key: string, cause: unknown): FerryError {
    return new FerryError('unavailable', `object store ${this.name}: cannot ${what} ${key}: ${(cause as Error).message}`, {}, { cause });
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
