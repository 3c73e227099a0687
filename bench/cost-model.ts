/**
 * The cloud cost model: what AWS would bill for Ferry's counted calls, at list prices.
 *
 * Pure arithmetic. Input: calls counted on the core's ports (bench/lib/cost-count.ts) per produce request,
 * per fetch and per commit; output: dollars per 10⁹ records of 1 KiB with one consumer group. Everything that
 * is an assumption rather than a count is a named field of `Assumptions`, printed beside the figure.
 */

/** List prices, us-east-1, as read from the vendors' price pages. Update the date with the numbers. */
export const PRICES = {
  asOf: '2026-11-25',
  region: 'us-east-1',
  s3Standard: { putPer1k: 0.005, getPer1k: 0.0004, listPer1k: 0.005, gbMonth: 0.023, uploadPerGb: 0, retrievePerGb: 0 },
  s3ExpressOneZone: { putPer1k: 0.00113, getPer1k: 0.00003, listPer1k: 0.00113, gbMonth: 0.11, uploadPerGb: 0.0032, retrievePerGb: 0.0006 },
  dynamoDbOnDemand: {
    perMillionWriteUnits: 0.625,
    perMillionReadUnits: 0.125,
    /** A write unit covers 1 KB of item; a strongly consistent read unit 4 KB; transactions cost double. */
    writeUnitBytes: 1024,
    readUnitBytes: 4096,
    transactionFactor: 2,
  },
  lambdaArm64: { perMillionRequests: 0.2, perGbSecond: 0.0000133334 },
  apiGatewayHttp: { perMillionRequests: 1.0 },
} as const;

/** Published monthly figures for 10⁹ records of 1 KiB with one consumer group (context, not measured here). */
export const ALTERNATIVES: Array<{ name: string; dollars: number }> = [
  { name: 'Kinesis Data Streams, provisioned', dollars: 39 },
  { name: 'SQS standard, batches of 10', dollars: 126 },
  { name: 'Kinesis Data Streams, on-demand', dollars: 147 },
  { name: 'WarpStream BYOC (small)', dollars: 457 },
  { name: 'MSK Serverless', dollars: 705 },
];

/** Calls one operation made on the ports, as DynamoDB and S3 would bill them. */
export interface CallCounts {
  s3Put: number;
  s3Get: number;
  s3List: number;
  s3Delete: number;
  bytesUploaded: number;
  bytesRetrieved: number;
  /** DynamoDB read units (strongly consistent: 1 per 4 KB of items read, per call, at least 1). */
  readUnits: number;
  /** DynamoDB write units (1 per KB of item; ×2 inside a transaction). */
  writeUnits: number;
  /** Metadata writes, and how many of them were multi-item transactions. */
  metaWrites: number;
  metaTransactions: number;
  metaReads: number;
}

export const zeroCounts = (): CallCounts => ({
  s3Put: 0,
  s3Get: 0,
  s3List: 0,
  s3Delete: 0,
  bytesUploaded: 0,
  bytesRetrieved: 0,
  readUnits: 0,
  writeUnits: 0,
  metaWrites: 0,
  metaTransactions: 0,
  metaReads: 0,
});

export function addCounts(a: CallCounts, b: CallCounts, factor = 1): CallCounts {
  const out = { ...a };
  for (const k of Object.keys(out) as Array<keyof CallCounts>) out[k] += b[k] * factor;
  return out;
}

export interface Assumptions {
  records: number;
  recordBytes: number;
  objectStore: 's3Standard' | 's3ExpressOneZone';
  replicationFactor: number;
  retentionHours: number;
  /** Lambda memory (GB) and billed duration per API request of each kind (not measured here: stated). */
  lambdaMemoryGb: number;
  lambdaMs: { produce: number; fetch: number; commit: number };
}

export const DEFAULT_ASSUMPTIONS: Assumptions = {
  records: 1e9,
  recordBytes: 1024,
  objectStore: 's3Standard',
  replicationFactor: 1,
  retentionHours: 24,
  lambdaMemoryGb: 1,
  lambdaMs: { produce: 60, fetch: 30, commit: 15 },
};

