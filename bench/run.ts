/**
 * Ferry's benchmark (BENCHMARKS.md): Ferry's embedded server beside Redis Streams (AOF, fsync always) and the
 * disk's own ceiling, measured in the same run on the same machine, plus the cloud cost model.
 *
 *   npm run bench                 quick: 3 trials per cell, a few minutes
 *   npm run bench -- --full       every cell of the matrix, 5 longer trials
 *   npm run bench -- --only produce,e2e      some sections (produce, consume, e2e, cost)
 *   npm run bench -- --profile    runs the Ferry server under --cpu-prof (see bench/profile-summary.ts)
 *
 * Writes bench/results/<time>.json (every trial) and bench/results/latest.md (the tables, also printed).
 * Only loopback addresses are used; every server started here is stopped here.
 */
import { execSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MultiBar, Presets } from 'cli-progress';
import {
  ALTERNATIVES,
  DEFAULT_ASSUMPTIONS,
  FIXED_ASSUMPTIONS,
  fixedCosts,
  LATENCY_MODEL_MS,
  modelledProduceP99,
  PRICES,
  price,
  type Assumptions,
  type CallCounts,
  type FixedAssumptions,
  type FixedLine,
  type Workload,
} from './cost-model';
import { countOneRequest, countWorkload } from './lib/cost-count';
import { ensureRedisInstalled, startFerry, startRedis, type FerryProcess, type RedisProcess } from './lib/servers';
import { FerrySystem, RedisSystem, type Cell, type System } from './lib/systems';
import {
  diskCeilingTrial,
  fill,
  fixedRateTrial,
  produceTrial,
  readTrial,
  type FixedRateTrial,
  type ThroughputTrial,
} from './lib/workloads';
import { fmt1, fmtInt, fmtRatio, fmtSpread, mdTable, median, Payloads, summarize, type Summary } from './lib/util';

// ---- configuration --------------------------------------------------------------------------------------

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const option = (name: string) => {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return argv[i].includes('=') ? argv[i].split('=').slice(1).join('=') : argv[i + 1];
};
const FULL = flag('full');
const SECTIONS = new Set((option('only') ?? 'produce,consume,e2e,cost').split(','));
const PROFILE = flag('profile');
const KIB = 1024;
const PARTITIONS = 12;

interface Config {
  mode: 'quick' | 'full';
  trials: number;
  durationMs: number;
  warmupMs: number;
  ceilingMs: number;
  cells: Array<Omit<Cell, 'partitions'>>;
  readRecords: number;
  e2e: Array<{ rate: number; batch: number; durationMs: number }>;
  e2eTrials: number;
  costRecords: number;
}

function cellsOf(sizes: number[], batches: number[], producers: number[]) {
  return sizes.flatMap((size) => batches.flatMap((batch) => producers.map((p) => ({ size, batch, producers: p }))));
}

const CONFIG: Config = FULL
  ? {
      mode: 'full',
      trials: 5,
      durationMs: 4000,
      warmupMs: 500,
      ceilingMs: 2000,
      cells: cellsOf([KIB, 100], [1, 100, 1000], [1, 4, 8, 16]),
      readRecords: 240_000,
      e2e: [
        { rate: 1000, batch: 1, durationMs: 10_000 },
        { rate: 10_000, batch: 10, durationMs: 10_000 },
      ],
      e2eTrials: 5,
      costRecords: 48_000,
    }
  : {
      mode: 'quick',
      trials: 3,
      durationMs: 1500,
      warmupMs: 300,
      ceilingMs: 1000,
      cells: [...cellsOf([KIB], [1, 100, 1000], [1, 8]), { size: 100, batch: 100, producers: 8 }],
      readRecords: 48_000,
      e2e: [
        { rate: 1000, batch: 1, durationMs: 4000 },
        { rate: 10_000, batch: 10, durationMs: 3000 },
      ],
      e2eTrials: 3,
      costRecords: 12_000,
    };
const trialsOverride = Number(option('trials'));
if (trialsOverride > 0) CONFIG.trials = CONFIG.e2eTrials = trialsOverride;

/** Bytes a record carries: the value, plus a key of a few bytes (k0…k9999). */
const recordBytes = (size: number) => size + 5;
const sizeName = (size: number) => (size === KIB ? '1 KiB' : `${size} B`);

// ---- results --------------------------------------------------------------------------------------------

interface ProduceResult {
  cell: Cell;
  ferry: ThroughputTrial[];
  redis: ThroughputTrial[];
  ceiling?: ThroughputTrial[];
}

