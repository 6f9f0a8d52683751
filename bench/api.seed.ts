import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { CITIES } from '../config/cities.js';
import { DISTRICTS } from '../config/districts.js';
import { DISPOSITIONS, AUTO_RESOLVED } from '../services/alerts/lifecycle.js';
import { openDatabase, withDatabaseName, type Database } from '../services/db/database.js';
import { migrate } from '../services/db/migrate.js';
import { addMonths, monthRange, periodDate } from '../services/domain/period.js';
import { usccBucket, usccCheckChar, USCC_ALPHABET } from '../services/domain/uscc.js';
import { CITY_PROFILES, cityWeights } from '../services/synth/city.profile.js';
import { brandText, BRAND_COUNT } from '../services/synth/name.compose.js';
import { Rng } from '../services/synth/random.js';

/**
 * The province bench:api reads: N alerts raised over M months ending at
 * `last` (the month the latest night scored), as the night would have left
 * them, written straight into a database of its own.
 *
 * - Employer alerts (layoff; unreported beside a layoff at its level; data
 *   cross-checks at Ⅳ) and one systemic alert per city. Cities drawn with the
 *   synthetic province's weights (成都 ~38 %), levels mostly Ⅳ/Ⅲ, few Ⅰ.
 * - Status as the lifecycle leaves it: alerts quiet for three months
 *   resolved (by the system, or earlier by an official with a disposition);
 *   the rest open, acknowledged (Ⅰ/Ⅱ within hours, Ⅳ within days), or
 *   pending the model's confirmation. Their history rows, and the e-mails
 *   (immediate, digest, reminder per city and run) that name them.
 * - Behind every employer alert, the employer's M months of social
 *   insurance, of scoring results (employer_risk, with a level in the alert's
 *   months), headcount reports for one in five, Art. 41 filings for some;
 *   city risk per city and month (aggregated from those), regional figures
 *   and the batches that loaded the feeds: the detail page's employer series
 *   and the city pages read real rows.
 *
 * Deterministic for a seed. Kept between runs (bench_meta); rebuilt when a
 * parameter or the generator changes.
 */

export const SEED_VERSION = 1;
/** Accounts the benchmark creates end in this domain: what it acknowledged is undone before the next run. */
export const BENCH_DOMAIN = 'bench-api.example';

export interface SeedParams {
  alerts: number;
  months: number;
  /** 'YYYY-MM': the month the latest night scored. */
  last: string;
  seed: number;
}

type Kind = 'layoff' | 'unreported' | 'crosscheck' | 'systemic';
type Status = 'pending' | 'open' | 'acknowledged' | 'resolved';

interface Employer {
  e: number;
  uscc: string;
  bucket: number;
  city: string;
  region: string;
  industry: string;
  name: string;
  size: number;
  /** Month indexes (0 … months-1) of the employer's episode. */
  f: number;
  l: number;
  /** Layoff level; null for an employer with only a data cross-check. */
  level: number | null;
  modelOnly: boolean;
  unreported: boolean;
  crosscheck: boolean;
}

const WORDS = ['电子科技', '纺织', '服饰', '机械制造', '建筑工程', '食品', '物流', '餐饮管理', '酒店管理', '商贸', '汽车零部件', '化工', '医药', '家具', '印刷包装', '钢铁', '建材', '软件', '信息技术', '光电'];
const INDUSTRIES = ['C13', 'C14', 'C15', 'C17', 'C18', 'C19', 'C21', 'C26', 'C27', 'C30', 'C31', 'C33', 'C34', 'C36', 'C38', 'C39', 'E47', 'E48', 'F51', 'F52', 'G54', 'H61', 'H62', 'I64', 'I65', 'K70', 'L72', 'M75', 'O80', 'R87'];
const FORMS = ['有限公司', '有限公司', '有限公司', '有限责任公司', '股份有限公司'];
/** Masked like the API writes them (maskedEmail): officials of each city who acknowledge and resolve. */
const OFFICER_NAMES = ['zh', 'li', 'wa', 'ch', 'yan', 'hu', 'zho', 'xu'];

