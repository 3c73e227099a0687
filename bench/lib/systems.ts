/**
 * The two systems behind one small interface, so every workload drives Ferry and Redis Streams the same way:
 * the same payload bytes, the same batch per request, the same keys spread over the same number of
 * partitions (Redis: one stream per partition, key → stream by hash, like Ferry's partitioner).
 */
import type Redis from 'ioredis';
import { JsonClient } from './net';
import type { RedisProcess } from './servers';
import { keyShard, Payloads, randomKey } from './util';

export interface Cell {
  /** Value length in characters (1024 = "1 KiB": a JSON string of 1024 ASCII characters). */
  size: number;
  batch: number;
  producers: number;
  partitions: number;
}

/** Sends one batch and resolves on the durable ack. */
export type SendBatch = () => Promise<void>;

/** One record as delivered to a consumer: its value text (latency workloads embed a timestamp in it). */
export type OnRecords = (values: string[]) => void;

export interface Consumer {
  /** Records read so far. */
  readonly received: number;
  stop(): Promise<void>;
}

export interface System {
  readonly name: 'ferry' | 'redis';
  /** One sender per producer, each with its own connection, cycling through a few prebuilt batches. */
  producers(topic: string, cell: Cell): Promise<SendBatch[]>;
  /** Sends one request of ready records (used by the fixed-rate workload). */
  sender(
    topic: string,
    partitions: number,
    connections: number,
  ): Promise<(records: Array<{ key: string; value: string }>) => Promise<void>>;
  /** Reads the whole topic once; `commit` acknowledges each read like a group consumer (XACK / offset commit). */
  readAll(topic: string, partitions: number, opts: { commit: boolean; tag: string }): Promise<number>;
  /** A consumer following the topic from its current end, handing record values to `onRecords`. */
  follow(topic: string, partitions: number, onRecords: OnRecords, tag: string): Promise<Consumer>;
  /** Frees the topic's space if the system keeps it in memory. */
  drop(topic: string, partitions: number): Promise<void>;
  /** Closes every connection opened so far (between cells). */
  close(): Promise<void>;
}

const PREBUILT = 4;

// ---- Ferry ----------------------------------------------------------------------------------------------

/** How a Ferry consumer reads: a consumer group (when the server has the routes) or plain partition fetches. */
export type FerryConsumeMode = 'group' | 'partition';

export class FerrySystem implements System {
  readonly name = 'ferry';
  private readonly clients: JsonClient[] = [];
  private readonly heartbeats: NodeJS.Timeout[] = [];

  constructor(
    readonly url: string,
    private readonly payloads: Payloads,
    /** Whether the server answers the consumer-group routes (detected once, see `detectGroups`). */
    readonly consumeMode: FerryConsumeMode,
  ) {}

  /** `group` when `GET /v1/groups` exists; `partition` while the routes are not built. Override with FERRY_BENCH_CONSUME. */
  static async detectGroups(url: string): Promise<FerryConsumeMode> {
    const forced = process.env.FERRY_BENCH_CONSUME;
    if (forced === 'group' || forced === 'partition') return forced;
    const c = new JsonClient(url, 1);
    try {
      const a = await c.request('GET', '/v1/groups');
      return a.status === 200 ? 'group' : 'partition';
    } finally {
      c.close();
    }
  }

  private client(maxSockets: number): JsonClient {
    const c = new JsonClient(this.url, maxSockets);
    this.clients.push(c);
    return c;
  }

  async createTopic(name: string, partitions: number): Promise<void> {
    const c = this.client(1);
    const a = await c.request('POST', '/v1/topics', JSON.stringify({ name, partitions }));
    if (a.status !== 201 && a.status !== 409) throw new Error(`create topic ${name}: ${a.status} ${a.text}`);
  }

  async producers(topic: string, cell: Cell): Promise<SendBatch[]> {
    await this.createTopic(topic, cell.partitions);
    const path = `/v1/topics/${topic}/records`;
    return Array.from({ length: cell.producers }, () => {
      const c = this.client(1);
      const bodies = Array.from({ length: PREBUILT }, () =>
        JSON.stringify({
          records: Array.from({ length: cell.batch }, () => ({ key: randomKey(), value: this.payloads.value(cell.size) })),
        }),
      );
      let i = 0;
      return async () => {
        const a = await c.request('POST', path, bodies[i++ % PREBUILT]);
        if (a.status !== 200) throw new Error(`produce → ${a.status}: ${a.text.slice(0, 300)}`);
      };
    });
  }

