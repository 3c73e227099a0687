/**
 * The metadata store on one DynamoDB table (single-table design: see table.ts). Translates the port's
 * compare-and-set into DynamoDB conditions on the version attribute `v`:
 *
 * - `expect: 'absent'` → `attribute_not_exists(pk)`; `expect: n` → `v = n`; no expectation → no condition.
 * - one op → one conditional PutItem / UpdateItem / DeleteItem (a lone `check` is a consistent GetItem);
 *   several → one TransactWriteItems (at most 100 actions, two ops on one item refused up front).
 * - a failed condition comes back with the item as it is (`ReturnValuesOnConditionCheckFailure: ALL_OLD`)
 *   and becomes `{ ok: false, failedIndex, current }`, as powertools' DynamoDBPersistenceLayer turns
 *   ConditionalCheckFailedException into "already in progress" carrying the stored record.
 *
 * Reads are strongly consistent, always on the table itself (never an index): the commit path must see the
 * latest head. A write retried by the SDK after its first attempt landed is recognised (the transaction's
 * ClientRequestToken, the single item's write id `w`) instead of being reported as a lost race.
 *
 * @example
 *   const meta = new DynamoDBMetadataStore({ table: 'ferry', client: new DynamoDBClient({}) });
 *   await meta.write([{ op: 'put', pk: 'p#t1#0', sk: 'head', data: { nextOffset: '0' }, expect: 'absent' }]);
 */
import { randomBytes } from 'node:crypto';
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type CancellationReason,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { FerryError } from '../../protocol/errors';
import type { Expect, Item, MetadataStore, SkRange, WriteOp, WriteResult } from '../../ports/metadata-store';
import { attemptsOf, conflict, errorName, sdkFailure } from './errors';
import { ATTR, decodeItem, encodeItem, keyOf, type Av } from './table';

export interface DynamoDBMetadataStoreOptions {
  table: string;
  /** Default: a client configured from the environment (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB, credentials). */
  client?: DynamoDBClient;
}

/** Named parts of every condition, composed per op (`#v`, `#pk`: the attribute names never clash). */
const NAMES = { '#pk': ATTR.pk, '#v': ATTR.version };

interface Condition {
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Av;
}

