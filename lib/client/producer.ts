/**
 * The producer: `send({ topic, messages })` with client-side batching. Messages of concurrent sends to one
 * topic travel together, in one request per batch, once `lingerMs` has passed or `maxBatchBytes` is reached.
 * One batch per topic is in flight at a time, so one producer's records to a partition keep their order (G4).
 *
 * @example
 *   const producer = new FerryClient({ url }).producer();
 *   const [meta] = await producer.send({ topic: 'orders', messages: [{ key: 'u1', value: { id: 1 } }] });
 *   await producer.disconnect();
 */
import { FerryError } from '../protocol/errors';
import { encodeMessage, isDelayed, type WireRecord } from './codec';
import type { Transport } from './http';
import type { ProducerRecord, RecordMetadata } from './types';

export interface ProducerConfig {
  /** How long a batch waits for more messages (default 5 ms; 0 sends at the next tick). */
  lingerMs?: number;
  /** A batch is sent once its JSON reaches this size (default 1 MiB; the server takes 5 MiB per request). */
  maxBatchBytes?: number;
  /** At most this many records per request (default 10 000, the server's limit). */
  maxBatchRecords?: number;
  /**
   * Idempotent producer (default true): the producer gets an id and epoch from `POST /v1/producers` and numbers
   * its requests per topic, so a retry after a lost answer is stored once and answers the original offsets.
   * Its requests are then retried on lost connections and 5xx too. `false` sends plain requests.
   */
  idempotent?: boolean;
  /** Take over an earlier producer with this id (its epoch is bumped, fencing the old instance). */
  producerId?: string;
}

interface SendOp {
  results: RecordMetadata[];
  left: number;
  failed: boolean;
  resolve(r: RecordMetadata[]): void;
  reject(e: unknown): void;
}

interface Slot {
  op: SendOp;
  index: number;
  record: WireRecord;
  bytes: number;
}

interface TopicQueue {
  pending: Slot[];
  bytes: number;
  timer?: NodeJS.Timeout;
  inFlight?: Promise<void>;
}

export class Producer {
  private readonly lingerMs: number;
  private readonly maxBatchBytes: number;
  private readonly maxBatchRecords: number;
  private readonly queues = new Map<string, TopicQueue>();
  private readonly idempotent: boolean;
  private wantedId?: string;
  private identity?: Promise<{ id: string; epoch: number }>;
  /** The next sequence per topic (requests stored so far). */
  private readonly sequences = new Map<string, number>();

  constructor(
    private readonly transport: Transport,
    config: ProducerConfig = {},
  ) {
    this.lingerMs = config.lingerMs ?? 5;
    this.maxBatchBytes = config.maxBatchBytes ?? 1024 * 1024;
    this.maxBatchRecords = config.maxBatchRecords ?? 10_000;
    this.idempotent = config.idempotent ?? true;
    this.wantedId = config.producerId;
  }

  /** This producer's id and epoch (idempotent producers), fetched once. */
  producerIdentity(): Promise<{ id: string; epoch: number }> {
    this.identity ??= this.transport
      .request<{ id: string; epoch: number }>({
        method: 'POST',
        path: '/v1/producers',
        body: this.wantedId ? { id: this.wantedId } : {},
        idempotent: false,
      })
      .then((identity) => {
        this.wantedId = identity.id; // a later re-init bumps this producer's epoch
        return identity;
      })
      .catch((e) => {
        this.identity = undefined;
        throw e;
      });
    return this.identity;
  }

  /** Nothing to open (HTTP); kept so kafkajs code runs unchanged. */
  async connect(): Promise<void> {}

  /** Sends what is pending and waits for it. */
  async disconnect(): Promise<void> {
    await this.flush();
  }

