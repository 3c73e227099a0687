/**
 * The DynamoDB single-table contract, shared by the metadata store, `ferry dev --backend aws` (which can
 * create the table) and the CDK constructs:
 *
 * | attribute | type | meaning |
 * |---|---|---|
 * | `pk` | S, partition key | the port's `pk` (`topics`, `p#{topicId}#{partition}`, `gc`, … — lib/core/keys.ts) |
 * | `sk` | S, sort key | the port's `sk` (`head`, `i#{20-digit offset}`, `t#{name}`, …) |
 * | `v` | N | the item version; every write sets it to previous + 1 (1 on create) |
 * | `d` | S | the item data as a JSON string |
 * | `w` | S | id of the write that set this version (lets a retried write recognise itself) |
 * | `ttl` | N | reserved: epoch seconds after which DynamoDB may expire the item (not written yet) |
 *
 * `d` is a JSON string, not a map: the port's data is JSON, and a string round-trips every JSON value exactly
 * (DynamoDB numbers stop at 38 digits and ±1E125, maps cost marshalling on every read), while the core only
 * ever conditions on `v`. Stream consumers get `d` whole in NEW_AND_OLD_IMAGES and parse it.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { FerryError } from '../../protocol/errors';
import type { Item, ItemData } from '../../ports/metadata-store';

export const ATTR = { pk: 'pk', sk: 'sk', version: 'v', data: 'd', writeId: 'w', ttl: 'ttl' } as const;

export type Av = Record<string, AttributeValue>;

export const keyOf = (pk: string, sk: string): Av => ({ [ATTR.pk]: { S: pk }, [ATTR.sk]: { S: sk } });

export function encodeItem(pk: string, sk: string, version: number, data: ItemData, writeId: string): Av {
  return {
    ...keyOf(pk, sk),
    [ATTR.version]: { N: String(version) },
    [ATTR.data]: { S: JSON.stringify(data) },
    [ATTR.writeId]: { S: writeId },
  };
}

export function decodeItem(av: Av): Item & { writeId?: string } {
  const pk = av[ATTR.pk]?.S;
  const sk = av[ATTR.sk]?.S;
  const version = Number(av[ATTR.version]?.N);
  const raw = av[ATTR.data]?.S;
  if (pk === undefined || sk === undefined || !Number.isSafeInteger(version) || raw === undefined) {
    throw new FerryError('data', `DynamoDB item ${pk ?? '?'} / ${sk ?? '?'} lacks pk, sk, v or d`, { pk, sk });
  }
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    data = undefined;
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new FerryError('data', `DynamoDB item ${pk} / ${sk} has a damaged data attribute`, { pk, sk });
  }
  return { pk, sk, version, data: data as ItemData, writeId: av[ATTR.writeId]?.S };
}

/**
 * Creates the table (on-demand, stream NEW_AND_OLD_IMAGES, TTL on `ttl`) unless it exists; for dev and tests.
 * In the cloud the CDK construct owns the table.
 */
export async function ensureTable(client: DynamoDBClient, table: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: table }));
    return;
  } catch (e) {
    if ((e as Error).name !== 'ResourceNotFoundException') throw e;
  }
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [
          { AttributeName: ATTR.pk, AttributeType: 'S' },
          { AttributeName: ATTR.sk, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: ATTR.pk, KeyType: 'HASH' },
          { AttributeName: ATTR.sk, KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
  } catch (e) {
    if ((e as Error).name !== 'ResourceInUseException') throw e; // created meanwhile
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: table });
  await client
    .send(new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { AttributeName: ATTR.ttl, Enabled: true } }))
    .catch(() => undefined); // already enabled, or an emulator without TTL: never needed for correctness
}
