/**
 * A directory that can lose power: processes started with `disk.env()` run on it through the powercut.so
 * LD_PRELOAD layer (powercut.c), which records what they fsync; `cut()` — after the test has kill -9'd them —
 * rebuilds the directory from that record alone, so every byte and name that was not fsynced is gone.
 *
 * @example
 *   const disk = await LazyDisk.create(dataDir);
 *   const child = spawn(node, [...], { env: { ...process.env, ...disk.env() } });
 *   …; child.kill('SIGKILL'); await once(child, 'exit');
 *   const report = await disk.cut(); // dataDir now holds only what was durable
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const SOURCE = path.join(__dirname, 'powercut.c');

/** Compiles powercut.c once per source version (cached in the temp directory). */
export function powercutLibrary(): string {
  const source = readFileSync(SOURCE);
  const lib = path.join(tmpdir(), `ferry-powercut-${createHash('sha256').update(source).digest('hex').slice(0, 12)}.so`);
  if (!existsSync(lib)) {
    const tmp = `${lib}.${process.pid}.tmp`;
    execFileSync('cc', ['-shared', '-fPIC', '-O2', '-Wall', '-o', tmp, SOURCE, '-ldl', '-lpthread'], { stdio: 'pipe' });
    execFileSync('mv', [tmp, lib]);
  }
  return lib;
}

/** The key powercut.c gives an inode: number and birth time. */
async function keyOf(file: string): Promise<{ key: string; dir: boolean; file: boolean }> {
  const st = await fs.lstat(file, { bigint: true });
  const ns = st.birthtimeNs;
  const key = `${st.ino}-${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
  return { key, dir: st.isDirectory(), file: st.isFile() };
}

export interface CutReport {
  /** Files and directories that came back (the durable state). */
  files: number;
  dirs: number;
  /** Files that came back empty: their name was synced, their bytes never were. */
  emptied: number;
}

export class LazyDisk {
  private shadow = '';
  private rootKey = '';
  private generation = 0;

  private constructor(readonly root: string) {}

  /** Takes `root` (created if missing) as it is now — all of it durable — and starts recording. */
  static async create(root: string): Promise<LazyDisk> {
    const disk = new LazyDisk(path.resolve(root));
    await fs.mkdir(disk.root, { recursive: true });
    await disk.start();
    return disk;
  }

  /** Environment for a process whose writes under `root` are to be cut. */
  env(): Record<string, string> {
    return {
      LD_PRELOAD: powercutLibrary(),
      FERRY_POWERCUT_ROOT: this.root,
      FERRY_POWERCUT_SHADOW: this.shadow,
      UV_USE_IO_URING: '0', // every fsync through libc, where the layer sees it
    };
  }

  /** Cuts the power: `root` is rebuilt from what was fsynced. Every process writing there must be dead. */
  async cut(): Promise<CutReport> {
    const rebuilt = `${this.root}.rebuilt`;
    await fs.rm(rebuilt, { recursive: true, force: true });
    await fs.mkdir(rebuilt);
    const report: CutReport = { files: 0, dirs: 0, emptied: 0 };
    await this.rebuild(this.rootKey, rebuilt, report);
    await fs.rm(this.root, { recursive: true, force: true });
    await fs.rename(rebuilt, this.root);
    await fs.rm(this.shadow, { recursive: true, force: true });
    await this.start();
    return report;
  }

  /** Stops recording and removes the record (the directory stays as it is). */
  async dispose(): Promise<void> {
    await fs.rm(this.shadow, { recursive: true, force: true });
  }

  private async start(): Promise<void> {
    this.shadow = path.join(tmpdir(), `ferry-powercut-shadow-${process.pid}-${Date.now()}-${this.generation++}`);
    await fs.mkdir(this.shadow);
    this.rootKey = (await keyOf(this.root)).key;
    await this.record(this.root);
  }

  /** Records a directory tree as durable (the state the recording starts from). */
  private async record(dir: string): Promise<void> {
    const lines: string[] = [];
    for (const name of await fs.readdir(dir)) {
      const full = path.join(dir, name);
      const k = await keyOf(full);
      if (k.dir) {
        lines.push(`d\t${k.key}\t${name}`);
        await this.record(full);
      } else if (k.file) {
        lines.push(`f\t${k.key}\t${name}`);
        await fs.copyFile(full, path.join(this.shadow, `file-${k.key}`));
      }
    }
    await fs.writeFile(path.join(this.shadow, `dir-${(await keyOf(dir)).key}`), lines.map((l) => `${l}\n`).join(''));
  }

  private async rebuild(key: string, into: string, report: CutReport): Promise<void> {
    let listing = '';
    try {
      listing = await fs.readFile(path.join(this.shadow, `dir-${key}`), 'utf8');
    } catch {
      // a directory whose entries were never synced comes back empty
    }
    for (const line of listing.split('\n')) {
      if (!line) continue;
      const [type, child, ...rest] = line.split('\t');
      const name = rest.join('\t');
      const target = path.join(into, name);
      if (type === 'd') {
        await fs.mkdir(target);
        report.dirs++;
        await this.rebuild(child, target, report);
      } else if (type === 'f') {
        const bytes = path.join(this.shadow, `file-${child}`);
        if (existsSync(bytes)) await fs.copyFile(bytes, target);
        else {
          await fs.writeFile(target, '');
          report.emptied++;
        }
        report.files++;
      }
    }
  }
}
