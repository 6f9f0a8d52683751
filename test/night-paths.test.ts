import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CITIES } from '../config/cities.js';
import { configSchema, type Config } from '../config/config.schema.js';
import { poolScorer, startInferencePool, type InferencePool } from '../models/inference.pool.js';
import type { Database } from '../services/db/database.js';
import { BatchRepository } from '../services/feeds/batch.repository.js';
import { ingestBatch, pendingEntries } from '../services/feeds/ingest.service.js';
import { openSource } from '../services/feeds/source.js';
import { runNightInline } from '../services/nightly/nightly.service.js';
import { FEATURE_SPEC } from '../services/scoring/features.js';
import { RiskRepository } from '../services/scoring/risk.repository.js';
import { scorePeriod } from '../services/scoring/score.run.js';
import { inlineShards, type ScoreDeps } from '../services/scoring/score.service.js';
import { SeriesRepository } from '../services/scoring/series.repository.js';
import { generateProvince, type GenerateSummary } from '../services/synth/province.generate.js';
import { redisConnection } from '../workers/redis.js';
import { serve, type Service } from '../workers/serve.js';
import { createTestDatabase } from './harness/db.js';
import { databaseUrl, redisUrl } from './harness/env.js';
import { captureLogger } from './harness/log.js';
import { startSmtpSink, type SmtpSink } from './harness/smtp.js';
import { until } from './harness/wait.js';
import { obliterateQueues } from './harness/queues.js';

/**
 * One night, two paths: the same database state (every batch loaded, the
 * two months before scored and packed) goes through the BullMQ flow in one
 * database and through `runNightInline` in another. Both must write the
 * same rows in every table, and both must prune the pack partitions the
 * night no longer needs.
 */

let inlineDb: Database & { name: string };
let queueDb: Database & { name: string };
let sink: SmtpSink;
let dir: string;
let summary: GenerateSummary;
let pool: InferencePool;
let service: Service | undefined;
const prefix = `ews-paths-${randomBytes(4).toString('hex')}`;
const connection = redisConnection(redisUrl());
const LAST = '2026-10';

function configFor(database: Database & { name: string }): Config {
  return configSchema.parse({
    database: { url: databaseUrl(database.name), poolSize: 6 },
    dataDir: join(dir, `data-${database.name}`),
    redis: { url: redisUrl(), queuePrefix: prefix },
    feeds: { sources: [{ name: 'province', url: `file://${summary.sourceDir}/` }], retryBaseMs: 10 },
    scoring: { shards: 4, threads: 0, modelThreads: 1 },
    notify: {
      smtpUrl: sink.url,
      cities: Object.fromEntries(CITIES.map((c) => [c.code, [{ email: `dept-${c.code}@city.example` }]])),
      province: [{ email: 'office@province.example', levels: [1, 2] }],
    },
    nightly: { cron: '0 2 1 1 *', pollCron: '0 0 1 1 *' },
    shutdownGraceMs: 5_000,
  });
}

/** What every night starts from, identically in both databases: all batches loaded in manifest order, the two months before the night scored. */
async function prepare(database: Database, config: Config): Promise<void> {
  const { log } = captureLogger();
  const deps = { batches: new BatchRepository(database), log };
  const source = openSource(config.feeds.sources[0]!, { timeoutMs: 5000, retries: 0, retryBaseMs: 10, spoolDir: join(dir, 'spool') });
  for (const entry of (await pendingEntries(deps, source)).pending) await ingestBatch(deps, source, entry);
  const scoreDeps: ScoreDeps = {
    series: new SeriesRepository(database), risks: new RiskRepository(database), thresholds: config.scoring.thresholds,
    cityBands: config.scoring.cityRisk, model: poolScorer(pool), log,
  };
  for (const period of ['2026-08', '2026-09']) await scorePeriod(scoreDeps, period, { shards: config.scoring.shards });
}

/** Every row of a table, with the columns that differ between any two runs by nature left out: clock times, and the night's key (only the queue's night has one). */
async function rows(database: Database, table: string): Promise<unknown[]> {
  const cols = await sql<{ column_name: string; data_type: string }>`
    SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ${table} ORDER BY ordinal_position`.execute(database.db);
  const kept = cols.rows.filter((c) => !c.data_type.startsWith('timestamp') && c.column_name !== 'night_key').map((c) => `"${c.column_name}"`);
  const list = kept.join(', ');
  const r = await database.pool.query(`SELECT ${list} FROM ${table} ORDER BY ${kept.map((_, i) => i + 1).join(', ')}`);
  return r.rows as unknown[];
}

