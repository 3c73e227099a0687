/**
 * Every name check and every stored key format, in one place. Names are validated here before they reach a
 * path or a composite key; the `#` delimiter of composite keys is outside every name's character set.
 */
import { invalid } from './errors';

const NAME = /^[a-zA-Z0-9._-]{1,249}$/;

function checkName(what: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name) || name === '.' || name === '..') {
    const shown = typeof name === 'string' ? JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name) : typeof name;
    throw invalid(
      `${what} ${shown} is not valid: use 1-249 characters from [a-zA-Z0-9._-], and not "." or ".."`,
      { field: what },
    );
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

  /** Deleted topics whose data maintenance still has to remove. */
  gcPk: 'gc',
  deletedTopicSk: (topicId: string) => `topic#${validateId(topicId)}`,
};
