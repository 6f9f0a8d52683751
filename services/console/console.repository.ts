import { sql, type Expression, type ExpressionBuilder, type OrderByItemBuilder, type Selectable, type SqlBool } from 'kysely';
import type { Tables } from '../../sql/schema.js';
import type { Database } from '../db/database.js';
import type { Scope } from '../domain/access.js';
import type { AlertKind, AlertStatus } from '../domain/alert.js';
import { monthRange, periodDate, periodOf } from '../domain/period.js';
import { usccBucket } from '../domain/uscc.js';

/**
 * What the console and the API read, always inside the caller's scope: a
 * city official's scope is one city code and every query below filters on
 * it where the rows are read, so another city's alert, employer or figure is
 * simply not found (the API answers 404), whichever page or route asked.
 */

export const ALERT_SORTS = ['updated', 'level', 'opened', 'first_period', 'last_period', 'city', 'name', 'id'] as const;
export type AlertSort = (typeof ALERT_SORTS)[number];

export interface AlertQuery {
  cities?: readonly string[];
  levels?: readonly number[];
  kinds?: readonly AlertKind[];
  statuses?: readonly AlertStatus[];
  /** Alerts with a signal in this month range ('YYYY-MM', inclusive). */
  from?: string;
  to?: string;
  /** Part of the employer's name or code. */
  q?: string;
  sort?: AlertSort;
  order?: 'asc' | 'desc';
}

const SORT_COLUMN: Record<AlertSort, 'updated_at' | 'level' | 'opened_at' | 'first_period' | 'last_period' | 'city_code' | 'name' | 'alert_id'> = {
  updated: 'updated_at',
  level: 'level',
  opened: 'opened_at',
  first_period: 'first_period',
  last_period: 'last_period',
  city: 'city_code',
  name: 'name',
  id: 'alert_id',
};

const RISK_COLUMNS = ['period', 'level', 'rule_level', 'probability', 'jobs_at_stake', 'excess_separations', 'workforce', 'rules', 'kinds', 'run_id'] as const;

const LIST_COLUMNS = [
  'alert_id', 'subject_type', 'subject', 'kind', 'city_code', 'name', 'status', 'level', 'peak_level', 'model_only',
  'first_period', 'last_period', 'opened_at', 'acknowledged_at', 'acknowledged_by', 'resolved_at', 'resolved_by',
  'disposition', 'reopen_count', 'updated_at',
] as const;

type AlertEb = ExpressionBuilder<Tables, 'alert'>;

function scopeFilter(scope: Scope, column: string): Expression<SqlBool> {
  if (scope.all) return sql<SqlBool>`true`;
  if (scope.cities.length === 0) return sql<SqlBool>`false`;
  return sql<SqlBool>`${sql.ref(column)} = ANY(${[...scope.cities]}::char(6)[])`;
}

/** The list's order, the same for a page and the export: levels, names and cities ascending unless asked, times and ids newest first. */
function orderOf(f: AlertQuery): { column: (typeof SORT_COLUMN)[AlertSort]; order: 'asc' | 'desc' } {
  const ascending = f.sort === 'level' || f.sort === 'name' || f.sort === 'city';
  return { column: SORT_COLUMN[f.sort ?? 'updated'], order: f.order ?? (ascending ? 'asc' : 'desc') };
}

