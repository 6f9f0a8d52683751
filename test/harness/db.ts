import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase, type Database } from '../../services/db/database.js';
import { adminUrl, databaseUrl } from './env.js';

/** A database of its own for one test file, cloned from the migrated template. */
export async function createTestDatabase(): Promise<Database & { name: string }> {
  // The creation time in the name lets a later run tell a killed run's
  // leftover from a database another run on this machine is still using.
  const name = `ews_test_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject('templateDatabase')}`);
  } finally {
    await admin.end();
  }
  const database = openDatabase(databaseUrl(name), 5, async () => {
    const a = new pg.Client({ connectionString: adminUrl() });
    await a.connect();
    try {
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await a.end();
    }
  });
  return Object.assign(database, { name });
}