/** What one run of the workload counted: per produce request, per fetch, per commit. */
export interface Workload {
  batch: number;
  partitionsPerRequest: number;
  produce: { requests: number; records: number; counts: CallCounts };
  consume: { fetches: number; commits: number; records: number; counts: CallCounts };
  /** Bytes of segment objects per record (payload + framing), from the counted uploads. */
  storedBytesPerRecord: number;
  /** Wall time per call where it was counted (on the emulators: a stand-in for billed Lambda time). */
  measuredMs?: { produce: number; fetch: number; commit: number };
}

export interface CostLine {
  item: string;
  quantity: number;
  dollars: number;
}

export interface CostEstimate {
  lines: CostLine[];
  total: number;
  perRequest: { produceRequests: number; fetches: number; commits: number };
}

/** Dollars for `a.records` records, scaling the counted calls linearly. */
export function price(w: Workload, a: Assumptions = DEFAULT_ASSUMPTIONS): CostEstimate {
  const produceRequests = (a.records / w.produce.records) * w.produce.requests;
  const fetches = (a.records / w.consume.records) * w.consume.fetches;
  const commits = (a.records / w.consume.records) * w.consume.commits;
  const scale = (c: CallCounts, perRecords: number) => addCounts(zeroCounts(), c, a.records / perRecords);
  const all = addCounts(scale(w.produce.counts, w.produce.records), scale(w.consume.counts, w.consume.records));
  const s3 = PRICES[a.objectStore];
  const ddb = PRICES.dynamoDbOnDemand;
  const gb = (bytes: number) => bytes / 1e9;
  // Steady state with time retention: about `retentionHours` of data stored, in R replicas, over a 30-day month.
  const storedGbMonth = gb(a.records * w.storedBytesPerRecord) * (a.retentionHours / (24 * 30));
  const requests = produceRequests + fetches + commits;
  const gbSeconds =
    (a.lambdaMemoryGb * (produceRequests * a.lambdaMs.produce + fetches * a.lambdaMs.fetch + commits * a.lambdaMs.commit)) / 1000;
  const lines: CostLine[] = [
    { item: `S3 PUT (${a.objectStore})`, quantity: all.s3Put, dollars: (all.s3Put / 1000) * s3.putPer1k },
    { item: 'S3 GET', quantity: all.s3Get, dollars: (all.s3Get / 1000) * s3.getPer1k },
    { item: 'S3 LIST', quantity: all.s3List, dollars: (all.s3List / 1000) * s3.listPer1k },
    {
      item: 'S3 upload / retrieval per GB',
      quantity: gb(all.bytesUploaded + all.bytesRetrieved),
      dollars: gb(all.bytesUploaded) * s3.uploadPerGb + gb(all.bytesRetrieved) * s3.retrievePerGb,
    },
    {
      item: `S3 storage (GB-month, ${a.retentionHours} h retention)`,
      quantity: storedGbMonth * a.replicationFactor,
      dollars: storedGbMonth * a.replicationFactor * s3.gbMonth,
    },
    { item: 'DynamoDB write units', quantity: all.writeUnits, dollars: (all.writeUnits / 1e6) * ddb.perMillionWriteUnits },
    { item: 'DynamoDB read units', quantity: all.readUnits, dollars: (all.readUnits / 1e6) * ddb.perMillionReadUnits },
    { item: 'API Gateway HTTP requests', quantity: requests, dollars: (requests / 1e6) * PRICES.apiGatewayHttp.perMillionRequests },
    { item: 'Lambda requests', quantity: requests, dollars: (requests / 1e6) * PRICES.lambdaArm64.perMillionRequests },
    { item: 'Lambda GB-s (arm64)', quantity: gbSeconds, dollars: gbSeconds * PRICES.lambdaArm64.perGbSecond },
  ];
  return { lines, total: lines.reduce((s, l) => s + l.dollars, 0), perRequest: { produceRequests, fetches, commits } };
}

