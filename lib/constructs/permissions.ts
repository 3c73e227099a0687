/**
 * What each Ferry function may do with the table and the object stores: one table, so a reviewer sees every
 * role's rights side by side. DynamoDB transactions need no action of their own: `TransactWriteItems` is
 * authorised per item by PutItem / UpdateItem / DeleteItem / ConditionCheckItem.
 */

export type FunctionRole = 'produce' | 'fetch' | 'admin' | 'groups' | 'fallback' | 'maintenance' | 'dispatcher' | 'topicResource';

const READ = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:DescribeTable'];
const WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'];
const DELETE = ['dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

export interface DataAccess {
  /** DynamoDB actions on the Ferry table. */
  readonly table: readonly string[];
  /** S3 object actions on `topics/*` of every object store. */
  readonly objects: readonly ('read' | 'write' | 'delete')[];
  /**
   * s3:ListBucket on every object store: garbage collection lists what it may delete, and
   * without it S3 answers a missing key with 403 instead of 404, which would break the fall-back to the next
   * replica. Every role that reads objects has it.
   */
  readonly list: boolean;
}

export const ACCESS: Record<FunctionRole, DataAccess> = {
  // Writes segments and commits index entries; never deletes. It reads an object only to check, after an SDK
  // retry met 412, that the key holds its own bytes (S3ObjectStore.putIfAbsent).
  produce: { table: [...READ, ...WRITE], objects: ['read', 'write'], list: true },
  // Read-only: the index from the table, the bytes from the stores.
  fetch: { table: READ, objects: ['read'], list: true },
  // Topic metadata and delayed records; a deleted topic's objects are left to maintenance.
  admin: { table: [...READ, ...WRITE, ...DELETE], objects: ['read'], list: true },
  // Group membership and committed offsets live in the table only.
  groups: { table: [...READ, ...WRITE, ...DELETE], objects: [], list: false },
  // API Gateway's catch-all route: answers 404 / 405 from the route table alone.
  fallback: { table: [], objects: [], list: false },
  // Retention, garbage collection and replica repair: the only role that deletes objects.
  maintenance: { table: [...READ, ...WRITE, ...DELETE, 'dynamodb:Scan'], objects: ['read', 'write', 'delete'], list: true },
  // Reads records to push, writes dead-lettered records, holds leases and commits offsets.
  dispatcher: { table: [...READ, ...WRITE, ...DELETE], objects: ['read', 'write'], list: true },
  // The CloudFormation custom resource runs the same admin logic as the admin routes.
  topicResource: { table: [...READ, ...WRITE, ...DELETE], objects: ['read'], list: true },
};

export const S3_ACTIONS = {
  read: ['s3:GetObject'],
  write: ['s3:PutObject'],
  delete: ['s3:DeleteObject'],
} as const;
