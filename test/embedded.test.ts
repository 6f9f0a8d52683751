import { chmodSync, existsSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../config/config.schema.js';
import { connectDatabase } from '../services/db/connect.js';
import { relocatedName, ROOT_HOME } from '../services/db/embedded.js';
import { captureLogger } from './harness/log.js';
import { freePort } from './harness/ports.js';

describe('the embedded default database', () => {
  it('starts a real PostgreSQL under the data directory, migrates it, shares it, and stops it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ews-embedded-'));
    chmodSync(dataDir, 0o755);
    const port = await freePort();
    const config = configSchema.parse({ dataDir, database: { embeddedPort: port } });
    const { log } = captureLogger();

    const first = await connectDatabase(config, log);
    const tables = await first.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_tables WHERE tablename IN ('batch', 'quarantine', 'social_insurance')");
    expect(tables.rows[0]?.n).toBe(3);
    const version = await first.pool.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    expect(version.rows[0]?.v).toMatch(/^\d+/);

    // A second process finds it running and uses it without starting another.
    const second = await connectDatabase(config, log);
    await second.close();
    expect((await first.pool.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);

    await first.close();
    const probe = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: 'ews-embedded', database: 'ews', connectionTimeoutMillis: 2000 });
    await expect(probe.connect()).rejects.toThrow();
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  // Only root hands the server to the postgres user; elsewhere the server runs as the caller, wherever the folder is.
  it.runIf(process.getuid?.() === 0)('as root, keeps the data where the server user can reach it when the data directory is closed to it, and finds it again', async () => {
    const closed = mkdtempSync(join(tmpdir(), 'ews-closed-'));
    chmodSync(closed, 0o700);
    const dataDir = join(closed, 'data');
    const port = await freePort();
    const config = configSchema.parse({ dataDir, database: { embeddedPort: port } });
    mkdirSync(dataDir);
    const relocated = join(ROOT_HOME, 'pg', relocatedName(dataDir));
    try {
      const first = captureLogger();
      const db = await connectDatabase(config, first.log);
      await db.pool.query('CREATE TABLE kept_across_runs (x int); INSERT INTO kept_across_runs VALUES (41)');
      await db.close();
      expect(first.lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain(
        `embedded PostgreSQL keeps its data in ${relocated} (${join(dataDir, 'pg')} links there): user postgres cannot enter ${closed}; to start afresh, delete both`,
      );
      expect(readlinkSync(join(dataDir, 'pg'))).toBe(relocated);
      expect(statSync(relocated).uid).not.toBe(0);
      await expect(portOpen(port)).resolves.toBe(false);

      // The next run finds the same data through the link.
      const again = await connectDatabase(config, captureLogger().log);
      expect((await again.pool.query('SELECT x FROM kept_across_runs')).rows).toEqual([{ x: 41 }]);
      await again.close();
      await expect(portOpen(port)).resolves.toBe(false);
      expect(existsSync(join(relocated, 'postmaster.pid'))).toBe(false);
    } finally {
      rmSync(relocated, { recursive: true, force: true });
      rmSync(closed, { recursive: true, force: true });
    }
  }, 120_000);

  it.runIf(process.getuid?.() === 0)('says what to do when, as root, a database already lies out of the server user\'s reach', async () => {
    const closed = mkdtempSync(join(tmpdir(), 'ews-closed-'));
    chmodSync(closed, 0o700);
    const dataDir = join(closed, 'data');
    mkdirSync(join(dataDir, 'pg'), { recursive: true });
    writeFileSync(join(dataDir, 'pg', 'PG_VERSION'), '18\n');
    const target = join(ROOT_HOME, 'pg', relocatedName(dataDir));
    const config = configSchema.parse({ dataDir, database: { embeddedPort: await freePort() } });
    try {
      await expect(connectDatabase(config, captureLogger().log)).rejects.toThrow(
        `embedded PostgreSQL runs as user postgres, which cannot enter ${closed}, and ${join(dataDir, 'pg')} already holds its data: with no server running, move it (mv ${join(dataDir, 'pg')} ${target} && ln -s ${target} ${join(dataDir, 'pg')}), open ${closed} (chmod o+x), or set DATABASE_URL`,
      );
      expect(existsSync(target)).toBe(false);
    } finally {
      rmSync(closed, { recursive: true, force: true });
    }
  });
});

function portOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); done(true); });
    socket.once('error', () => done(false));
  });
}
