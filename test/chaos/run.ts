/**
 * `npm run chaos`: the long version of test/chaos. Prints one table — runs, operations, faults injected and
 * every anomaly's count (all must be 0) — and the seed; a failing run prints a one-line replay command.
 *
 *   npm run chaos                                   # everything (≈ 1 000+ fault runs per adapter set, ≥ 100 kills, 10 000 fuzzed requests)
 *   npx tsx test/chaos/run.ts --seed 42             # the same with another seed
 *   npx tsx test/chaos/run.ts --only sim-local --seed 42 --runs 1          # replay one random run
 *   npx tsx test/chaos/run.ts --only matrix-aws --step 17 --mode crash-after   # replay one matrix cell
 *   npx tsx test/chaos/run.ts --only kill --runs 100 | zombie | fuzz --runs 10000
 *   npx tsx test/chaos/run.ts --only power --runs 24                     # power cuts (test/power-loss)
 *   npx tsx test/chaos/run.ts --only matrix-aws,sim-aws --runs 520      # several parts, comma-separated
 *   --quick                                          # a few of each (smoke test of the runner)
 */
import { ANOMALIES, addCounts, describeFailure, zeroCounts, type AnomalyCounts } from '../helpers/checker';
import { FAULT_MODES, type FaultMode } from '../helpers/faults';
import { runFuzz } from './fuzz';
import { killLoop } from './kill-loop';
import { runMatrixCell, runSim, runStepMatrix, type AdapterSet } from './sim';
import { gatedMemberZombie, gatedProducerZombie, sigstopWriterZombie, withServer } from './zombies';

interface Row {
  name: string;
  runs: number;
  ops: number;
  faults: number;
  counts: AnomalyCounts;
  seconds: number;
  note?: string;
}

const argv = process.argv.slice(2);
const arg = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const seed = Number(arg('seed') ?? Math.floor(Math.random() * 2 ** 31));
const only = arg('only');
const quick = argv.includes('--quick');
const runsArg = arg('runs') === undefined ? undefined : Number(arg('runs'));
const rows: Row[] = [];
const failures: string[] = [];

const wanted = (name: string) => !only || only.split(',').includes(name);

async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