interface Results {
  startedAt: string;
  finishedAt?: string;
  command: string;
  config: Config;
  machine: { cpus: number; cpuModel: string; memoryGb: number; kernel: string; node: string; redis: string; disk: string };
  git: string;
  ferryConsumeMode: string;
  produce: ProduceResult[];
  consume: {
    records: number;
    wholeRead: { ferry: ThroughputTrial[]; redis: ThroughputTrial[] };
    groupPoll: { ferry: ThroughputTrial[]; redis: ThroughputTrial[] };
  } | null;
  e2e: Array<{ rate: number; batch: number; ferry: FixedRateTrial[]; redis: FixedRateTrial[] }>;
  memory: { ferryPeakBytes: number; ferryRssAfterSection: Record<string, number>; redisPeakBytes: number };
  cost: {
    assumptions: Assumptions;
    prices: typeof PRICES;
    rows: Array<{
      label: string;
      batch: number;
      replicationFactor: number;
      objectStore: string;
      total: number;
      lines: Array<{ item: string; quantity: number; dollars: number }>;
      workload: Workload;
    }>;
    perRequest: Array<{ partitions: number; replicationFactor: number; counts: CallCounts }>;
    fixed: FixedLine[];
    fixedAssumptions: FixedAssumptions;
    adapters: string;
  } | null;
  profiles: string[];
}

// ---- progress -------------------------------------------------------------------------------------------

