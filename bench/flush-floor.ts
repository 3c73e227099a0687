/**
 * The floor under one Ferry flush on this disk: the local adapters' durable steps timed one by one
 * (FsObjectStore.putIfAbsent = write + fdatasync + link + directory fsync; SqliteMetadataStore.write = one
 * WAL transaction with synchronous=FULL), beside a bare write + fdatasync of the same bytes.
 *
 *   npx tsx bench/flush-floor.ts [bytes=102400] [iterations=200]
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { FsObjectStore } from '../lib/adapters/local/fs-object-store';
import { SqliteMetadataStore } from '../lib/adapters/local/sqlite-metadata-store';
import { median, newHistogram, nowMs, percentiles, recordMs } from './lib/util';

async function main() {
  const bytes = Number(process.argv[2] ?? 102_400);
  const n = Number(process.argv[3] ?? 200);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-floor-'));
  const body = randomBytes(bytes);
  try {
    const time = async (name: string, f: (i: number) => Promise<void> | void) => {
      const h = newHistogram();
      const xs: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = nowMs();
        await f(i);
        const d = nowMs() - t;
        recordMs(h, d);
        xs.push(d);
      }
      const p = percentiles(h);
      console.log(
        `${name.padEnd(48)} median ${median(xs).toFixed(2)} ms  p99 ${p.p99.toFixed(2)} ms  (${(1000 / median(xs)).toFixed(0)}/s)`,
      );
    };
    const fd = openSync(path.join(dir, 'raw.bin'), 'a');
    await time(`write + fdatasync (${bytes} B)`, () => {
      writeSync(fd, body);
      fdatasyncSync(fd);
    });
    closeSync(fd);
    const store = await new FsObjectStore('s0', path.join(dir, 'store')).open();
    await time(`FsObjectStore.putIfAbsent (${bytes} B)`, (i) =>
      store.putIfAbsent(`topics/t/${String(i).padStart(8, '0')}.seg`, body).then(() => undefined),
    );
    const meta = new SqliteMetadataStore(path.join(dir, 'meta.sqlite'));
    await time('SqliteMetadataStore.write (12 heads + 12 entries)', async (i) => {
      const ops = Array.from({ length: 12 }, (_, p) => [
        { op: 'put' as const, pk: `p#t#${p}`, sk: 'head', data: { nextOffset: String(i + 1), logStartOffset: '0' } },
        {
          op: 'put' as const,
          pk: `p#t#${p}`,
          sk: `i#${String(i).padStart(20, '0')}`,
          data: { objectKey: 'topics/t/x.seg', count: 8, byteStart: 0, byteLength: 8000, replicas: ['s0'] },
        },
      ]).flat();
      await meta.write(ops);
    });
    await meta.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