export async function seedReady(serverUrl: string, name: string, p: SeedParams): Promise<boolean> {
  const client = new pg.Client({ connectionString: withDatabaseName(serverUrl, name) });
  try {
    await client.connect();
    const r = await client.query<{ alerts: number; months: number; last: string; seed: number; version: number }>('SELECT alerts, months, last, seed, version FROM bench_meta');
    const row = r.rows[0];
    return row !== undefined && row.alerts === p.alerts && row.months === p.months && row.last === p.last && row.seed === p.seed && row.version === SEED_VERSION;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Drops and builds the database `name`. */
export async function seedDatabase(serverUrl: string, name: string, p: SeedParams, say: (s: string) => void): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabaseName(serverUrl, 'postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  await admin.end();
  const database = openDatabase(withDatabaseName(serverUrl, name), 3);
  try {
    await migrate(database.pool);
    await build(database, p, say);
  } finally {
    await database.close();
  }
}

/**
 * Undoes what an earlier run's sessions did: their acknowledgements (the
 * alert back to open as seeded, their history rows gone), their sessions.
 * The audit log is append-only and keeps its rows.
 */
export async function resetBenchActions(database: Database): Promise<number> {
  const client = await database.pool.connect();
  try {
    await client.query('BEGIN');
    const r = await client.query(
      `UPDATE alert a SET status = 'open', acknowledged_at = NULL, acknowledged_by = NULL, comment = o.comment, updated_at = o.updated_at
         FROM bench_open o WHERE a.alert_id = o.alert_id AND a.acknowledged_by LIKE $1`,
      [`%@${BENCH_DOMAIN}`],
    );
    await client.query('ALTER TABLE alert_event DISABLE TRIGGER alert_event_append_only');
    await client.query('DELETE FROM alert_event WHERE actor LIKE $1', [`%@${BENCH_DOMAIN}`]);
    await client.query('ALTER TABLE alert_event ENABLE TRIGGER alert_event_append_only');
    await client.query('DELETE FROM session');
    await client.query('COMMIT');
    if ((r.rowCount ?? 0) > 0) await client.query('VACUUM (ANALYZE) alert, alert_event, session');
    return r.rowCount ?? 0;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** The night that scored month index m ran on the 3rd of the next month at 02:00 Asia/Shanghai (18:00 UTC the day before). */
function nightOf(periods: readonly string[], m: number, last: string): Date {
  const p = m < periods.length ? (periods[m] as string) : addMonths(last, m - periods.length + 1);
  const next = addMonths(p, 1);
  return new Date(`${next}-02T18:00:00Z`);
}

/** 91 (an enterprise), the district's code, then 'MA' and seven characters from the serial, and the check character. */
function usccOf(region: string, serial: number): string {
  let s = '';
  let n = serial;
  for (let i = 0; i < 7; i++) {
    s = (USCC_ALPHABET[n % 31] as string) + s;
    n = Math.floor(n / 31);
  }
  const first17 = `91${region}MA${s}`;
  return first17 + (usccCheckChar(first17) as string);
}

function pickWeighted(rng: Rng, weights: readonly number[]): number {
  let u = rng.next() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i] as number;
    if (u < 0) return i;
  }
  return weights.length - 1;
}

const HOUR = 3_600_000;

async function build(database: Database, p: SeedParams, say: (s: string) => void): Promise<void> {
  const rng = new Rng(p.seed, 'bench-api');
  const periods = monthRange(addMonths(p.last, -(p.months - 1)), p.last);
  const M = p.months;
  const weights = cityWeights();
  const districts = new Map(CITIES.map((c) => [c.code, DISTRICTS.filter((d) => d.code.slice(0, 4) === c.code.slice(0, 4)).map((d) => d.code)]));

  // ── employers and their episodes ──────────────────────────────────────
  const employers: Employer[] = [];
  const employerAlerts = p.alerts - CITIES.length;
  let alertCount = 0;
  const newEmployer = (level: number | null): Employer => {
    const ci = pickWeighted(rng, weights);
    const city = (CITIES[ci] as (typeof CITIES)[number]).code;
    const profile = CITY_PROFILES[ci] as (typeof CITY_PROFILES)[number];
    const e = employers.length + 1;
    const regions = districts.get(city) ?? [];
    const region = regions.length > 0 ? (regions[rng.int(regions.length)] as string) : city;
    const uscc = usccOf(region, e);
    // First months weighted slightly towards the recent ones (more employers monitored).
    const f = Math.min(M - 1, Math.floor(M * rng.next() ** 0.85));
    const d = rng.chance(0.5) ? 0 : rng.chance(0.7) ? 1 + rng.int(2) : 3 + rng.int(6);
    const word = WORDS[rng.int(WORDS.length)] as string;
    const brand = brandText(rng.int(BRAND_COUNT));
    const u = rng.next();
    const name = u < 0.6 ? `${profile.short}${brand}${word}${FORMS[rng.int(FORMS.length)]}` : u < 0.85 ? `四川${brand}${word}${FORMS[rng.int(FORMS.length)]}` : `${brand}（${profile.short}）${word}有限公司`;
    const emp: Employer = {
      e, uscc, bucket: usccBucket(uscc), city, region, industry: INDUSTRIES[rng.int(INDUSTRIES.length)] as string, name,
      size: Math.round(Math.exp(rng.range(Math.log(20), Math.log(3000)))), f, l: Math.min(M - 1, f + d),
      level, modelOnly: false, unreported: false, crosscheck: false,
    };
    employers.push(emp);
    return emp;
  };
  const layoffEmployers: Employer[] = [];
  while (alertCount < employerAlerts) {
    if (rng.next() < 0.78) {
      const level = 1 + pickWeighted(rng, [2, 9, 34, 55]);
      const emp = newEmployer(level);
      emp.modelOnly = rng.chance(0.04);
      layoffEmployers.push(emp);
      alertCount++;
      if (alertCount < employerAlerts && !emp.modelOnly && rng.chance(0.18)) {
        emp.unreported = true;
        alertCount++;
      }
    } else {
      const pick = rng.chance(0.5) && layoffEmployers.length > 0 ? (layoffEmployers[rng.int(layoffEmployers.length)] as Employer) : undefined;
      if (pick !== undefined && !pick.crosscheck) pick.crosscheck = true;
      else newEmployer(null).crosscheck = true;
      alertCount++;
    }
  }
  say(`  ${employers.length} employers behind ${p.alerts} alerts`);

  // ── alerts, their history, the e-mails ───────────────────────────────
  const now = Date.now();
  const alertRows: unknown[][] = [];
  const eventRows: unknown[][] = [];
  const openRows: unknown[][] = [];
  /** Per run (month index) and city: the alert ids its e-mails named. */
  const mail = new Map<string, { urgent: number[]; digest: number[]; remind: number[] }>();
  const mailOf = (m: number, city: string) => {
    const key = `${m}:${city}`;
    let v = mail.get(key);
    if (v === undefined) mail.set(key, (v = { urgent: [], digest: [], remind: [] }));
    return v;
  };
  let alertId = 0;
  let eventId = 0;
  const officer = (city: string) => `${OFFICER_NAMES[rng.int(OFFICER_NAMES.length)]}***@hrss${city.slice(0, 4)}.gov.cn`;
  const addAlert = (a: {
    subjectType: 'employer' | 'city'; subject: string; kind: Kind; city: string; name: string; level: number; f: number; l: number; modelOnly: boolean; evidence: unknown;
  }) => {
    const id = ++alertId;
    const quiet = M - 1 - a.l;
    const raisedAt = new Date(nightOf(periods, a.f, p.last).getTime() + rng.int(40 * 60_000));
    const peak = a.level > 1 && rng.chance(0.1) ? a.level - 1 : a.level;
    const urgent = a.level <= 2;
    let status: Status;
    let openedAt: Date | null = raisedAt;
    let ackAt: Date | null = null;
    let ackBy: string | null = null;
    let resolvedAt: Date | null = null;
    let resolvedBy: string | null = null;
    let disposition: string | null = null;
    let comment: string | null = null;
    let firstNotified: Date | null = null;
    let reminded: Date | null = null;
    let escalated: Date | null = null;
    const reopen = rng.chance(0.03) ? 1 : 0;
    const events: { at: Date; m: number | null; action: string; from: string | null; to: string | null; fromLevel: number | null; toLevel: number | null; actor: string; disposition: string | null; comment: string | null; evidence: unknown }[] = [];
    const pendingStart = a.modelOnly;
    events.push({ at: raisedAt, m: a.f, action: 'raised', from: null, to: pendingStart ? 'pending' : 'open', fromLevel: null, toLevel: a.level, actor: 'system', disposition: null, comment: null, evidence: a.evidence });
    if (pendingStart) {
      if (a.l > a.f) {
        openedAt = new Date(nightOf(periods, a.f + 1, p.last).getTime() + rng.int(40 * 60_000));
        events.push({ at: openedAt, m: a.f + 1, action: 'confirmed', from: 'pending', to: 'open', fromLevel: a.level, toLevel: a.level, actor: 'system', disposition: null, comment: null, evidence: null });
      } else {
        openedAt = null;
      }
    }
    if (openedAt !== null && urgent) firstNotified = new Date(openedAt.getTime() + 4 * 60_000 + rng.int(10 * 60_000));
    if (openedAt !== null) {
      for (let m = a.f + 1; m <= a.l && events.length < 4; m++) {
        if (rng.chance(0.5)) events.push({ at: new Date(nightOf(periods, m, p.last).getTime() + rng.int(40 * 60_000)), m, action: 'updated', from: 'open', to: 'open', fromLevel: a.level, toLevel: a.level, actor: 'system', disposition: null, comment: null, evidence: null });
      }
    }
    if (openedAt === null) {
      // Never confirmed: pending while the window is open, lapsed after.
      if (quiet >= 2) {
        status = 'resolved';
        resolvedAt = new Date(nightOf(periods, a.l + 2, p.last).getTime() + rng.int(40 * 60_000));
        resolvedBy = 'system';
        events.push({ at: resolvedAt, m: a.l + 2, action: 'lapsed', from: 'pending', to: 'resolved', fromLevel: a.level, toLevel: a.level, actor: 'system', disposition: null, comment: null, evidence: null });
      } else status = 'pending';
    } else {
      // Officials acknowledge most alerts; Ⅰ/Ⅱ within hours, Ⅲ within a day, Ⅳ within days.
      const median = a.level <= 2 ? 1.5 : a.level === 3 ? 9 : 40;
      const delay = median * HOUR * Math.exp(rng.normal() * 0.9);
      const ackCandidate = new Date(openedAt.getTime() + delay);
      const acks = rng.chance(a.level <= 2 ? 0.97 : a.level === 3 ? 0.85 : 0.6) && ackCandidate.getTime() < now - HOUR;
      const unackedLong = !acks || delay > 24 * HOUR;
      if (urgent && unackedLong) {
        reminded = new Date(openedAt.getTime() + 24 * HOUR + rng.int(3_600_000));
        if (reminded.getTime() < now) events.push({ at: reminded, m: null, action: 'reminded', from: null, to: null, fromLevel: a.level, toLevel: a.level, actor: 'system', disposition: null, comment: null, evidence: null });
        else reminded = null;
        if (!acks || delay > 72 * HOUR) {
          escalated = new Date(openedAt.getTime() + 72 * HOUR + rng.int(3_600_000));
          if (escalated.getTime() < now) events.push({ at: escalated, m: null, action: 'escalated_to_province', from: null, to: null, fromLevel: a.level, toLevel: a.level, actor: 'system', disposition: null, comment: null, evidence: null });
          else escalated = null;
        }
      }
      if (acks) {
        ackAt = ackCandidate;
        ackBy = officer(a.city);
        if (rng.chance(0.2)) comment = rng.chance(0.5) ? '已联系企业人事部门核实情况' : '已安排人员上门走访，企业称订单下降';
        events.push({ at: ackAt, m: null, action: 'acknowledged', from: 'open', to: 'acknowledged', fromLevel: a.level, toLevel: a.level, actor: ackBy, disposition: null, comment, evidence: null });
      }
      if (quiet >= 3) {
        status = 'resolved';
        // Officials resolve with a disposition before the quiet months do, more often for the serious ones.
        if (ackAt !== null && rng.chance(a.level <= 2 ? 0.8 : 0.45)) {
          resolvedAt = new Date(Math.min(ackAt.getTime() + (2 + rng.next() * 40) * 24 * HOUR, nightOf(periods, a.l + 3, p.last).getTime() - HOUR));
          const by = ackBy ?? officer(a.city);
          resolvedBy = by;
          disposition = DISPOSITIONS[pickWeighted(rng, [25, 20, 30, 20, 5])] as string;
          comment = disposition === '其他' ? '企业转产，职工已分流安置' : comment;
          events.push({ at: resolvedAt, m: null, action: 'resolved', from: 'acknowledged', to: 'resolved', fromLevel: a.level, toLevel: a.level, actor: by, disposition, comment, evidence: null });
        } else {
          resolvedAt = new Date(nightOf(periods, a.l + 3, p.last).getTime() + rng.int(40 * 60_000));
          resolvedBy = 'system';
          disposition = AUTO_RESOLVED(3);
          events.push({ at: resolvedAt, m: a.l + 3, action: 'resolved', from: ackAt === null ? 'open' : 'acknowledged', to: 'resolved', fromLevel: a.level, toLevel: a.level, actor: 'system', disposition, comment: null, evidence: null });
        }
      } else status = ackAt === null ? 'open' : 'acknowledged';
    }
    events.sort((x, y) => x.at.getTime() - y.at.getTime());
    const updatedAt = (events[events.length - 1] as (typeof events)[number]).at;
    if (status === 'open') openRows.push([id, updatedAt.toISOString(), comment]);
    const signals = status === 'resolved' ? 0 : (1 << Math.min(15, a.l - a.f + 1)) - 1;
    alertRows.push([
      id, a.subjectType, a.subject, a.kind, a.city, a.name, status, a.level, peak, a.modelOnly && openedAt === null, signals & 0x7fff,
      periodDate(periods[a.f] as string), periodDate(periods[a.l] as string), a.l + 1, openedAt?.toISOString() ?? null, ackAt?.toISOString() ?? null, ackBy,
      resolvedAt?.toISOString() ?? null, resolvedBy, disposition, comment, reopen, firstNotified?.toISOString() ?? null, reminded?.toISOString() ?? null,
      escalated?.toISOString() ?? null, JSON.stringify(a.evidence), updatedAt.toISOString(),
    ]);
    for (const ev of events) {
      eventRows.push([
        ++eventId, id, ev.at.toISOString(), ev.m === null || ev.m >= M ? null : ev.m + 1, ev.m === null || ev.m >= M ? null : periodDate(periods[ev.m] as string),
        ev.action, ev.from, ev.to, ev.fromLevel, ev.toLevel, ev.actor, ev.disposition, ev.comment, ev.evidence === null ? null : JSON.stringify(ev.evidence),
      ]);
    }
    if (openedAt !== null) {
      const opened = events.find((ev) => ev.action === 'raised' || ev.action === 'confirmed');
      const m = opened?.action === 'confirmed' ? a.f + 1 : a.f;
      const box = mailOf(m, a.city);
      (urgent ? box.urgent : box.digest).push(id);
      if (reminded !== null) box.remind.push(id);
    }
    return id;
  };

  for (const emp of employers) {
    const evidence = (kind: Kind) => ({
      bucket: emp.bucket, uscc: emp.uscc, name: emp.name, regionCode: emp.region, industryCode: emp.industry, insured: emp.size,
      excessSeparations: Math.max(1, Math.round(emp.size * 0.08)), probability: emp.modelOnly ? 0.81 : 0.3 + rng.next() * 0.6,
      rules: kind === 'crosscheck' ? ['crosscheck_arrears'] : kind === 'unreported' ? ['unreported', 'law41'] : ['law41'],
      ruleSummaries: kind === 'crosscheck' ? ['社保欠费 2 个月，与在岗人数申报不一致'] : [`本月减员 ${Math.round(emp.size * 0.1)} 人，较自身基线多 ${Math.round(emp.size * 0.08)} 人`],
      migrant: { separated: Math.round(emp.size * 0.03), jobsAtStake: Math.round(emp.size * 0.025 * 10) / 10 },
      graduate: { separated: Math.round(emp.size * 0.005), jobsAtStake: null },
      period: periods[emp.l],
    });
    if (emp.level !== null) {
      addAlert({ subjectType: 'employer', subject: emp.uscc, kind: 'layoff', city: emp.city, name: emp.name, level: emp.level, f: emp.f, l: emp.l, modelOnly: emp.modelOnly, evidence: evidence('layoff') });
      if (emp.unreported) addAlert({ subjectType: 'employer', subject: emp.uscc, kind: 'unreported', city: emp.city, name: emp.name, level: emp.level, f: emp.f, l: emp.l, modelOnly: false, evidence: evidence('unreported') });
    }
    if (emp.crosscheck) addAlert({ subjectType: 'employer', subject: emp.uscc, kind: 'crosscheck', city: emp.city, name: emp.name, level: 4, f: emp.f, l: emp.l, modelOnly: false, evidence: evidence('crosscheck') });
  }
  for (const c of CITIES) {
    const f = rng.int(M);
    const l = Math.min(M - 1, f + rng.int(4));
    addAlert({
      subjectType: 'city', subject: c.code, kind: 'systemic', city: c.code, name: c.name, level: rng.chance(0.3) ? 3 : 4, f, l, modelOnly: false,
      evidence: { expectedJobLosses: 1200 + rng.int(4000), observedLayoffs: 10 + rng.int(60), uiClaimsRatio: 1.2 + rng.next(), surveyedRate: 5.4, reasons: ['失业保险金申领人数较往年同期上升'], period: periods[l] },
    });
  }

  // ── write ──────────────────────────────────────────────────────────────
  const pool = database.pool;
  say('  runs, batches, partitions …');
  await pool.query(
    `INSERT INTO score_run (run_id, period, started_at, finished_at, status, model_version, employers, shards)
     SELECT i, p::date, n - interval '50 minutes', n - interval '5 minutes', 'done', 'default', 1000000, 64
       FROM unnest($1::date[], $2::timestamptz[]) WITH ORDINALITY AS t(p, n, i)`,
    [periods.map(periodDate), periods.map((_, m) => nightOf(periods, m, p.last).toISOString())],
  );
  await pool.query(`SELECT setval('score_run_run_id_seq', $1)`, [M]);
  await pool.query(
    `INSERT INTO batch (source, source_url, file, feed, period, sha256, declared_rows, encoding, order_key, status, rows_read, rows_loaded, rows_quarantined, started_at, finished_at)
     SELECT 'exchange', 'https://exchange.example/employment/', f || '-' || to_char(p, 'YYYY-MM') || '.csv.gz', f, p, lpad(md5(f || p::text), 64, '0'), 0, 'utf-8', 0, 'loaded', 0, 0, 0,
            n - interval '2 hours', n - interval '1 hour'
       FROM unnest($1::date[], $2::timestamptz[]) AS t(p, n), unnest(ARRAY['social_insurance', 'headcount', 'regional', 'layoff_filings']) f
      ORDER BY p, f`,
    [periods.map(periodDate), periods.map((_, m) => nightOf(periods, m, p.last).toISOString())],
  );
  for (const per of periods) {
    await pool.query(
      `SELECT ews_ensure_month_partition('social_insurance', $1::date), ews_ensure_month_partition('headcount', $1::date), ews_ensure_month_partition('employer_risk', $1::date)`,
      [periodDate(per)],
    );
  }
  await pool.query(`CREATE TABLE bench_period AS SELECT m - 1 AS m, p::date AS period, m AS run_id FROM unnest($1::date[]) WITH ORDINALITY AS t(p, m)`, [periods.map(periodDate)]);
  await pool.query(`CREATE TABLE bench_employer (e int, uscc char(18), bucket smallint, city char(6), region char(6), industry varchar(3), name text, size int, f int, l int, level smallint, model_only boolean, unreported boolean, crosscheck boolean, reports_groups boolean)`);
  const reports = new Map(CITY_PROFILES.map((c) => [c.code, c.reports.migrant]));
  await copyRows(database, 'bench_employer', ['e', 'uscc', 'bucket', 'city', 'region', 'industry', 'name', 'size', 'f', 'l', 'level', 'model_only', 'unreported', 'crosscheck', 'reports_groups'],
    employers.map((x) => [x.e, x.uscc, x.bucket, x.city, x.region, x.industry, x.name, x.size, x.f, x.l, x.level, x.modelOnly, x.unreported, x.crosscheck, reports.get(x.city) ?? true]));

  say(`  ${alertRows.length} alerts, ${eventRows.length} history rows …`);
  await copyRows(database, 'alert', [
    'alert_id', 'subject_type', 'subject', 'kind', 'city_code', 'name', 'status', 'level', 'peak_level', 'model_only', 'recent_signals', 'first_period', 'last_period', 'last_run_id',
    'opened_at', 'acknowledged_at', 'acknowledged_by', 'resolved_at', 'resolved_by', 'disposition', 'comment', 'reopen_count', 'first_notified_at', 'last_reminded_at', 'escalated_at', 'evidence', 'updated_at',
  ], alertRows);
  await pool.query(`SELECT setval('alert_alert_id_seq', $1)`, [alertId]);
  await copyRows(database, 'alert_event', ['event_id', 'alert_id', 'at', 'run_id', 'period', 'action', 'from_status', 'to_status', 'from_level', 'to_level', 'actor', 'disposition', 'comment', 'evidence'], eventRows);
  await pool.query(`SELECT setval('alert_event_event_id_seq', $1)`, [eventId]);
  await pool.query('CREATE TABLE bench_open (alert_id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, comment text)');
  await copyRows(database, 'bench_open', ['alert_id', 'updated_at', 'comment'], openRows);

  const notifications: unknown[][] = [];
  for (const [key, box] of [...mail.entries()].sort()) {
    const [mText, city] = key.split(':') as [string, string];
    const m = Number(mText);
    const raised = nightOf(periods, m, p.last);
    const sent = (min: number) => new Date(raised.getTime() + min * 60_000).toISOString();
    const cityName = CITIES.find((c) => c.code === city)?.name ?? city;
    const add = (kind: string, recipient: string, ids: number[], minutes: number) => {
      if (ids.length === 0) return;
      const payload = { kind, period: periods[Math.min(m, M - 1)], runId: m + 1, cityCode: city, cityName, recipient: { email: recipient, name: null }, alerts: ids.length, employers: ids.slice(0, 20).map((id) => ({ alertId: id })) };
      notifications.push([`${kind}:${m + 1}:${city}:${recipient}`, kind, m + 1, city, recipient, `<${kind}.${m + 1}.${city}.${notifications.length}@layoff-ews>`, JSON.stringify(payload), `{${ids.join(',')}}`, 'sent', 1, sent(minutes - 1), sent(minutes), raised.toISOString()]);
    };
    add('immediate', `dept-${city}@hrss.gov.cn`, box.urgent, 6);
    add('immediate', 'office@hrss.sc.gov.cn', box.urgent, 7);
    add('digest', `dept-${city}@hrss.gov.cn`, box.digest, 9);
    add('reminder', `dept-${city}@hrss.gov.cn`, box.remind, 24 * 60 + 10);
  }
  await copyRows(database, 'notification', ['dedupe_key', 'kind', 'run_id', 'city_code', 'recipient', 'message_id', 'payload', 'alert_ids', 'status', 'attempts', 'created_at', 'sent_at', 'raised_at'], notifications);
  say(`  ${notifications.length} e-mails`);

  // ── the facts behind them, generated in PostgreSQL ─────────────────────
  say(`  social insurance, headcount, scoring results: ${employers.length} employers × ${M} months …`);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < M) {
      const m = next++;
      await pool.query(SI_MONTH, [m]);
      await pool.query(HC_MONTH, [m]);
      await pool.query(ER_MONTH, [m]);
    }
  };
  await Promise.all([lane(), lane()]);
  await pool.query(FILINGS);
  await pool.query(REGIONAL);
  await pool.query(CITY_RISK);
  await pool.query(`INSERT INTO alert_run (run_id, period, processed_at, summary) SELECT run_id, period, now(), '{}'::jsonb FROM bench_period`);
  say('  vacuum, analyze …');
  await pool.query('VACUUM (ANALYZE)');
  await pool.query('CHECKPOINT');
  await pool.query('CREATE TABLE bench_meta (alerts integer, months integer, last text, seed integer, version integer)');
  await pool.query('INSERT INTO bench_meta VALUES ($1, $2, $3, $4, $5)', [p.alerts, p.months, p.last, p.seed, SEED_VERSION]);
}

