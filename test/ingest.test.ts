import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../services/db/database.js';
import { BatchRepository } from '../services/feeds/batch.repository.js';
import { ingestBatch, ingestBatchWithRetry, pendingEntries, type IngestDeps } from '../services/feeds/ingest.service.js';
import { ManifestError } from '../services/feeds/manifest.js';
import { openSource, type FeedSource } from '../services/feeds/source.js';
import { createTestDatabase } from './harness/db.js';
import { FeedSourceBuilder, siRow, uscc } from './harness/feed-source.js';
import { captureLogger } from './harness/log.js';
import { periodDate } from '../services/domain/period.js';

let database: Database;
let deps: IngestDeps;
let logLines: string[];

beforeAll(async () => {
  database = await createTestDatabase();
  const { log, lines } = captureLogger();
  logLines = lines;
  deps = { batches: new BatchRepository(database), log };
});
afterAll(async () => {
  await database.close();
});

function source(b: FeedSourceBuilder, name = 'test'): FeedSource {
  return openSource({ name, url: b.url }, { timeoutMs: 2000, retries: 0, retryBaseMs: 10, spoolDir: `${b.dir}/.spool` });
}

/** Ingests every pending batch of the source, in manifest order. */
async function ingestAll(b: FeedSourceBuilder) {
  const src = source(b);
  const { pending } = await pendingEntries(deps, src);
  const out = [];
  for (const entry of pending) out.push(await ingestBatch(deps, src, entry));
  return out;
}

