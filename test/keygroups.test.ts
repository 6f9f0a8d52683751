import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../config/config.schema.js';
import { processRun } from '../services/alerts/alert.service.js';
import { ConsoleRepository } from '../services/console/console.repository.js';
import { KeyGroupQueryError, KeyGroupRepository } from '../services/console/keygroups.repository.js';
import { ALL_CITIES } from '../services/domain/access.js';
import type { Database } from '../services/db/database.js';
import { addMonths, periodDate } from '../services/domain/period.js';
import type { NotificationPayload } from '../services/notify/notification.types.js';
import { RiskRepository } from '../services/scoring/risk.repository.js';
import { scorePeriod } from '../services/scoring/score.run.js';
import type { ScoreDeps } from '../services/scoring/score.service.js';
import { SeriesRepository } from '../services/scoring/series.repository.js';
import type { GenerateSummary } from '../services/synth/province.generate.js';
import { createTestDatabase } from './harness/db.js';
import { captureLogger } from './harness/log.js';
import { ingestProvince } from './harness/province.js';

/**
 * Key groups (migrant workers, graduates) from the social-insurance feed to
 * what officials read: each employer's row, each city's row when a run
 * closes, the pack between nights, the console's reads and the alert
 * e-mails' payloads. A generated province in a real database, rules only.
 */
let database: Database & { name: string };
let summary: GenerateSummary;
let deps: ScoreDeps;
let last: string;
let previous: string;
const config = configSchema.parse({});
const log = captureLogger().log;

/** Every employer's key groups of a month, in key order. */
const employerKeyGroups = async (period: string) =>
  (
    await sql<Record<string, unknown>>`
      SELECT uscc, separated, separated_migrant, separated_graduate, jobs_at_stake, jobs_at_stake_migrant, jobs_at_stake_graduate
        FROM employer_risk WHERE period = ${periodDate(period)}::date ORDER BY bucket, uscc`.execute(database.db)
  ).rows;

beforeAll(async () => {
  database = await createTestDatabase();
  ({ summary } = await ingestProvince(database, { employers: 2500, months: 26, seed: 9 }));
  last = summary.lastPeriod;
  previous = addMonths(last, -1);
  deps = {
    series: new SeriesRepository(database),
    risks: new RiskRepository(database),
    thresholds: config.scoring.thresholds,
    cityBands: config.scoring.cityRisk,
    model: null,
    log,
  };
  await scorePeriod(deps, previous, { shards: 4 });
  const run = await scorePeriod(deps, last, { shards: 4 });
  // The month before left its pack: the night's path, graduates included.
  expect(run.shardsFromPack).toBe(4);
}, 240_000);

afterAll(async () => {
  await database.close();
});

