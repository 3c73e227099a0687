/**
 * Corruption with two replicas (`--store a --store b`, replicationFactor 2): damage one copy and reads fall
 * back to the other with the exact bytes; damage every copy and reads answer `data` (500) — never a skip,
 * never wrong bytes. Bit flips land at seeded random positions of the committed segment.
 */
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startEmbedded, type Embedded } from '../../lib/embedded';
import { prng } from '../helpers/faults';

async function segments(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.seg')) out.push(path.join(e.parentPath, e.name));
  }
  return out.sort();
}

type Damage = 'flip' | 'truncate';

async function damage(file: string, how: Damage, random: () => number): Promise<void> {
  if (how === 'truncate') {
    const size = (await stat(file)).size;
    await truncate(file, Math.floor(random() * size));
    return;
  }
  const bytes = await readFile(file);
  const i = Math.floor(random() * bytes.length);
  bytes[i] ^= 1 << Math.floor(random() * 8);
  await writeFile(file, bytes);
}

describe('corruption of replicated segments (R=2 over two stores)', () => {
  let root: string;
  let ferry: Embedded;
  const values = Array.from({ length: 20 }, (_, i) => ({ i, text: `value-${i}-${'x'.repeat(i * 7)}` }));

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'ferry-replicas-'));
    ferry = await startEmbedded({
      dataDir: path.join(root, 'data'),
      storeDirs: [path.join(root, 'a'), path.join(root, 'b')],
      port: 0,
      maintenanceIntervalMs: 0,
    });
    const post = (p: string, body: unknown) =>
      fetch(`${ferry.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('/v1/topics', { name: 'orders', partitions: 1, replicationFactor: 2 })).status).toBe(201);
    expect((await post('/v1/topics/orders/records', { records: values.map((value) => ({ value })) })).status).toBe(200);
  });
  afterEach(async () => {
    await ferry.close();
    await rm(root, { recursive: true, force: true });
  });

  const read = async () => {
    const res = await fetch(`${ferry.url}/v1/topics/orders/partitions/0/records?offset=0&maxRecords=100`);
    return { status: res.status, body: (await res.json()) as { records?: Array<{ offset: string; value: unknown }>; error?: string } };
  };

  const cases: Array<[string, Damage, Array<'a' | 'b'>]> = [];
  for (const how of ['flip', 'truncate'] as const) {
    cases.push([`${how} in replica a`, how, ['a']], [`${how} in replica b`, how, ['b']], [`${how} in both replicas`, how, ['a', 'b']]);
  }

  it.each(cases)('%s: a good copy is served exactly, or the read reports data (never a skip or wrong bytes)', async (_, how, which) => {
    const good = await readFile((await segments(path.join(root, 'a')))[0]);
    for (let seed = 1; seed <= 6; seed++) {
      const random = prng(seed * 7919 + which.length);
      // Both copies start pristine at every seed.
      for (const store of ['a', 'b']) for (const f of await segments(path.join(root, store))) await writeFile(f, good);
      for (const store of which) for (const f of await segments(path.join(root, store))) await damage(f, how, random);

      const { status, body } = await read();
      if (which.length === 1) {
        expect(status).toBe(200);
        expect(body.records!.map((r) => r.value)).toEqual(values);
        expect(body.records!.map((r) => r.offset)).toEqual(values.map((_, i) => String(i)));
      } else {
        // Every copy is damaged: a flip may land in bytes the CRC covers (data) — there are no others.
        expect({ status, error: body.error }).toEqual({ status: 500, error: 'data' });
      }
    }
  });

  it('counts replica fallbacks (a sign that a store is losing data)', async () => {
    const before = ferry.log.fetcher.stats.replicaFallbacks;
    for (const f of await segments(path.join(root, 'a'))) await damage(f, 'flip', prng(3));
    for (const f of await segments(path.join(root, 'b'))) await writeFile(f, await readFile(f)); // untouched
    expect((await read()).status).toBe(200);
    // The first replica tried may be a or b; with a damaged, at most one fallback per read.
    expect(ferry.log.fetcher.stats.replicaFallbacks - before).toBeLessThanOrEqual(1);
  });

  it('tells the operator of every replica fallback, naming the replica (ferry dev logs it)', async () => {
    await ferry.close();
    const warnings: Array<{ message: string; fields: Record<string, unknown> }> = [];
    ferry = await startEmbedded({
      dataDir: path.join(root, 'data'),
      storeDirs: [path.join(root, 'a'), path.join(root, 'b')],
      port: 0,
      maintenanceIntervalMs: 0,
      onWarning: (message, fields) => warnings.push({ message, fields }),
    });
    const good = await readFile((await segments(path.join(root, 'a')))[0]);
    const seen: string[] = [];
    // Whichever replica a read tries first, damaging each in turn makes one of the reads fall back.
    for (const damaged of ['a', 'b'] as const) {
      for (const store of ['a', 'b']) for (const f of await segments(path.join(root, store))) await writeFile(f, good);
      for (const f of await segments(path.join(root, damaged))) await damage(f, 'flip', prng(11));
      const before = warnings.length;
      expect((await read()).status).toBe(200);
      for (const w of warnings.slice(before)) seen.push(String(w.fields.replica));
      // --store a is store s0, --store b is s1.
      expect(warnings.slice(before).map((w) => w.fields.replica)).toEqual(
        warnings.slice(before).map(() => (damaged === 'a' ? 's0' : 's1')),
      );
    }
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(warnings[0]).toMatchObject({
      message: expect.stringMatching(/has no intact copy of a batch; reading the next replica \(run ferry repair\)/),
      fields: { topic: 'orders', partition: 0 },
    });
  });
});
