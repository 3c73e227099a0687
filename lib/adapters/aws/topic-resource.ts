/**
 * The `Ferry::Topic` custom resource's logic (lambda/topic-resource.ts is its entry): creates, alters and
 * deletes a topic with the same core `Topics` logic as `POST/PATCH/DELETE /v1/topics`.
 *
 * ResourceProperties: `name`, `partitions`, `replicationFactor?`, `retentionMs?`, `retentionBytes?`,
 * `removalPolicy?` ('retain' | 'destroy', default 'retain'). CloudFormation passes numbers as strings; both
 * are accepted. The physical id is the topic name.
 *
 * - Create: creates the topic. If a topic of that name exists (kept by an earlier stack with 'retain'), it is
 *   adopted when compatible (same replicationFactor, no more partitions than asked) and altered to the props.
 * - Update: alters partitions (grow only) and retention; a new name replaces the topic (CloudFormation then
 *   deletes the old one under its own removal policy); replicationFactor cannot change.
 * - Delete: deletes the topic only under 'destroy'. A delete never fails for bad props or a missing topic,
 *   so a stack can always roll back.
 */
import type { CdkCustomResourceEvent, CdkCustomResourceResponse } from 'aws-lambda';
import { FerryError, isFerryError } from '../../protocol/errors';
import { validateTopicName } from '../../core/storage/keys';
import type { TopicConfig } from '../../core/model';
import type { Settings } from '../../core/settings';
import type { Topics } from '../../core/log/topics';
import type { ConsumerRegistry } from '../../core/consumers/registry';
import type { ConsumerConfig, StartingPosition } from '../../core/consumers/config';

export interface TopicProps {
  name: string;
  partitions: number;
  replicationFactor?: number;
  retentionMs?: number;
  retentionBytes?: number;
  removalPolicy: 'retain' | 'destroy';
}

export interface TopicResourceData {
  TopicName: string;
  TopicId: string;
  Partitions: number;
  ReplicationFactor: number;
}

/** Parses ResourceProperties (strings or numbers), reporting every problem at once. */
export function parseTopicProps(raw: Record<string, unknown> | undefined): TopicProps {
  const props = raw ?? {};
  const problems: string[] = [];
  /** An integer ≥ 1 (or -1 where `orForever`), from a number or a decimal string. */
  const int = (key: string, required: boolean, orForever = false): number | undefined => {
    const v = props[key];
    if (v === undefined || v === '') {
      if (required) problems.push(`${key} is required`);
      return undefined;
    }
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d{1,16}$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || !(n >= 1 || (orForever && n === -1))) {
      problems.push(`${key} must be an integer ≥ 1${orForever ? ' or -1' : ''}; got ${JSON.stringify(v)}`);
      return undefined;
    }
    return n;
  };
  let name = '';
  try {
    name = validateTopicName(props.name);
  } catch (e) {
    problems.push((e as Error).message);
  }
  const partitions = int('partitions', true);
  const replicationFactor = int('replicationFactor', false);
  const retentionMs = int('retentionMs', false, true);
  const retentionBytes = int('retentionBytes', false, true);
  const removalPolicy = props.removalPolicy ?? 'retain';
  if (removalPolicy !== 'retain' && removalPolicy !== 'destroy') {
    problems.push(`removalPolicy must be "retain" or "destroy"; got ${JSON.stringify(removalPolicy)}`);
  }
  if (problems.length) throw new FerryError('invalid', `invalid Ferry topic properties: ${problems.join('; ')}`, { problems });
  return {
    name,
    partitions: partitions!,
    replicationFactor,
    retentionMs,
    retentionBytes,
    removalPolicy: removalPolicy as TopicProps['removalPolicy'],
  };
}

/** Applies one custom-resource event to the topics (testable without Lambda). */
/**
 * The topic's push consumers (`topic.addConsumer` in CDK), from ResourceProperties.consumers: CloudFormation
 * passes numbers and booleans as strings. The dispatcher invokes `functionArn`.
 */