describe('key groups when a run closes', () => {
  it('each employer carries its month’s separations and their split as reported, and an estimate no larger than its jobs at stake', async () => {
    const p = periodDate(last);
    const r = await sql<{ rows: number; mismatched: number; over: number; unestimated: number; graduates: number; estimated: number }>`
      SELECT count(*)::int AS rows,
             count(*) FILTER (WHERE e.separated IS DISTINCT FROM s.separated
                                 OR e.separated_migrant IS DISTINCT FROM s.separated_migrant
                                 OR e.separated_graduate IS DISTINCT FROM s.separated_graduate)::int AS mismatched,
             count(*) FILTER (WHERE e.jobs_at_stake_migrant > e.jobs_at_stake + 0.01 OR e.jobs_at_stake_graduate > e.jobs_at_stake + 0.01)::int AS over,
             count(*) FILTER (WHERE (s.separated_migrant IS NOT NULL AND e.jobs_at_stake_migrant IS NULL)
                                 OR (s.separated_graduate IS NOT NULL AND e.jobs_at_stake_graduate IS NULL))::int AS unestimated,
             count(*) FILTER (WHERE s.separated_graduate > 0)::int AS graduates,
             count(*) FILTER (WHERE e.jobs_at_stake_migrant > 0)::int AS estimated
        FROM employer_risk e JOIN social_insurance s ON s.period = e.period AND s.bucket = e.bucket AND s.uscc = e.uscc
       WHERE e.period = ${p}::date`.execute(database.db);
    const row = r.rows[0];
    expect(row?.rows).toBeGreaterThan(2000);
    expect(row).toMatchObject({ mismatched: 0, over: 0, unestimated: 0 });
    expect(row?.graduates).toBeGreaterThan(0);
    expect(row?.estimated).toBeGreaterThan(0);
    // An employer listed without a row this month (a closure still watched) has no separations, not 0.
    const gone = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM employer_risk e
       WHERE e.period = ${p}::date AND e.separated IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM social_insurance s WHERE s.period = e.period AND s.bucket = e.bucket AND s.uscc = e.uscc)`.execute(database.db);
    expect(gone.rows[0]?.n).toBe(0);
  });

  it('each city sums its employers: separations NULL-aware with the employers that reported the split, jobs at stake over its warned employers', async () => {
    const p = periodDate(last);
    const cities = await sql<Record<string, number | string | null>>`
      SELECT c.city_code, c.separated, c.separated_migrant, c.separated_graduate, c.migrant_reporters, c.graduate_reporters,
             c.jobs_at_stake, c.jobs_at_stake_migrant, c.jobs_at_stake_graduate,
             f.separated AS f_separated, f.migrant AS f_migrant, f.graduate AS f_graduate, f.migrant_reporters AS f_migrant_reporters, f.graduate_reporters AS f_graduate_reporters,
             w.jobs AS w_jobs, w.migrant AS w_migrant, w.graduate AS w_graduate
        FROM city_risk c
        LEFT JOIN (SELECT city_code, sum(separated)::int AS separated, sum(separated_migrant)::int AS migrant, sum(separated_graduate)::int AS graduate,
                          count(separated_migrant)::int AS migrant_reporters, count(separated_graduate)::int AS graduate_reporters
                     FROM social_insurance WHERE period = ${p}::date GROUP BY city_code) f USING (city_code)
        LEFT JOIN (SELECT city_code, sum(jobs_at_stake)::int AS jobs, coalesce(sum(jobs_at_stake_migrant), 0)::float8 AS migrant, coalesce(sum(jobs_at_stake_graduate), 0)::float8 AS graduate
                     FROM employer_risk WHERE period = ${p}::date AND level IS NOT NULL GROUP BY city_code) w USING (city_code)
       WHERE c.period = ${p}::date AND c.industry_section = '*'
       ORDER BY c.city_code`.execute(database.db);
    expect(cities.rows).toHaveLength(21);
    for (const c of cities.rows) {
      const code = c['city_code'];
      expect([c['separated'], c['separated_migrant'], c['separated_graduate'], c['migrant_reporters'], c['graduate_reporters']], String(code)).toEqual([
        c['f_separated'], c['f_migrant'], c['f_graduate'], c['f_migrant_reporters'], c['f_graduate_reporters'],
      ]);
      expect(c['jobs_at_stake'], String(code)).toBe(c['w_jobs'] ?? 0);
      expect(Number(c['jobs_at_stake_migrant'])).toBeCloseTo(Number(c['w_migrant'] ?? 0), 0);
      expect(Number(c['jobs_at_stake_graduate'])).toBeCloseTo(Number(c['w_graduate'] ?? 0), 0);
    }
    // 达州 does not report migrant workers, 南充 no graduates (services/synth/city.profile.ts): unknown, not none.
    const dazhou = cities.rows.find((c) => c['city_code'] === '511700');
    expect(dazhou).toMatchObject({ separated_migrant: null, migrant_reporters: 0 });
    expect(Number(dazhou?.['separated'])).toBeGreaterThan(0);
    expect(cities.rows.find((c) => c['city_code'] === '511300')).toMatchObject({ separated_graduate: null, graduate_reporters: 0 });
    const chengdu = cities.rows.find((c) => c['city_code'] === '510100');
    expect(Number(chengdu?.['separated_migrant'])).toBeGreaterThan(0);
    expect(Number(chengdu?.['separated_graduate'])).toBeGreaterThan(0);
    // The sections of a city add up to the city.
    const sections = await sql<{ city_code: string; separated: number | null }>`
      SELECT city_code, sum(separated)::int AS separated FROM city_risk WHERE period = ${p}::date AND industry_section <> '*' GROUP BY city_code`.execute(database.db);
    for (const s of sections.rows) expect(s.separated, s.city_code).toBe(cities.rows.find((c) => c['city_code'] === s.city_code)?.['separated']);
  });

  it('reads the same key groups from the pack as from the facts, and reads no pack of the layout before graduates were packed', async () => {
    const fromPack = await employerKeyGroups(last);
    const facts = await scorePeriod(deps, last, { shards: 4, fromFacts: true });
    expect(facts.shardsFromPack).toBe(0);
    expect(await employerKeyGroups(last)).toEqual(fromPack);
    await sql`UPDATE series_pack_state SET format = 1 WHERE period = ${periodDate(previous)}::date`.execute(database.db);
    const old = await scorePeriod(deps, last, { shards: 4 });
    expect(old.shardsFromPack).toBe(0);
    expect(await employerKeyGroups(last)).toEqual(fromPack);
    await sql`UPDATE series_pack_state SET format = 2 WHERE period = ${periodDate(previous)}::date`.execute(database.db);
  });
});

describe('the console’s key groups (KeyGroupRepository)', () => {
  const repo = () => new KeyGroupRepository(database);

  it('per city and month: the whole city’s row of each month, oldest first, for the cities asked', async () => {
    const all = await repo().cityMonths('all', previous, last);
    expect(all).toHaveLength(42);
    expect(all.map((r) => r.period)).toEqual([...Array<string>(21).fill(previous), ...Array<string>(21).fill(last)]);
    const stored = await database.db.selectFrom('city_risk').selectAll().where('period', '=', periodDate(last)).where('city_code', '=', '510100').where('industry_section', '=', '*').executeTakeFirstOrThrow();
    expect(all.find((r) => r.period === last && r.cityCode === '510100')).toEqual({
      period: last, cityCode: '510100', separated: stored.separated, separatedMigrant: stored.separated_migrant, separatedGraduate: stored.separated_graduate,
      migrantReporters: stored.migrant_reporters, graduateReporters: stored.graduate_reporters, jobsAtStake: stored.jobs_at_stake,
      jobsAtStakeMigrant: stored.jobs_at_stake_migrant, jobsAtStakeGraduate: stored.jobs_at_stake_graduate,
    });
    const two = await repo().cityMonths(['511700', '510100'], last, last);
    expect(two.map((r) => r.cityCode)).toEqual(['510100', '511700']);
    expect(two[1]).toMatchObject({ separatedMigrant: null, migrantReporters: 0 });
    expect(await repo().cityMonths([], previous, last)).toEqual([]);
    expect(await repo().cityMonths('all', addMonths(previous, -5), addMonths(previous, -1))).toEqual([]);
    await expect(repo().cityMonths('all', last, previous)).rejects.toThrow(KeyGroupQueryError);
    await expect(repo().cityMonths('all', '2026-13', last)).rejects.toThrow(/YYYY-MM/);
  });

  it('per employer and month: the console reads its social-insurance months in the range, oldest first, "not reported" kept apart from 0', async () => {
    const pick = await sql<{ uscc: string }>`
      SELECT uscc FROM social_insurance WHERE period = ${periodDate(last)}::date AND separated_migrant > 0 AND separated_graduate IS NOT NULL ORDER BY uscc LIMIT 1`.execute(database.db);
    const code = pick.rows[0]?.uscc as string;
    const console = new ConsoleRepository(database);
    const read = async (from: string) =>
      ((await console.employerMonths(ALL_CITIES, code, from, last))?.insurance ?? []).map((m) => ({
        period: m.period.slice(0, 7), separated: m.separated, separatedMigrant: m.separated_migrant, separatedGraduate: m.separated_graduate, insured: m.insured, hired: m.hired,
      }));
    const months = await read(summary.firstPeriod);
    const facts = await sql<{ period: string; separated: number; separated_migrant: number | null; separated_graduate: number | null; insured: number; hired: number }>`
      SELECT to_char(period, 'YYYY-MM') AS period, separated, separated_migrant, separated_graduate, insured, hired
        FROM social_insurance WHERE uscc = ${code} ORDER BY period`.execute(database.db);
    expect(months).toEqual(facts.rows.map((f) => ({ period: f.period, separated: f.separated, separatedMigrant: f.separated_migrant, separatedGraduate: f.separated_graduate, insured: f.insured, hired: f.hired })));
    expect(months.at(-1)?.separatedMigrant).toBeGreaterThan(0);
    const recent = await read(addMonths(last, -2));
    expect(recent.map((m) => m.period)).toEqual(months.filter((m) => m.period >= addMonths(last, -2)).map((m) => m.period));
    // An employer the feeds never named is not found (the API refuses a malformed code before this: test/console-api.test.ts).
    expect(await console.employerMonths(ALL_CITIES, '91510100MA00000000', summary.firstPeriod, last)).toBeUndefined();
  });
});

describe('key groups in the alert e-mails', () => {
  it('each employer of a payload carries its migrant workers and graduates as its risk row has them', async () => {
    const run = await database.db.selectFrom('score_run').select(['run_id']).where('period', '=', periodDate(last)).where('status', '=', 'done').orderBy('run_id', 'desc').executeTakeFirstOrThrow();
    await processRun({ database, alerts: config.alerts, notify: config.notify, log }, Number(run.run_id));
    const rows = await database.db.selectFrom('notification').select(['payload']).execute();
    const employers = rows.flatMap((r) => (r.payload as NotificationPayload).employers);
    expect(employers.length).toBeGreaterThan(0);
    const risk = new Map(
      (await database.db.selectFrom('employer_risk').select(['uscc', 'separated_migrant', 'separated_graduate', 'jobs_at_stake_migrant', 'jobs_at_stake_graduate']).where('period', '=', periodDate(last)).execute()).map((r) => [r.uscc, r]),
    );
    for (const e of employers) {
      const r = risk.get(e.uscc);
      expect(e.migrant, e.uscc).toEqual({ separated: r?.separated_migrant ?? null, jobsAtStake: r?.jobs_at_stake_migrant ?? null });
      expect(e.graduate, e.uscc).toEqual({ separated: r?.separated_graduate ?? null, jobsAtStake: r?.jobs_at_stake_graduate ?? null });
    }
    expect(employers.some((e) => e.migrant?.separated !== null && e.migrant?.separated !== undefined)).toBe(true);
  });
});
