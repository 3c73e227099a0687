/** G7 (invariant 7): damage is detected and reported as `data`, never skipped or served as wrong bytes. */
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startEmbedded, type Embedded } from '../../lib/embedded';
import { SqliteMetadataStore } from '../../lib/adapters/local/sqlite-metadata-store';

async function segmentFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.seg')) out.push(path.join(e.parentPath, e.name));
  }
  return out;
}

describe('corruption', () => {
  let dataDir: string;
  let ferry: Embedded;
  const post = (p: string, body: unknown) =>
    fetch(`${ferry.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ferry-corrupt-'));
    ferry = await startEmbedded({ dataDir, port: 0 });
    await post('/v1/topics', { name: 'orders', partitions: 1 });
    await post('/v1/topics/orders/records', { records: [{ value: 'first batch' }] });
  });
  afterEach(async () => {
    await ferry.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const readAll = () => fetch(`${ferry.url}/v1/topics/orders/partitions/0/records?offset=0`);

  it('reports a flipped bit in a committed segment as a data error (500), not as records', async () => {
    const [file] = await segmentFiles(dataDir);
    const bytes = await readFile(file);
    bytes[bytes.length - 3] ^= 0x10; // inside the record's value
    await writeFile(file, bytes);
    const res = await readAll();
    expect(res.status).toBe(500);
    const body = await res.json();
    expect(body.error).toBe('data');
    expect(body.message).toMatch(/CRC32C/);
  });

  it('reports a truncated segment as a data error', async () => {
    const [file] = await segmentFiles(dataDir);
    await truncate(file, (await stat(file)).size - 5);
    const res = await readAll();
    expect(res.status).toBe(500);
    expect((await res.json()).error).toBe('data');
  });

  it('reports a missing segment (and no other replica) as a data error', async () => {
    const [file] = await segmentFiles(dataDir);
    await rm(file);
    const res = await readAll();
    expect(res.status).toBe(500);
    expect((await res.json()).message).toMatch(/object missing/);
  });

  it('keeps serving undamaged batches of the same partition', async () => {
    await post('/v1/topics/orders/records', { records: [{ value: 'second batch' }] });
    const files = (await segmentFiles(dataDir)).sort();
    const bytes = await readFile(files[0]);
    bytes[bytes.length - 3] ^= 0x01;
    await writeFile(files[0], bytes);
    const res = await fetch(`${ferry.url}/v1/topics/orders/partitions/0/records?offset=1`);
    expect(res.status).toBe(200);
    expect((await res.json()).records.map((r: { value: string }) => r.value)).toEqual(['second batch']);
    expect((await readAll()).status).toBe(500);
  });
});

describe('a damaged metadata database', () => {
  it('is refused when opened, with a clear message', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ferry-sqlite-'));
    const file = path.join(dir, 'meta.sqlite');
    const meta = new SqliteMetadataStore(file);
    for (let i = 0; i < 2000; i++) await meta.write([{ op: 'put', pk: `p${i % 7}`, sk: `s${i}`, data: { i, pad: 'x'.repeat(200) } }]);
    await meta.close();
    const bytes = await readFile(file);
    // Scribble over b-tree pages past the header (page 1 stays readable so the file still opens).
    for (let i = 8192; i < bytes.length; i += 512) bytes.fill(0x5a, i, i + 64);
    await writeFile(file, bytes);
    expect(() => new SqliteMetadataStore(file)).toThrow(/cannot be opened/);
    await rm(dir, { recursive: true, force: true });
  });
});
