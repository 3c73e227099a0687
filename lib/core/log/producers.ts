/**
 * Idempotent producers (DESIGN.md §3, as Kafka's): `init` hands out (id, epoch); a request carrying
 * (id, epoch, sequence) is stored once. The sequence counts the requests of one producer epoch to one topic,
 * from 0 (a new epoch starts again at 0). The results of the last `producerRequestsKept` requests live in a ring
 * of slots (sequence mod ring size) that each commit overwrites by a put conditioned on the version read, so
 * the hot path never deletes (the produce role on AWS has no DeleteItem).
 */
import type { IdempotenceClaim } from './append/appender';
import { decodeResults, decodeSlot, ringSize, sameBatch } from '../storage/producer-results';
import type { CoreContext } from '../context';
import { FerryError, invalid } from '../../protocol/errors';
import { RETRY, withRetry } from '../storage/cas';
import { producerItem } from '../storage/items';
import { metaKeys } from '../storage/keys';
import type { ProduceResult, TopicConfig } from '../model';

export interface ProducerRef {
  id: string;
  epoch: number;
  sequence: number;
}

const PRODUCER_ID = /^[0-9a-z-]{1,64}$/;

export type ClaimResult = { duplicate: ProduceResult[] } | { claim: IdempotenceClaim };

export class Producers {
  constructor(private readonly ctx: CoreContext) {}

  /**
   * A new producer (epoch 0), or, for an existing id, the next epoch: the old epoch is fenced from then on.
   */
  async init(id?: string): Promise<{ id: string; epoch: number }> {
    if (id !== undefined && !PRODUCER_ID.test(id)) {
      throw invalid(`producer id must be 1-64 characters from [0-9a-z-] (got ${JSON.stringify(id)})`);
    }
    const producerId = id ?? this.ctx.ids.timeOrderedId(this.ctx.clock.now());
    const busy = `producer ${producerId} is being initialised concurrently; try again`;
    return withRetry(this.ctx, { busy }, async () => {
      const item = await this.ctx.meta.get(metaKeys.producersPk, metaKeys.producerSk(producerId));
      const epoch = item ? producerItem.decode(item).epoch + 1 : 0;
      const res = await this.ctx.meta.write([
        {
          op: 'put',
          pk: metaKeys.producersPk,
          sk: metaKeys.producerSk(producerId),
          data: producerItem.encode({ epoch, createdAt: this.ctx.clock.now() }),
          expect: item ? item.version : 'absent',
        },
      ]);
      return res.ok ? { done: { id: producerId, epoch } } : RETRY;
    });
  }

  /**
   * Checks a request's producer reference before it is flushed: a retry of a stored request answers its
   * original offsets at once; a stale epoch is `fenced`; a gap is a `conflict`. The commit checks the same
   * conditions again atomically, so a race between two retries still stores the batch once.
   */
  async claim(topic: TopicConfig, ref: ProducerRef, partitions: readonly number[]): Promise<ClaimResult> {
    const recordCount = partitions.length;
    if (!PRODUCER_ID.test(ref.id)) throw invalid(`producer.id ${JSON.stringify(ref.id)} is not a producer id`);
    const item = await this.ctx.meta.get(metaKeys.producersPk, metaKeys.producerSk(ref.id));
    if (!item) {
      throw new FerryError('fenced', `producer ${ref.id} is unknown; get one with POST /v1/producers`, { producerId: ref.id });
    }
    const current = producerItem.decode(item).epoch;
    if (ref.epoch !== current) {
      throw new FerryError('fenced', `producer ${ref.id} epoch ${ref.epoch} is not current (the current epoch is ${current})`, {
        producerId: ref.id,
        epoch: ref.epoch,
        currentEpoch: current,
      });
    }
    const pk = metaKeys.producerRequestsPk(ref.id, ref.epoch, topic.topicId);
    const slots = (await this.ctx.meta.query(pk, { prefix: metaKeys.producerSlotPrefix })).map(decodeSlot);
    const same = slots.find((s) => s.sequence === ref.sequence);
    if (same) return { duplicate: sameBatch(decodeResults(same.data, partitions), recordCount, ref) };
    const lastSequence = slots.reduce((m, s) => Math.max(m, s.sequence), -1);
    if (ref.sequence <= lastSequence) {
      throw new FerryError(
        'conflict',
        `sequence ${ref.sequence} of producer ${ref.id} is older than the ${this.ctx.settings.producerRequestsKept} requests kept for retries (last: ${lastSequence})`,
        { producerId: ref.id, sequence: ref.sequence, lastSequence },
      );
    }
    if (ref.sequence !== lastSequence + 1) {
      throw new FerryError(
        'conflict',
        `sequence gap: producer ${ref.id} sent sequence ${ref.sequence} to "${topic.name}", expected ${lastSequence + 1}`,
        { producerId: ref.id, sequence: ref.sequence, expectedSequence: lastSequence + 1 },
      );
    }
    const slotSk = metaKeys.producerSlotSk(ref.sequence % ringSize(this.ctx.settings.producerRequestsKept));
    const slot = slots.find((s) => s.sk === slotSk);
    const previous = slots.find((s) => s.sequence === ref.sequence - 1);
    return {
      claim: {
        producerId: ref.id,
        epoch: ref.epoch,
        sequence: ref.sequence,
        producerVersion: item.version,
        slotVersion: slot ? slot.version : 'absent',
        previousVersion: previous?.version,
      },
    };
  }
}
