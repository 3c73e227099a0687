/**
 * DynamoDB as AWS runs it, in front of DynamoDB Local: every call authorised against the calling function's
 * policies (a `TransactWriteItems` action by action), and DynamoDB's transaction conflicts, which DynamoDB
 * Local does not produce:
 *
 * - a `TransactWriteItems` touching an item that is part of another in-flight transaction is cancelled
 *   (`TransactionCanceledException`, reason `TransactionConflict` on that item, `None` on the others);
 * - a `PutItem` / `UpdateItem` / `DeleteItem` on such an item fails with `TransactionConflictException`.
 *
 * How long an item counts as part of an in-flight transaction is modelled, not measured: a real
 * `TransactWriteItems` takes ~10-25 ms, while DynamoDB Local on a loaded machine takes from 1 ms to several
 * hundred. A transaction's items are locked for exactly `transactionMs` from its arrival (its answer is held
 * back until then if DynamoDB Local was faster), so conflicts show at AWS's time scale rather than at the
 * emulator's. Conflicts DynamoDB Local reports itself are passed on and counted too.
 */
import { randomUUID } from 'node:crypto';
import { ACCOUNT, REGION } from './intrinsics';
import { forward, listen, readBody, send } from './http-proxy';
import { withEmulatorKey, type Check, type Principals } from './principals';

export interface DynamoProxyOptions {
  target: string;
  principals: Principals;
  /** Key attribute names (partition, sort) per table name, from the template's KeySchema. */
  keySchema: Map<string, string[]>;
  emulatorKey: string;
  /** How long a transaction's items stay locked (default 25 ms, a real transaction's latency). */
  transactionMs?: number;
}

export interface DynamoStats {
  requests: number;
  denials: number;
  /** Transactions cancelled because an item was part of another in-flight transaction. */
  transactionConflicts: number;
  /** Single-item writes refused with TransactionConflictException. */
  writeConflicts: number;
  /** Transactions forwarded to DynamoDB Local. */
  transactions: number;
  byOperation: Record<string, number>;
}

const JSON_TYPE = 'application/x-amz-json-1.0';
const tableArn = (t: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${t}`;
const SINGLE_WRITES: Record<string, string> = { PutItem: 'Item', UpdateItem: 'Key', DeleteItem: 'Key' };
const TXN_ACTIONS: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};

/** The IAM checks a DynamoDB request needs. */
function checksFor(op: string, body: any): Check[] {
  switch (op) {
    case 'TransactWriteItems':
      return (body.TransactItems as any[]).map((item) => {
        const [kind] = Object.keys(item);
        return { action: TXN_ACTIONS[kind], resource: tableArn(item[kind].TableName) };
      });
    case 'TransactGetItems':
      return (body.TransactItems as any[]).map((item) => ({ action: 'dynamodb:GetItem', resource: tableArn(item.Get.TableName) }));
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys(body.RequestItems).map((t) => ({ action: `dynamodb:${op}`, resource: tableArn(t) }));
    default: {
      const resource = body.IndexName ? `${tableArn(body.TableName)}/index/${body.IndexName}` : tableArn(body.TableName);
      return [{ action: `dynamodb:${op}`, resource }];
    }
  }
}

export async function startDynamoProxy(options: DynamoProxyOptions) {
  const { principals, keySchema } = options;
  const lockMs = options.transactionMs ?? 25;
  const stats: DynamoStats = { requests: 0, denials: 0, transactionConflicts: 0, writeConflicts: 0, transactions: 0, byOperation: {} };
  /** item id → the in-flight transaction (its client request token) that holds it. */
  const locked = new Map<string, string>();
  const itemId = (table: string, attrs: Record<string, unknown>) =>
    `${table}\u0000${(keySchema.get(table) ?? Object.keys(attrs).sort()).map((k) => JSON.stringify(attrs[k])).join('\u0000')}`;

  const error = (res: Parameters<typeof send>[0], type: string, fields: Record<string, unknown>) =>
    send(
      res,
      400,
      { 'content-type': JSON_TYPE, 'x-amzn-requestid': randomUUID() },
      JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, ...fields }),
    );

  const proxy = await listen(
    async (req, res) => {
      const raw = await readBody(req);
      const op = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
      stats.requests++;
      stats.byOperation[op] = (stats.byOperation[op] ?? 0) + 1;
      const principal = principals.fromHeaders(req.headers);
      if (!principal)
        return error(res, 'UnrecognizedClientException', { message: 'The security token included in the request is invalid.' });
      const denial = principals.authorize(principal, checksFor(op, body));
      if (denial) {
        stats.denials++;
        // AccessDeniedException keeps the coral namespace on DynamoDB.
        return send(
          res,
          400,
          { 'content-type': JSON_TYPE, 'x-amzn-requestid': randomUUID() },
          JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', Message: denial.message }),
        );
      }

      let ids: string[] = [];
      let token = '';
      if (op === 'TransactWriteItems') {
        token = body.ClientRequestToken ?? randomUUID();
        ids = (body.TransactItems as any[]).map((item) => {
          const part = item[Object.keys(item)[0]];
          return itemId(part.TableName, part.Key ?? part.Item);
        });
        const holders = ids.map((id) => locked.get(id));
        if (holders.some((h) => h === token))
          return error(res, 'TransactionInProgressException', { message: 'Transaction is in progress' });
        if (holders.some((h) => h !== undefined)) {
          stats.transactionConflicts++;
          const reasons = holders.map((h) =>
            h === undefined ? { Code: 'None' } : { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' },
          );
          return error(res, 'TransactionCanceledException', {
            Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
            CancellationReasons: reasons,
          });
        }
        for (const id of ids) locked.set(id, token);
      } else if (op in SINGLE_WRITES) {
        if (locked.has(itemId(body.TableName, body[SINGLE_WRITES[op]]))) {
          stats.writeConflicts++;
          return error(res, 'TransactionConflictException', { message: 'Transaction is ongoing for the item' });
        }
      }

      const release = () => {
        for (const id of ids) if (locked.get(id) === token) locked.delete(id);
      };
      const window = ids.length ? new Promise((r) => setTimeout(r, lockMs)).then(release) : Promise.resolve();
      try {
        const headers = { ...req.headers, authorization: withEmulatorKey(req.headers.authorization, options.emulatorKey) };
        const answer = await forward(options.target, req, headers, raw);
        await window;
        if (ids.length) {
          stats.transactions++;
          if (answer.status === 400 && answer.body.includes('TransactionConflict')) stats.transactionConflicts++;
        }
        send(res, answer.status, answer.headers, answer.body);
      } finally {
        release();
      }
    },
    (e) => console.error('dynamodb proxy', e),
  );
  return { url: proxy.url, stats, close: proxy.close };
}
