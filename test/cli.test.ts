import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../services/db/database.js';
import { createTestDatabase } from './harness/db.js';
import { databaseUrl } from './harness/env.js';
import { FeedSourceBuilder, siRow } from './harness/feed-source.js';

const BIN = fileURLToPath(new URL('../bin/ews.js', import.meta.url));
let database: Database & { name: string };

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.close();
});

function ews(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: databaseUrl(database.name), LOG_LEVEL: 'warn', LOG_FORMAT: 'json', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('the ews command', () => {
  it('ingests a source, lists batches and quarantined rows as JSON for scripts', async () => {
    const b = new FeedSourceBuilder().add({
      file: 'si.csv', feed: 'social_insurance', period: '2026-10', rows: [siRow(1), siRow(2, { region_code: '110105' })],
    });
    const ingest = await ews(['ingest', '--source', b.url, '--json']);
    expect(ingest.code).toBe(0);
    const out = JSON.parse(ingest.stdout) as { batches: { status: string; batchId: number; rowsLoaded: number; rowsQuarantined: number }[] };
    expect(out.batches).toHaveLength(1);
    expect(out.batches[0]).toMatchObject({ status: 'loaded', rowsLoaded: 1, rowsQuarantined: 1 });

    const list = await ews(['batches', '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject([{ id: out.batches[0]!.batchId, feed: 'social_insurance', period: '2026-10', status: 'loaded', loaded: 1, quarantined: 1 }]);

    const q = await ews(['quarantine', '--batch', String(out.batches[0]!.batchId), '--json']);
    expect(q.code).toBe(0);
    expect(JSON.parse(q.stdout)).toMatchObject({ quarantined: 1, rows: [{ line_no: 3, column_name: 'region_code', reason: 'region_code 110105 is not in Sichuan (codes start with 51)' }] });

    const human = await ews(['batches']);
    expect(human.stdout.split('\n')[0]).toMatch(/^id\s+feed\s+period\s+file\s+status/);
  });

  it('fails with a one-line reason and a non-zero exit', async () => {
    const cases: [string[], Record<string, string>, number, string][] = [
      [['ingest'], {}, 2, 'ews: no feed source: pass --source <url> or set FEED_SOURCES\n'],
      [['quarantine', '--batch', '999999'], {}, 2, 'ews: no batch 999999 (see `ews batches`)\n'],
      [['batches'], { DB_POOL_SIZE: 'many', REDIS_URL: 'http://x' }, 2, 'ews: invalid configuration (2 problems): DB_POOL_SIZE: must be a whole number, got "many"; REDIS_URL (redis.url): must be a redis:// or rediss:// URL\n'],
      [['ingest', '--source', 'file:///nonexistent/feeds/'], {}, 1, 'ews: 1 source(s) or batch(es) could not be read: file:///nonexistent/feeds/: no manifest.json (is the source directory right?)\n'],
    ];
    for (const [args, env, code, stderr] of cases) {
      const r = await ews(args, env);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code, stderr });
    }
  });
});