/** DynamoDB units of one metadata write: items' sizes, doubled when it is a multi-item transaction. */
export function writeUnits(itemBytes: number[], transaction: boolean): number {
  const ddb = PRICES.dynamoDbOnDemand;
  const units = itemBytes.reduce((s, b) => s + Math.max(1, Math.ceil(b / ddb.writeUnitBytes)), 0);
  return transaction ? units * ddb.transactionFactor : units;
}

/** DynamoDB units of one strongly consistent read (GetItem or one Query page): 4 KB each, at least 1. */
export function readUnits(totalBytes: number): number {
  return Math.max(1, Math.ceil(totalBytes / PRICES.dynamoDbOnDemand.readUnitBytes));
}

// ---- fixed costs: what runs whether or not anything is produced -------------------------------------------

/** What an idle deployment does, from the constructs' schedules and the client's defaults (stated, per month). */
export interface FixedAssumptions {
  /** Seconds in the 30-day month the figures are for. */
  monthSeconds: number;
  /** Maintenance runs (EventBridge rate, `maintenanceInterval` default 5 min) and an idle pass's billed time. */
  maintenanceEveryS: number;
  maintenanceIdleMs: number;
  maintenanceGb: number;
  /** The delayed-delivery timer (one-minute rule; ends at once when nothing is due). */
  delayTimerEveryS: number;
  delayTimerIdleMs: number;
  /** A consumer group member: heartbeat every sessionTimeout / 3 (default 30 s / 3), long poll of maxWaitTimeInMs (default 5 s). */
  heartbeatEveryS: number;
  heartbeatMs: number;
  longPollS: number;
  /** Memory of the groups function (heartbeats) and of the fetch function (long polls), GB: the constructs' defaults. */
  groupsGb: number;
  fetchGb: number;
  /**
   * Push consumers (issue 14): with nothing produced no run starts; a sweep every 5 minutes reads the run
   * lease, the registry, each consumer's states and heads (≈ 200 ms at 1 GB) and writes nothing. Idle
   * consumer-partitions write nothing (before: the dispatcher ran 55 s of every minute and each idle
   * consumer-partition wrote its lease every 250 ms: $31.69 and $6.48 a month).
   */
  dispatcherSweepEveryS: number;
  dispatcherSweepMs: number;
  dispatcherGb: number;
  /** Reads per consumer-partition per sweep (its head; the states are one query per consumer). */
  sweepReadsPerPartition: number;
  /** Index reads per idle topic-partition per maintenance pass (head, chunks, fence). */
  readsPerPartitionPass: number;
}

export const FIXED_ASSUMPTIONS: FixedAssumptions = {
  monthSeconds: 30 * 24 * 3600,
  maintenanceEveryS: 300,
  maintenanceIdleMs: 400,
  maintenanceGb: 1,
  delayTimerEveryS: 60,
  delayTimerIdleMs: 50,
  heartbeatEveryS: 10,
  heartbeatMs: 20,
  longPollS: 5,
  groupsGb: 0.5,
  fetchGb: 0.5,
  dispatcherSweepEveryS: 300,
  dispatcherSweepMs: 200,
  dispatcherGb: 1,
  sweepReadsPerPartition: 1,
  readsPerPartitionPass: 3,
};

export interface FixedLine {
  item: string;
  per: 'cluster' | 'group member' | 'push consumer-partition' | 'push consumers (cluster)' | 'topic-partition';
  dollars: number;
  how: string;
}

