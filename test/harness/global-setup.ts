import { createHash } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { listMigrations, migrate } from '../../services/db/migrate.js';
import { adminUrl, databaseUrl } from './env.js';

/**
 * Once per run: a template database migrated to the current schema, named by
 * the migrations' checksum so an unchanged schema is reused. Each test file
 * clones it (test/harness/db.ts), which takes milliseconds.
 */
const STALE_AFTER_S = 6 * 3600;

export default async function setup(project: TestProject): Promise<void> {
  const digest = createHash('sha256').update(listMigrations().map((m) => m.checksum).join()).digest('hex').slice(0, 12);
  const template = `ews_template_${digest}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock(815100002)');
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
    if (found.rowCount === 0) {
      await admin.query(`CREATE DATABASE ${template}`);
      const pool = new pg.Pool({ connectionString: databaseUrl(template), max: 1 });
      try {
        await migrate(pool);
      } catch (err) {
        await pool.end();
        await admin.query(`DROP DATABASE ${template}`);
        throw err;
      }
      await pool.end();
    }
    // Leftovers of runs that were killed: idle, and older than any run lasts.
    // (A younger idle one may belong to a run going on beside this one.)
    const stale = await admin.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'ews\\_test\\_%' AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = pg_database.datname)",
    );
    const cutoff = Date.now() / 1000 - STALE_AFTER_S;
    for (const r of stale.rows) {
      const created = /^ews_test_(\d+)_[0-9a-f]+$/.exec(r.datname)?.[1];
      if (created === undefined || Number(created) < cutoff) await admin.query(`DROP DATABASE IF EXISTS ${r.datname}`);
    }
  } finally {
    await admin.query('SELECT pg_advisory_unlock(815100002)').catch(() => undefined);
    await admin.end();
  }
  project.provide('templateDatabase', template);
}

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}
