/**
 * Concurrency as AWS runs it: 16 producer instances on one topic of 12 partitions, 4 members of one group
 * consuming meanwhile, maintenance passes running; DynamoDB cancels transactions whose items are part of
 * another in-flight transaction. Every acknowledged record must be in the log exactly once and be read by the
 * group. Prints the numbers the issue asks for (requests, denials, TransactionConflicts, commits/s).
 */
import { FerryClient, type Consumer } from '../../lib/client';
import { startAwsHarness, type AwsHarness } from './harness';

const PRODUCERS = 16;
const PARTITIONS = 12;
const MEMBERS = 4;
const REQUESTS_PER_PRODUCER = 6;
/** Production stops here even if commits crawl on a loaded machine (the rest is counted as unsent). */
const PRODUCE_DEADLINE_MS = 60_000;
const RECORDS_PER_REQUEST = 4;

describe('AWS home under concurrency (16 producer instances, 4 group members, maintenance)', () => {
  let aws: AwsHarness;
  const consumers: Consumer[] = [];
  let maintaining = true;
  beforeAll(async () => {
    aws = await startAwsHarness();
  }, 120_000);
  afterAll(async () => {
    // Also after a failed or timed-out case: nothing may keep polling a closed harness.
    maintaining = false;
    await Promise.race([Promise.all(consumers.map((c) => c.disconnect())), new Promise((r) => setTimeout(r, 10_000))]);
    await aws?.close();
  }, 30_000);

  it('keeps every acknowledged record exactly once and the group reads them all', async () => {
    const client = new FerryClient({ url: aws.url, retry: { retries: 4, initialRetryTime: 50 } });
    const topic = `load-${Date.now().toString(36)}`;
    await client.admin().createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });

    const seen = new Map<string, number>();
    for (let m = 0; m < MEMBERS; m++) {
      const c = client.consumer({ groupId: `${topic}-g`, sessionTimeoutMs: 10_000, maxWaitTimeInMs: 1_000, handleSignals: false });
      await c.subscribe({ topic });
      await c.run({ eachMessage: async ({ message }) => void seen.set(String(message.value), (seen.get(String(message.value)) ?? 0) + 1) });
      consumers.push(c);
    }
    // Production starts once the group is stable, so no rebalance hands a partition over mid-run.
    const stable = async () => {
      const gens = consumers.map((c) => c.assignment()?.generation);
      const owned = consumers.reduce((n, c) => n + (c.assignment()?.assignments ?? []).reduce((k, a) => k + a.partitions.length, 0), 0);
      return new Set(gens).size === 1 && owned === PARTITIONS;
    };
    for (let i = 0; i < 100 && !(await stable()); i++) await new Promise((r) => setTimeout(r, 200));

    const maintenanceErrors: string[] = [];
    const maintenance = (async () => {
      let passes = 0;
      while (maintaining) {
        await aws.invoke(aws.fn('Maintenance').logicalId, {}).catch((e: Error) => maintenanceErrors.push(e.message.split('\n')[0]));
        passes++;
        await new Promise((r) => setTimeout(r, 500));
      }
      return passes;
    })();

    const before = aws.stats();
    const acked: string[] = [];
    const failures: string[] = [];
    const unsent: string[] = [];
    const started = Date.now();
    await Promise.all(
      Array.from({ length: PRODUCERS }, async (_, p) => {
        const producer = client.producer(); // idempotent, as the client is by default
        for (let r = 0; r < REQUESTS_PER_PRODUCER; r++) {
          if (Date.now() - started > PRODUCE_DEADLINE_MS) {
            unsent.push(`producer ${p}: request ${r}`);
            continue;
          }
          const values = Array.from({ length: RECORDS_PER_REQUEST }, (_, i) => `p${p}-r${r}-i${i}`);
          try {
            await producer.send({ topic, messages: values.map((v, i) => ({ key: `p${p}-${i}`, value: v })) });
            acked.push(...values);
          } catch (e) {
            failures.push(`${(e as Error).message}`);
          }
        }
        await producer.disconnect();
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    const after = aws.stats();

    const deadline = Date.now() + 30_000;
    while (acked.some((v) => !seen.has(v)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    maintaining = false;
    const passes = await maintenance;
    await Promise.all(consumers.map((c) => c.disconnect()));
    consumers.length = 0;

    // The log itself: every acknowledged value once.
    const inLog = new Map<string, number>();
    for (let p = 0; p < PARTITIONS; p++) {
      let offset = '0';
      for (;;) {
        const page = await (await fetch(`${aws.url}/v1/topics/${topic}/partitions/${p}/records?offset=${offset}&maxRecords=10000`)).json();
        for (const rec of page.records) inLog.set(String(rec.value), (inLog.get(String(rec.value)) ?? 0) + 1);
        if (page.nextOffset === page.highWatermark) break;
        offset = page.nextOffset;
      }
    }

    const produceId = aws.fn('Produce').logicalId;
    const commits = after.invocations[produceId].invocations - (before.invocations[produceId]?.invocations ?? 0);
    const summary = {
      requestsThroughHarness: {
        api: after.apiRequests,
        dynamodb: after.dynamoRequests,
        s3: after.s3Requests,
        lambdaApi: after.lambdaApiRequests,
      },
      denials: after.denials,
      transactionConflicts: after.transactionConflicts - before.transactionConflicts,
      writeConflicts: after.writeConflicts - before.writeConflicts,
      transactions: after.transactions - before.transactions,
      produceRequests: commits,
      produceInstances: after.invocations[produceId].coldStarts,
      maxConcurrentProduce: after.invocations[produceId].maxConcurrent,
      acknowledgedRequests: acked.length / RECORDS_PER_REQUEST,
      commitsPerSecond: Number((acked.length / RECORDS_PER_REQUEST / seconds).toFixed(1)),
      seconds,
      maintenancePasses: passes,
      maintenanceErrors: maintenanceErrors.length,
      failedSends: failures.length,
      unsentAtDeadline: unsent.length,
      firstFailure: failures[0],
    };
    console.log(`AWS harness concurrency: ${JSON.stringify(summary)}`);

    expect(failures).toEqual([]);
    // Requests left unsent at the deadline are the emulators' speed, not an error; most must have gone.
    expect(acked.length / RECORDS_PER_REQUEST).toBeGreaterThanOrEqual((PRODUCERS * REQUESTS_PER_PRODUCER) / 2);
    expect(maintenanceErrors).toEqual([]);
    expect(acked.filter((v) => inLog.get(v) !== 1)).toEqual([]);
    expect([...inLog.keys()].filter((v) => !acked.includes(v))).toEqual([]); // nothing unacknowledged (no failure was definite here)
    expect(acked.filter((v) => !seen.has(v))).toEqual([]);
    expect(after.denials).toEqual({});
    expect(summary.maxConcurrentProduce).toBeGreaterThanOrEqual(12);
  }, 180_000);
});
