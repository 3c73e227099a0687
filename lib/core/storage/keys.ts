/**
 * Every name check and every stored key format, in one place. Names are validated here before they reach a
 * path or a composite key; the `#` delimiter of composite keys is outside every name's character set.
 */
import type { Ids } from '../../ports/ids';
import { invalid } from '../../protocol/errors';

const NAME = /^[a-zA-Z0-9._-]{1,249}$/;

function checkName(what: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name) || name === '.' || name === '..') {
    const shown = typeof name === 'string' ? JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name) : typeof name;
    throw invalid(`${what} ${shown} is not valid: use 1-249 characters from [a-zA-Z0-9._-], and not "." or ".."`, { field: what });
  }
  return name;
}

/** Throws `invalid` unless `name` is a valid topic name. */
export const validateTopicName = (name: unknown) => checkName('topic name', name);
/** Throws `invalid` unless `id` is a valid consumer group id. */
export const validateGroupId = (id: unknown) => checkName('group id', id);
/** Throws `invalid` unless `name` is a valid consumer name. */
export const validateConsumerName = (name: unknown) => checkName('consumer name', name);

/** Time-ordered ids made by the Ids port: only these characters can reach a key. */
const ID = /^[0-9a-z-]{1,64}$/;
export function validateId(id: string): string {
  if (!ID.test(id)) throw new Error(`internal: malformed id ${JSON.stringify(id)}`);
  return id;
}

/** Milliseconds as fixed-width decimal (ids and due times sort by time). */
export function padTime(ms: number): string {
  return Math.floor(ms).toString().padStart(15, '0');
}

/**
 * A scheduled id: a time-ordered id made at the due time, so the due-time index is the sk order (and the due
 * time can be read back from the id, as `idTime` does for object keys).
 */
export function scheduledId(deliverAt: number, ids: Pick<Ids, 'timeOrderedId'>): string {
  const id = validateId(ids.timeOrderedId(deliverAt));
  if (idTime(id) !== Math.floor(deliverAt)) throw new Error(`internal: id ${id} does not start with its time ${padTime(deliverAt)}`);
  return id;
}

/** The creation time encoded in a time-ordered id or an object key made from one (NaN if none). */
export function idTime(idOrKey: string): number {
  const m = /(?:^|\/)(\d{15})-[0-9a-z]+(?:\.seg)?$/.exec(idOrKey);
  return m ? Number(m[1]) : Number.NaN;
}

/** Offsets as fixed-width decimal so that lexical order equals numeric order. */
export function padOffset(offset: bigint): string {
  return offset.toString().padStart(20, '0');
}

// ---- object store keys ----------------------------------------------------------------------------------

export const objectKeys = {
  topicPrefix: (topicId: string) => `topics/${validateId(topicId)}/`,
  segment: (topicId: string, segmentId: string) => `topics/${validateId(topicId)}/${validateId(segmentId)}.seg`,
};

// ---- metadata keys ------------------------------------------------------------------------------------

