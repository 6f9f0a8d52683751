import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

/**
 * Numbered migrations in sql/ (NNN_name.sql), applied in order, each in its
 * own transaction, under an advisory lock so that two processes starting at
 * once do not race. An applied file that has since changed is an error.
 */
export const SQL_DIR = fileURLToPath(new URL('../../sql/', import.meta.url));
const LOCK_KEY = 815_100_001;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export function listMigrations(dir = SQL_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const sql = readFileSync(`${dir}/${file}`, 'utf8');
      return {
        version: Number(file.slice(0, 3)),
        name: file.slice(4, -4),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    });
}

export interface MigrateResult {
  applied: string[];
  current: number;
}

export async function migrate(pool: pg.Pool, dir = SQL_DIR): Promise<MigrateResult> {
  const migrations = listMigrations(dir);
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migration (
      version integer PRIMARY KEY, name text NOT NULL, checksum char(64) NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = await client.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM schema_migration ORDER BY version',
    );
    const applied = new Map(done.rows.map((r) => [r.version, r]));
    for (const [version, row] of applied) {
      const m = migrations.find((x) => x.version === version);
      if (!m) throw new MigrationError(`database has migration ${version} (${row.name}) that sql/ does not: this code is older than the database`);
      if (m.checksum !== row.checksum) throw new MigrationError(`migration ${version}_${m.name}.sql changed after it was applied; add a new migration instead`);
    }
    const newly: string[] = [];
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migration (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new MigrationError(`migration ${m.version}_${m.name}.sql failed: ${(err as Error).message}`);
      }
      newly.push(`${String(m.version).padStart(3, '0')}_${m.name}`);
    }
    return { applied: newly, current: migrations.at(-1)?.version ?? 0 };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    client.release();
  }
}
