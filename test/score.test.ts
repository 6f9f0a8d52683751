import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../config/config.schema.js';
import type { Database } from '../services/db/database.js';
import { RiskRepository } from '../services/scoring/risk.repository.js';
import type { ScoreDeps } from '../services/scoring/score.service.js';
import { scorePeriod } from '../services/scoring/score.run.js';
import { startShardThreads } from '../services/scoring/shard.threads.js';
import { SeriesRepository } from '../services/scoring/series.repository.js';
import type { GenerateSummary } from '../services/synth/province.generate.js';
import { FEATURE_SPEC } from '../services/scoring/features.js';
import { poolScorer, startInferencePool } from '../models/inference.pool.js';
import { createTestDatabase } from './harness/db.js';
import { ingestProvince } from './harness/province.js';
import { databaseUrl } from './harness/env.js';
import { captureLogger } from './harness/log.js';
import { FeedSourceBuilder } from './harness/feed-source.js';
import { BatchRepository } from '../services/feeds/batch.repository.js';
import { ingestBatch } from '../services/feeds/ingest.service.js';
import { openSource } from '../services/feeds/source.js';
import { periodDate } from '../services/domain/period.js';

/** The scoring stage against a generated province in a real database (rules only here; the model has its own tests). */
let database: Database & { name: string };
let summary: GenerateSummary;
let deps: ScoreDeps;
const config = configSchema.parse({});

interface TruthEvent {
  type: string;
  uscc: string;
  period: string;
  to_uscc: string | null;
}

beforeAll(async () => {
  database = await createTestDatabase();
  ({ summary } = await ingestProvince(database, { employers: 3000, months: 27, seed: 21 }));
  deps = {
    series: new SeriesRepository(database),
    risks: new RiskRepository(database),
    thresholds: config.scoring.thresholds,
    cityBands: config.scoring.cityRisk,
    model: null,
    log: captureLogger().log,
  };
}, 180_000);

afterAll(async () => {
  await database.close();
});

