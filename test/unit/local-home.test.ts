/**
 * What the local home refuses at start, because it cannot trust it (each with what to do), and what it
 * accepts: the object stores must be the ones the data directory was created with.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openLocalHome } from '../../lib/adapters/local/home';
import { createCore } from '../../lib/core/create-core';
import { rec } from '../helpers/local-log';

describe('openLocalHome', () => {
  let root: string;
  const data = () => path.join(root, 'data');
  const store = (n: string) => path.join(root, n);
  const open = (...stores: string[]) => openLocalHome({ dataDir: data(), storeDirs: stores.map(store) });
  const opensAndCloses = async (...stores: string[]) => {
    const home = await open(...stores);
    const names = home.stores.map((s) => s.name);
    await home.close();
    return names;
  };
  /** A data directory with a topic and one record, so its stores hold objects. */
  const withData = async (...stores: string[]) => {
    const home = await open(...stores);
    const log = createCore(home.ctx).log;
    await log.topics.create({ name: 'orders', partitions: 1, replicationFactor: stores.length });
    await log.produce('orders', [rec('x')]);
    await home.close();
  };

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(tmpdir(), 'ferry-home-'));
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('names new stores s0, s1, … in flag order and keeps the names when the flags are reordered', async () => {
    expect(await opensAndCloses('a', 'b')).toEqual(['s0', 's1']);
    expect(await fs.readFile(path.join(store('a'), 'STORE'), 'utf8')).toBe('s0\n');
    expect(await opensAndCloses('b', 'a')).toEqual(['s1', 's0']);
  });

  it('refuses an empty STORE file (a power cut emptied it) and names the file', async () => {
    await withData('a');
    await fs.writeFile(path.join(store('a'), 'STORE'), '');
    await expect(open('a')).rejects.toThrow(`${path.join(store('a'), 'STORE')} is empty`);
    await expect(open('a')).rejects.toMatchObject({ kind: 'data' });
  });

  it('refuses a damaged STORE file', async () => {
    await withData('a');
    await fs.writeFile(path.join(store('a'), 'STORE'), '\u0000\u0000garbage/');
    await expect(open('a')).rejects.toThrow(/STORE is damaged/);
  });

  it('refuses a store directory that holds objects but no STORE file', async () => {
    await withData('a');
    await fs.rm(path.join(store('a'), 'STORE'));
    await expect(open('a')).rejects.toThrow(/holds objects but no STORE file/);
  });

  it('refuses to start without the --store flags the data directory was created with', async () => {
    await withData('a', 'b');
    await expect(openLocalHome({ dataDir: data() })).rejects.toThrow(
      /is a new, empty object store, but this data directory's stores are s0 \(.*\/a\), s1 \(.*\/b\)\. Start with the --store flags it was created with/,
    );
    await expect(open('a')).rejects.toThrow(/object store "s1" \(last at .*\/b\) is not given/);
    // Nothing was renamed or written by the refused starts.
    expect(await opensAndCloses('a', 'b')).toEqual(['s0', 's1']);
    await expect(fs.stat(path.join(data(), 'store'))).resolves.toBeDefined(); // the refused default dir was made, but is no store
    await expect(fs.stat(path.join(data(), 'store', 'STORE'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a store this data directory does not know', async () => {
    await withData('a');
    await fs.mkdir(path.join(root, 'other'));
    await fs.writeFile(path.join(root, 'other', 'STORE'), 's7\n');
    await expect(open('a', 'other')).rejects.toThrow(/holds object store "s7", which this data directory does not know/);
  });

  it('accepts a replaced, empty disk where a store used to be, under that store name', async () => {
    await withData('a', 'b');
    await fs.rm(store('b'), { recursive: true });
    expect(await opensAndCloses('a', 'b')).toEqual(['s0', 's1']);
    expect(await fs.readFile(path.join(store('b'), 'STORE'), 'utf8')).toBe('s1\n');
  });

  it('accepts a store moved to another directory (its STORE file names it)', async () => {
    await withData('a');
    await fs.rename(store('a'), store('moved'));
    expect(await opensAndCloses('moved')).toEqual(['s0']);
  });

  it('refuses a second server on the same data directory and takes over the lock of a dead one', async () => {
    await opensAndCloses('a');
    await fs.writeFile(path.join(data(), 'ferry.lock'), String(process.ppid)); // another live process holds it
    await expect(open('a')).rejects.toThrow(`in use by another Ferry server (pid ${process.ppid})`);
    await fs.writeFile(path.join(data(), 'ferry.lock'), '999999999'); // a pid that is not running
    expect(await opensAndCloses('a')).toEqual(['s0']);
    await expect(fs.stat(path.join(data(), 'ferry.lock'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await fs.readdir(data())).filter((f) => f.includes('.tmp') || /ferry\.lock\.\d+/.test(f))).toEqual([]);
  });
});
