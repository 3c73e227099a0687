/**
 * The metadata store on SQLite (better-sqlite3): WAL, synchronous=FULL, one transaction per `write`, so a
 * resolved write survives a crash. Translates the port's compare-and-set into a check inside the transaction.
 */
import Database from 'better-sqlite3';
import { FerryError } from '../../protocol/errors';
import type { Item, ItemData, MetadataStore, SkRange, WriteOp, WriteResult } from '../../ports/metadata-store';

interface Row {
  pk: string;
  sk: string;
  version: number;
  data: string;
}

export class SqliteMetadataStore implements MetadataStore {
  readonly maxOpsPerWrite = Number.MAX_SAFE_INTEGER;
  readonly multiItemWrites = 'cheap';
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly writeTx: (ops: WriteOp[]) => WriteResult;

  /** Opens (or creates) the database file; `:memory:` for tests. Refuses a damaged file. */
  constructor(readonly file: string) {
    try {
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('busy_timeout = 5000');
      const check = this.db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(`integrity check failed: ${String(check)}`);
      this.db.exec(
        `CREATE TABLE IF NOT EXISTS items (
           pk TEXT NOT NULL, sk TEXT NOT NULL, version INTEGER NOT NULL, data TEXT NOT NULL,
           PRIMARY KEY (pk, sk)) WITHOUT ROWID`,
      );
    } catch (e) {
      throw new FerryError('data', `metadata database ${file} cannot be opened: ${(e as Error).message}`, { file }, { cause: e });
    }
    this.stmt = {
      get: this.db.prepare<[string, string], Row>('SELECT pk, sk, version, data FROM items WHERE pk = ? AND sk = ?'),
      version: this.db.prepare<[string, string], { version: number }>('SELECT version FROM items WHERE pk = ? AND sk = ?'),
      upsert: this.db.prepare(
        `INSERT INTO items (pk, sk, version, data) VALUES (@pk, @sk, @version, @data)
         ON CONFLICT (pk, sk) DO UPDATE SET version = excluded.version, data = excluded.data`,
      ),
      delete: this.db.prepare('DELETE FROM items WHERE pk = ? AND sk = ?'),
    };
    this.writeTx = this.db.transaction((ops: WriteOp[]): WriteResult => {
      const versions = ops.map((op) => this.stmt.version.get(op.pk, op.sk)?.version);
      for (let i = 0; i < ops.length; i++) {
        const expect = ops[i].expect;
        if (expect === undefined) continue;
        const v = versions[i];
        if (expect === 'absent' ? v !== undefined : v !== expect) {
          return { ok: false, failedIndex: i, current: this.getSync(ops[i].pk, ops[i].sk) };
        }
      }
      ops.forEach((op, i) => {
        if (op.op === 'put') {
          this.stmt.upsert.run({ pk: op.pk, sk: op.sk, version: (versions[i] ?? 0) + 1, data: JSON.stringify(op.data) });
        } else if (op.op === 'delete') {
          this.stmt.delete.run(op.pk, op.sk);
        }
      });
      return { ok: true };
    });
  }

  private getSync(pk: string, sk: string): Item | undefined {
    const row = this.stmt.get.get(pk, sk);
    return row ? toItem(row) : undefined;
  }

  async get(pk: string, sk: string): Promise<Item | undefined> {
    return this.getSync(pk, sk);
  }

  async query(pk: string, range: SkRange = {}): Promise<Item[]> {
    const where = ['pk = ?'];
    const args: unknown[] = [pk];
    if (range.gte !== undefined) {
      where.push('sk >= ?');
      args.push(range.gte);
    }
    if (range.lte !== undefined) {
      where.push('sk <= ?');
      args.push(range.lte);
    }
    if (range.prefix) {
      // sk >= prefix AND sk < prefix-with-last-char-incremented: a range scan, no LIKE escaping.
      where.push('sk >= ? AND sk < ?');
      args.push(range.prefix, prefixEnd(range.prefix));
    }
    let sql = `SELECT pk, sk, version, data FROM items WHERE ${where.join(' AND ')} ORDER BY sk ${range.reverse ? 'DESC' : 'ASC'}`;
    if (range.limit !== undefined) {
      sql += ' LIMIT ?';
      args.push(range.limit);
    }
    return (this.db.prepare(sql).all(...args) as Row[]).map(toItem);
  }

  async write(ops: WriteOp[]): Promise<WriteResult> {
    if (ops.length === 0) return { ok: true };
    return this.writeTx(ops);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function toItem(row: Row): Item {
  return { pk: row.pk, sk: row.sk, version: row.version, data: JSON.parse(row.data) as ItemData };
}

/** The smallest string greater than every string starting with `prefix`. */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