// Month m of every employer: its staff, a layoff spread over its episode's months, separations, key groups where the city reports them.
const SI_MONTH = `
INSERT INTO social_insurance (bucket, uscc, period, name, region_code, city_code, industry_code, insured, hired, separated, arrears_months, wage_base_total,
                              ui_claims, separated_transfer, separated_natural, separated_migrant, separated_graduate, batch_id)
SELECT e.bucket, e.uscc, p.period, e.name, e.region, e.city, e.industry, v.ins, v.hire, v.sep,
       CASE WHEN e.crosscheck AND p.m BETWEEN e.f AND e.l THEN 1 + (p.m - e.f) % 3 ELSE 0 END, v.ins * 5600.00,
       v.sep / 4, v.sep / 6, CASE WHEN extract(month FROM p.period) = 2 THEN v.sep / 3 ELSE 0 END,
       CASE WHEN e.reports_groups THEN (v.sep * 3) / 10 END, CASE WHEN e.reports_groups THEN v.sep / 12 END,
       (SELECT batch_id FROM batch b WHERE b.feed = 'social_insurance' AND b.period = p.period)
  FROM bench_employer e
  JOIN bench_period p ON p.m = $1,
       LATERAL (SELECT CASE WHEN e.level IS NULL THEN 0 ELSE (e.size * (CASE e.level WHEN 1 THEN 30 WHEN 2 THEN 20 WHEN 3 THEN 12 ELSE 6 END)) / 100 END AS cut) AS k,
       LATERAL (SELECT greatest(1, e.size + (e.e * 13 + p.m * 7) % 5 - 2
                       - CASE WHEN p.m < e.f THEN 0 ELSE (k.cut * least(p.m - e.f + 1, e.l - e.f + 1)) / (e.l - e.f + 1) END) AS ins,
                       e.size / 50 + (e.e + p.m) % 3 AS hire,
                       e.size / 50 + (e.e + p.m * 3) % 3 + CASE WHEN p.m BETWEEN e.f AND e.l THEN k.cut / (e.l - e.f + 1) ELSE 0 END AS sep) AS v
 ORDER BY e.bucket, e.uscc`;