export function parseConsumers(raw: unknown): Array<Partial<ConsumerConfig> & Pick<ConsumerConfig, 'name' | 'handler'>> {
  if (raw === undefined || raw === '') return [];
  if (!Array.isArray(raw)) throw new FerryError('invalid', 'consumers must be a list');
  const num = (v: unknown) => (v === undefined || v === '' ? undefined : Number(v));
  return raw
    .map((c: Record<string, unknown>) => ({
      name: String(c.name),
      handler: String(c.functionArn),
      batchSize: num(c.batchSize),
      maxBatchingWindowMs: num(c.maxBatchingWindowMs),
      startingPosition: (c.startingPosition === 'latest' ? 'latest' : 'earliest') as StartingPosition,
      maxRetries: num(c.maxRetries),
      maxRecordAgeMs: num(c.maxRecordAgeMs),
      bisectOnError: c.bisectOnError === true || c.bisectOnError === 'true',
      maxRecordsPerSecond: num(c.maxRecordsPerSecond),
      maxConcurrency: num(c.maxConcurrency),
      timeoutMs: num(c.timeoutMs),
      parallelizationFactor: num(c.parallelizationFactor),
      filters: typeof c.filters === 'string' && c.filters ? (JSON.parse(c.filters) as ConsumerConfig['filters']) : undefined,
      deadLetterTopic: c.deadLetterTopic === undefined || c.deadLetterTopic === '' ? undefined : String(c.deadLetterTopic),
    }))
    .map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as typeof c);
}

export async function applyTopicEvent(
  event: CdkCustomResourceEvent,
  topics: Topics,
  settings: Settings,
  registry?: ConsumerRegistry,
): Promise<CdkCustomResourceResponse<TopicResourceData>> {
  if (event.RequestType === 'Delete') {
    const name = event.ResourceProperties?.name;
    if (registry && typeof name === 'string' && event.PhysicalResourceId === name) {
      await registry.replaceForTopic(name, []).catch(() => undefined); // the stack no longer pushes this topic
    }
    let props: TopicProps | undefined;
    try {
      props = parseTopicProps(event.ResourceProperties);
    } catch {
      return { PhysicalResourceId: event.PhysicalResourceId }; // never created by us with these props
    }
    // A failed Create leaves a physical id that is not our topic name: nothing of ours to remove.
    if (props.removalPolicy === 'destroy' && event.PhysicalResourceId === props.name) {
      try {
        await topics.delete(props.name);
      } catch (e) {
        if (!(isFerryError(e) && e.kind === 'not_found')) throw e;
      }
    }
    return { PhysicalResourceId: event.PhysicalResourceId };
  }

  const props = parseTopicProps(event.ResourceProperties);
  // Absent retention props mean the defaults, also on update (removing a property resets it).
  const desired = {
    partitions: props.partitions,
    retentionMs: props.retentionMs ?? settings.defaultRetentionMs,
    retentionBytes: props.retentionBytes ?? -1,
  };
  const replicationFactor = props.replicationFactor ?? 1;
  let topic: TopicConfig;
  if (event.RequestType === 'Update' && event.PhysicalResourceId === props.name) {
    const current = await topics.get(props.name, { fresh: true });
    checkReplication(current, replicationFactor);
    topic = await topics.alter(props.name, desired);
  } else {
    // Create, or an Update that renames (a replacement).
    try {
      topic = await topics.create({ name: props.name, replicationFactor, ...desired });
    } catch (e) {
      if (!(isFerryError(e) && e.kind === 'conflict')) throw e;
      const existing = await topics.get(props.name, { fresh: true });
      checkReplication(existing, replicationFactor);
      topic = await topics.alter(props.name, desired);
    }
  }
  await registry?.replaceForTopic(topic.name, parseConsumers(event.ResourceProperties.consumers));
  return {
    PhysicalResourceId: topic.name,
    Data: {
      TopicName: topic.name,
      TopicId: topic.topicId,
      Partitions: topic.partitionCount,
      ReplicationFactor: topic.replicationFactor,
    },
  };
}

function checkReplication(topic: TopicConfig, wanted: number): void {
  if (topic.replicationFactor !== wanted) {
    throw new FerryError(
      'invalid',
      `topic "${topic.name}" has replicationFactor ${topic.replicationFactor}; it cannot change to ${wanted} (create a topic with a new name instead)`,
    );
  }
}