const tty = process.stderr.isTTY;
const bars = new MultiBar(
  {
    format: ' {bar} {percentage}% | {section} | {step}',
    hideCursor: true,
    clearOnComplete: false,
    stopOnComplete: false,
    barsize: 30,
    noTTYOutput: false,
  },
  Presets.shades_classic,
);
let totalSteps = 0;
let doneSteps = 0;
const overall = bars.create(1, 0, { section: 'starting', step: '' });
const current = bars.create(100, 0, { section: 'trial', step: '' });
function step(section: string, text: string) {
  overall.update(doneSteps, { section, step: `${doneSteps}/${totalSteps}` });
  current.update(0, { section: 'now', step: text });
  if (!tty) process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${section}: ${text}\n`);
}
function stepDone() {
  doneSteps++;
  overall.update(doneSteps);
  current.update(100);
}
const trialProgress = (f: number) => current.update(Math.round(f * 100));
const note = (s: string) => (tty ? bars.log(`${s}\n`) : process.stderr.write(`${s}\n`));

// ---- the run --------------------------------------------------------------------------------------------

async function main() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-'));
  const resultsDir = path.join(__dirname, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const startedAt = new Date();
  const payloads = new Payloads();
  let ferry: FerryProcess | undefined;
  let redis: RedisProcess | undefined;
  const profileDir = path.join(root, 'profiles');

  const cellsWithCeiling = new Set<string>();
  const ceilingKey = (c: { size: number; batch: number }) => `${c.size}/${c.batch}`;
  for (const c of CONFIG.cells) cellsWithCeiling.add(ceilingKey(c));
  totalSteps =
    (SECTIONS.has('produce') ? CONFIG.cells.length * CONFIG.trials * 2 + cellsWithCeiling.size * CONFIG.trials : 0) +
    (SECTIONS.has('consume') ? 2 + CONFIG.trials * 4 : 0) +
    (SECTIONS.has('e2e') ? CONFIG.e2e.length * CONFIG.e2eTrials * 2 : 0) +
    (SECTIONS.has('cost') ? 6 : 0) +
    2;
  overall.setTotal(totalSteps);

  const results: Results = {
    startedAt: startedAt.toISOString(),
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    config: CONFIG,
    machine: machine(),
    git: gitDescribe(),
    ferryConsumeMode: 'partition',
    produce: [],
    consume: null,
    e2e: [],
    memory: { ferryPeakBytes: NaN, ferryRssAfterSection: {}, redisPeakBytes: NaN },
    cost: null,
    profiles: [],
  };

  const cleanup = async () => {
    await ferry?.stop().catch(() => undefined);
    await redis?.stop().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  };
  process.once('unhandledRejection', (e) => {
    bars.stop();
    console.error(e);
    void cleanup().then(() => process.exit(1));
  });
  process.once('SIGINT', () => {
    bars.stop();
    void cleanup().then(() => process.exit(130));
  });

  try {
    step('setup', 'redis-server (installing if missing), ferry dev');
    const redisBin = ensureRedisInstalled(note);
    mkdirSync(path.join(root, 'redis'));
    redis = await startRedis(redisBin, path.join(root, 'redis'));
    results.machine.redis = redis.version;
    ferry = await startFerry(path.join(root, 'ferry'), PROFILE ? { cpuProfDir: profileDir } : {});
    const consumeMode = await FerrySystem.detectGroups(ferry.url);
    results.ferryConsumeMode = consumeMode;
    const systems: System[] = [new FerrySystem(ferry.url, payloads, consumeMode), new RedisSystem(redis, payloads)];
    const [ferrySys, redisSys] = systems;
    stepDone();

    // Produce: for each cell, trials alternate the order (ceiling, Ferry, Redis / Redis, Ferry) against drift.
    if (SECTIONS.has('produce')) {
      const ceilingDone = new Set<string>();
      for (const c of CONFIG.cells) {
        const cell: Cell = { ...c, partitions: PARTITIONS };
        const name = `${sizeName(c.size)} · batch ${c.batch} · ${c.producers} producer${c.producers > 1 ? 's' : ''}`;
        const topic = `produce-${c.size}-${c.batch}-${c.producers}`;
        const r: ProduceResult = { cell, ferry: [], redis: [] };
        const withCeiling = !ceilingDone.has(ceilingKey(c));
        if (withCeiling) {
          ceilingDone.add(ceilingKey(c));
          r.ceiling = [];
        }
        const senders = { ferry: await ferrySys.producers(topic, cell), redis: await redisSys.producers(topic, cell) };
        for (let t = 0; t < CONFIG.trials; t++) {
          if (r.ceiling) {
            step('produce', `${name} · disk ceiling · trial ${t + 1}`);
            r.ceiling.push(diskCeilingTrial(root, c.batch, recordBytes(c.size), CONFIG.ceilingMs));
            stepDone();
          }
          const order: Array<'ferry' | 'redis'> = t % 2 ? ['redis', 'ferry'] : ['ferry', 'redis'];
          for (const who of order) {
            step('produce', `${name} · ${who} · trial ${t + 1}`);
            r[who].push(await produceTrial(senders[who], c.batch, recordBytes(c.size), CONFIG.durationMs, CONFIG.warmupMs, trialProgress));
            stepDone();
          }
        }
        results.produce.push(r);
        await redisSys.drop(topic, PARTITIONS);
        for (const s of systems) await s.close();
        note(
          `  ${name}: Ferry ${fmtInt(median(r.ferry.map((x) => x.recordsPerSec)))} rec/s, Redis ${fmtInt(median(r.redis.map((x) => x.recordsPerSec)))} rec/s`,
        );
      }
      results.memory.ferryRssAfterSection.produce = ferry.memory().rss;
    }

    // Consume: one topic of readRecords × 1 KiB, read whole (plain reads) and by a group (commit per fetch).
    if (SECTIONS.has('consume')) {
      const topic = 'read';
      const n = CONFIG.readRecords;
      results.consume = { records: n, wholeRead: { ferry: [], redis: [] }, groupPoll: { ferry: [], redis: [] } };
      for (const s of systems) {
        step('consume', `filling ${s.name} with ${fmtInt(n)} records of 1 KiB`);
        await fill(s, topic, PARTITIONS, KIB, n);
        await s.close();
        stepDone();
      }
      for (let t = 0; t < CONFIG.trials; t++) {
        for (const s of t % 2 ? [redisSys, ferrySys] : [ferrySys, redisSys]) {
          step('consume', `whole-topic read · ${s.name} · trial ${t + 1}`);
          results.consume.wholeRead[s.name].push(
            await readTrial(s, topic, PARTITIONS, recordBytes(KIB), n, { commit: false, tag: `w${t}` }),
          );
          await s.close();
          stepDone();
          step('consume', `group poll · ${s.name} · trial ${t + 1}`);
          results.consume.groupPoll[s.name].push(
            await readTrial(s, topic, PARTITIONS, recordBytes(KIB), n, { commit: true, tag: `g${t}` }),
          );
          await s.close();
          stepDone();
        }
      }
      await redisSys.drop(topic, PARTITIONS);
      results.memory.ferryRssAfterSection.consume = ferry.memory().rss;
    }

    // End-to-end: open-loop produce at a fixed rate, a consumer following; a new topic per trial.
    if (SECTIONS.has('e2e')) {
      for (const e of CONFIG.e2e) {
        const row = { rate: e.rate, batch: e.batch, ferry: [] as FixedRateTrial[], redis: [] as FixedRateTrial[] };
        for (let t = 0; t < CONFIG.e2eTrials; t++) {
          for (const s of t % 2 ? [redisSys, ferrySys] : [ferrySys, redisSys]) {
            const topic = `e2e-${e.rate}-${t}`;
            step('end-to-end', `${fmtInt(e.rate)} rec/s (batch ${e.batch}) · ${s.name} · trial ${t + 1}`);
            row[s.name].push(
              await fixedRateTrial(
                s,
                topic,
                { ...e, size: KIB, partitions: PARTITIONS, connections: 64, payloads, tag: `e${e.rate}-${t}` },
                trialProgress,
              ),
            );
            await s.drop(topic, PARTITIONS);
            await s.close();
            stepDone();
          }
        }
        results.e2e.push(row);
      }
      results.memory.ferryRssAfterSection.e2e = ferry.memory().rss;
    }

    results.memory.ferryPeakBytes = ferry.memory().peak;
    results.memory.redisPeakBytes = redis.memory().peak;
    step('teardown', 'stopping the servers');
    await ferry.stop();
    await redis.stop();
    stepDone();

    if (SECTIONS.has('cost')) results.cost = await costModel(payloads);
  } finally {
    bars.stop();
    if (PROFILE) results.profiles = saveProfiles(profileDir, resultsDir);
    await cleanup();
  }

  results.finishedAt = new Date().toISOString();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const jsonFile = path.join(resultsDir, `${stamp}-${CONFIG.mode}.json`);
  writeFileSync(jsonFile, `${JSON.stringify(results, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
  const md = report(results);
  writeFileSync(path.join(resultsDir, 'latest.md'), md);
  process.stdout.write(`\n${md}\n`);
  process.stdout.write(`\nWrote ${path.relative(process.cwd(), jsonFile)} and bench/results/latest.md\n`);
}

// ---- cost model -----------------------------------------------------------------------------------------

async function costModel(payloads: Payloads): Promise<NonNullable<Results['cost']>> {
  // Counted on the AWS adapters: DynamoDB Local and s3rver, started here for the section.
  step('cost model', 'starting DynamoDB Local and s3rver');
  const { startEmulators, awaitEmulators, useEmulatorEnv } = await import('../test/helpers/emulators');
  const emulators = await startEmulators();
  try {
    useEmulatorEnv(emulators.env);
    await awaitEmulators(120_000);
    stepDone();
    return await costRows(payloads);
  } finally {
    await emulators.stop();
  }
}

async function costRows(payloads: Payloads): Promise<NonNullable<Results['cost']>> {
  const rows: NonNullable<Results['cost']>['rows'] = [];
  const variants: Array<{ batch: number; r: number; store: Assumptions['objectStore'] }> = [
    { batch: 1, r: 1, store: 's3Standard' },
    { batch: 100, r: 1, store: 's3Standard' },
    { batch: 1000, r: 1, store: 's3Standard' },
    { batch: 1000, r: 2, store: 's3Standard' },
  ];
  const counted = new Map<string, Workload>();
  for (const v of variants) {
    step('cost model', `counting calls on the AWS adapters · batch ${v.batch} · R = ${v.r}`);
    const w = await countWorkload({
      batch: v.batch,
      partitionsPerRequest: PARTITIONS,
      // Calls grow linearly with records: a few hundred requests per variant are enough to count them.
      totalRecords: Math.min(CONFIG.costRecords, v.batch * 400),
      replicationFactor: v.r,
      payloads,
      adapters: 'aws',
      onProgress: trialProgress,
    });
    counted.set(`${v.batch}/${v.r}`, w);
    const a = { ...DEFAULT_ASSUMPTIONS, replicationFactor: v.r, objectStore: v.store };
    const e = price(w, a);
    rows.push({
      label: `batch ${v.batch}, R = ${v.r}, S3 Standard`,
      batch: v.batch,
      replicationFactor: v.r,
      objectStore: v.store,
      total: e.total,
      lines: e.lines,
      workload: w,
    });
    stepDone();
  }
  {
    const w = counted.get('1000/1')!;
    const a = { ...DEFAULT_ASSUMPTIONS, objectStore: 's3ExpressOneZone' as const };
    const e = price(w, a);
    rows.push({
      label: 'batch 1000, R = 1, S3 Express One Zone',
      batch: 1000,
      replicationFactor: 1,
      objectStore: a.objectStore,
      total: e.total,
      lines: e.lines,
      workload: w,
    });
  }
  step('cost model', 'S3 PUTs and DynamoDB writes per produce request for 1 / 12 / 100 partitions');
  const perRequest: NonNullable<Results['cost']>['perRequest'] = [];
  for (const r of [1, 2]) {
    for (const partitions of [1, 12, 100]) {
      perRequest.push({
        partitions,
        replicationFactor: r,
        counts: await countOneRequest({ batch: 1000, partitions, replicationFactor: r, payloads, adapters: 'aws' }),
      });
    }
  }
  stepDone();
  return {
    assumptions: DEFAULT_ASSUMPTIONS,
    prices: PRICES,
    rows,
    perRequest,
    fixed: fixedCosts(FIXED_ASSUMPTIONS),
    fixedAssumptions: FIXED_ASSUMPTIONS,
    adapters:
      'the AWS adapters (DynamoDBMetadataStore on DynamoDB Local, S3ObjectStore on s3rver) behind counting wrappers; the idempotent producer, one group member using the member fetch',
  };
}

// ---- report ---------------------------------------------------------------------------------------------

const rate = (xs: ThroughputTrial[]) => summarize(xs.map((x) => x.recordsPerSec));
const lat = (xs: ThroughputTrial[], k: 'p50' | 'p99' | 'p999') => median(xs.map((x) => x.latency?.[k] ?? NaN));
const ms = (x: number) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)) : '–');
/** Median of the paired per-trial ratios, with their range. */
function pairedRatio(a: number[], b: number[]): Summary {
  const n = Math.min(a.length, b.length);
  return summarize(Array.from({ length: n }, (_, i) => a[i] / b[i]));
}
const ratioSpread = (s: Summary) => `${fmtRatio(s.median)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

function report(r: Results): string {
  const out: string[] = [];
  const date = r.startedAt.slice(0, 10);
  out.push(`## Ferry benchmark — ${date} (${r.config.mode})`);
  out.push('');
  out.push(
    `Machine: ${r.machine.cpus} cores (${r.machine.cpuModel}), ${r.machine.memoryGb} GB RAM, ${r.machine.kernel}, disk ${r.machine.disk}; ` +
      `Node ${r.machine.node}; Redis ${r.machine.redis} (\`appendonly yes\`, \`appendfsync always\`). Command: \`${r.command}\` at ${r.git}.`,
  );
  out.push(
    `Each cell: ${r.config.trials} trials of ${r.config.durationMs / 1000} s (after ${r.config.warmupMs} ms warm-up), Ferry and Redis alternating; ` +
      `medians with the (min–max) over trials; ratios are medians of the per-trial pairs (and their range). ` +
      `Values are random ASCII strings: "1 KiB" = a JSON string of 1 024 characters, keys \`k0\`–\`k9999\` over ${PARTITIONS} partitions ` +
      `(Redis: one stream per partition, pipelined \`XADD\` of the same batch). Ferry runs as \`node bin/ferry.js dev\` in its own process; ` +
      `the clients (HTTP keep-alive, ioredis) share one other process. Disk ceiling: one writer appending the same bytes and \`fdatasync\` per batch.`,
  );
  out.push('');

  if (r.produce.length) {
    out.push('### Produce (records/s; latency per request, send → durable ack)');
    out.push('');
    const ceilingOf = (c: Cell) => r.produce.find((p) => p.ceiling && p.cell.size === c.size && p.cell.batch === c.batch)?.ceiling;
    out.push(
      mdTable(
        [
          'value',
          'batch',
          'producers',
          'Ferry rec/s',
          'Ferry MB/s',
          'Ferry p50 / p99 / p99.9 ms',
          'Redis rec/s',
          'Redis p50 / p99 / p99.9 ms',
          'Ferry / Redis',
          'disk ceiling rec/s',
          'Ferry / ceiling',
        ],
        r.produce.map((p) => {
          const f = rate(p.ferry);
          const red = rate(p.redis);
          const ceil = ceilingOf(p.cell);
          const cs = ceil ? rate(ceil) : undefined;
          return [
            sizeName(p.cell.size),
            String(p.cell.batch),
            String(p.cell.producers),
            fmtSpread(f),
            fmt1(median(p.ferry.map((x) => x.mbPerSec))),
            `${ms(lat(p.ferry, 'p50'))} / ${ms(lat(p.ferry, 'p99'))} / ${ms(lat(p.ferry, 'p999'))}`,
            fmtSpread(red),
            `${ms(lat(p.redis, 'p50'))} / ${ms(lat(p.redis, 'p99'))} / ${ms(lat(p.redis, 'p999'))}`,
            ratioSpread(pairedRatio(f.trials, red.trials)),
            cs ? fmtSpread(cs) : '–',
            cs ? fmtRatio(f.median / cs.median) : '–',
          ];
        }),
      ),
    );
    out.push('');
  }

  if (r.consume) {
    const c = r.consume;
    out.push(
      `### Consume (${fmtInt(c.records)} records of 1 KiB over ${PARTITIONS} partitions, one reader per partition, 1 000 records per read)`,
    );
    out.push('');
    const groupNote =
      r.ferryConsumeMode === 'group'
        ? 'Ferry: consumer group (join, partition fetch, offset commit per fetch)'
        : 'Ferry: the group routes do not exist yet, so "group poll" is plain partition fetches without commits';
    out.push(
      mdTable(
        ['workload', 'Ferry rec/s', 'Redis rec/s', 'Ferry / Redis'],
        [
          [
            'whole-topic read (Redis: XREADGROUP … NOACK)',
            fmtSpread(rate(c.wholeRead.ferry)),
            fmtSpread(rate(c.wholeRead.redis)),
            ratioSpread(pairedRatio(rate(c.wholeRead.ferry).trials, rate(c.wholeRead.redis).trials)),
          ],
          [
            `group poll (Redis: XREADGROUP + XACK; ${groupNote})`,
            fmtSpread(rate(c.groupPoll.ferry)),
            fmtSpread(rate(c.groupPoll.redis)),
            ratioSpread(pairedRatio(rate(c.groupPoll.ferry).trials, rate(c.groupPoll.redis).trials)),
          ],
        ],
      ),
    );
    out.push('');
  }

  if (r.e2e.length) {
    out.push('### End-to-end at a fixed rate (1 KiB, open loop; latency from the scheduled send time, ms)');
    out.push('');
    const p = (xs: FixedRateTrial[], w: 'produce' | 'endToEnd', k: 'p50' | 'p99' | 'p999') => median(xs.map((x) => x[w][k]));
    const rows: string[][] = [];
    for (const e of r.e2e) {
      for (const who of ['ferry', 'redis'] as const) {
        const xs = e[who];
        rows.push([
          `${fmtInt(e.rate)} rec/s, batch ${e.batch}`,
          who === 'ferry' ? 'Ferry' : 'Redis',
          `${ms(p(xs, 'produce', 'p50'))} / ${ms(p(xs, 'produce', 'p99'))} / ${ms(p(xs, 'produce', 'p999'))}`,
          `${ms(p(xs, 'endToEnd', 'p50'))} / ${ms(p(xs, 'endToEnd', 'p99'))} / ${ms(p(xs, 'endToEnd', 'p999'))}`,
          `${ms(Math.min(...xs.map((x) => x.endToEnd.p99)))}–${ms(Math.max(...xs.map((x) => x.endToEnd.p99)))}`,
          fmtInt(median(xs.map((x) => x.offeredPerSec))),
          `${fmtInt(xs.reduce((s, x) => s + x.delivered, 0))} / ${fmtInt(xs.reduce((s, x) => s + x.sent, 0))}`,
        ]);
      }
    }
    out.push(
      mdTable(
        [
          'rate',
          'system',
          'produce p50 / p99 / p99.9',
          'end-to-end p50 / p99 / p99.9',
          'e2e p99 range',
          'offered rec/s',
          'delivered / sent',
        ],
        rows,
      ),
    );
    out.push('');
    out.push(
      r.ferryConsumeMode === 'group'
        ? "Ferry's consumer is a group member long-polling each partition (`waitMs=500`) and committing after each fetch; Redis's is one `XREADGROUP BLOCK` over the 12 streams with `XACK`."
        : "Ferry's consumer long-polls each partition (`waitMs=500`; no group routes yet, so no commits); Redis's is one `XREADGROUP BLOCK` over the 12 streams with `XACK`.",
    );
    out.push('');
  }

  out.push(
    `### Memory\n\nFerry server peak RSS (VmHWM): **${mb(r.memory.ferryPeakBytes)}** over the whole run ` +
      `(after each section: ${
        Object.entries(r.memory.ferryRssAfterSection)
          .map(([k, v]) => `${k} ${mb(v)}`)
          .join(', ') || '–'
      }); ` +
      `Redis peak RSS: ${mb(r.memory.redisPeakBytes)} (Redis keeps every record in memory; streams are deleted between cells).`,
  );
  out.push('');

  if (r.cost) {
    const c = r.cost;
    const a = c.assumptions;
    out.push(
      `### Cloud cost model (list prices ${c.prices.region}, ${c.prices.asOf}; dollars per 10⁹ records of 1 KiB a month, one consumer group)`,
    );
    out.push('');
    out.push(
      `Assumptions: ${PARTITIONS} partitions per produce request (batch 1: one), each request its own invocation (no coalescing), sent by the idempotent producer; ` +
        `one group member fetching up to 1 000 records from all its partitions per request and committing what each fetch returned (one commit request); ${a.retentionHours} h retention; Lambda arm64 ${a.lambdaMemoryGb} GB for ` +
        `${a.lambdaMs.produce} / ${a.lambdaMs.fetch} / ${a.lambdaMs.commit} ms per produce / fetch / commit (stated, not measured); one API Gateway request per call. ` +
        `DynamoDB: a one-item write is a conditional PutItem (1 unit per KB), a multi-item write a transaction (2 units per KB per item); reads strongly consistent. ` +
        `Counted on: ${c.adapters}.`,
    );
    out.push('');
    const line = (row: (typeof c.rows)[number], prefix: string) =>
      row.lines.filter((l) => l.item.startsWith(prefix)).reduce((s, l) => s + l.dollars, 0);
    out.push(
      mdTable(
        ['configuration', 'total $', 'S3 $', 'DynamoDB $', 'API GW + Lambda $', 'S3 PUTs', 'DynamoDB WCU', 'produce requests'],
        c.rows.map((row) => [
          row.label,
          `**${row.total.toFixed(2)}**`,
          line(row, 'S3').toFixed(2),
          line(row, 'DynamoDB').toFixed(2),
          (line(row, 'API') + line(row, 'Lambda')).toFixed(2),
          row.lines.find((l) => l.item.startsWith('S3 PUT'))!.quantity.toExponential(2),
          row.lines.find((l) => l.item === 'DynamoDB write units')!.quantity.toExponential(2),
          ((1e9 / row.workload.produce.records) * row.workload.produce.requests).toExponential(2),
        ]),
      ),
    );
    out.push('');
    out.push(`For comparison (vendors' price pages, not measured): ${ALTERNATIVES.map((x) => `${x.name} ≈ $${x.dollars}`).join('; ')}.`);
    out.push('');
    const measured = c.rows.filter((row) => row.workload.measuredMs);
    if (measured.length) {
      out.push(
        'Wall time per call on the emulators (not AWS; Lambda is billed per ms of its own): ' +
          measured
            .map(
              (row) =>
                `batch ${row.batch} R${row.replicationFactor}: produce ${ms(row.workload.measuredMs!.produce)} ms, fetch ${ms(row.workload.measuredMs!.fetch)} ms, commit ${ms(row.workload.measuredMs!.commit)} ms`,
            )
            .join('; ') +
          '.',
      );
      out.push('');
    }
    out.push("Fixed costs — what runs while nothing is produced (dollars a month; schedules from the constructs, the client's defaults):");
    out.push('');
    out.push(
      mdTable(
        ['item', 'per', '$ / month', 'how'],
        c.fixed.map((f) => [f.item, f.per, f.dollars.toFixed(2), f.how]),
      ),
    );
    out.push('');
    const m = LATENCY_MODEL_MS;
    out.push(
      `Modelled produce p99 on AWS (warm, idempotent; published latency classes, not measured — bench/cost-model.ts names the sources): ` +
        `S3 Standard ${modelledProduceP99('s3Standard')} ms, S3 Express One Zone ${modelledProduceP99('s3ExpressOneZone')} ms ` +
        `(API Gateway ${m.apiGateway} + Lambda ${m.lambdaInvoke} + S3 PUT ${m.s3Put.s3Standard} / ${m.s3Put.s3ExpressOneZone} + heads in parallel ${m.heads} + ring slot ${m.ringSlot}).`,
    );
    out.push('');
    out.push('Per produce request of 1 000 records:');
    out.push('');
    out.push(
      mdTable(
        ['partitions touched', 'R', 'S3 PUTs', 'metadata writes (of them transactions)', 'DynamoDB WCU'],
        c.perRequest.map((p) => [
          String(p.partitions),
          String(p.replicationFactor),
          String(p.counts.s3Put),
          `${p.counts.metaWrites} (${p.counts.metaTransactions})`,
          String(p.counts.writeUnits),
        ]),
      ),
    );
    out.push('');
  }

  out.push('### Targets (issue 9)');
  out.push('');
  out.push(mdTable(['target', 'measured', 'met?'], targets(r)));
  out.push('');
  return out.join('\n');
}