/** Monthly dollars of what runs while nothing is produced, per thing that makes it run. */
export function fixedCosts(f: FixedAssumptions = FIXED_ASSUMPTIONS): FixedLine[] {
  const lambda = PRICES.lambdaArm64;
  const ddb = PRICES.dynamoDbOnDemand;
  const invocations = (everyS: number) => f.monthSeconds / everyS;
  const run = (count: number, ms: number, gb: number) =>
    (count * lambda.perMillionRequests) / 1e6 + (count * ms * gb * lambda.perGbSecond) / 1000;
  const api = (count: number) => (count * PRICES.apiGatewayHttp.perMillionRequests) / 1e6;
  const maint = invocations(f.maintenanceEveryS);
  const timer = invocations(f.delayTimerEveryS);
  const beats = invocations(f.heartbeatEveryS);
  const polls = invocations(f.longPollS);
  const sweeps = invocations(f.dispatcherSweepEveryS);
  return [
    {
      item: 'maintenance pass',
      per: 'cluster',
      dollars: run(maint, f.maintenanceIdleMs, f.maintenanceGb),
      how: `${Math.round(maint)} runs × ${f.maintenanceIdleMs} ms at ${f.maintenanceGb} GB`,
    },
    {
      item: 'delayed-delivery timer',
      per: 'cluster',
      dollars: run(timer, f.delayTimerIdleMs, f.maintenanceGb),
      how: `${Math.round(timer)} runs × ${f.delayTimerIdleMs} ms`,
    },
    {
      item: 'heartbeats',
      per: 'group member',
      dollars: api(beats) + run(beats, f.heartbeatMs, f.groupsGb) + (beats * ddb.perMillionWriteUnits) / 1e6,
      how: `${Math.round(beats)} requests (API Gateway, Lambda, 1 WCU each)`,
    },
    {
      item: 'idle long polls (the fetch function waits, billed)',
      per: 'group member',
      dollars: api(polls) + run(polls, f.longPollS * 1000, f.fetchGb),
      how: `${Math.round(polls)} polls × ${f.longPollS} s at ${f.fetchGb} GB (one request for all the member's partitions)`,
    },
    {
      item: 'dispatcher sweep (no run starts while idle)',
      per: 'push consumers (cluster)',
      dollars: run(sweeps, f.dispatcherSweepMs, f.dispatcherGb),
      how: `${Math.round(sweeps)} sweeps × ${f.dispatcherSweepMs} ms at ${f.dispatcherGb} GB, reads only`,
    },
    {
      item: 'sweep reads (no writes while idle)',
      per: 'push consumer-partition',
      dollars: (sweeps * f.sweepReadsPerPartition * ddb.perMillionReadUnits) / 1e6,
      how: `${f.sweepReadsPerPartition} read per sweep`,
    },
    {
      item: 'index reads by maintenance',
      per: 'topic-partition',
      dollars: (maint * f.readsPerPartitionPass * ddb.perMillionReadUnits) / 1e6,
      how: `${f.readsPerPartitionPass} reads per pass`,
    },
  ];
}

// ---- modelled produce latency -------------------------------------------------------------------------------

/**
 * p99 of one acknowledged produce request on AWS, as the sum of its sequential steps (warm function, no cold
 * start; the partition heads are written in parallel, so their step is the slowest of them). Figures are the
 * services' published latency classes, not measurements of Ferry on AWS (none was possible here):
 * - API Gateway HTTP API overhead: ~10 ms (AWS publishes no figure; the gap between its `Latency` and
 *   `IntegrationLatency` metrics, as users report it);
 * - Lambda invoke of a warm function: ~5 ms;
 * - S3 Standard PUT of a ~1 MB object: 100–200 ms ("Best practices design patterns: optimizing Amazon S3
 *   performance": latency-sensitive small requests see 100–200 ms); S3 Express One Zone: "consistent
 *   single-digit millisecond first-byte read and write request latencies — up to 10x faster than S3 Standard"
 *   (S3 User Guide, Optimizing S3 Express One Zone performance) — 15 ms taken for a 1 MB body;
 * - DynamoDB single-item conditional PutItem: single-digit ms typical, ~15 ms p99; the slowest of 12 in
 *   parallel ~25 ms (the commit was a TransactWriteItems before: ~90 ms p99 by the issue's measurement);
 * - the idempotent producer's ring slot, written after the heads: one more PutItem, ~15 ms.
 */
export const LATENCY_MODEL_MS = {
  apiGateway: 10,
  lambdaInvoke: 5,
  s3Put: { s3Standard: 200, s3ExpressOneZone: 15 },
  heads: 25,
  ringSlot: 15,
};

export function modelledProduceP99(store: 's3Standard' | 's3ExpressOneZone'): number {
  const m = LATENCY_MODEL_MS;
  return m.apiGateway + m.lambdaInvoke + m.s3Put[store] + m.heads + m.ringSlot;
}
