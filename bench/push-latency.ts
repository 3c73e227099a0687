/**
 * Produce → push-consumer invocation latency through the AWS home as AWS runs it (test/aws-home/harness.ts:
 * the example stack's bundles as single-request Lambda instances, IAM on every call, DynamoDB Local + s3rver,
 * started here). No schedule runs: every delivery is started by the produce function's wake-up.
 *
 *   npx tsx bench/push-latency.ts [--cold 15] [--warm 40]
 *
 * - cold: one record at a time, each after the previous run ended (idle 1 s + linger + margin): the path
 *   commit → lease read → async invoke → dispatcher start → fetch → invoke.
 * - warm: a record every 200 ms while a run is live: the path commit → the run's next 250 ms poll → invoke.
 *
 * Latency = the consumer's `Date.now()` at the start of its invocation − the producer's clock just before its
 * send (one machine, one clock). What it leaves out: Lambda's real cold starts and async queue, S3's and
 * DynamoDB's real latencies (see the AWS budget in README "Push consumers").
 */
import { FerryClient } from '../lib/client';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

async function main(): Promise<void> {
  const { startEmulators, useEmulatorEnv, awaitEmulators } = await import('../test/helpers/emulators');
  const emulators = await startEmulators();
  useEmulatorEnv(emulators.env);
  await awaitEmulators(120_000);
  const { startAwsHarness } = await import('../test/aws-home/harness');
  const aws = await startAwsHarness({ env: { FerryDispatcherFunction: { FERRY_DISPATCH_IDLE_MS: '1000' } } });
  try {
    await aws.deployTopics();
    const client = new FerryClient({ url: aws.url });
    const producer = client.producer({ idempotent: false });
    const sent = new Map<string, number>();
    const starts = () => {
      const seen = new Map<string, number>();
      for (const line of aws.logs(true).split('\n')) {
        if (!line.startsWith('{"partition"')) continue;
        const b = JSON.parse(line) as { partition: number; from: string; count: number; at: number };
        for (let i = 0; i < b.count; i++) seen.set(`${b.partition}:${BigInt(b.from) + BigInt(i)}`, b.at);
      }
      return seen;
    };
    const send = async (i: number) => {
      const t = Date.now();
      const [r] = await producer.send({ topic: 'orders', messages: [{ key: `k${i}`, value: { i } }] });
      sent.set(`${r.partition}:${r.offset}`, t);
    };
    const until = async (n: number) => {
      for (let i = 0; i < 300 && [...sent.keys()].filter((k) => starts().has(k)).length < n; i++) await sleep(50);
    };
    // Warm the pools once (process start is not a Lambda cold start; measured separately below).
    await send(-1);
    await until(1);
    const latencies = (keys: string[]) => {
      const s = starts();
      return keys.filter((k) => s.has(k)).map((k) => s.get(k)! - sent.get(k)!);
    };

    const coldKeys: string[] = [];
    for (let i = 0; i < arg('cold', 15); i++) {
      await sleep(4_000); // the previous run has ended: idle 1 s, linger 1.5 s, margin
      const before = new Set(sent.keys());
      await send(i);
      coldKeys.push(...[...sent.keys()].filter((k) => !before.has(k)));
      await until(sent.size);
    }
    const warmKeys: string[] = [];
    const warmBefore = new Set(sent.keys());
    for (let i = 0; i < arg('warm', 40); i++) {
      await send(1000 + i);
      await sleep(200);
    }
    warmKeys.push(...[...sent.keys()].filter((k) => !warmBefore.has(k)));
    await until(sent.size);
    const cold = latencies(coldKeys);
    const warm = latencies(warmKeys);
    const stats = aws.stats();
    const line = (name: string, xs: number[]) =>
      console.log(
        `${name.padEnd(28)} n=${String(xs.length).padStart(3)}  p50 ${pct(xs, 50)} ms  p99 ${pct(xs, 99)} ms  max ${Math.max(...xs)} ms`,
      );
    console.log('produce → handler invocation start, through the AWS home on the emulators (this machine)');
    line('no run live (wake-up)', cold);
    line('run live (a record / 200 ms)', warm);
    console.log(
      `dispatcher async wakes: ${stats.asyncInvocations}; dispatcher invocations: ${JSON.stringify(stats.invocations[aws.fn('Dispatcher').logicalId])}`,
    );
    await producer.disconnect();
  } finally {
    await aws.close();
    await emulators.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
