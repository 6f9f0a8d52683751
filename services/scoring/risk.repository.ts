import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import { from as copyFrom } from 'pg-copy-streams';
import { BinaryCopyRows } from '../db/copy.binary.js';
import { inTransaction, type Database } from '../db/database.js';
import { dayNumber, monthOf, periodDate } from '../domain/period.js';
import type { CityExplanation, EmployerExplanation } from '../domain/explanation.js';
import { countLevel, noLevels, toLevel, type LevelCounts } from '../domain/level.js';
import type { CityKeyGroups, KeyGroups } from './keygroups.js';

/** Every query of the scoring stage's results: runs, employer risk, city risk. */

/** One city's (section '*') or city × section's employers summed for a period (cityAggregates). */
export interface CityAggregate {
  city_code: string;
  section: string;
  employers: number;
  expected: number;
  layoffs: number;
  job_losses: number;
  separated: number | null;
  separated_migrant: number | null;
  separated_graduate: number | null;
  migrant_reporters: number;
  graduate_reporters: number;
  jobs_at_stake: number;
  /** NULL: employers at a warning level, none of them with an estimate. */
  jobs_at_stake_migrant: number | null;
  jobs_at_stake_graduate: number | null;
}

export interface EmployerRiskRow extends KeyGroups {
  bucket: number;
  uscc: string;
  name: string;
  cityCode: string;
  regionCode: string;
  industryCode: string;
  workforce: number;
  level: number | null;
  /** The level from the rules alone (null: none, or the level is the model's alone). */
  ruleLevel: number | null;
  probability: number | null;
  jobsAtStake: number;
  excessSeparations: number;
  rules: readonly string[];
  kinds: readonly string[];
  explanation: EmployerExplanation;
}

export interface CityRiskRow extends CityKeyGroups {
  cityCode: string;
  industrySection: string;
  level: number | null;
  dataMissing: boolean;
  missingFeeds: readonly string[];
  employers: number;
  expectedJobLosses: number;
  observedLayoffs: number;
  observedJobLosses: number;
  uiNewClaims: number | null;
  uiClaimsRatio: number | null;
  registeredUnemployed: number | null;
  surveyedRate: number | null;
  explanation: CityExplanation;
}

function smallintOrNull(out: BinaryCopyRows, v: number | null): void {
  if (v === null) out.null();
  else out.int16(v);
}

function intOrNull(out: BinaryCopyRows, v: number | null): void {
  if (v === null) out.null();
  else out.int32(v);
}

function realOrNull(out: BinaryCopyRows, v: number | null): void {
  if (v === null) out.null();
  else out.float4(v);
}

const RISK_COLUMNS = [
  'period', 'bucket', 'uscc', 'name', 'city_code', 'region_code', 'industry_code', 'workforce', 'level', 'probability',
  'jobs_at_stake', 'excess_separations', 'rules', 'kinds', 'explanation', 'run_id', 'rule_level',
  'separated', 'separated_migrant', 'separated_graduate', 'jobs_at_stake_migrant', 'jobs_at_stake_graduate',
];

export class RiskRepository {
  constructor(private readonly database: Database) {}

  /**
   * Opens a scoring run of a period over a number of shards. A night's run
   * (or a catch-up's) has a key and is created once: a retry gets the same
   * run back, with the status it has reached.
   */
  async openRun(o: { period: string; modelVersion: string | null; modelNote: string | null; shards: number; key?: string | null }): Promise<{ runId: number; status: string; period: string }> {
    const row = await sql<{ run_id: number; status: string; period: string }>`
      INSERT INTO score_run (period, model_version, model_note, night_key, shards)
      VALUES (${periodDate(o.period)}::date, ${o.modelVersion}, ${o.modelNote}, ${o.key ?? null}, ${o.shards})
      ON CONFLICT (night_key) DO UPDATE SET night_key = EXCLUDED.night_key
      RETURNING run_id, status, to_char(period, 'YYYY-MM') AS period`.execute(this.database.db);
    const r = row.rows[0] as { run_id: number; status: string; period: string };
    return { runId: Number(r.run_id), status: r.status, period: r.period };
  }

