/**
 * Transaction conflicts as DynamoDB judges them (a write touching an item of an in-flight transaction is
 * cancelled; a transaction here takes 10 ms), with 16 producer instances on one topic of 12 partitions, then
 * 4 group members committing and heartbeating. Prints conflicts by item kind and commits/s.
 *
 *   npx tsx bench/conflicts.ts [repo root, default .] [1: retry conflicts in the adapter, as it did before issue 13]
 *
 * To compare with an older commit: `git worktree add /tmp/old <commit>`, link node_modules, run with
 * `/tmp/old 1`.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
const root = path.resolve(process.argv[2] ?? '.');
const retryArg = process.argv[3];
const retryInAdapter = retryArg === '1';
async function main() {
  const { FsObjectStore } = await import(`${root}/lib/adapters/local/fs-object-store`);
  const { SqliteMetadataStore } = await import(`${root}/lib/adapters/local/sqlite-metadata-store`);
  const { randomIds, systemClock } = await import(`${root}/lib/adapters/system`);
  const { createCore } = await import(`${root}/lib/core/create-core`);
  const { makeSettings } = await import(`${root}/lib/core/settings`);
  const { FerryError } = await import(`${root}/lib/protocol/errors`);
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-measure-'));
  const store = await new FsObjectStore('s0', path.join(dir, 's0')).open();
  const meta = new SqliteMetadataStore(path.join(dir, 'meta.sqlite'));
  const held = new Set<string>();
  const conflicts: Record<string, number> = {};
  const kind = (pk: string, sk: string) => (pk.startsWith('g#') ? `group ${sk.split('#')[0]}` : pk.split('#')[0]);
  const wrapped = {
    maxOpsPerWrite: 100,
    multiItemWrites: 'costly' as const,
    get: (pk: string, sk: string) => meta.get(pk, sk),
    query: (pk: string, r: any) => meta.query(pk, r),
    async write(ops: any[]): Promise<any> {
      for (let attempt = 1; ; attempt++) {
        const keys = ops.map((o) => `${o.pk}\u0000${o.sk}`);
        const clashes = ops.filter((_o, i) => held.has(keys[i]));
        if (clashes.length) {
          const c = clashes.find((o) => o.pk.startsWith('p#')) ?? clashes[0];
          conflicts[kind(c.pk, c.sk)] = (conflicts[kind(c.pk, c.sk)] ?? 0) + 1;
          if (retryInAdapter && attempt < 6) {
            await new Promise((r) => setTimeout(r, Math.random() * 10 * 2 ** attempt));
            continue;
          }
          throw new FerryError('unavailable', 'conflict', { reason: 'conflict' });
        }
        if (ops.length === 1) return meta.write(ops);
        for (const k of keys) held.add(k);
        try {
          await new Promise((r) => setTimeout(r, 10)); // a DynamoDB transaction takes ~10 ms
          return await meta.write(ops);
        } finally {
          for (const k of keys) held.delete(k);
        }
      }
    },
  };
  const ctx = (m: any) => ({
    meta: m,
    stores: [store],
    clock: systemClock,
    ids: randomIds,
    settings: makeSettings({ commitAttempts: 20, topicCacheMs: 0 }),
  });
  await createCore(ctx(meta)).log.topics.create({ name: 'busy', partitions: 12 });
  const producers = Array.from({ length: 16 }, () => createCore(ctx(wrapped)).log);
  let ok = 0,
    failed = 0;
  const t0 = Date.now();
  await Promise.all(
    producers.map(async (log, i) => {
      for (let n = 0; n < 30; n++) {
        try {
          await log.produce('busy', [
            { key: null, value: { encoding: 'json', bytes: Buffer.from(`"${i}-${n}"`) }, headers: {}, partition: (i * 7 + n) % 12 },
          ]);
          ok++;
        } catch {
          failed++;
        }
      }
    }),
  );
  const ms = Date.now() - t0;
  const gConf0 = { ...conflicts };
  // 4 members, each commits its partitions 10 times and heartbeats
  const members = Array.from({ length: 4 }, () => createCore(ctx(wrapped)).log);
  const views: any[] = [];
  for (const m of members) views.push(await m.groups.join('g', { topics: ['busy'] }));
  const cur = await Promise.all(views.map((v, i) => members[i].groups.heartbeat('g', v.memberId)));
  let cOk = 0,
    cFail = 0;
  const g0 = Date.now();
  await Promise.all(
    cur.map(async (v: any, i: number) => {
      for (let n = 1; n <= 10; n++) {
        await Promise.all([
          ...v.assignments[0].partitions.map((p: number) =>
            members[i].groups
              .commit('g', {
                memberId: v.memberId,
                generation: v.generation,
                offsets: [{ topic: 'busy', partition: p, offset: BigInt(n) }],
              })
              .then(
                () => cOk++,
                () => cFail++,
              ),
          ),
          members[i].groups.heartbeat('g', v.memberId).catch(() => cFail++),
        ]);
      }
    }),
  );
  const gms = Date.now() - g0;
  const groupConf = Object.fromEntries(
    Object.entries(conflicts)
      .map(([k, v]) => [k, v - (gConf0[k] ?? 0)])
      .filter(([, v]) => (v as number) > 0),
  );
  console.log(
    JSON.stringify({
      retryInAdapter,
      produce: { ok, failed, ms, commitsPerS: Math.round((ok / ms) * 1000), conflicts: gConf0 },
      groups: { commitsOk: cOk, failed: cFail, ms: gms, conflicts: groupConf },
    }),
  );
  await meta.close();
}
void main();
