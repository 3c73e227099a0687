/**
 * Files and directories that survive a power cut. A write is durable only once its bytes are fsynced and the
 * directory entry naming it is fsynced too; a new directory is durable only once its parent is. Everything
 * the local home writes outside SQLite (which syncs its own files and directory) goes through here or through
 * FsObjectStore, which follows the same rules.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** fsyncs a directory, making the entries created, renamed or removed in it durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** `mkdir -p` whose every new directory is durable: the parent of each one created is fsynced. */
export async function mkdirDurable(dir: string): Promise<void> {
  const target = path.resolve(dir);
  const first = await fs.mkdir(target, { recursive: true });
  if (first === undefined) return; // it existed
  // From the deepest new directory up to the parent of the first one created.
  for (let d = target; ; d = path.dirname(d)) {
    await fsyncDir(path.dirname(d));
    if (d === path.resolve(first) || d === path.dirname(d)) break;
  }
}

/**
 * Replaces `file` with `data` atomically and durably: a temporary file in the same directory is written and
 * fsynced, renamed over `file`, and the directory fsynced. After a crash the file holds the old bytes or the
 * new ones, never a torn or empty mix.
 */
export async function writeFileDurable(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await fs.open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(path.dirname(file));
}