const riskRows = async (period: string) =>
  Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM employer_risk WHERE period = ${periodDate(period)}::date`.execute(database.db)).rows[0]?.n);

describe('scoring a period', () => {
  it('scores every recent employer once, and a rerun replaces rather than adds', async () => {
    const p = summary.lastPeriod;
    const first = await scorePeriod(deps, p, { shards: 4, modelNote: 'no model in this test' });
    expect(first.employers).toBeGreaterThan(2500);
    expect(await riskRows(p)).toBe(first.employers);
    const again = await scorePeriod(deps, p, { shards: 3 });
    expect(again.employers).toBe(first.employers);
    expect(await riskRows(p)).toBe(first.employers);
    const run = await database.db.selectFrom('score_run').selectAll().where('run_id', '=', first.runId).executeTakeFirstOrThrow();
    expect(run).toMatchObject({ status: 'done', model_version: null, model_note: 'no model in this test', employers: first.employers, shards: 4 });
  });

  it('explains every warning with its rules and numbers, and raises none for a transfer', async () => {
    const p = summary.lastPeriod;
    const warned = await deps.risks.list(p, { limit: 1000 });
    for (const w of warned) {
      const e = w.explanation as { reasons: string[]; rules: { rule: string; summary: string; numbers: Record<string, number> }[] };
      expect(e.reasons.length, w.uscc).toBeGreaterThan(0);
      for (const r of e.rules) for (const v of Object.values(r.numbers)) expect(Number.isFinite(v)).toBe(true);
    }
    const events = readFileSync(join(summary.truthDir, 'events.jsonl'), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as TruthEvent);
    for (const t of events.filter((e) => e.type === 'transfer' && e.period === p)) {
      const row = await database.db.selectFrom('employer_risk').select(['kinds']).where('uscc', '=', t.uscc).where('period', '=', periodDate(p)).executeTakeFirst();
      expect(row?.kinds ?? [], t.uscc).not.toContain('layoff');
    }
  });

  it('a restatement that rewrites the month of a layoff withdraws the warning when the month is scored again', async () => {
    const p = summary.lastPeriod;
    await scorePeriod(deps, p, { shards: 2 });
    const warned = await database.db
      .selectFrom('employer_risk')
      .select(['uscc'])
      .where('period', '=', periodDate(p))
      // A layoff in this month alone (not one straddling the month before), so restating this month takes it back.
      .where(sql<boolean>`'law41' = ANY(rules)`)
      .where(sql<boolean>`explanation @> ${JSON.stringify({ rules: [{ rule: 'law41', window: { from: p, to: p } }] })}::jsonb`)
      .orderBy('uscc')
      .executeTakeFirstOrThrow();
    const [now, before] = await database.db
      .selectFrom('social_insurance')
      .selectAll()
      .where('uscc', '=', warned.uscc)
      .where('period', '<=', periodDate(p))
      .orderBy('period', 'desc')
      .limit(2)
      .execute();
    // The platform restates the month: no layoff after all, staff as the month before.
    const quiet = { ...now!, insured: before!.insured, separated: (now!.separated_natural ?? 0) + (now!.separated_transfer ?? 0), hired: now!.hired, ui_claims: 0, separated_migrant: 0, separated_graduate: 0 };
    const row = Object.fromEntries(
      ['uscc', 'name', 'region_code', 'industry_code', 'insured', 'hired', 'separated', 'arrears_months', 'wage_base_total', 'ui_claims', 'separated_transfer', 'separated_natural', 'separated_migrant', 'separated_graduate'].map(
        (k) => [k, (quiet as Record<string, unknown>)[k] ?? ''],
      ),
    ) as Record<string, string | number>;
    const builder = new FeedSourceBuilder().at('2026-11-20T02:00:00+08:00').add({ file: `si-${p}-r9.csv`, feed: 'social_insurance', period: p, rows: [{ ...row, period: p }] });
    const source = openSource({ name: 'restate', url: builder.url }, { timeoutMs: 5000, retries: 0, retryBaseMs: 10, spoolDir: join(tmpdir(), 'ews-spool') });
    const [entry] = (await source.readManifest()).entries;
    const outcome = await ingestBatch({ batches: new BatchRepository(database), log: captureLogger().log }, source, entry!);
    const why = await database.db.selectFrom('quarantine').select('reason').where('batch_id', '=', outcome.batchId).execute();
    expect(outcome, JSON.stringify(why)).toMatchObject({ status: 'loaded', rowsLoaded: 1, rowsReplaced: 1 });

    await scorePeriod(deps, p, { shards: 2 });
    const after = await database.db.selectFrom('employer_risk').select(['explanation']).where('uscc', '=', warned.uscc).where('period', '=', periodDate(p)).executeTakeFirstOrThrow();
    const hits = (after.explanation as { rules: { rule: string; window: { from: string; to: string } }[] }).rules;
    // No layoff is found in the restated month any more (a hit on an earlier month may stand).
    expect(hits.filter((h) => h.window.to === p && (h.rule === 'law41' || h.rule === 'unreported'))).toEqual([]);
  });

  it('gives all 21 cities a row, and marks a city whose feed is missing "data missing", not "no risk"', async () => {
    const p = summary.lastPeriod;
    await database.db.deleteFrom('regional').where('city_code', '=', '511900').where('period', '=', periodDate(p)).execute();
    const result = await scorePeriod(deps, p, { shards: 2 });
    const cities = result.cities.filter((c) => c.industrySection === '*');
    expect(cities).toHaveLength(21);
    expect(cities.find((c) => c.cityCode === '511900')).toMatchObject({ dataMissing: true, level: null, missingFeeds: ['regional'] });
    expect(cities.find((c) => c.cityCode === '510100')?.dataMissing).toBe(false);
  });
});

describe('scoring with the model', () => {
  it('uses the shipped model: every employer gets a calibrated probability, and the run names the model', async () => {
    const pool = await startInferencePool(fileURLToPath(new URL('../models/default', import.meta.url)), FEATURE_SPEC, { threads: 1 });
    try {
      const result = await scorePeriod({ ...deps, model: poolScorer(pool) }, summary.lastPeriod, { shards: 2 });
      const probs = await database.db.selectFrom('employer_risk').select('probability').where('period', '=', periodDate(summary.lastPeriod)).execute();
      expect(probs).toHaveLength(result.employers);
      for (const { probability } of probs) {
        expect(probability).not.toBeNull();
        expect(probability!).toBeGreaterThanOrEqual(0);
        expect(probability!).toBeLessThanOrEqual(1);
      }
      const run = await database.db.selectFrom('score_run').select(['model_version', 'model_note']).where('run_id', '=', result.runId).executeTakeFirstOrThrow();
      expect(run).toEqual({ model_version: 'default', model_note: null });
      // Drivers are measured against the artifact's province-wide reference, not the shard's employers.
      const reference = pool.metadata.reference;
      if (!reference) throw new Error('the shipped model has no feature reference');
      const explained = await sql<{ drivers: { feature: string; value: number; z: number }[] }>`
        SELECT explanation->'model'->'drivers' AS drivers FROM employer_risk
         WHERE run_id = ${result.runId} AND jsonb_array_length(coalesce(explanation->'model'->'drivers', '[]'::jsonb)) > 0`.execute(database.db);
      expect(explained.rows.length).toBeGreaterThan(0);
      for (const { drivers } of explained.rows) {
        for (const d of drivers) {
          const f = FEATURE_SPEC.names.indexOf(d.feature);
          expect(f).toBeGreaterThanOrEqual(0);
          expect(d.z).toBeGreaterThanOrEqual(2);
          expect(Math.abs(d.value - (reference.mean[f] as number)) / (reference.sd[f] as number)).toBeCloseTo(d.z, 0);
        }
      }
    } finally {
      await pool.close();
    }
  });

  it('scores the same in scoring threads as on this thread: every row, level, probability and explanation', async () => {
    const pool = await startInferencePool(fileURLToPath(new URL('../models/default', import.meta.url)), FEATURE_SPEC, { threads: 1 });
    const model = poolScorer(pool);
    const threads = await startShardThreads({ databaseUrl: databaseUrl(database.name), thresholds: config.scoring.thresholds, threads: 2, model });
    const rows = async (runId: number) =>
      (await sql<Record<string, unknown>>`SELECT bucket, uscc, level, rule_level, probability, jobs_at_stake, excess_separations, rules, kinds, explanation::text AS explanation
            FROM employer_risk WHERE period = ${periodDate(summary.lastPeriod)}::date AND run_id = ${runId} ORDER BY bucket, uscc`.execute(database.db)).rows;
    try {
      // The same shards both ways: peers (churn dispersion, arrears among peers) are measured among the employers of a shard.
      const inline = await scorePeriod({ ...deps, model }, summary.lastPeriod, { shards: 3 });
      const before = await rows(inline.runId);
      const threaded = await scorePeriod({ ...deps, model }, summary.lastPeriod, { shards: 3, runner: threads });
      const clock = threaded.clock;
      const after = await rows(threaded.runId);
      expect(threaded.employers).toBe(inline.employers);
      expect(threaded.levels).toEqual(inline.levels);
      expect(after).toHaveLength(before.length);
      expect(after).toEqual(before);
      // The threads' stage times come back to the caller's clock.
      expect(clock.read).toBeGreaterThan(0);
      expect(clock.predict).toBeGreaterThan(0);
    } finally {
      await threads.close();
      await pool.close();
    }
  });

  it('fails a run whose scoring thread cannot reach the database, with the reason, and records it failed', async () => {
    const threads = await startShardThreads({ databaseUrl: databaseUrl('ews_no_such_database'), thresholds: config.scoring.thresholds, threads: 1, model: null });
    try {
      const err: unknown = await scorePeriod(deps, summary.lastPeriod, { shards: 2, runner: threads }).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/ews_no_such_database.*does not exist/);
      const run = await database.db.selectFrom('score_run').select('status').orderBy('run_id', 'desc').limit(1).executeTakeFirstOrThrow();
      expect(run.status).toBe('failed');
    } finally {
      await threads.close();
    }
  });

  it('refuses a corrupt artifact with a clear reason and scores with rules only, saying so', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'ews-badmodel-'));
    mkdirSync(join(bad, 'broken'));
    writeFileSync(join(bad, 'broken', 'model.json'), '{ not json');
    writeFileSync(join(bad, 'broken', 'metadata.json'), '{}');
    writeFileSync(join(bad, 'broken', 'weights.bin'), '');
    const bin = fileURLToPath(new URL('../bin/ews.js', import.meta.url));
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
      execFile(process.execPath, [bin, 'score', '--period', summary.lastPeriod, '--json'], {
        env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: databaseUrl(database.name), MODEL_DIR: join(bad, 'broken'), LOG_LEVEL: 'silent' },
      }, (err, stdout, stderr) => done({ code: err ? 1 : 0, stdout, stderr })),
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^ews: model not used, scoring with rules only: .*model\.json.*not valid JSON/m);
    const out = JSON.parse(r.stdout) as { model: string | null; run: number };
    expect(out.model).toBeNull();
    const run = await database.db.selectFrom('score_run').select(['model_version', 'model_note']).where('run_id', '=', out.run).executeTakeFirstOrThrow();
    expect(run.model_version).toBeNull();
    expect(run.model_note).toMatch(/^model not used, scoring with rules only: /);
  });
});
