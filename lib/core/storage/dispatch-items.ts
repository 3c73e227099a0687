/**
 * The dispatch state item of a push consumer's partition: its committed offset, the lease (owner, epoch,
 * expiry) and the retry state of the batch at that offset. Decoding checks the shape (a damaged item is a
 * `data` error naming it, never a misread offset).
 */
import { FerryError } from '../../protocol/errors';
import type { Item, ItemData } from '../../ports/metadata-store';
import { metaKeys } from './keys';

/** Per (consumer, partition): the committed offset, the lease, and the retry state of the batch at that offset. */
export interface DispatchState {
  offset: bigint;
  epoch: number;
  owner: string;
  leaseUntil: number;
  attempts: number;
  /** Invocations in a row that did not reach the handler (throttled, unavailable): their backoff step. */
  misses: number;
  retryAt: number;
  /** Bisect-on-error: how many records the next attempt may take. */
  limit: number;
  /** The lane of a consumer with parallelizationFactor > 1 (0 otherwise), from the item's key. */
  lane: number;
  version: number;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const numberOrAbsent = (v: unknown) => v === undefined || isNumber(v);

export const dispatchStateItem = {
  encode(s: Omit<DispatchState, 'version' | 'lane'>): ItemData {
    return {
      offset: s.offset.toString(),
      epoch: s.epoch,
      owner: s.owner,
      leaseUntil: s.leaseUntil,
      attempts: s.attempts,
      ...(s.misses ? { misses: s.misses } : {}),
      retryAt: s.retryAt,
      limit: s.limit,
    };
  },
  decode(item: Item): DispatchState {
    const d = item.data;
    const ok =
      typeof d.offset === 'string' &&
      /^\d{1,20}$/.test(d.offset) &&
      isNumber(d.epoch) &&
      typeof d.owner === 'string' &&
      isNumber(d.leaseUntil) &&
      numberOrAbsent(d.attempts) &&
      numberOrAbsent(d.misses) &&
      numberOrAbsent(d.retryAt) &&
      numberOrAbsent(d.limit);
    if (!ok) {
      throw new FerryError('data', `metadata item ${item.pk} / ${item.sk} is not a valid push consumer state`, {
        pk: item.pk,
        sk: item.sk,
      });
    }
    return {
      offset: BigInt(d.offset as string),
      epoch: d.epoch as number,
      owner: d.owner as string,
      leaseUntil: d.leaseUntil as number,
      attempts: (d.attempts as number | undefined) ?? 0,
      misses: (d.misses as number | undefined) ?? 0,
      retryAt: (d.retryAt as number | undefined) ?? 0,
      limit: (d.limit as number | undefined) ?? 0,
      lane: metaKeys.dispatchLane(item.sk),
      version: item.version,
    };
  },
};