  /** A run without a key (tests and benchmarks that write rows of their own). */
  async startRun(period: string, modelVersion: string | null, modelNote: string | null): Promise<number> {
    return (await this.openRun({ period, modelVersion, modelNote, shards: 0 })).runId;
  }

  /** Marks a run done with the employers it wrote, and counts them by level. */
  async closeRun(runId: number, period: string): Promise<{ employers: number; levels: LevelCounts }> {
    const { employers, levels } = await this.runCounts(runId, period);
    await this.database.db.updateTable('score_run').set({ status: 'done', employers, finished_at: new Date() }).where('run_id', '=', runId).execute();
    return { employers, levels };
  }

  /** Marks a run failed, with the employers its finished shards wrote. */
  async failRun(runId: number, period: string): Promise<void> {
    const { employers } = await this.runCounts(runId, period);
    await this.database.db.updateTable('score_run').set({ status: 'failed', employers, finished_at: new Date() }).where('run_id', '=', runId).execute();
  }

  private async runCounts(runId: number, period: string): Promise<{ employers: number; levels: LevelCounts }> {
    const counts = await sql<{ level: number | null; n: number }>`
      SELECT level, count(*)::int AS n FROM employer_risk WHERE period = ${periodDate(period)}::date AND run_id = ${runId} GROUP BY level`.execute(this.database.db);
    const levels = noLevels();
    let employers = 0;
    for (const r of counts.rows) {
      employers += r.n;
      const level = toLevel(r.level);
      if (level !== null) countLevel(levels, level, r.n);
    }
    return { employers, levels };
  }

  /** Cities marked "data missing" in the latest scoring of a period: what a catch-up rescores. */
  async missingCities(period: string): Promise<string[]> {
    const rows = await this.database.db
      .selectFrom('city_risk')
      .select('city_code')
      .where('period', '=', periodDate(period))
      .where('industry_section', '=', '*')
      .where('data_missing', '=', true)
      .orderBy('city_code')
      .execute();
    return rows.map((r) => r.city_code);
  }

  async finishRun(runId: number, status: 'done' | 'failed', employers: number, shards: number): Promise<void> {
    await this.database.db.updateTable('score_run').set({ status, employers, shards, finished_at: new Date() }).where('run_id', '=', runId).execute();
  }

  /**
   * Replaces one shard's rows for the period in one transaction: a rerun or
   * a retried job leaves exactly one row per employer.
   */
  async writeShard(period: string, shard: { bucketFrom: number; bucketTo: number; city?: string }, runId: number, rows: readonly EmployerRiskRow[]): Promise<void> {
    await sql`SELECT ews_ensure_month_partition('employer_risk', ${periodDate(period)}::date)`.execute(this.database.db);
    await inTransaction(this.database.pool, async (client) => {
      await client.query(
        `DELETE FROM employer_risk WHERE period = $1::date AND bucket BETWEEN $2 AND $3 AND ($4::char(6) IS NULL OR city_code = $4)`,
        [periodDate(period), shard.bucketFrom, shard.bucketTo, shard.city ?? null],
      );
      // Binary COPY: numbers and arrays go as they are, not printed here and parsed there.
      const days = dayNumber(periodDate(period)) ?? Number.NaN;
      const out = new BinaryCopyRows();
      for (const r of rows) {
        out.row(RISK_COLUMNS.length);
        out.date(days);
        out.int16(r.bucket);
        out.text(r.uscc);
        out.text(r.name);
        out.text(r.cityCode);
        out.text(r.regionCode);
        out.text(r.industryCode);
        out.int32(r.workforce);
        smallintOrNull(out, r.level);
        if (r.probability === null) out.null();
        else out.float4(r.probability);
        out.int32(r.jobsAtStake);
        out.int32(r.excessSeparations);
        out.textArray(r.rules);
        out.textArray(r.kinds);
        out.jsonb(JSON.stringify(r.explanation));
        out.int64(runId);
        smallintOrNull(out, r.ruleLevel);
        intOrNull(out, r.separated);
        intOrNull(out, r.separatedMigrant);
        intOrNull(out, r.separatedGraduate);
        realOrNull(out, r.jobsAtStakeMigrant);
        realOrNull(out, r.jobsAtStakeGraduate);
      }
      await pipeline(Readable.from(out.take()), client.query(copyFrom(`COPY employer_risk (${RISK_COLUMNS.join(', ')}) FROM STDIN (FORMAT binary)`)));
    });
  }

