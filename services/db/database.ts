import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import Cursor from 'pg-cursor';
import type { Tables } from '../../sql/schema.js';
import { migrate } from './migrate.js';

/** DATE stays a 'YYYY-MM-DD' string; int8 (ids, counts) becomes a number. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === 1082) return (v: string) => v;
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format) as (v: string) => unknown;
  }) as typeof pg.types.getTypeParser,
};

export interface Database {
  readonly db: Kysely<Tables>;
  /** The raw pool, for COPY streams and advisory locks held on one connection. */
  readonly pool: pg.Pool;
  readonly url: string;
  close(): Promise<void>;
}

export function openDatabase(url: string, poolSize = 10, onClose?: () => Promise<void>): Database {
  // JIT off: every query here is a short lookup or a streamed scan, and
  // PostgreSQL's JIT compiled each shard's scans anew (~0.7 s a query, more
  // than the scan itself on a month of 1,000,000 employers).
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types, application_name: 'layoff-ews', options: '-c jit=off' });
  // A client that loses its server (a restart, a terminated backend) emits
  // 'error': an idle one through the pool, a checked-out one (a query, a
  // transaction, a COPY in progress) on itself, where pg-pool listens to
  // nothing. Without a listener either would crash the process. The query
  // in flight fails with its own error; the pool discards the broken
  // client on release and the next query opens a new connection.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool, cursor: Cursor }) });
  let closed = false;
  return {
    db,
    pool,
    url,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
      if (onClose) await onClose();
    },
  };
}

/**
 * fn on one pooled connection inside a transaction (`begin` opens it):
 * committed when fn resolves, rolled back when it throws. A connection
 * that failed mid-transaction (or was terminated) is not reused.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(begin);
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    broken = true;
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release(broken);
  }
}

/** The same server's URL with another database name. */
export function withDatabaseName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

/** The URL without its password, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * A database next to the one at `url` on the same server (the evaluation's
 * provinces), created on first use (dropped first when `fresh`) and migrated.
 */
export async function siblingDatabase(url: string, name: string, fresh: boolean): Promise<Database> {
  const admin = new pg.Client({ connectionString: withDatabaseName(url, 'postgres') });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    if (fresh) await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const database = openDatabase(withDatabaseName(url, name), 4);
  await migrate(database.pool);
  return database;
}