  async sender(topic: string, partitions: number, connections: number) {
    await this.createTopic(topic, partitions);
    const c = this.client(connections);
    const path = `/v1/topics/${topic}/records`;
    return async (records: Array<{ key: string; value: string }>) => {
      const a = await c.request('POST', path, JSON.stringify({ records }));
      if (a.status !== 200) throw new Error(`produce → ${a.status}: ${a.text.slice(0, 300)}`);
    };
  }

  /** Joins a group for the topic; answers the partitions to read and a commit function (group mode only). */
  private async join(c: JsonClient, group: string, topic: string, partitions: number) {
    if (this.consumeMode === 'partition') {
      return { partitions: Array.from({ length: partitions }, (_, p) => p), commit: undefined, starts: new Map<number, bigint>() };
    }
    const m = await c.json<{ memberId: string; generation: number; assignments: Array<{ topic: string; partitions: number[] }> }>(
      'POST',
      `/v1/groups/${group}/members`,
      { topics: [topic], sessionTimeoutMs: 60_000 },
    );
    // Heartbeats keep the membership alive while the workload runs (unref'd: never holds the process open).
    const beat = setInterval(
      () => void c.request('POST', `/v1/groups/${group}/members/${m.memberId}/heartbeat`, '{}').catch(() => undefined),
      2000,
    );
    beat.unref();
    this.heartbeats.push(beat);
    const mine = m.assignments.find((a) => a.topic === topic)?.partitions ?? [];
    const state = await c.json<{
      offsets?: Array<{ topic: string; partition: number; committedOffset: string | null; logStartOffset: string }>;
    }>('GET', `/v1/groups/${group}`);
    const starts = new Map<number, bigint>();
    for (const o of state.offsets ?? []) if (o.topic === topic) starts.set(o.partition, BigInt(o.committedOffset ?? o.logStartOffset));
    const commit = async (partition: number, offset: string) => {
      await c.json('POST', `/v1/groups/${group}/offsets`, {
        memberId: m.memberId,
        generation: m.generation,
        offsets: [{ topic, partition, offset }],
      });
    };
    return { partitions: mine, commit, starts };
  }

  async readAll(topic: string, partitions: number, opts: { commit: boolean; tag: string }): Promise<number> {
    const c = this.client(partitions + 1);
    // Whole-topic read: plain partition fetches. Group poll: the group's assignment and a commit per fetch.
    const g = opts.commit && this.consumeMode === 'group' ? await this.join(c, `read-${opts.tag}`, topic, partitions) : undefined;
    const parts = g ? g.partitions : Array.from({ length: partitions }, (_, p) => p);
    let total = 0;
    await Promise.all(
      parts.map(async (p) => {
        let offset = '0';
        for (;;) {
          const r = await c.json<{ records: unknown[]; nextOffset: string; highWatermark: string }>(
            'GET',
            `/v1/topics/${topic}/partitions/${p}/records?offset=${offset}&maxRecords=1000`,
          );
          total += r.records.length;
          offset = r.nextOffset;
          if (opts.commit && g?.commit && r.records.length) await g.commit(p, offset);
          if (BigInt(offset) >= BigInt(r.highWatermark) || r.records.length === 0) return;
        }
      }),
    );
    return total;
  }

  async follow(topic: string, partitions: number, onRecords: OnRecords, tag: string): Promise<Consumer> {
    const c = this.client(partitions + 2);
    const g = await this.join(c, `follow-${tag}`, topic, partitions);
    let stopped = false;
    let received = 0;
    let failure: unknown;
    const loops = g.partitions
      .map(async (p) => {
        // Start at the current end (the topic is new, so 0 unless the group says otherwise).
        let offset = (g.starts.get(p) ?? 0n).toString();
        while (!stopped) {
          const r = await c.json<{ records: Array<{ value: string }>; nextOffset: string }>(
            'GET',
            `/v1/topics/${topic}/partitions/${p}/records?offset=${offset}&maxRecords=1000&waitMs=500`,
          );
          if (r.records.length) {
            onRecords(r.records.map((x) => x.value));
            received += r.records.length;
            offset = r.nextOffset;
            if (g.commit) await g.commit(p, offset);
          }
        }
      })
      .map((loop) =>
        loop.catch((e) => {
          failure ??= e;
          stopped = true;
        }),
      );
    return {
      get received() {
        return received;
      },
      async stop() {
        stopped = true;
        await Promise.all(loops);
        if (failure) throw failure;
      },
    };
  }

  async drop(): Promise<void> {
    // Ferry keeps records on disk, not in memory: nothing to free between cells.
  }

  async close(): Promise<void> {
    for (const t of this.heartbeats.splice(0)) clearInterval(t);
    for (const c of this.clients.splice(0)) c.close();
  }
}