  async writeCities(period: string, runId: number, rows: readonly CityRiskRow[]): Promise<void> {
    await this.database.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('city_risk').where('period', '=', periodDate(period)).execute();
      if (rows.length === 0) return;
      await trx
        .insertInto('city_risk')
        .values(
          rows.map((r) => ({
            period: periodDate(period),
            city_code: r.cityCode,
            industry_section: r.industrySection,
            level: r.level,
            data_missing: r.dataMissing,
            missing_feeds: [...r.missingFeeds],
            employers: r.employers,
            expected_job_losses: r.expectedJobLosses,
            observed_layoffs: r.observedLayoffs,
            observed_job_losses: r.observedJobLosses,
            ui_new_claims: r.uiNewClaims,
            ui_claims_ratio: r.uiClaimsRatio,
            registered_unemployed: r.registeredUnemployed,
            surveyed_unemployment_rate: r.surveyedRate,
            explanation: JSON.stringify(r.explanation),
            run_id: runId,
            separated: r.separated,
            separated_migrant: r.separatedMigrant,
            separated_graduate: r.separatedGraduate,
            migrant_reporters: r.migrantReporters,
            graduate_reporters: r.graduateReporters,
            jobs_at_stake: r.jobsAtStake,
            jobs_at_stake_migrant: r.jobsAtStakeMigrant,
            jobs_at_stake_graduate: r.jobsAtStakeGraduate,
          })),
        )
        .execute();
    });
  }

  /**
   * Per city and per city × section: the employers' aggregate for the
   * period, in one pass over its employer_risk partition. `layoffShare`: the
   * share of a workforce a layoff typically takes (turns probability ×
   * workforce into jobs). Key groups: separations summed over the employers
   * that reported the split this month (NULL when none did) and how many
   * did; jobs at stake over the employers at a warning level, an employer
   * that never reported the split counting 0 among migrants and graduates.
   */
  async cityAggregates(period: string, layoffShare: number): Promise<CityAggregate[]> {
    const r = await sql<CityAggregate>`
      SELECT city_code, coalesce(left(industry_code, 1), '*') AS section, count(*)::int AS employers,
             coalesce(sum(coalesce(probability, 0) * workforce), 0)::float8 * ${layoffShare} AS expected,
             count(*) FILTER (WHERE 'layoff' = ANY(kinds))::int AS layoffs,
             coalesce(sum(excess_separations) FILTER (WHERE 'layoff' = ANY(kinds)), 0)::int AS job_losses,
             sum(separated)::int AS separated,
             sum(separated_migrant)::int AS separated_migrant,
             sum(separated_graduate)::int AS separated_graduate,
             count(separated_migrant)::int AS migrant_reporters,
             count(separated_graduate)::int AS graduate_reporters,
             coalesce(sum(jobs_at_stake) FILTER (WHERE level IS NOT NULL), 0)::int AS jobs_at_stake,
             -- No employer at a warning level: nothing at stake (0); some, none with an estimate: unknown (NULL), never 0.
             CASE WHEN count(*) FILTER (WHERE level IS NOT NULL) = 0 THEN 0 ELSE sum(jobs_at_stake_migrant) FILTER (WHERE level IS NOT NULL) END::float8 AS jobs_at_stake_migrant,
             CASE WHEN count(*) FILTER (WHERE level IS NOT NULL) = 0 THEN 0 ELSE sum(jobs_at_stake_graduate) FILTER (WHERE level IS NOT NULL) END::float8 AS jobs_at_stake_graduate
        FROM employer_risk WHERE period = ${periodDate(period)}::date
       GROUP BY GROUPING SETS ((city_code), (city_code, left(industry_code, 1)))`.execute(this.database.db);
    return r.rows;
  }

  /** Regional indicators of the period, and the same calendar month's new UI claims in earlier years. */
  async regionalFacts(period: string): Promise<Map<string, { registered: number; claims: number; surveyed: number | null; earlierClaims: number[] }>> {
    const r = await sql<{ city_code: string; period: string; registered_unemployed: number; ui_new_claims: number; surveyed: number | null }>`
      SELECT city_code, to_char(period, 'YYYY-MM') AS period, registered_unemployed, ui_new_claims, surveyed_unemployment_rate::float8 AS surveyed
        FROM regional
       WHERE period <= ${periodDate(period)}::date AND extract(month FROM period) = ${monthOf(period)}`.execute(this.database.db);
    const out = new Map<string, { registered: number; claims: number; surveyed: number | null; earlierClaims: number[] }>();
    for (const row of r.rows) {
      if (row.period !== period) continue;
      out.set(row.city_code, { registered: row.registered_unemployed, claims: row.ui_new_claims, surveyed: row.surveyed, earlierClaims: [] });
    }
    for (const row of r.rows) if (row.period !== period) out.get(row.city_code)?.earlierClaims.push(row.ui_new_claims);
    return out;
  }

  /** Which feeds arrived for the period, and each city's social-insurance rows this month and last. */
  async feedCoverage(period: string, previous: string): Promise<{ loadedFeeds: Set<string>; siRows: Map<string, { now: number; before: number }> }> {
    const feeds = await this.database.db
      .selectFrom('batch')
      .select('feed')
      .distinct()
      .where('period', '=', periodDate(period))
      .where('status', '=', 'loaded')
      .execute();
    const rows = await sql<{ city_code: string; now: number; before: number }>`
      SELECT city_code, count(*) FILTER (WHERE period = ${periodDate(period)}::date)::int AS now,
                        count(*) FILTER (WHERE period = ${periodDate(previous)}::date)::int AS before
        FROM social_insurance WHERE period IN (${periodDate(period)}::date, ${periodDate(previous)}::date)
       GROUP BY city_code`.execute(this.database.db);
    return { loadedFeeds: new Set(feeds.map((f) => f.feed)), siRows: new Map(rows.rows.map((x) => [x.city_code, { now: x.now, before: x.before }])) };
  }

  async list(period: string, filter: { city?: string; maxLevel?: number; limit?: number }) {
    let q = this.database.db
      .selectFrom('employer_risk')
      .select(['uscc', 'name', 'city_code', 'region_code', 'industry_code', 'workforce', 'level', 'probability', 'jobs_at_stake', 'excess_separations', 'rules', 'kinds', 'explanation'])
      .where('period', '=', periodDate(period))
      .where('level', 'is not', null)
      .orderBy('level')
      .orderBy('jobs_at_stake', 'desc')
      .limit(filter.limit ?? 100);
    if (filter.city) q = q.where('city_code', '=', filter.city);
    if (filter.maxLevel) q = q.where('level', '<=', filter.maxLevel);
    return q.execute();
  }

  async cities(period: string, filter: { city?: string } = {}) {
    let q = this.database.db.selectFrom('city_risk').selectAll().where('period', '=', periodDate(period)).orderBy('city_code').orderBy('industry_section');
    if (filter.city) q = q.where('city_code', '=', filter.city);
    return q.execute();
  }
}