  /** Answers each message's partition and offset, in order, once all of them are stored. */
  send({ topic, messages }: ProducerRecord): Promise<RecordMetadata[]> {
    if (!messages.length) return Promise.resolve([]);
    let records: WireRecord[];
    try {
      records = messages.map(encodeMessage);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      const op: SendOp = { results: new Array(records.length), left: records.length, failed: false, resolve, reject };
      const q = this.queue(topic);
      records.forEach((record, index) => {
        const bytes = Buffer.byteLength(JSON.stringify(record)) + 1;
        if (q.pending.length && (q.bytes + bytes > this.maxBatchBytes || q.pending.length >= this.maxBatchRecords)) this.dispatch(topic);
        q.pending.push({ op, index, record, bytes });
        q.bytes += bytes;
      });
      if (q.bytes >= this.maxBatchBytes || q.pending.length >= this.maxBatchRecords) this.dispatch(topic);
      else if (!q.timer) q.timer = setTimeout(() => this.dispatch(topic), this.lingerMs);
    });
  }

  /**
   * kafkajs's `sendBatch`: several topics' messages at once; answers every message's metadata, topic by topic
   * in the order given.
   *
   * @example
   *   await producer.sendBatch({ topicMessages: [{ topic: 'orders', messages: [{ value: 1 }] }, { topic: 'audit', messages: [{ value: 2 }] }] });
   */
  async sendBatch({ topicMessages }: { topicMessages: ProducerRecord[] }): Promise<RecordMetadata[]> {
    const answers = await Promise.all(topicMessages.map((r) => this.send(r)));
    return answers.flat();
  }

  /** Sends every pending batch now and waits for all in flight. */
  async flush(): Promise<void> {
    for (const topic of this.queues.keys()) if (this.queues.get(topic)!.pending.length) this.dispatch(topic);
    await Promise.allSettled([...this.queues.values()].map((q) => q.inFlight));
  }

  private queue(topic: string): TopicQueue {
    let q = this.queues.get(topic);
    if (!q) this.queues.set(topic, (q = { pending: [], bytes: 0 }));
    return q;
  }

  /** Cuts the pending batch and chains it after the one in flight. */
  private dispatch(topic: string): void {
    const q = this.queue(topic);
    if (q.timer) clearTimeout(q.timer);
    q.timer = undefined;
    const batch = q.pending;
    q.pending = [];
    q.bytes = 0;
    if (!batch.length) return;
    const previous = q.inFlight ?? Promise.resolve();
    const current: Promise<void> = previous.then(() => this.sendRequest(topic, batch));
    q.inFlight = current;
    void current.finally(() => {
      if (q.inFlight === current) q.inFlight = undefined;
    });
  }

  /** `plain`: without the idempotent producer's sequence (delayed records, which it cannot carry). */
  private async sendRequest(topic: string, batch: Slot[], plain = false): Promise<void> {
    let slots = batch.filter((s) => !s.op.failed);
    if (this.idempotent && !plain && slots.some((s) => isDelayed(s.record))) {
      // The server schedules delayed records outside the idempotent sequence: send them on their own, retried
      // only when the request never left (a lost answer may otherwise schedule a record twice).
      await this.sendRequest(
        topic,
        slots.filter((s) => isDelayed(s.record)),
        true,
      );
      slots = slots.filter((s) => !isDelayed(s.record) && !s.op.failed);
    }
    while (slots.length) {
      try {
        let producer: { id: string; epoch: number; sequence: number } | undefined;
        if (this.idempotent && !plain) {
          const { id, epoch } = await this.producerIdentity();
          producer = { id, epoch, sequence: this.sequences.get(topic) ?? 0 };
        }
        const res = await this.transport.request<{
          records: Array<{ partition: number; offset?: string; scheduledId?: string; deliverAt?: number }>;
        }>({
          method: 'POST',
          path: `/v1/topics/${encodeURIComponent(topic)}/records`,
          body: { records: slots.map((s) => s.record), ...(producer && { producer }) },
          // With a producer sequence a retry is stored once, so lost answers and 5xx may be retried.
          idempotent: producer !== undefined,
        });
        if (producer) this.sequences.set(topic, producer.sequence + 1);
        res.records.forEach((r, i) => {
          const s = slots[i];
          s.op.results[s.index] = {
            topic,
            partition: r.partition,
            offset: r.offset ?? '',
            ...(r.scheduledId !== undefined && { scheduledId: r.scheduledId, deliverAt: r.deliverAt }),
          };
          if (--s.op.left === 0 && !s.op.failed) s.op.resolve(s.op.results);
        });
        return;
      } catch (e) {
        // A record the server refused (nothing was written): fail its send alone and resend the others.
        const index = e instanceof FerryError && e.status < 500 ? e.details.index : undefined;
        if (typeof index === 'number' && slots[index]) {
          const bad = slots[index].op;
          fail(bad, e);
          slots = slots.filter((s) => s.op !== bad);
          continue;
        }
        if (this.idempotent && !plain && !(e instanceof FerryError && e.status < 500)) {
          // Unknown outcome even after retries: this sequence may or may not be stored. A new epoch (sequences
          // from 0) keeps the next batches from being taken for retries of this one.
          this.identity = undefined;
          this.sequences.clear();
        }
        for (const s of slots) fail(s.op, e);
        return;
      }
    }
  }
}

function fail(op: SendOp, e: unknown) {
  if (op.failed) return;
  op.failed = true;
  op.reject(e);
}