const siCount = async (period: string) =>
  Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM social_insurance WHERE period = ${periodDate(period)}::date`.execute(database.db)).rows[0]?.n);

async function quarantineOf(batchId: number) {
  return deps.batches.quarantine(batchId);
}

describe('a good batch', () => {
  it('loads every row once, and the same batch again is a no-op', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => siRow(1000 + i, { period: '2026-01' }));
    const b = new FeedSourceBuilder().add({ file: 'social_insurance-2026-01.csv.gz', feed: 'social_insurance', period: '2026-01', rows });
    const [first] = await ingestAll(b);
    expect(first).toMatchObject({ status: 'loaded', rowsRead: 50, rowsLoaded: 50, rowsQuarantined: 0, rowsReplaced: 0 });
    expect(await siCount('2026-01')).toBe(50);

    const row = await database.db.selectFrom('social_insurance').selectAll().where('uscc', '=', uscc(1000)).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ city_code: '510100', region_code: '510104', insured: 120, wage_base_total: '720000.00', period: '2026-01-01' });

    // Polling again finds nothing to do; loading it again directly is a no-op.
    expect((await pendingEntries(deps, source(b))).pending).toHaveLength(0);
    const again = await ingestBatch(deps, source(b), (await source(b).readManifest()).entries[0]!);
    expect(again.status).toBe('unchanged');
    expect(await siCount('2026-01')).toBe(50);
  });

  it('reads GBK when the manifest says gbk, and JSON Lines', async () => {
    const b = new FeedSourceBuilder()
      .add({ file: 'si-gbk.csv', feed: 'social_insurance', period: '2026-02', encoding: 'gbk', rows: [siRow(2000, { period: '2026-02', name: '四川攀钢集团有限公司' })] })
      .add({
        file: 'regional-2026-02.jsonl',
        feed: 'regional',
        period: '2026-02',
        rows: [{ region_code: '510100', period: '2026-02', registered_unemployed: 81234, ui_new_claims: 5400, urban_new_jobs: 21000, surveyed_unemployment_rate: 5.1 }],
      });
    const out = await ingestAll(b);
    expect(out.map((o) => o.status)).toEqual(['loaded', 'loaded']);
    const si = await database.db.selectFrom('social_insurance').select('name').where('uscc', '=', uscc(2000)).executeTakeFirstOrThrow();
    expect(si.name).toBe('四川攀钢集团有限公司');
    const reg = await database.db.selectFrom('regional').selectAll().where('period', '=', '2026-02-01').executeTakeFirstOrThrow();
    expect(reg).toMatchObject({ city_code: '510100', ui_new_claims: 5400, surveyed_unemployment_rate: '5.10' });
  });
});

describe('a batch refused whole', () => {
  it('wrong sha256: read again once (a download cut short), then rejected with the reason, nothing loaded, and not retried', async () => {
    const b = new FeedSourceBuilder().add({
      file: 'si.csv', feed: 'social_insurance', period: '2026-03', rows: [siRow(3000, { period: '2026-03' })], declaredSha256: 'ab'.repeat(32),
    });
    const src = source(b);
    const [entry] = (await pendingEntries(deps, src)).pending;
    await expect(ingestBatch(deps, src, entry!)).rejects.toThrow(/^sha256 mismatch: .*; reading it again$/);
    const o = await ingestBatch(deps, src, entry!);
    expect(o.status).toBe('rejected');
    expect(o.reason).toMatch(/^sha256 mismatch: the manifest says abababababab…, the file's bytes hash to [0-9a-f]{12}… \(\d+ bytes\); the same bytes when read again$/);
    expect(await siCount('2026-03')).toBe(0);
    // The next poll does not pick it up again: no retry storm.
    expect((await pendingEntries(deps, source(b))).pending).toHaveLength(0);
    const row = await deps.batches.get(o.batchId);
    expect(row?.attempts).toBe(2);
  });

  it('wrong row count: rejected, and none of its rows visible', async () => {
    const rows = [siRow(3100, { period: '2026-03' }), siRow(3101, { period: '2026-03' })];
    const b = new FeedSourceBuilder().add({ file: 'si-count.csv', feed: 'social_insurance', period: '2026-03', rows, declaredRows: 3 });
    const [o] = await ingestAll(b);
    expect(o).toMatchObject({ status: 'rejected', reason: 'row count mismatch: the manifest declares 3 rows, the file has 2', rowsRead: 2 });
    expect(await siCount('2026-03')).toBe(0);
  });

  it('a truncated gzip', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => siRow(3200 + i, { period: '2026-03' }));
    const b = new FeedSourceBuilder().add({ file: 'si-trunc.csv.gz', feed: 'social_insurance', period: '2026-03', rows, truncateTo: 300 });
    const [o] = await ingestAll(b);
    expect(o).toMatchObject({ status: 'rejected', reason: 'gzip data is truncated (unexpected end of file)' });
    expect(o?.rowsRead).toBeGreaterThan(0);
    expect(o?.rowsRead).toBeLessThan(200);
    expect(await siCount('2026-03')).toBe(0);
  });

  it('a GBK file declared as UTF-8', async () => {
    const b = new FeedSourceBuilder().add({
      file: 'si-gbk-as-utf8.csv', feed: 'social_insurance', period: '2026-03', encoding: 'gbk', declaredEncoding: 'utf-8',
      rows: [siRow(3300, { period: '2026-03', name: '四川长虹电器股份有限公司' })],
    });
    const [o] = await ingestAll(b);
    expect(o?.status).toBe('rejected');
    expect(o?.reason).toBe('not valid UTF-8 (by line 2); the manifest declares utf-8: if the file is GBK, its entry must say "encoding": "gbk"');
  });

  it('a header without a required column', async () => {
    const b = new FeedSourceBuilder().add({
      file: 'si-nohdr.csv', feed: 'social_insurance', period: '2026-03', rows: [{ ...siRow(3400, { period: '2026-03' }), insured: undefined }].map(({ insured: _i, ...r }) => r),
    });
    const [o] = await ingestAll(b);
    expect(o).toMatchObject({ status: 'rejected', reason: 'header lacks required column insured for feed social_insurance' });
  });

  it('a manifest that is not JSON fails the poll with the reason', async () => {
    const b = new FeedSourceBuilder().write('{"batches": [ oops ]');
    await expect(pendingEntries(deps, source(b))).rejects.toThrow(ManifestError);
    await expect(pendingEntries(deps, source(b))).rejects.toThrow(/^file:\/\/\/.*\/: manifest\.json is not valid JSON \(Unexpected token 'o'\)$/);
  });

  it('a bad manifest entry is refused alone; the others go through', async () => {
    const b = new FeedSourceBuilder().add({ file: 'si-ok.csv', feed: 'social_insurance', period: '2026-04', rows: [siRow(3500, { period: '2026-04' })] });
    const good = JSON.parse((await import('node:fs')).readFileSync(`${b.dir}/manifest.json`, 'utf8')) as { batches: unknown[] };
    good.batches.push({ file: '../etc/passwd.csv', feed: 'payroll', period: '2026-13', sha256: 'x', rows: -1 });
    b.write(JSON.stringify(good));
    const { manifest, pending } = await pendingEntries(deps, source(b));
    expect(pending.map((e) => e.file)).toEqual(['si-ok.csv']);
    expect(manifest.refused[0]?.reason).toBe(
      'batches[1] (../etc/passwd.csv): file: must be a relative path inside the source; feed: Invalid option: expected one of "social_insurance"|"headcount"|"regional"|"layoff_filings"; period: must be a month YYYY-MM; sha256: must be 64 hex digits; rows: Too small: expected number to be >=0',
    );
  });
});

describe('bad rows are quarantined, good rows still load', () => {
  const P = '2026-05';
  const ID = '11010519491231002X';
  let batchId: number;

  beforeAll(async () => {
    const badCheck = uscc(4001).slice(0, 17) + (uscc(4001).endsWith('7') ? '8' : '7');
    const rows = [
      siRow(4000, { period: P }),
      siRow(4001, { period: P, uscc: badCheck }),
      siRow(4002, { period: P, region_code: '440104' }),
      siRow(4003, { period: '2026-04' }),
      siRow(4004, { period: P, insured: -3 }),
      siRow(4005, { period: P, separated: 10, separated_migrant: 12 }),
      siRow(4006, { period: P, name: `成都${ID}贸易有限公司` }),
      siRow(4007, { period: P }),
      siRow(4000, { period: P }),
      siRow(4008, { period: P, industry_code: 'C51', name: '名称,带"引号"的公司' }),
    ];
    const b = new FeedSourceBuilder().add({ file: 'si-bad.csv', feed: 'social_insurance', period: P, rows });
    const [o] = await ingestAll(b);
    expect(o).toMatchObject({ status: 'loaded', rowsRead: 10, rowsLoaded: 2, rowsQuarantined: 8 });
    batchId = o!.batchId;
  });

  it('gives each a reason a person can act on, with its line', async () => {
    const q = await quarantineOf(batchId);
    const expected = (await import('../services/domain/uscc.js')).usccCheckChar(uscc(4001).slice(0, 17));
    expect(q.map((r) => [r.line_no, r.column_name, r.reason])).toEqual([
      [3, 'uscc', `uscc ${uscc(4001).slice(0, 17)}${uscc(4001).endsWith('7') ? '8' : '7'}: check digit should be ${expected}`],
      [4, 'region_code', 'region_code 440104 is not in Sichuan (codes start with 51)'],
      [5, 'period', `period 2026-04: differs from the batch period ${P}`],
      [6, 'insured', 'insured -3: must not be negative'],
      [7, 'separated_migrant', 'separated_migrant 12: exceeds separated 10'],
      [8, 'name', 'name: looks like a personal ID number (公民身份号码); value withheld'],
      [10, 'uscc', `duplicate: uscc ${uscc(4000)} already at line 2; the first is kept`],
      [11, 'industry_code', 'industry_code division 51 belongs to section F, not C'],
    ]);
    // Raw text is kept, quoting included.
    expect(q.find((r) => r.line_no === 11)?.raw).toContain('"名称,带""引号""的公司"');
  });

  it('never stores or logs the ID number: only the column name', async () => {
    const q = await quarantineOf(batchId);
    const row = q.find((r) => r.line_no === 8);
    expect(row?.raw).toContain('[withheld]');
    expect(row?.raw).not.toContain(ID);
    // Every table of the database, as text.
    const tables = await sql<{ t: string }>`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'`.execute(database.db);
    for (const { t } of tables.rows) {
      const hit = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(t)} x WHERE x::text LIKE ${`%${ID}%`}`.execute(database.db);
      expect(hit.rows[0]?.n, `table ${t}`).toBe(0);
    }
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('\n')).not.toContain(ID);
  });
});

describe('restatements', () => {
  it('replace the rows of the employers they list, and the history says what replaced what', async () => {
    const P = '2026-06';
    const b = new FeedSourceBuilder()
      .add({ file: 'si-06.csv', feed: 'social_insurance', period: P, rows: [5000, 5001, 5002].map((s) => siRow(s, { period: P, insured: 100 })) })
      .add({ file: 'si-06-r1.csv', feed: 'social_insurance', period: P, rows: [siRow(5001, { period: P, insured: 90 })] });
    const [orig, restated] = await ingestAll(b);
    expect(orig).toMatchObject({ status: 'loaded', rowsLoaded: 3 });
    expect(restated).toMatchObject({ status: 'loaded', rowsLoaded: 1, rowsReplaced: 1 });
    const rows = await database.db.selectFrom('social_insurance').select(['uscc', 'insured', 'batch_id']).where('period', '=', periodDate(P)).orderBy('uscc').execute();
    expect(rows.map((r) => r.insured)).toEqual([100, 90, 100]);
    expect(rows[1]?.batch_id).toBe(restated!.batchId);
    expect(await deps.batches.restatements(restated!.batchId)).toEqual([{ replaced_batch_id: orig!.batchId, rows: 1 }]);
  });

  it('win even when the original is loaded after them, and the history is the same as in manifest order', async () => {
    const P = '2026-07';
    const b = new FeedSourceBuilder()
      .add({ file: 'si-07.csv', feed: 'social_insurance', period: P, rows: [6000, 6001].map((s) => siRow(s, { period: P, insured: 100 })) })
      .add({ file: 'si-07-r1.csv', feed: 'social_insurance', period: P, rows: [siRow(6001, { period: P, insured: 70 })] });
    const src = source(b);
    const { pending } = await pendingEntries(deps, src);
    const first = await ingestBatch(deps, src, pending[1]!);
    const late = await ingestBatch(deps, src, pending[0]!);
    // Counted as if it had come first: both good rows, one of them restated by the batch already loaded.
    expect(late).toMatchObject({ status: 'loaded', rowsRead: 2, rowsLoaded: 2, rowsReplaced: 0 });
    const rows = await database.db.selectFrom('social_insurance').select(['uscc', 'insured']).where('period', '=', periodDate(P)).orderBy('uscc').execute();
    expect(rows.map((r) => r.insured)).toEqual([100, 70]);
    expect(await deps.batches.restatements(first.batchId)).toEqual([{ replaced_batch_id: late.batchId, rows: 1 }]);
    const history = await database.db.selectFrom('batch').select(['file', 'rows_loaded', 'rows_replaced']).where('period', '=', periodDate(P)).orderBy('file').execute();
    expect(history).toEqual([
      { file: 'si-07-r1.csv', rows_loaded: 1, rows_replaced: 1 },
      { file: 'si-07.csv', rows_loaded: 2, rows_replaced: 0 },
    ]);
  });
});

describe('crashes and restarts', () => {
  it('a crash between staging and merge leaves nothing; the retry loads every row exactly once', async () => {
    const P = '2026-08';
    const rows = Array.from({ length: 300 }, (_, i) => siRow(7000 + i, { period: P }));
    const b = new FeedSourceBuilder().add({ file: 'si-08.csv.gz', feed: 'social_insurance', period: P, rows });
    const src = source(b);
    const [entry] = (await pendingEntries(deps, src)).pending;
    await expect(
      ingestBatch(deps, src, entry!, { hooks: { afterStaging: () => Promise.reject(new Error('worker killed')) } }),
    ).rejects.toThrow('worker killed');
    expect(await siCount(P)).toBe(0);
    const mid = await database.db.selectFrom('batch').select(['status', 'last_error']).where('file', '=', 'si-08.csv.gz').executeTakeFirstOrThrow();
    expect(mid).toEqual({ status: 'loading', last_error: 'worker killed' });

    const again = await ingestBatch(deps, src, entry!);
    expect(again).toMatchObject({ status: 'loaded', rowsLoaded: 300 });
    expect(await siCount(P)).toBe(300);
  });

  it('a database connection killed mid-batch is retried with backoff and loads once', async () => {
    const P = '2026-09';
    const rows = Array.from({ length: 100 }, (_, i) => siRow(8000 + i, { period: P }));
    const b = new FeedSourceBuilder().add({ file: 'si-09.csv', feed: 'social_insurance', period: P, rows });
    const src = source(b);
    const [entry] = (await pendingEntries(deps, src)).pending;
    let kills = 0;
    const out = await ingestBatchWithRetry(deps, src, entry!, { attempts: 3, baseMs: 10 }, {
      hooks: {
        afterStaging: async (client) => {
          if (kills++ > 0) return;
          const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
          await sql`SELECT pg_terminate_backend(${pid})`.execute(database.db);
        },
      },
    });
    expect(kills).toBe(2);
    expect(out).toMatchObject({ status: 'loaded', rowsLoaded: 100 });
    expect(await siCount(P)).toBe(100);
    const row = await deps.batches.get(out.batchId);
    expect(row?.attempts).toBe(2);
  });
});

describe('concurrent loads', () => {
  it('two batches of a month with no partition yet both load at once, without an error', async () => {
    const P = '2027-01';
    const b = new FeedSourceBuilder();
    for (let k = 0; k < 4; k++) {
      b.add({ file: `si-2701-${k}.csv`, feed: 'social_insurance', period: P, rows: Array.from({ length: 25 }, (_, i) => siRow(9000 + k * 100 + i, { period: P })) });
    }
    const src = source(b);
    const { pending } = await pendingEntries(deps, src);
    expect(pending).toHaveLength(4);
    const outs = await Promise.all(pending.map((e) => ingestBatch(deps, src, e)));
    expect(outs.map((o) => o.status)).toEqual(['loaded', 'loaded', 'loaded', 'loaded']);
    expect(await siCount(P)).toBe(100);
  });
});

describe('a batch staged in many segments', () => {
  it('quarantines, deduplicates and restates across segment boundaries, all or nothing', async () => {
    const P = '2025-11';
    const rows = Array.from({ length: 40 }, (_, i) => siRow(9500 + i, { period: P, insured: 100 }));
    rows.splice(20, 0, siRow(9503, { period: P }), siRow(9999, { period: P, insured: -1 }));
    const restated = Array.from({ length: 15 }, (_, i) => siRow(9510 + i, { period: P, insured: 55 }));
    const b = new FeedSourceBuilder()
      .add({ file: 'seg.csv', feed: 'social_insurance', period: P, rows })
      .add({ file: 'seg-r1.csv', feed: 'social_insurance', period: P, rows: restated });
    const src = source(b);
    const [first, second] = (await pendingEntries(deps, src)).pending;
    // A crash after the first segment leaves nothing behind.
    await expect(ingestBatch(deps, src, first!, { segmentRows: 7, hooks: { afterStaging: () => Promise.reject(new Error('killed')) } })).rejects.toThrow('killed');
    expect(await siCount(P)).toBe(0);

    const o1 = await ingestBatch(deps, src, first!, { segmentRows: 7 });
    expect(o1).toMatchObject({ status: 'loaded', rowsRead: 42, rowsLoaded: 40, rowsQuarantined: 2 });
    expect((await quarantineOf(o1.batchId)).map((q) => [q.line_no, q.reason])).toEqual([
      [22, `duplicate: uscc ${uscc(9503)} already at line 5; the first is kept`],
      [23, 'insured -1: must not be negative'],
    ]);
    const o2 = await ingestBatch(deps, src, second!, { segmentRows: 4 });
    expect(o2).toMatchObject({ status: 'loaded', rowsLoaded: 15, rowsReplaced: 15 });
    expect(await deps.batches.restatements(o2.batchId)).toEqual([{ replaced_batch_id: o1.batchId, rows: 15 }]);
    const sums = await sql<{ insured: number; n: number }>`SELECT insured, count(*)::int AS n FROM social_insurance WHERE period = ${periodDate(P)}::date GROUP BY insured ORDER BY insured`.execute(database.db);
    expect(sums.rows).toEqual([{ insured: 55, n: 15 }, { insured: 100, n: 25 }]);
  });
});

describe('the other feeds', () => {
  it('headcount, and layoff filings with their own rules', async () => {
    const P = '2026-10';
    const b = new FeedSourceBuilder()
      .add({
        file: 'headcount.csv', feed: 'headcount', period: P,
        rows: [
          { uscc: uscc(9000), period: P, jobs_begin: 500, jobs_end: 470, jobs_lost: 30, loss_reason: 'orders', planned_layoffs: 40, furloughed: 12, dispatched: '' },
          { uscc: uscc(9001), period: P, jobs_begin: 500, jobs_end: 500, jobs_lost: 0, loss_reason: 'orders', planned_layoffs: 0, furloughed: '', dispatched: '' },
          { uscc: uscc(9002), period: P, jobs_begin: 100, jobs_end: 50, jobs_lost: 20, loss_reason: 'closure', planned_layoffs: 0, furloughed: '', dispatched: '' },
        ],
      })
      .add({
        file: 'filings.csv', feed: 'layoff_filings', period: P,
        rows: [
          { filing_id: 'CD-2026-0001', uscc: uscc(9000), filed_on: '2026-10-08', effective_on: '2026-11-10', planned_count: 40, staff_total: 500, reason: 'difficulty' },
          { filing_id: 'CD-2026-0002', uscc: uscc(9001), filed_on: '2026-09-30', effective_on: '2026-09-01', planned_count: 40, staff_total: 30, reason: 'layoff' },
        ],
      });
    const [hc, fil] = await ingestAll(b);
    expect(hc).toMatchObject({ status: 'loaded', rowsLoaded: 1, rowsQuarantined: 2 });
    expect((await quarantineOf(hc!.batchId)).map((q) => q.reason)).toEqual([
      'loss_reason "orders": must be empty when jobs_lost is 0',
      'jobs_end 50: below jobs_begin 100 minus jobs_lost 20',
    ]);
    expect(fil).toMatchObject({ status: 'loaded', rowsLoaded: 1, rowsQuarantined: 1 });
    expect((await quarantineOf(fil!.batchId))[0]?.reason).toBe(
      'reason "layoff": must be one of bankruptcy, difficulty, restructuring, circumstances; filed_on 2026-09-30: not within the batch period 2026-10; effective_on 2026-09-01: before filed_on 2026-09-30; staff_total 30: below planned_count 40',
    );
  });
});