function targets(r: Results): string[][] {
  const rows: string[][] = [];
  const yes = (ok: boolean) => (ok ? 'yes' : '**no**');
  const cell = (size: number, batch: number, producers: number) =>
    r.produce.find((p) => p.cell.size === size && p.cell.batch === batch && p.cell.producers === producers);
  const b100 = cell(KIB, 100, 8);
  if (b100) {
    const x = pairedRatio(rate(b100.ferry).trials, rate(b100.redis).trials);
    rows.push(['produce batch 100, 8 producers ≥ 2× Redis', `${ratioSpread(x)}`, yes(x.median >= 2)]);
  }
  const b1000 = r.produce.filter((p) => p.cell.size === KIB && p.cell.batch === 1000);
  const ceil = b1000.find((p) => p.ceiling)?.ceiling;
  if (b1000.length && ceil) {
    const best = b1000.reduce((a, b) => (rate(a.ferry).median >= rate(b.ferry).median ? a : b));
    const x = rate(best.ferry).median / rate(ceil).median;
    rows.push([
      `produce batch 1 000 ≥ 60 % of the disk ceiling (best: ${best.cell.producers} producers)`,
      `${(x * 100).toFixed(0)} %`,
      yes(x >= 0.6),
    ]);
  }
  const e1000 = r.e2e.find((e) => e.rate === 1000);
  if (e1000) {
    const fp = median(e1000.ferry.map((x) => x.produce.p99));
    const rp = median(e1000.redis.map((x) => x.produce.p99));
    rows.push([
      'produce p99 at 1 000 rec/s, batch 1 ≤ 1.5× Redis',
      `${ms(fp)} ms vs ${ms(rp)} ms = ${fmtRatio(fp / rp)}`,
      yes(fp / rp <= 1.5),
    ]);
    const e = median(e1000.ferry.map((x) => x.endToEnd.p99));
    rows.push(['end-to-end p99 ≤ 20 ms at 1 000 rec/s', `${ms(e)} ms`, yes(e <= 20)]);
  }
  if (r.consume && r.produce.length) {
    const bestProduce = Math.max(...r.produce.filter((p) => p.cell.size === KIB).map((p) => rate(p.ferry).median));
    const read = rate(r.consume.wholeRead.ferry).median;
    rows.push([
      'whole-topic read ≥ 5× the produce rate (best 1 KiB produce)',
      `${fmtInt(read)} vs ${fmtInt(bestProduce)} rec/s = ${fmtRatio(read / bestProduce)}`,
      yes(read / bestProduce >= 5),
    ]);
  }
  if (Number.isFinite(r.memory.ferryPeakBytes)) {
    rows.push(['peak server RSS ≤ 200 MB', `${(r.memory.ferryPeakBytes / 1e6).toFixed(0)} MB`, yes(r.memory.ferryPeakBytes <= 200e6)]);
  }
  if (r.cost) {
    const row = r.cost.rows.find((x) => x.batch === 1000 && x.replicationFactor === 1 && x.objectStore === 's3Standard');
    if (row)
      rows.push(['cloud ≤ $15 per 10⁹ records at batch 1 000 (R = 1, S3 Standard)', `$${row.total.toFixed(2)}`, yes(row.total <= 15)]);
    const bad = r.cost.perRequest.filter((p) => p.counts.s3Put !== p.replicationFactor);
    rows.push([
      'S3 PUTs per produce request = R for 1 / 12 / 100 partitions',
      r.cost.perRequest.map((p) => `${p.partitions}p R${p.replicationFactor}: ${p.counts.s3Put}`).join(', '),
      yes(bad.length === 0),
    ]);
  }
  return rows;
}

// ---- environment ----------------------------------------------------------------------------------------

function machine(): Results['machine'] {
  let disk = '?';
  try {
    disk = execSync(`df -h --output=source,fstype ${os.tmpdir()} | tail -1`, { encoding: 'utf8' }).trim().replace(/\s+/g, ' ');
  } catch {
    // informational only
  }
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? '?',
    memoryGb: Math.round(os.totalmem() / 1e9),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    redis: '?',
    disk,
  };
}

function gitDescribe(): string {
  try {
    return execSync('git rev-parse --short HEAD', { cwd: path.join(__dirname, '..'), encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}

function saveProfiles(dir: string, resultsDir: string): string[] {
  try {
    const saved: string[] = [];
    for (const f of readdirSync(dir)) {
      const to = path.join(resultsDir, `ferry-server-${f}`);
      copyFileSync(path.join(dir, f), to);
      saved.push(to);
      note(
        `CPU profile of the Ferry server: ${path.relative(process.cwd(), to)} (npx tsx bench/profile-summary.ts ${path.relative(process.cwd(), to)})`,
      );
    }
    return saved;
  } catch {
    return [];
  }
}

main().catch((e) => {
  bars.stop();
  console.error(e);
  process.exit(1);
});