const HC_MONTH = `
INSERT INTO headcount (bucket, uscc, period, jobs_begin, jobs_end, jobs_lost, loss_reason, planned_layoffs, furloughed, dispatched, batch_id)
SELECT s.bucket, s.uscc, s.period, s.insured - s.hired + s.separated, s.insured, s.separated, CASE WHEN s.separated > 0 THEN 'other' END,
       CASE WHEN e.level IS NOT NULL AND p.m = e.f THEN s.separated ELSE 0 END, 0, 0,
       (SELECT batch_id FROM batch b WHERE b.feed = 'headcount' AND b.period = s.period)
  FROM social_insurance s
  JOIN bench_period p ON p.m = $1 AND s.period = p.period
  JOIN bench_employer e ON e.bucket = s.bucket AND e.uscc = s.uscc
 WHERE e.e % 5 = 0
 ORDER BY s.bucket, s.uscc`;

// Scoring's row for every employer and month: a level in its episode's months.
const ER_MONTH = `
INSERT INTO employer_risk (period, bucket, uscc, name, city_code, region_code, industry_code, workforce, level, rule_level, probability, jobs_at_stake,
                           excess_separations, rules, kinds, explanation, run_id, separated, separated_migrant, separated_graduate, jobs_at_stake_migrant, jobs_at_stake_graduate)
SELECT p.period, s.bucket, s.uscc, s.name, s.city_code, s.region_code, s.industry_code, s.insured,
       CASE WHEN w.hot AND e.level IS NOT NULL THEN e.level END,
       CASE WHEN w.hot AND e.level IS NOT NULL AND NOT e.model_only THEN e.level END,
       CASE WHEN w.hot THEN 0.55 + (e.e % 40) / 100.0 ELSE 0.02 + (e.e % 9) / 100.0 END,
       CASE WHEN w.hot THEN s.separated ELSE 0 END, CASE WHEN w.hot THEN greatest(0, s.separated - e.size / 50) ELSE 0 END,
       CASE WHEN NOT w.hot THEN '{}'::text[] WHEN e.level IS NULL THEN '{crosscheck_arrears}' WHEN e.unreported THEN '{law41,unreported}' ELSE '{law41}' END,
       CASE WHEN NOT w.hot THEN '{}'::text[] WHEN e.level IS NULL THEN '{crosscheck}' WHEN e.unreported THEN '{layoff,unreported}' ELSE '{layoff}' END,
       CASE WHEN NOT w.hot THEN '{"rules":[],"reasons":[],"model":null}'::jsonb
            ELSE jsonb_build_object('rules', jsonb_build_array(jsonb_build_object('rule', 'law41', 'kind', 'layoff',
                   'summary', '本月减员 ' || s.separated || ' 人，较自身基线多 ' || greatest(0, s.separated - e.size / 50) || ' 人',
                   'window', jsonb_build_object('from', to_char(p.period, 'YYYY-MM'), 'to', to_char(p.period, 'YYYY-MM')),
                   'numbers', jsonb_build_object('excess', greatest(0, s.separated - e.size / 50)), 'threshold', '', 'source', '')),
                 'reasons', '[]'::jsonb, 'model', NULL) END,
       p.run_id, s.separated, s.separated_migrant, s.separated_graduate,
       CASE WHEN w.hot AND s.separated_migrant IS NOT NULL THEN s.separated * 0.3 END, CASE WHEN w.hot AND s.separated_graduate IS NOT NULL THEN s.separated * 0.08 END
  FROM social_insurance s
  JOIN bench_period p ON p.m = $1 AND s.period = p.period
  JOIN bench_employer e ON e.bucket = s.bucket AND e.uscc = s.uscc,
       LATERAL (SELECT p.m BETWEEN e.f AND e.l AS hot) AS w
 ORDER BY s.bucket, s.uscc`;