function progress(label: string, done: number, total: number): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${label}: ${done}/${total}   `);
  else if (done === total || done % Math.max(1, Math.floor(total / 10)) === 0) process.stderr.write(`${label}: ${done}/${total}\n`);
}

async function sims(adapters: AdapterSet, runs: number): Promise<void> {
  const started = Date.now();
  const row: Row = { name: `random runs, ${adapters} adapters`, runs: 0, ops: 0, faults: 0, counts: zeroCounts(), seconds: 0 };
  const seeds = Array.from({ length: runs }, (_, i) => seed + i);
  await pool(seeds, 6, async (s) => {
    const r = await runSim({ seed: s, adapters, opsPerClient: adapters === 'aws' ? 4 : 10 });
    row.runs++;
    row.ops += r.ops;
    row.faults += r.faults;
    addCounts(row.counts, r.check.counts);
    if (r.check.total) {
      failures.push(`${row.name}, seed ${s}:\n${describeFailure(r.check, r.history, r.replay)}`);
      console.error(`FAILING: ${r.replay}`);
    }
    progress(row.name, row.runs, runs);
  });
  row.seconds = (Date.now() - started) / 1000;
  rows.push(row);
  console.error(`done: ${JSON.stringify(row)}`);
}

async function matrix(adapters: AdapterSet): Promise<void> {
  const started = Date.now();
  const step = arg('step');
  if (step !== undefined) {
    const mode = (arg('mode') ?? 'crash-after') as FaultMode;
    const { result, history } = await runMatrixCell(adapters, Number(step), mode);
    rows.push({
      name: `matrix cell ${step} × ${mode}, ${adapters}`,
      runs: 1,
      ops: history.ops.length,
      faults: 1,
      counts: result.counts,
      seconds: (Date.now() - started) / 1000,
    });
    if (result.total)
      failures.push(describeFailure(result, history, `npx tsx test/chaos/run.ts --only matrix-${adapters} --step ${step} --mode ${mode}`));
    return;
  }
  let done = 0;
  const m = await runStepMatrix(adapters, {
    every: quick ? 10 : 1,
    onRun: () => {
      if (++done % 50 === 0) process.stderr.write(`step matrix, ${adapters}: ${done} runs\n`);
    },
  });
  const counts = m.counts;
  rows.push({
    name: `step matrix (${m.steps.length} steps × ${FAULT_MODES.length} modes), ${adapters}`,
    runs: m.runs,
    ops: m.ops,
    faults: m.faults,
    counts,
    seconds: (Date.now() - started) / 1000,
  });
  console.error(`done: ${JSON.stringify(rows.at(-1))}`);
  for (const f of m.failures) failures.push(`step ${f.index} (${f.step}) × ${f.mode}:\n${f.message}`);
}

async function kills(total: number): Promise<void> {
  const started = Date.now();
  const row: Row = { name: 'SIGKILL the server under load (R=2)', runs: 0, ops: 0, faults: 0, counts: zeroCounts(), seconds: 0 };
  // Several loops so one long history does not get slow to check; each kill is a fault.
  const perLoop = Math.min(25, total);
  for (let i = 0; row.faults < total; i++) {
    const n = Math.min(perLoop, total - row.faults);
    const r = await killLoop(seed + i, n);
    row.runs++;
    row.ops += r.ops;
    row.faults += r.kills;
    addCounts(row.counts, r.check.counts);
    if (r.check.total)
      failures.push(describeFailure(r.check, r.history, `npx tsx test/chaos/run.ts --only kill --seed ${seed + i} --runs ${n}`));
    progress(row.name, row.faults, total);
  }
  row.note = `${row.faults} kills`;
  row.seconds = (Date.now() - started) / 1000;
  rows.push(row);
}

async function powerCuts(total: number): Promise<void> {
  const started = Date.now();
  const row: Row = {
    name: 'power cuts under load (R=2, unsynced writes dropped)',
    runs: 0,
    ops: 0,
    faults: 0,
    counts: zeroCounts(),
    seconds: 0,
  };
  let acked = 0;
  const perLoop = Math.min(10, total);
  for (let i = 0; row.faults < total; i++) {
    const n = Math.min(perLoop, total - row.faults);
    const r = await killLoop(seed + i, n, { powerCut: true, loadMs: [300, 1500] });
    row.runs++;
    row.ops += r.ops;
    row.faults += r.cuts.length;
    acked += r.acked;
    addCounts(row.counts, r.check.counts);
    if (r.check.total)
      failures.push(describeFailure(r.check, r.history, `npx tsx test/chaos/run.ts --only power --seed ${seed + i} --runs ${n}`));
    progress(row.name, row.faults, total);
  }
  row.note = `${row.faults} power cuts, ${acked} acknowledged records, every one read back at its offset with its value`;
  row.seconds = (Date.now() - started) / 1000;
  rows.push(row);
}

async function zombies(gatedRounds: number, stopRounds: number): Promise<void> {
  const started = Date.now();
  const row: Row = {
    name: 'zombies (gated writer + member, SIGSTOP writer)',
    runs: 0,
    ops: 0,
    faults: 0,
    counts: zeroCounts(),
    seconds: 0,
  };
  for (let i = 0; i < gatedRounds; i++) {
    for (const [what, fn] of [
      ['writer', gatedProducerZombie],
      ['member', gatedMemberZombie],
    ] as const) {
      const r = await fn(seed + i);
      row.runs++;
      row.ops += 3;
      row.faults++;
      if (r.zombieAnswer === 'ok' || r.visible) {
        row.counts['stale-commit']++;
        failures.push(`gated ${what} zombie round ${seed + i}: ${JSON.stringify(r)}`);
      }
    }
  }
  await withServer(async (server) => {
    for (let i = 0; i < stopRounds; i++) {
      const r = await sigstopWriterZombie(server, i);
      row.runs++;
      row.ops += r.ackedBefore + r.afterThaw.length + 2;
      row.faults++;
      const stale = r.afterThaw.filter((l) => l.status === 200).length + r.zombieVisible.length;
      row.counts['stale-commit'] += stale;
      if (stale || !r.successorOk) failures.push(`SIGSTOP zombie round ${i}: ${JSON.stringify(r)}`);
    }
  });
  row.seconds = (Date.now() - started) / 1000;
  rows.push(row);
}

async function fuzz(count: number): Promise<void> {
  const started = Date.now();
  const r = await runFuzz(seed, count);
  const counts = zeroCounts();
  counts['5xx'] = r.fiveXX;
  counts.crash = r.crashes + r.noAnswer;
  rows.push({
    name: 'HTTP fuzzer (G10)',
    runs: 1,
    ops: r.requests,
    faults: r.requests,
    counts,
    seconds: (Date.now() - started) / 1000,
    note: `statuses ${JSON.stringify(r.byStatus)}; state changes by refused requests ${r.stateChanges}; RSS ${r.rssStartMb.toFixed(0)} → max ${r.rssMaxMb.toFixed(0)} MB`,
  });
  if (r.problems.length || r.stateChanges)
    failures.push(`fuzzer: ${r.problems.join('\n')}\nreplay: npx tsx test/chaos/run.ts --only fuzz --seed ${seed} --runs ${count}`);
  if (r.rssMaxMb > r.rssStartMb + 200) failures.push(`fuzzer: server RSS grew from ${r.rssStartMb} to ${r.rssMaxMb} MB`);
}

function table(): string {
  const used = [...ANOMALIES];
  const header = ['suite', 'runs', 'ops', 'faults', ...used, 'seconds'];
  const lines = rows.map((r) => [
    r.name,
    String(r.runs),
    String(r.ops),
    String(r.faults),
    ...used.map((a) => String(r.counts[a])),
    r.seconds.toFixed(0),
  ]);
  const total = zeroCounts();
  for (const r of rows) addCounts(total, r.counts);
  lines.push([
    'total',
    String(rows.reduce((s, r) => s + r.runs, 0)),
    String(rows.reduce((s, r) => s + r.ops, 0)),
    String(rows.reduce((s, r) => s + r.faults, 0)),
    ...used.map((a) => String(total[a])),
    rows.reduce((s, r) => s + r.seconds, 0).toFixed(0),
  ]);
  const md = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...lines.map((l) => `| ${l.join(' | ')} |`)];
  return md.join('\n');
}

async function main(): Promise<void> {
  const started = new Date();
  console.log(`Ferry chaos run — seed ${seed} — ${started.toISOString()}`);
  const awsWanted = wanted('sim-aws') || wanted('matrix-aws');
  let stopEmulators: (() => Promise<void>) | undefined;
  if (awsWanted) {
    const { startEmulators, useEmulatorEnv, awaitEmulators } = await import('../helpers/emulators');
    const emulators = await startEmulators();
    useEmulatorEnv(emulators.env);
    await awaitEmulators(120_000);
    stopEmulators = emulators.stop;
  }
  try {
    if (wanted('matrix-local')) await matrix('local');
    if (wanted('sim-local')) await sims('local', runsArg ?? (quick ? 10 : 1_000));
    if (wanted('matrix-aws')) await matrix('aws');
    if (wanted('sim-aws')) await sims('aws', runsArg ?? (quick ? 4 : 520));
    if (wanted('kill')) await kills(runsArg ?? (quick ? 5 : 100));
    if (wanted('power')) await powerCuts(runsArg ?? (quick ? 3 : 24));
    if (wanted('zombie')) await zombies(quick ? 3 : 50, quick ? 1 : 10);
    if (wanted('fuzz')) await fuzz(runsArg ?? (quick ? 300 : 10_000));
  } finally {
    await stopEmulators?.();
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  console.log('');
  console.log(table());
  for (const r of rows.filter((x) => x.note)) console.log(`\n${r.name}: ${r.note}`);
  console.log(
    `\nseed ${seed}; command: npx tsx test/chaos/run.ts --seed ${seed}${only ? ` --only ${only}` : ''}${quick ? ' --quick' : ''}`,
  );
  if (failures.length) {
    console.log(`\n${failures.length} FAILING RUN(S):`);
    for (const f of failures.slice(0, 20)) console.log(`\n${f.split('\nhistory:')[0]}`);
    process.exitCode = 1;
  } else {
    console.log('\nAll anomaly counts are 0.');
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);