// ---- Redis Streams --------------------------------------------------------------------------------------

const streamsOf = (topic: string, partitions: number) => Array.from({ length: partitions }, (_, i) => `${topic}:${i}`);

export class RedisSystem implements System {
  readonly name = 'redis';
  private readonly conns: Redis[] = [];

  constructor(
    private readonly redis: RedisProcess,
    private readonly payloads: Payloads,
  ) {}

  private conn(): Redis {
    const c = this.redis.client();
    this.conns.push(c);
    return c;
  }

  private static addAll(c: Redis, streams: string[], records: Array<{ key: string; value: string }>): Promise<unknown> {
    if (records.length === 1) {
      const r = records[0];
      return c.xadd(streams[keyShard(r.key, streams.length)], '*', 'k', r.key, 'v', r.value);
    }
    const pipe = c.pipeline();
    for (const r of records) pipe.xadd(streams[keyShard(r.key, streams.length)], '*', 'k', r.key, 'v', r.value);
    return pipe.exec().then((res) => {
      const bad = res?.find(([e]) => e);
      if (bad) throw bad[0];
    });
  }

  async producers(topic: string, cell: Cell): Promise<SendBatch[]> {
    const streams = streamsOf(topic, cell.partitions);
    return Array.from({ length: cell.producers }, () => {
      const c = this.conn();
      const batches = Array.from({ length: PREBUILT }, () =>
        Array.from({ length: cell.batch }, () => ({ key: randomKey(), value: this.payloads.value(cell.size) })),
      );
      let i = 0;
      return async () => {
        await RedisSystem.addAll(c, streams, batches[i++ % PREBUILT]);
      };
    });
  }

  async sender(topic: string, partitions: number, connections: number) {
    const streams = streamsOf(topic, partitions);
    const pool = Array.from({ length: connections }, () => this.conn());
    let i = 0;
    return async (records: Array<{ key: string; value: string }>) => {
      await RedisSystem.addAll(pool[i++ % pool.length], streams, records);
    };
  }

  async readAll(topic: string, partitions: number, opts: { commit: boolean; tag: string }): Promise<number> {
    const streams = streamsOf(topic, partitions);
    const group = `read-${opts.tag}`;
    const admin = this.conn();
    for (const s of streams) await admin.xgroup('CREATE', s, group, '0', 'MKSTREAM');
    let total = 0;
    await Promise.all(
      streams.map(async (s) => {
        const c = this.conn();
        for (;;) {
          const args: Array<string | number> = ['GROUP', group, 'c', 'COUNT', 1000];
          if (!opts.commit) args.push('NOACK');
          const res = (await (c as any).xreadgroup(...args, 'STREAMS', s, '>')) as Array<[string, Array<[string, string[]]>]> | null;
          const entries = res?.[0]?.[1] ?? [];
          if (entries.length === 0) return;
          total += entries.length;
          if (opts.commit) await c.xack(s, group, ...entries.map((e) => e[0]));
        }
      }),
    );
    for (const s of streams) await admin.xgroup('DESTROY', s, group);
    return total;
  }

  async follow(topic: string, partitions: number, onRecords: OnRecords, tag: string): Promise<Consumer> {
    const streams = streamsOf(topic, partitions);
    const group = `follow-${tag}`;
    const admin = this.conn();
    for (const s of streams) await admin.xgroup('CREATE', s, group, '$', 'MKSTREAM');
    const c = this.conn();
    let stopped = false;
    let received = 0;
    const loop = (async () => {
      while (!stopped) {
        const res = (await (c as any).xreadgroup(
          'GROUP',
          group,
          'c',
          'COUNT',
          1000,
          'BLOCK',
          500,
          'STREAMS',
          ...streams,
          ...streams.map(() => '>'),
        )) as Array<[string, Array<[string, string[]]>]> | null;
        if (!res) continue;
        const pipe = c.pipeline();
        for (const [stream, entries] of res) {
          if (!entries.length) continue;
          onRecords(entries.map((e) => e[1][3]));
          received += entries.length;
          pipe.xack(stream, group, ...entries.map((e) => e[0]));
        }
        await pipe.exec();
      }
    })();
    return {
      get received() {
        return received;
      },
      async stop() {
        stopped = true;
        await loop;
      },
    };
  }

  async drop(topic: string, partitions: number): Promise<void> {
    const c = this.conn();
    await c.del(...streamsOf(topic, partitions));
    c.disconnect();
  }

  async close(): Promise<void> {
    for (const c of this.conns.splice(0)) c.disconnect();
  }
}