function condition(expect: Expect | undefined): Condition {
  if (expect === undefined) return {};
  if (expect === 'absent') return { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': NAMES['#pk'] } };
  return {
    ConditionExpression: '#v = :expected',
    ExpressionAttributeNames: { '#v': NAMES['#v'] },
    ExpressionAttributeValues: { ':expected': { N: String(expect) } },
  };
}

export class DynamoDBMetadataStore implements MetadataStore {
  /** DynamoDB's TransactWriteItems limit. */
  readonly maxOpsPerWrite = 100;
  readonly multiItemWrites = 'costly';
  readonly table: string;
  readonly client: DynamoDBClient;
  /** Writes cancelled by another in-flight transaction (TransactionConflict), for measurements. */
  readonly stats = { conflicts: 0 };

  constructor(options: DynamoDBMetadataStoreOptions) {
    this.table = options.table;
    this.client = options.client ?? new DynamoDBClient({});
  }

  async get(pk: string, sk: string): Promise<Item | undefined> {
    let res;
    try {
      res = await this.client.send(new GetItemCommand({ TableName: this.table, Key: keyOf(pk, sk), ConsistentRead: true }));
    } catch (e) {
      throw sdkFailure(`DynamoDB table ${this.table}`, `get ${pk} / ${sk}`, e);
    }
    return res.Item ? toItem(res.Item) : undefined;
  }

  async query(pk: string, range: SkRange = {}): Promise<Item[]> {
    const { prefix, reverse, limit } = range;
    // One key condition on sk: the tightest bounds; the prefix is re-checked below (a BETWEEN up to the
    // prefix's successor may include that one successor key).
    let lo = range.gte;
    let hi = range.lte;
    if (prefix) {
      if (lo === undefined || lo < prefix) lo = prefix;
      const end = prefixEnd(prefix);
      if (hi === undefined || hi > end) hi = end;
    }
    if (lo !== undefined && hi !== undefined && lo > hi) return [];
    const values: Av = { ':pk': { S: pk } };
    let keyCondition = '#pk = :pk';
    if (prefix && lo === prefix && hi === prefixEnd(prefix)) {
      keyCondition += ' AND begins_with(#sk, :prefix)';
      values[':prefix'] = { S: prefix };
    } else if (lo !== undefined && hi !== undefined) {
      keyCondition += ' AND #sk BETWEEN :lo AND :hi';
      values[':lo'] = { S: lo };
      values[':hi'] = { S: hi };
    } else if (lo !== undefined) {
      keyCondition += ' AND #sk >= :lo';
      values[':lo'] = { S: lo };
    } else if (hi !== undefined) {
      keyCondition += ' AND #sk <= :hi';
      values[':hi'] = { S: hi };
    }
    const usesSk = keyCondition.includes('#sk');
    const out: Item[] = [];
    let startKey: Av | undefined;
    try {
      do {
        const want = limit === undefined ? undefined : limit - out.length;
        const res = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: keyCondition,
            ExpressionAttributeNames: usesSk ? { '#pk': ATTR.pk, '#sk': ATTR.sk } : { '#pk': ATTR.pk },
            ExpressionAttributeValues: values,
            ScanIndexForward: !reverse,
            ConsistentRead: true,
            // One more than needed covers the prefix successor the key condition may let through.
            Limit: want === undefined ? undefined : want + (prefix ? 1 : 0),
            ExclusiveStartKey: startKey,
          }),
        );
        for (const av of res.Items ?? []) {
          const item = toItem(av);
          if (prefix && !item.sk.startsWith(prefix)) continue;
          out.push(item);
          if (limit !== undefined && out.length >= limit) return out;
        }
        startKey = res.LastEvaluatedKey;
      } while (startKey);
    } catch (e) {
      if (e instanceof FerryError) throw e;
      throw sdkFailure(`DynamoDB table ${this.table}`, `query ${pk}`, e);
    }
    return out;
  }

  async write(ops: WriteOp[]): Promise<WriteResult> {
    if (ops.length === 0) return { ok: true };
    if (ops.length > this.maxOpsPerWrite) {
      throw new Error(`internal: ${ops.length} ops in one write; DynamoDB takes at most ${this.maxOpsPerWrite}`);
    }
    if (ops.length === 1) return this.writeOne(ops[0]);
    return this.transact(ops);
  }

  private async writeOne(op: WriteOp): Promise<WriteResult> {
    if (op.op === 'check') {
      const current = await this.get(op.pk, op.sk);
      const holds = op.expect === 'absent' ? current === undefined : current?.version === op.expect;
      return holds ? { ok: true } : { ok: false, failedIndex: 0, current };
    }
    const writeId = newWriteId();
    try {
      if (op.op === 'put' && op.expect === undefined) {
        // No expected version: the new one is previous + 1, which only an update expression can compute.
        await this.client.send(new UpdateItemCommand({ TableName: this.table, ...unconditionalPut(op, writeId) }));
      } else if (op.op === 'put') {
        await this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: encodeItem(op.pk, op.sk, op.expect === 'absent' ? 1 : op.expect! + 1, op.data, writeId),
            ...condition(op.expect),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
      } else {
        await this.client.send(
          new DeleteItemCommand({
            TableName: this.table,
            Key: keyOf(op.pk, op.sk),
            ...condition(op.expect),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
      }
      return { ok: true };
    } catch (e) {
      if (errorName(e) === 'TransactionConflictException') this.stats.conflicts++;
      if (errorName(e) !== 'ConditionalCheckFailedException') {
        throw sdkFailure(`DynamoDB table ${this.table}`, `${op.op} ${op.pk} / ${op.sk}`, e);
      }
      const old = (e as { Item?: Av }).Item;
      const current = old ? decodeItem(old) : undefined;
      // The SDK retried and our first attempt had landed: the item carries our write id (or, for a delete, is gone).
      if (op.op === 'put' && current?.writeId === writeId) return { ok: true };
      if (op.op === 'delete' && current === undefined && op.expect !== 'absent' && attemptsOf(e) > 1) return { ok: true };
      return { ok: false, failedIndex: 0, current: current && plain(current) };
    }
  }

  private async transact(ops: WriteOp[]): Promise<WriteResult> {
    const seen = new Set<string>();
    for (const op of ops) {
      const id = `${op.pk}\u0000${op.sk}`;
      if (seen.has(id)) throw new Error(`internal: two ops on ${op.pk} / ${op.sk} in one write (DynamoDB refuses it)`);
      seen.add(id);
    }
    const writeId = newWriteId();
    const TransactItems = ops.map((op) => this.transactItem(op, writeId));
    try {
      // The SDK fills ClientRequestToken once per call, so its own retries are idempotent for 10 minutes.
      await this.client.send(new TransactWriteItemsCommand({ TransactItems }));
      return { ok: true };
    } catch (e) {
      if (errorName(e) !== 'TransactionCanceledException') {
        throw sdkFailure(`DynamoDB table ${this.table}`, `transaction of ${ops.length} ops`, e);
      }
      const reasons: CancellationReason[] = (e as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [];
      const failedIndex = reasons.findIndex((r) => r.Code === 'ConditionalCheckFailed');
      if (failedIndex >= 0) {
        const old = reasons[failedIndex].Item;
        return { ok: false, failedIndex, current: old ? plain(decodeItem(old)) : undefined };
      }
      // Another in-flight transaction held one of the items: nothing was applied. A race for the core's retry
      // loop (with its backoff and bounds), reported, not retried out of sight here.
      const codes = reasons.map((r) => r.Code ?? 'None').join(', ');
      if (reasons.some((r) => r.Code === 'TransactionConflict')) {
        this.stats.conflicts++;
        throw conflict(`DynamoDB table ${this.table}`, `transaction of ${ops.length} ops (${codes})`, e);
      }
      const transient = reasons.every((r) => ['None', 'ThrottlingError', 'ProvisionedThroughputExceeded'].includes(r.Code ?? 'None'));
      if (transient) {
        throw new FerryError(
          'unavailable',
          `DynamoDB table ${this.table} is busy (transaction cancelled: ${codes}); try again`,
          {},
          { cause: e },
        );
      }
      throw new Error(`DynamoDB table ${this.table}: transaction of ${ops.length} ops cancelled (${codes})`, { cause: e });
    }
  }

  private transactItem(op: WriteOp, writeId: string): TransactWriteItem {
    const onFail = { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const };
    switch (op.op) {
      case 'put':
        if (op.expect === undefined) return { Update: { TableName: this.table, ...unconditionalPut(op, writeId) } };
        return {
          Put: {
            TableName: this.table,
            Item: encodeItem(op.pk, op.sk, op.expect === 'absent' ? 1 : op.expect + 1, op.data, writeId),
            ...condition(op.expect),
            ...onFail,
          },
        };
      case 'delete':
        return { Delete: { TableName: this.table, Key: keyOf(op.pk, op.sk), ...condition(op.expect), ...onFail } };
      case 'check': {
        const c = condition(op.expect);
        return {
          ConditionCheck: {
            TableName: this.table,
            Key: keyOf(op.pk, op.sk),
            ConditionExpression: c.ConditionExpression!,
            ExpressionAttributeNames: c.ExpressionAttributeNames,
            ExpressionAttributeValues: c.ExpressionAttributeValues,
            ...onFail,
          },
        };
      }
    }
  }
}

/** An update that replaces the data and bumps the version from whatever it is (0 when absent). */
function unconditionalPut(op: Extract<WriteOp, { op: 'put' }>, writeId: string) {
  return {
    Key: keyOf(op.pk, op.sk),
    UpdateExpression: 'SET #d = :d, #w = :w, #v = if_not_exists(#v, :zero) + :one',
    ExpressionAttributeNames: { '#d': ATTR.data, '#w': ATTR.writeId, '#v': ATTR.version },
    ExpressionAttributeValues: {
      ':d': { S: JSON.stringify(op.data) },
      ':w': { S: writeId },
      ':zero': { N: '0' },
      ':one': { N: '1' },
    },
  };
}

function toItem(av: Av): Item {
  return plain(decodeItem(av));
}

/** The port's item, without the adapter's bookkeeping. */
function plain({ pk, sk, version, data }: Item): Item {
  return { pk, sk, version, data };
}

function newWriteId(): string {
  return randomBytes(8).toString('hex');
}

/** The smallest string greater than every string starting with `prefix` (keys are ASCII: lib/core/keys.ts). */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