/** Only opened_at may be NULL (a pending alert): NULLS LAST on the other columns would keep their indexes from giving the order. */
function sortBy(column: (typeof SORT_COLUMN)[AlertSort], order: 'asc' | 'desc') {
  return (ob: OrderByItemBuilder) => {
    const o = order === 'asc' ? ob.asc() : ob.desc();
    return column === 'opened_at' ? o.nullsLast() : o;
  };
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Who an employer is, as its latest month names it. */
export interface EmployerWho {
  city_code: string;
  name: string;
  region_code: string;
  industry_code: string;
  /** 'YYYY-MM-DD', the month's first day. */
  period: string;
}

export class ConsoleRepository {
  constructor(private readonly database: Database) {}

  private get db() {
    return this.database.db;
  }

  private alertWhere(scope: Scope, f: AlertQuery) {
    return (eb: AlertEb) => {
      const parts: Expression<SqlBool>[] = [scopeFilter(scope, 'alert.city_code')];
      if (f.cities !== undefined && f.cities.length > 0) parts.push(eb('alert.city_code', 'in', [...f.cities]));
      if (f.levels !== undefined && f.levels.length > 0) parts.push(eb('alert.level', 'in', [...f.levels]));
      if (f.kinds !== undefined && f.kinds.length > 0) parts.push(eb('alert.kind', 'in', [...f.kinds]));
      if (f.statuses !== undefined && f.statuses.length > 0) parts.push(eb('alert.status', 'in', [...f.statuses]));
      if (f.from !== undefined) parts.push(eb('alert.last_period', '>=', periodDate(f.from)));
      if (f.to !== undefined) parts.push(eb('alert.first_period', '<=', periodDate(f.to)));
      if (f.q !== undefined && f.q !== '') {
        const like = `%${escapeLike(f.q)}%`;
        // ILIKE lower-cases every row's text (slow on multibyte text); text without case (Chinese, digits) needs none.
        const op = f.q.toLowerCase() === f.q.toUpperCase() ? 'like' : 'ilike';
        parts.push(eb.or([eb('alert.name', op, like), eb('alert.subject', op, like)]));
      }
      return eb.and(parts);
    };
  }

  /** One page of alerts and how many match in all. */
  async listAlerts(scope: Scope, f: AlertQuery, page: { offset: number; limit: number }) {
    const where = this.alertWhere(scope, f);
    const { column, order } = orderOf(f);
    const [items, count] = await Promise.all([
      // The page's ids first (an index-only walk past the offset), then only those rows.
      this.db
        .selectFrom('alert')
        .select([...LIST_COLUMNS])
        .where('alert_id', 'in', this.db.selectFrom('alert').select('alert_id').where(where).orderBy(column, sortBy(column, order)).orderBy('alert_id', order).offset(page.offset).limit(page.limit))
        .orderBy(column, sortBy(column, order))
        .orderBy('alert_id', order)
        .execute(),
      this.db.selectFrom('alert').select((eb) => eb.fn.countAll<number>().as('n')).where(where).executeTakeFirstOrThrow(),
    ]);
    return { items: items.map(trimAlert), total: Number(count.n) };
  }

  /** Every matching alert, in batches of `chunk` rows, for the CSV export (never the whole list in memory). */
  /**
   * Every matching alert as a finished CSV line (CRLF included), built by
   * PostgreSQL with ews_csv_field (sql/011_console_csv.sql: the same rules
   * as services/api/csv.ts), in batches of `chunk` rows: the API only passes
   * text on, and never holds the list.
   */
  async *streamAlertCsvLines(scope: Scope, f: AlertQuery, columns: { cityCodes: readonly string[]; cityNames: readonly string[] }, chunk = 2_000) {
    const { column, order } = orderOf(f);
    const field = (e: ReturnType<typeof sql>) => sql`coalesce(ews_csv_field((${e})::text), '')`;
    const iso = (c: string) => sql`to_char(${sql.ref(c)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    const line = sql<string>`concat_ws(',',
        alert.alert_id::text,
        ${field(sql`alert.city_code`)},
        ${field(sql`(${[...columns.cityNames]}::text[])[array_position(${[...columns.cityCodes]}::text[], alert.city_code::text)]`)},
        CASE alert.subject_type WHEN 'employer' THEN '企业' ELSE '市州' END,
        ${field(sql`alert.subject`)},
        ${field(sql`alert.name`)},
        ${field(sql`alert.kind`)},
        (ARRAY['Ⅰ', 'Ⅱ', 'Ⅲ', 'Ⅳ'])[alert.level],
        ${field(sql`alert.status`)},
        to_char(alert.first_period, 'YYYY-MM'),
        to_char(alert.last_period, 'YYYY-MM'),
        coalesce(${iso('alert.opened_at')}, ''),
        coalesce(${iso('alert.acknowledged_at')}, ''),
        ${field(sql`alert.acknowledged_by`)},
        coalesce(${iso('alert.resolved_at')}, ''),
        ${field(sql`alert.disposition`)},
        ${field(sql`alert.comment`)}) || chr(13) || chr(10)`;
    // The rows are found and ordered first (OFFSET 0 keeps that a separate step), and each line is built
    // only as the cursor hands its row out: a client that goes away leaves no line built for nothing.
    const ordered = this.db
      .selectFrom('alert')
      .select(['alert_id', 'city_code', 'subject_type', 'subject', 'name', 'kind', 'level', 'status', 'first_period', 'last_period', 'opened_at', 'acknowledged_at', 'acknowledged_by', 'resolved_at', 'disposition', 'comment'])
      .where(this.alertWhere(scope, f))
      .orderBy(column, sortBy(column, order))
      .orderBy('alert_id', order)
      .offset(0);
    const stream = this.db.selectFrom(ordered.as('alert')).select(line.as('line')).stream(chunk);
    for await (const row of stream) yield row.line;
  }

  /** One alert in scope with its history and e-mails, or undefined (also when it belongs to another city). */
  async alert(scope: Scope, id: number) {
    const alert = await this.db
      .selectFrom('alert')
      .selectAll()
      .where('alert_id', '=', id)
      .where(() => scopeFilter(scope, 'alert.city_code'))
      .executeTakeFirst();
    if (alert === undefined) return undefined;
    const [history, emails] = await Promise.all([
      this.db.selectFrom('alert_event').selectAll().where('alert_id', '=', id).orderBy('event_id').execute(),
      this.db
        .selectFrom('notification')
        .select(['notification_id', 'kind', 'status', 'recipient', 'created_at', 'sent_at', 'attempts', 'last_error'])
        .where(sql<SqlBool>`alert_ids @> ARRAY[${id}::bigint]`)
        .orderBy('notification_id')
        .execute(),
    ]);
    return { alert: trimAlert(alert), history, emails: emails.map((e) => ({ ...e, last_error: e.last_error })) };
  }

  /** The city an employer belongs to (its latest month), or undefined. */
  async employerCity(uscc: string): Promise<EmployerWho | undefined> {
    const row = await this.db
      .selectFrom('social_insurance')
      .select(['city_code', 'name', 'region_code', 'industry_code', 'period'])
      .where('bucket', '=', usccBucket(uscc))
      .where('uscc', '=', uscc)
      .orderBy('period', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : { ...row, city_code: row.city_code.trim(), region_code: row.region_code.trim() };
  }

  /**
   * An employer's months `from`..`to` ('YYYY-MM'): the feeds' figures
   * (social insurance and headcount) beside the risk each run gave it. Only
   * when the employer's city is in scope; otherwise undefined.
   */
  async employerMonths(scope: Scope, uscc: string, from: string, to: string, known?: EmployerWho) {
    const bucket = usccBucket(uscc);
    // The caller may already know the employer (an alert carries its city, name and codes): one lookup over every month's partition saved.
    const who = known ?? (await this.employerCity(uscc));
    if (who === undefined || !(scope.all || scope.cities.includes(who.city_code))) return undefined;
    const range = { from: periodDate(from), to: periodDate(to) };
    const months = monthRange(from, to);
    const [insurance, headcount, risk] = await Promise.all([
      this.db
        .selectFrom('social_insurance')
        .select(['period', 'insured', 'hired', 'separated', 'arrears_months', 'wage_base_total', 'ui_claims', 'separated_transfer', 'separated_natural', 'separated_migrant', 'separated_graduate'])
        .where('bucket', '=', bucket)
        .where('uscc', '=', uscc)
        .where('period', '>=', range.from)
        .where('period', '<=', range.to)
        .orderBy('period')
        .execute(),
      this.db
        .selectFrom('headcount')
        .select(['period', 'jobs_begin', 'jobs_end', 'jobs_lost', 'loss_reason', 'planned_layoffs', 'furloughed', 'dispatched'])
        .where('bucket', '=', bucket)
        .where('uscc', '=', uscc)
        .where('period', '>=', range.from)
        .where('period', '<=', range.to)
        .orderBy('period')
        .execute(),
      // employer_risk is keyed (period, bucket, uscc): a period range would scan each month's whole key for
      // the employer. One probe per month instead, each pruned to its partition when it runs (a range of
      // more than ten years, which no partition set holds, is read as a range).
      months.length > 120
        ? this.db
            .selectFrom('employer_risk')
            .select(RISK_COLUMNS)
            .where('bucket', '=', bucket)
            .where('uscc', '=', uscc)
            .where('period', '>=', range.from)
            .where('period', '<=', range.to)
            .orderBy('period')
            .execute()
        : sql<Pick<Selectable<Tables['employer_risk']>, (typeof RISK_COLUMNS)[number]>>`
            SELECT r.* FROM unnest(${months.map(periodDate)}::date[]) AS m(period)
             CROSS JOIN LATERAL (SELECT ${sql.join(RISK_COLUMNS.map((c) => sql.ref(c)))} FROM employer_risk WHERE period = m.period AND bucket = ${bucket} AND uscc = ${uscc}) r
             ORDER BY r.period`
            .execute(this.db)
            .then((r) => r.rows),
    ]);
    const filings = await this.db
      .selectFrom('layoff_filing')
      .select(['filing_id', 'filed_on', 'effective_on', 'planned_count', 'staff_total', 'reason'])
      .where('uscc', '=', uscc)
      .orderBy('effective_on', 'desc')
      .limit(20)
      .execute();
    return { employer: { uscc, ...who }, insurance, headcount, risk, filings };
  }

  /** Why scoring gave an employer its level in one month (employer_risk.explanation), if it was scored then and is in scope. */
  async employerExplanation(scope: Scope, uscc: string, period: string): Promise<unknown> {
    const row = await this.db
      .selectFrom('employer_risk')
      .select(['explanation', 'city_code'])
      .where('period', '=', periodDate(period))
      .where('bucket', '=', usccBucket(uscc))
      .where('uscc', '=', uscc)
      .executeTakeFirst();
    if (row === undefined || !(scope.all || scope.cities.includes(row.city_code.trim()))) return undefined;
    return row.explanation;
  }

  /** City risk (the whole city) by month, for the cities in scope (optionally one). */
  async cityMonths(scope: Scope, from: string, to: string, city?: string) {
    let q = this.db
      .selectFrom('city_risk')
      .select([
        'period', 'city_code', 'level', 'data_missing', 'missing_feeds', 'employers', 'expected_job_losses', 'observed_layoffs',
        'observed_job_losses', 'ui_new_claims', 'ui_claims_ratio', 'registered_unemployed', 'surveyed_unemployment_rate', 'run_id',
      ])
      .where('industry_section', '=', '*')
      .where('period', '>=', periodDate(from))
      .where('period', '<=', periodDate(to))
      .where(() => scopeFilter(scope, 'city_risk.city_code'))
      .orderBy('city_code')
      .orderBy('period');
    if (city !== undefined) q = q.where('city_code', '=', city);
    const rows = await q.execute();
    return rows.map((r) => ({ ...r, city_code: r.city_code.trim() }));
  }

  /** The latest month city risk was computed for, or undefined. */
  async latestCityPeriod(): Promise<string | undefined> {
    const row = await this.db.selectFrom('city_risk').select((eb) => eb.fn.max('period').as('period')).executeTakeFirst();
    return row?.period == null ? undefined : periodOf(row.period);
  }

  /** Open (or acknowledged) alerts per city and level, in scope. */
  async activeAlertCounts(scope: Scope) {
    const rows = await this.db
      .selectFrom('alert')
      .select((eb) => ['city_code', 'level', 'status', eb.fn.countAll<number>().as('n')])
      .where('status', 'in', ['open', 'acknowledged'])
      .where(() => scopeFilter(scope, 'alert.city_code'))
      .groupBy(['city_code', 'level', 'status'])
      .execute();
    return rows.map((r) => ({ ...r, city_code: r.city_code.trim(), n: Number(r.n) }));
  }

  /**
   * Per city, how fast offices first answered their alerts, read from the
   * alerts' history: an alert's clock starts when it first stood open at
   * Ⅰ–Ⅲ (raised, confirmed, or escalated from Ⅳ) on or after `since`; it has
   * `urgentHours` at Ⅰ/Ⅱ and `level3Hours` at Ⅲ (the level it started at);
   * it stops at the first acknowledgement or resolution by an official (not
   * the system's own). So an office that answered in time stays in time
   * when the alert later escalates, and a late escalation does not make an
   * alert overdue from the day it was first raised. Counts: clocks started,
   * answered, answered in time, overdue now (no answer, not resolved, past
   * its hours), and the median hours to answer.
   */
  async ackTimes(scope: Scope, since: Date, urgentHours: number, level3Hours: number) {
    const r = await sql<{ city_code: string; opened: number; acked: number; in_time: number; overdue: number; median_hours: number | null }>`
      WITH starts AS (
        -- Events that left an alert open at Ⅰ–Ⅲ since then (alert_event_clock_idx), and of those only each alert's first ever.
        SELECT e.alert_id, e.at AS started, e.to_level AS level
          FROM alert_event e
         WHERE e.to_status = 'open' AND e.to_level <= 3 AND e.at >= ${since}
           AND NOT EXISTS (SELECT 1 FROM alert_event p
                            WHERE p.alert_id = e.alert_id AND p.to_status = 'open' AND p.to_level <= 3 AND p.event_id < e.event_id)),
      candidates AS (
        SELECT a.alert_id, a.city_code, a.status FROM alert a JOIN starts s ON s.alert_id = a.alert_id
         WHERE (${scope.all} OR a.city_code = ANY(${scope.all ? [] : [...scope.cities]}::char(6)[]))),
      w AS (
        SELECT c.city_code, c.status, s.started,
               make_interval(hours => CASE WHEN s.level <= 2 THEN ${urgentHours}::int ELSE ${level3Hours}::int END) AS allowed,
               (SELECT min(x.at) FROM alert_event x
                 WHERE x.alert_id = s.alert_id AND x.at >= s.started AND x.action IN ('acknowledged', 'resolved') AND x.actor <> 'system') AS answered
          FROM starts s JOIN candidates c ON c.alert_id = s.alert_id)
      SELECT city_code,
             count(*)::int AS opened,
             count(answered)::int AS acked,
             count(*) FILTER (WHERE answered <= started + allowed)::int AS in_time,
             count(*) FILTER (WHERE answered IS NULL AND status <> 'resolved' AND now() > started + allowed)::int AS overdue,
             (percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM answered - started) / 3600)
               FILTER (WHERE answered IS NOT NULL))::real AS median_hours
        FROM w GROUP BY city_code ORDER BY city_code`.execute(this.db);
    return r.rows.map((x) => ({ ...x, city_code: x.city_code.trim() }));
  }

  /** Per feed, the latest month loaded and when; per city, the latest regional month. */
  async feedFreshness() {
    const feeds = await this.db
      .selectFrom('batch')
      .select((eb) => ['feed', eb.fn.max('period').as('latest_period'), eb.fn.max('finished_at').as('loaded_at'), eb.fn.countAll<number>().as('batches')])
      .where('status', '=', 'loaded')
      .groupBy('feed')
      .orderBy('feed')
      .execute();
    const rejected = await this.db
      .selectFrom('batch')
      .select((eb) => ['feed', eb.fn.countAll<number>().as('n')])
      .where('status', '=', 'rejected')
      .groupBy('feed')
      .execute();
    const regional = await this.db
      .selectFrom('regional')
      .select((eb) => ['city_code', eb.fn.max('period').as('latest_period')])
      .groupBy('city_code')
      .execute();
    return {
      feeds: feeds.map((f) => ({ ...f, batches: Number(f.batches), rejected: Number(rejected.find((r) => r.feed === f.feed)?.n ?? 0) })),
      regional: regional.map((r) => ({ city_code: r.city_code.trim(), latest_period: r.latest_period })),
    };
  }

  /** The latest scoring runs with their nights. */
  async runs(limit: number) {
    const rows = await sql<{
      run_id: number; period: string; status: string; started_at: Date; finished_at: Date | null; employers: number | null; shards: number | null;
      model_version: string | null; model_note: string | null; night_key: string | null; stage: string | null; reason: string | null;
      night_started_at: Date | null; night_finished_at: Date | null; redrives: number | null; missing_batches: unknown; incidents: unknown; alerts: unknown;
    }>`
      SELECT r.run_id, to_char(r.period, 'YYYY-MM-DD') AS period, r.status, r.started_at, r.finished_at, r.employers, r.shards, r.model_version, r.model_note,
             r.night_key, n.stage, n.reason, n.started_at AS night_started_at, n.finished_at AS night_finished_at, n.redrives,
             n.missing_batches, n.incidents, ar.summary AS alerts
        FROM score_run r
        LEFT JOIN night n ON n.night_key = r.night_key
        LEFT JOIN alert_run ar ON ar.run_id = r.run_id
       ORDER BY r.run_id DESC
       LIMIT ${limit}`.execute(this.db);
    return rows.rows;
  }

  /** The latest batches per feed, newest first. */
  async batches(limit: number) {
    return this.db
      .selectFrom('batch')
      .select(['batch_id', 'source', 'file', 'feed', 'period', 'status', 'rows_read', 'rows_loaded', 'rows_quarantined', 'reason', 'last_error', 'started_at', 'finished_at'])
      .orderBy('batch_id', 'desc')
      .limit(limit)
      .execute();
  }
}

function trimAlert<T extends { city_code: string }>(row: T): T {
  return { ...row, city_code: row.city_code.trim() };
}