const FILINGS = `
INSERT INTO layoff_filing (filing_id, period, bucket, uscc, filed_on, effective_on, planned_count, staff_total, reason, batch_id)
SELECT 'F' || e.e, p.period, e.bucket, e.uscc, p.period + 5, p.period + 35, greatest(10, e.size / 8), e.size, '生产经营发生严重困难',
       (SELECT batch_id FROM batch b WHERE b.feed = 'layoff_filings' AND b.period = p.period)
  FROM bench_employer e JOIN bench_period p ON p.m = e.f
 WHERE e.level <= 3 AND NOT e.unreported AND e.e % 3 = 0`;

const REGIONAL = `
INSERT INTO regional (city_code, period, registered_unemployed, ui_new_claims, urban_new_jobs, surveyed_unemployment_rate, batch_id)
SELECT c.city, p.period, 2000 + c.n * 3, 300 + c.n / 4 + (p.m * 37) % 90, 1500 + c.n * 2, 5.0 + ((p.m * 7) % 9) / 10.0,
       (SELECT batch_id FROM batch b WHERE b.feed = 'regional' AND b.period = p.period)
  FROM (SELECT city, count(*)::int AS n FROM bench_employer GROUP BY city) c, bench_period p`;

// City risk as scoring closes a run: the whole city ('*') and each section, summed from the employers' rows.
const CITY_RISK = `
INSERT INTO city_risk (period, city_code, industry_section, level, data_missing, missing_feeds, employers, expected_job_losses, observed_layoffs, observed_job_losses,
                       ui_new_claims, ui_claims_ratio, registered_unemployed, surveyed_unemployment_rate, explanation, run_id,
                       separated, separated_migrant, separated_graduate, migrant_reporters, graduate_reporters, jobs_at_stake, jobs_at_stake_migrant, jobs_at_stake_graduate)
SELECT r.period, r.city_code, coalesce(r.section, '*'),
       CASE WHEN r.section IS NULL AND r.layoffs * 40 > r.employers THEN 3 WHEN r.section IS NULL AND r.layoffs * 80 > r.employers THEN 4 END,
       false, '{}', r.employers, r.expected, r.layoffs, r.lost,
       g.ui_new_claims, 1.0 + (r.layoffs % 7) / 10.0, g.registered_unemployed, g.surveyed_unemployment_rate, '{"reasons":[]}'::jsonb, p.run_id,
       r.separated, r.sep_migrant, r.sep_graduate, r.migrant_reporters, r.graduate_reporters, r.stake, r.stake_migrant, r.stake_graduate
  FROM (SELECT period, city_code,
               CASE WHEN GROUPING(left(industry_code, 1)) = 1 THEN NULL ELSE left(industry_code, 1) END AS section,
               count(*)::int AS employers, coalesce(sum(probability * jobs_at_stake), 0)::real AS expected,
               count(*) FILTER (WHERE 'layoff' = ANY(kinds))::int AS layoffs, coalesce(sum(jobs_at_stake) FILTER (WHERE 'layoff' = ANY(kinds)), 0)::int AS lost,
               sum(separated)::int AS separated, sum(separated_migrant)::int AS sep_migrant, sum(separated_graduate)::int AS sep_graduate,
               count(separated_migrant)::int AS migrant_reporters, count(separated_graduate)::int AS graduate_reporters,
               sum(jobs_at_stake) FILTER (WHERE level IS NOT NULL)::int AS stake,
               sum(jobs_at_stake_migrant) FILTER (WHERE level IS NOT NULL)::real AS stake_migrant, sum(jobs_at_stake_graduate) FILTER (WHERE level IS NOT NULL)::real AS stake_graduate
          FROM employer_risk GROUP BY GROUPING SETS ((period, city_code), (period, city_code, left(industry_code, 1)))) r
  JOIN bench_period p ON p.period = r.period
  LEFT JOIN regional g ON g.city_code = r.city_code AND g.period = r.period`;

/** COPY in text format: values escaped, NULL as \\N, arrays given as PostgreSQL literals. */
async function copyRows(database: Database, table: string, columns: readonly string[], rows: readonly unknown[][]): Promise<void> {
  const client = await database.pool.connect();
  try {
    function* lines(): Generator<string> {
      let chunk = '';
      for (const row of rows) {
        chunk += `${row.map(copyField).join('\t')}\n`;
        if (chunk.length > 1 << 20) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk !== '') yield chunk;
    }
    await pipeline(Readable.from(lines()), client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`)));
  } finally {
    client.release();
  }
}

function copyField(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number') return String(v);
  return (typeof v === 'string' ? v : JSON.stringify(v)).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}