async function packPartitions(database: Database): Promise<string[]> {
  const r = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'series_pack'::regclass ORDER BY 1`.execute(database.db);
  return r.rows.map((x) => x.name);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ews-paths-'));
  sink = await startSmtpSink();
  summary = await generateProvince({ outDir: join(dir, 'province'), employers: 500, months: 26, seed: 23, lastPeriod: LAST, defects: false });
  pool = await startInferencePool(fileURLToPath(new URL('../models/default', import.meta.url)), FEATURE_SPEC, { threads: 1 });
  [inlineDb, queueDb] = await Promise.all([createTestDatabase(), createTestDatabase()]);
}, 180_000);

afterAll(async () => {
  await service?.stop();
  await obliterateQueues(connection, prefix);
  await pool?.close();
  await sink?.close();
  await inlineDb?.close();
  await queueDb?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the night through the queues and inline', () => {
  it('writes the same rows in every table, and prunes the pack on both paths', async () => {
    const inlineConfig = configFor(inlineDb);
    const queueConfig = configFor(queueDb);
    await prepare(inlineDb, inlineConfig);
    await prepare(queueDb, queueConfig);
    // Before the night: the packs of 2026-08 and 2026-09.
    const before = await packPartitions(queueDb);
    expect(before).toEqual(['series_pack_p202608', 'series_pack_p202609']);
    expect(await packPartitions(inlineDb)).toEqual(before);

    // Inline, as `ews nightly` runs it.
    const { log } = captureLogger();
    const model = poolScorer(pool);
    const runner = inlineShards({ series: new SeriesRepository(inlineDb), risks: new RiskRepository(inlineDb), thresholds: inlineConfig.scoring.thresholds, model, log });
    const night = await runNightInline({ config: inlineConfig, database: inlineDb, log }, { model, note: null, runner });
    expect(night).toMatchObject({ period: LAST, ingested: [] });
    expect(night.employers).toBeGreaterThan(400);

    // Through the queues, as the scheduler fires it.
    service = await serve(queueConfig, captureLogger().log, new Set(['worker']));
    const nightly = new Queue('nightly', { connection, prefix });
    try {
      await nightly.add('nightly', { reason: 'manual', date: '2026-11-02' }, { jobId: 'nightly.2026-11-02' });
    } finally {
      await nightly.close();
    }
    await until(async () => (await queueDb.db.selectFrom('alert_run').select('run_id').execute()).length > 0, 120_000, 'the queued night processed its alerts');
    await until(async () => (await queueDb.db.selectFrom('notification').select('status').where('status', '<>', 'sent').execute()).length === 0, 60_000, 'every e-mail sent');
    await until(async () => (await inlineDb.db.selectFrom('notification').select('status').where('status', '<>', 'sent').execute()).length === 0, 60_000, 'every inline e-mail sent');
    await service.stop();
    service = undefined;

    // The pack of 2026-08 is no longer needed once 2026-10 is packed: dropped on both paths.
    expect(await packPartitions(queueDb)).toEqual(['series_pack_p202609', 'series_pack_p202610']);
    expect(await packPartitions(inlineDb)).toEqual(['series_pack_p202609', 'series_pack_p202610']);

    const runs = await queueDb.db.selectFrom('score_run').select(['run_id', 'status', 'night_key', 'shards', 'employers']).orderBy('run_id').execute();
    expect(runs.map((r) => r.status)).toEqual(['done', 'done', 'done']);
    expect(runs[2]).toMatchObject({ night_key: '2026-11-02', shards: 4, employers: night.employers });

    const tables = [
      'batch', 'batch_restatement', 'quarantine', 'social_insurance', 'headcount', 'regional', 'layoff_filing',
      'score_run', 'employer_risk', 'city_risk', 'series_pack', 'series_pack_state',
      'alert', 'alert_run', 'alert_event', 'notification',
    ];
    for (const table of tables) {
      const a = await rows(inlineDb, table);
      const b = await rows(queueDb, table);
      expect({ table, rows: b.length }).toEqual({ table, rows: a.length });
      expect(b, `${table}: the queue's rows differ from the inline night's`).toEqual(a);
    }
    // Not a comparison of empty tables: the night raised alerts and queued e-mails.
    expect((await rows(queueDb, 'alert')).length).toBeGreaterThan(0);
    expect((await rows(queueDb, 'notification')).length).toBeGreaterThan(0);
  });
});
