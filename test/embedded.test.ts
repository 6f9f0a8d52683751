import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../config/config.schema.js';
import { connectDatabase } from '../services/db/connect.js';
import { captureLogger } from './harness/log.js';

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = net.createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => ok(port));
    });
  });
}

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
  }, 120_000);

  // Only root hands the server to the postgres user; elsewhere there is nothing to check.
  it.runIf(process.getuid?.() === 0)('says what to do when, as root, the data directory is out of the server user\'s reach', async () => {
    const closed = mkdtempSync(join(tmpdir(), 'ews-closed-'));
    chmodSync(closed, 0o700);
    mkdirSync(join(closed, 'data'));
    const config = configSchema.parse({ dataDir: join(closed, 'data'), database: { embeddedPort: await freePort() } });
    await expect(connectDatabase(config, captureLogger().log)).rejects.toThrow(
      `embedded PostgreSQL runs as user postgres, which cannot enter ${closed}: set EWS_DATA_DIR to a folder it can reach (e.g. /var/tmp/ews), open ${closed} (chmod o+x), or set DATABASE_URL`,
    );
  });
});
