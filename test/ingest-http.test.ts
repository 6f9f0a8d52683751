import { pbkdf2 } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../services/db/database.js';
import { BatchRepository } from '../services/feeds/batch.repository.js';
import { ingestBatchWithRetry, pendingEntries, type IngestDeps } from '../services/feeds/ingest.service.js';
import { TransientError } from '../services/feeds/retry.js';
import { openSource, SourceError } from '../services/feeds/source.js';
import { createTestDatabase } from './harness/db.js';
import { FeedSourceBuilder, siRow } from './harness/feed-source.js';
import { serveSource, type HttpSource } from './harness/http-source.js';
import { captureLogger } from './harness/log.js';
import { periodDate } from '../services/domain/period.js';

let database: Database;
let deps: IngestDeps;
let server: HttpSource | undefined;
const spoolDir = mkdtempSync(join(tmpdir(), 'ews-spool-'));

beforeAll(async () => {
  database = await createTestDatabase();
  deps = { batches: new BatchRepository(database), log: captureLogger().log };
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(async () => {
  await database.close();
});

function httpSource(url: string, opts: { token?: string; timeoutMs?: number; retries?: number } = {}) {
  return openSource(
    { name: 'exchange', url, ...(opts.token !== undefined ? { token: opts.token } : {}) },
    { timeoutMs: opts.timeoutMs ?? 2000, retries: opts.retries ?? 3, retryBaseMs: 5, spoolDir },
  );
}

const count = async (period: string) =>
  Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM social_insurance WHERE period = ${periodDate(period)}::date`.execute(database.db)).rows[0]?.n);

describe('an HTTP(S) source', () => {
  it('answering 503 twice then 200 is retried with backoff and loads once', async () => {
    const P = '2025-01';
    const b = new FeedSourceBuilder().add({
      file: 'social_insurance-2025-01.csv.gz', feed: 'social_insurance', period: P,
      rows: Array.from({ length: 40 }, (_, i) => siRow(100 + i, { period: P })),
    });
    server = await serveSource(b.dir, { token: 's3cret' });
    server.fail('manifest.json', { status: 503 }, { status: 503 });
    server.fail('social_insurance-2025-01.csv.gz', { status: 503 }, { status: 503 });
    const src = httpSource(server.url, { token: 's3cret' });
    const { pending } = await pendingEntries(deps, src);
    const out = await ingestBatchWithRetry(deps, src, pending[0]!, { attempts: 3, baseMs: 5 });
    expect(out).toMatchObject({ status: 'loaded', rowsLoaded: 40 });
    expect(server.requests.get('manifest.json')).toBe(3);
    expect(server.requests.get('social_insurance-2025-01.csv.gz')).toBe(3);
    expect(new Set(server.authorizations)).toEqual(new Set(['Bearer s3cret']));
    expect(await count(P)).toBe(40);
    // The spooled copy is removed once loaded.
    expect(readdirSync(spoolDir)).toEqual([]);
    // The batch history keeps the URL, never the token.
    const row = await deps.batches.get(out.batchId);
    expect(row?.source_url).toBe(server.url);
  });

  it('a body cut off half-way is fetched again', async () => {
    const P = '2025-02';
    const b = new FeedSourceBuilder().add({
      file: 'si.csv', feed: 'social_insurance', period: P, rows: Array.from({ length: 500 }, (_, i) => siRow(1000 + i, { period: P })),
    });
    server = await serveSource(b.dir);
    server.fail('si.csv', 'cut');
    const src = httpSource(server.url);
    const { pending } = await pendingEntries(deps, src);
    const out = await ingestBatchWithRetry(deps, src, pending[0]!, { attempts: 3, baseMs: 5 });
    expect(out).toMatchObject({ status: 'loaded', rowsLoaded: 500 });
    expect(server.requests.get('si.csv')).toBe(2);
    expect(await count(P)).toBe(500);
  });

  it('a body that ends early but cleanly (nothing at the HTTP level says it is short) is fetched again when its checksum is wrong', async () => {
    const P = '2025-03';
    const b = new FeedSourceBuilder().add({
      file: 'si-short.csv', feed: 'social_insurance', period: P, rows: Array.from({ length: 500 }, (_, i) => siRow(1500 + i, { period: P })),
    });
    server = await serveSource(b.dir);
    server.fail('si-short.csv', 'truncate');
    const src = httpSource(server.url);
    const { pending } = await pendingEntries(deps, src);
    const out = await ingestBatchWithRetry(deps, src, pending[0]!, { attempts: 3, baseMs: 5 });
    expect(out).toMatchObject({ status: 'loaded', rowsLoaded: 500 });
    expect(server.requests.get('si-short.csv')).toBe(2);
    expect(await count(P)).toBe(500);
  });

  it('a download refused before its file was open leaves nothing in the spool', async () => {
    const b = new FeedSourceBuilder().add({ file: 'si-refused.csv', feed: 'social_insurance', period: '2025-04', rows: [siRow(1900, { period: '2025-04' })] });
    server = await serveSource(b.dir);
    const src = httpSource(server.url, { retries: 0 });
    for (let i = 0; i < 5; i++) {
      server.fail('si-refused.csv', { status: 503 });
      // Keep libuv's four pool threads busy so the spool file's open (a pool task) comes after the 503, as on a loaded machine.
      const busy = Array.from({ length: 4 }, () => new Promise((done) => pbkdf2('x', 'y', 60_000, 32, 'sha256', done)));
      await expect(src.fetchBatch('si-refused.csv')).rejects.toThrow();
      await Promise.all(busy);
    }
    expect(readdirSync(spoolDir).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('that hangs times out, is retried, then fails with the reason', async () => {
    const b = new FeedSourceBuilder().add({ file: 'si.csv', feed: 'social_insurance', period: '2025-03', rows: [siRow(1, { period: '2025-03' })] });
    server = await serveSource(b.dir);
    server.fail('manifest.json', 'hang', 'hang', 'hang');
    const src = httpSource(server.url, { timeoutMs: 150, retries: 2 });
    const err = await pendingEntries(deps, src).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toBe(`GET ${server.url}manifest.json timed out after 150 ms (gave up after 3 attempts)`);
    expect(server.requests.get('manifest.json')).toBe(3);
  });

  it('refusing the token is not retried, and says what to check', async () => {
    const b = new FeedSourceBuilder().add({ file: 'si.csv', feed: 'social_insurance', period: '2025-04', rows: [siRow(1, { period: '2025-04' })] });
    server = await serveSource(b.dir, { token: 'right' });
    const src = httpSource(server.url, { token: 'wrong' });
    const err = await pendingEntries(deps, src).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toBe(`GET ${server.url}manifest.json answered HTTP 401: check the source's bearer token (FEED_TOKEN_<NAME>)`);
    expect(server.requests.get('manifest.json')).toBe(1);
  });
});