export const metaKeys = {
  /** All topics live under one partition key so they can be listed in name order. */
  topicsPk: 'topics',
  topicSk: (name: string) => `t#${validateTopicName(name)}`,
  topicSkPrefix: 't#',

  /** One partition key per topic partition holds its head and its index entries. */
  partitionPk: (topicId: string, partition: number) => `p#${validateId(topicId)}#${partition}`,
  headSk: 'head',
  entrySk: (baseOffset: bigint) => `i#${padOffset(baseOffset)}`,
  entrySkPrefix: 'i#',

  /** Delayed records of a topic, in due-time order: the sk is the scheduled id, which starts with the due time. */
  duePk: (topicId: string) => `d#${validateId(topicId)}`,
  /** Everything due at or before `time` sorts at or below this sk. */
  dueUpTo: (time: number) => `${padTime(time)}-~`,

  /**
   * Idempotent producers: one item each (its epoch), and the results of its recent requests per topic in a
   * fixed ring of slots (sequence mod ring size), overwritten by conditional put: nothing is ever deleted.
   */
  producersPk: 'producers',
  producerSk: (producerId: string) => `pr#${validateId(producerId)}`,
  producerRequestsPk: (producerId: string, epoch: number, topicId: string) =>
    `pq#${validateId(producerId)}#${Math.floor(epoch)}#${validateId(topicId)}`,
  producerSlotSk: (slot: number) => `r#${slot.toString().padStart(4, '0')}`,
  producerSlotPrefix: 'r#',

  /** Push consumers declared for the cloud (the dispatcher reads them): one item per (topic, consumer). */
  consumersPk: 'consumers',
  consumerSk: (topic: string, name: string) => `c#${validateTopicName(topic)}#${validateConsumerName(name)}`,
  consumerSkPrefix: (topic?: string) => (topic ? `c#${validateTopicName(topic)}#` : 'c#'),

  /** A push consumer's position and lease on one partition (consumers/lease.ts). */
  dispatchPk: (topicId: string, consumer: string) => `c#${validateId(topicId)}#${validateConsumerName(consumer)}`,
  /** Lane 0 (every consumer without parallelizationFactor) is `p#N`; lane L of a parallel consumer `p#N~L`. */
  dispatchSk: (partition: number, lane = 0) => (lane === 0 ? `p#${partition}` : `p#${partition}~${lane}`),
  dispatchSkPrefix: 'p#',
  /** The partition a dispatch state item belongs to (NaN if the sk is not one). */
  dispatchPartition: (sk: string) => (/^p#\d{1,6}(~\d{1,2})?$/.test(sk) ? Number(sk.slice(2).split('~')[0]) : Number.NaN),
  dispatchLane: (sk: string) => (/^p#\d{1,6}~\d{1,2}$/.test(sk) ? Number(sk.split('~')[1]) : 0),

  /** The garbage-collection fence of one topic partition (see gc-fence.ts). */
  gcFencePk: (topicId: string, partition: number) => `f#${validateId(topicId)}#${partition}`,
  gcFenceSk: 'gc',

  /** Deleted topics whose data maintenance still has to remove. */
  gcPk: 'gc',
  deletedTopicSk: (topicId: string) => `topic#${validateId(topicId)}`,

  /** The push-consumer dispatcher's run lease on AWS (consumers/run-lease.ts): one run at a time. */
  dispatchRunPk: 'dispatch',
  dispatchRunSk: 'run',

  /** Maintenance's cursor and run lease (maintenance/cursor.ts). */
  maintenancePk: 'maintenance',
  maintenanceSk: 'run',

  /** The embedded home's object stores (names and directories), checked at every start. */
  homePk: 'home',
  storesSk: 'stores',
};

// ---- consumer group keys ------------------------------------------------------------------------------

/** Member ids are made by the Ids port; anything else in a path is refused before it reaches a key. */
const MEMBER_ID = /^[0-9a-z-]{1,64}$/;
export function isMemberId(id: unknown): id is string {
  return typeof id === 'string' && MEMBER_ID.test(id);
}

export const groupKeys = {
  /** The registry of groups (one small item per group) so `GET /v1/groups` is one query. */
  registryPk: 'groups',
  registrySk: (groupId: string) => `g#${validateGroupId(groupId)}`,
  registrySkPrefix: 'g#',

  /** One partition key per group: its state item, one heartbeat item per member, one item per offset. */
  groupPk: (groupId: string) => `g#${validateGroupId(groupId)}`,
  stateSk: 'state',
  memberSk: (memberId: string) => `m#${validateId(memberId)}`,
  memberSkPrefix: 'm#',
  offsetSk: (topic: string, partition: number) => `o#${validateTopicName(topic)}#${partition.toString().padStart(6, '0')}`,
  offsetSkPrefix: 'o#',
};
