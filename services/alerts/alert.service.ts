import { sql, type Selectable, type Transaction } from 'kysely';
import { CITIES, CITY_BY_CODE } from '../../config/cities.js';
import type { AlertsConfig, NotifyConfig } from '../../config/notify.schema.js';
import type { AlertKind } from '../domain/alert.js';
import type { Tables } from '../../sql/schema.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../log.js';
import type { AlertChange } from '../domain/alert.js';
import type { Level } from '../domain/level.js';
import type { CityAlertView, CitySummaryRow, EmployerAlertView, MonthlySeries } from '../notify/notification.types.js';
import { addMonths, monthRange, periodDate } from '../domain/period.js';
import { raise, withoutSignal, withSignal, type AlertState, type Signal, type Step, type Transition } from './lifecycle.js';
import { routeRun, type OutboxEntry } from './routing.js';
import { noLevels, countLevel, isLevel, LEVEL_NUMERAL } from '../domain/level.js';

/**
 * Turns a finished scoring run into alert changes and the notifications
 * they cause, in ONE transaction (the transactional outbox): either the
 * alerts move and their e-mails are queued, or neither happens. Processing
 * the same run twice is a no-op (alert_run), so a retried job or a rerun
 * command cannot notify twice.
 *
 * Another run of a month already processed (the nightly job scores the same
 * month every night, `ews nightly --period` reruns it, a catch-up rescores
 * some cities) goes through the lifecycle like any run, which counts months
 * (see lifecycle.ts): the same results change no alert row, write no
 * history and cause no e-mail. Reminders and escalations to the province
 * are due by the clock and go whenever they are due; the province summary
 * (and a digest that carries nothing but the missing-feeds note) goes once
 * a day per month scored. A run of a month older than one already processed
 * is recorded and raises nothing: alerts follow the latest month.
 */

export interface AlertDeps {
  database: Database;
  alerts: AlertsConfig;
  notify: NotifyConfig;
  log: Logger;
  /** The time zone whose calendar day keys the once-a-day e-mails (the province summary); default Asia/Shanghai. */
  timeZone?: string;
}

export interface ProcessResult {
  runId: number;
  period: string;
  alreadyProcessed: boolean;
  signals: number;
  raised: number;
  opened: number;
  escalated: number;
  resolved: number;
  pending: number;
  notifications: number[];
}

/** What an employer alert remembers of its evidence (employer data only): the e-mail's fields, and where the history is. */
type EmployerEvidence = Pick<EmployerAlertView, 'uscc' | 'name' | 'regionCode' | 'industryCode' | 'insured' | 'excessSeparations' | 'probability' | 'rules' | 'ruleSummaries'> & {
  bucket: number;
  period: string;
};

type CityEvidence = Pick<CityAlertView, 'expectedJobLosses' | 'observedLayoffs' | 'uiClaimsRatio' | 'surveyedRate' | 'reasons'> & { period: string };

interface Row {
  alertId: number | null;
  subjectType: 'employer' | 'city';
  subject: string;
  kind: AlertKind;
  cityCode: string;
  name: string;
  state: AlertState;
  evidence: unknown;
  step: Step | null;
  touched: boolean;
  extraEvents: Transition[];
}

const LOCK = 'ews/alerts';

export async function processRun(deps: AlertDeps, runId: number, options: { now?: Date } = {}): Promise<ProcessResult> {
  const { database } = deps;
  const run = await database.db.selectFrom('score_run').select(['run_id', 'period', 'status', 'finished_at']).where('run_id', '=', runId).executeTakeFirst();
  if (!run) throw new Error(`no scoring run ${runId} (see \`ews score\`)`);
  if (run.status !== 'done') throw new Error(`scoring run ${runId} is ${run.status}, not done: alerts are raised only from a finished run`);
  const period = run.period.slice(0, 7);
  const now = options.now ?? new Date();
  const raisedAt = run.finished_at ?? now;

  const result = await database.db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext(${LOCK}))`.execute(trx);
    const done = await trx.selectFrom('alert_run').select('summary').where('run_id', '=', runId).executeTakeFirst();
    if (done) return { ...(done.summary as ProcessResult), alreadyProcessed: true, notifications: [] };
    const newer = await trx.selectFrom('alert_run').select('period').where('period', '>', periodDate(period)).limit(1).executeTakeFirst();
    if (newer) {
      // A backfill of an older month: its scores stand, but alerts follow the latest month only.
      const summary: ProcessResult = { runId, period, alreadyProcessed: false, signals: 0, raised: 0, opened: 0, escalated: 0, resolved: 0, pending: 0, notifications: [] };
      await trx.insertInto('alert_run').values({ run_id: runId, period: periodDate(period), summary: JSON.stringify({ ...summary, skipped: `alerts already follow ${newer.period.slice(0, 7)}` }) }).execute();
      deps.log.info({ runId, period, latest: newer.period.slice(0, 7) }, 'alerts skipped for an older month');
      return summary;
    }
    return processInTransaction(trx, deps, runId, period, now, raisedAt, calendarDay(now, deps.timeZone ?? 'Asia/Shanghai'));
  });
  deps.log.info({ ...result, notifications: result.notifications.length }, 'alerts processed');
  return result;
}

async function processInTransaction(trx: Transaction<Tables>, deps: AlertDeps, runId: number, period: string, now: Date, raisedAt: Date, day: string): Promise<ProcessResult> {
  const first = periodDate(period);
  const signals = await readSignals(trx, first);
  const cityRows = await trx.selectFrom('city_risk').selectAll().where('period', '=', first).where('industry_section', '=', '*').execute();
  for (const c of cityRows) {
    if (c.level === null || c.data_missing) continue;
    const evidence: CityEvidence = {
      expectedJobLosses: c.expected_job_losses,
      observedLayoffs: c.observed_layoffs,
      uiClaimsRatio: c.ui_claims_ratio,
      surveyedRate: c.surveyed_unemployment_rate,
      reasons: cityReasons(c.explanation),
      period,
    };
    signals.push({ subjectType: 'city', subject: c.city_code, kind: 'systemic', cityCode: c.city_code, name: CITY_BY_CODE.get(c.city_code)?.name ?? c.city_code, level: c.level as Level, modelOnly: false, evidence });
  }

  // Every active alert, and the resolved ones that fire again.
  const keyOf = (t: string, s: string, k: string): string => `${t}/${s}/${k}`;
  const existing = await sql<AlertDbRow>`
    SELECT a.* FROM alert a
     WHERE a.status <> 'resolved'
        OR (a.subject_type, a.subject, a.kind) IN (SELECT * FROM unnest(${signals.map((s) => s.subjectType)}::text[], ${signals.map((s) => s.subject)}::text[], ${signals.map((s) => s.kind)}::text[]))`.execute(trx);
  const rows = new Map<string, Row>();
  for (const a of existing.rows) {
    rows.set(keyOf(a.subject_type, a.subject, a.kind), {
      alertId: Number(a.alert_id), subjectType: a.subject_type, subject: a.subject, kind: a.kind, cityCode: a.city_code, name: a.name,
      state: toState(a), evidence: a.evidence, step: null, touched: false, extraEvents: [],
    });
  }

  const cfg = deps.alerts;
  const seen = new Set<string>();
  for (const s of signals) {
    const key = keyOf(s.subjectType, s.subject, s.kind);
    if (seen.has(key)) continue;
    seen.add(key);
    const row = rows.get(key);
    if (!row) {
      const step = raise(s, period, now, cfg);
      rows.set(key, { alertId: null, subjectType: s.subjectType, subject: s.subject, kind: s.kind, cityCode: s.cityCode, name: s.name, state: step.next, evidence: s.evidence, step, touched: true, extraEvents: [] });
    } else {
      const step = withSignal(row.state, s, period, now, cfg);
      // An ignored signal (an older month, or the month a resolved alert was resolved in) leaves even the evidence as it was.
      if (step.ignored) Object.assign(row, { step });
      else Object.assign(row, { state: step.next, step, evidence: s.evidence, name: s.name, cityCode: s.cityCode, touched: true });
    }
  }
  for (const [key, row] of rows) {
    if (seen.has(key) || row.state.status === 'resolved') continue;
    const step = withoutSignal(row.state, period, now, cfg);
    Object.assign(row, { state: step.next, step, touched: step.next !== row.state });
  }

  // New alerts get their ids first: e-mails and history point at them.
  const fresh = [...rows.values()].filter((r) => r.alertId === null);
  if (fresh.length > 0) {
    const inserted = await sql<{ alert_id: string; subject_type: string; subject: string; kind: string }>`
      INSERT INTO alert (subject_type, subject, kind, city_code, name, status, level, peak_level, model_only, recent_signals, first_period, last_period, last_run_id, opened_at, evidence)
      SELECT v.subject_type, v.subject, v.kind, v.city_code, v.name, v.status, v.level, v.peak_level, v.model_only, v.recent_signals, v.first_period, v.last_period, ${runId}, v.opened_at, v.evidence
        FROM jsonb_to_recordset(${JSON.stringify(fresh.map((r) => ({ ...dbFields(r), subject_type: r.subjectType, subject: r.subject, kind: r.kind })))}::jsonb)
             AS v(subject_type text, subject text, kind text, city_code text, name text, status text, level smallint, peak_level smallint, model_only boolean,
                  recent_signals smallint, first_period date, last_period date, opened_at timestamptz, evidence jsonb)
      RETURNING alert_id, subject_type, subject, kind`.execute(trx);
    for (const r of inserted.rows) (rows.get(keyOf(r.subject_type, r.subject, r.kind)) as Row).alertId = Number(r.alert_id);
  }

  // What officials are told: this run's changes, and what officials resolved since the last run (reported in the digest).
  const all = [...rows.values()];
  const changed = all.filter((r) => r.step?.change != null && r.state.status !== 'pending');
  // (A run skipped as older than the latest month told nobody anything: it does not count.)
  const lastRun = await trx
    .selectFrom('alert_run')
    .select(sql<Date | null>`max(processed_at)`.as('at'))
    .where(sql<boolean>`summary->>'skipped' IS NULL`)
    .executeTakeFirst();
  if (lastRun?.at) {
    const byOfficials = await trx
      .selectFrom('alert')
      .selectAll()
      .where('status', '=', 'resolved')
      .where('resolved_by', '<>', 'system')
      .where('resolved_at', '>', lastRun.at)
      .execute();
    for (const a of byOfficials) {
      // Unless this run reopened it (that e-mail says so), tell the resolution.
      const row = rows.get(keyOf(a.subject_type, a.subject, a.kind));
      if (row && row.step?.ignored !== true) continue;
      const state = toState(a);
      changed.push({
        alertId: a.alert_id, subjectType: a.subject_type, subject: a.subject, kind: a.kind, cityCode: a.city_code, name: a.name, state, evidence: a.evidence,
        step: { next: state, events: [], change: 'resolved', previousLevel: state.level }, touched: false, extraEvents: [],
      });
    }
  }
  const reminderHours = cfg.reminderHours * 3_600_000;
  const escalateMs = cfg.escalateAfterDays * 86_400_000;
  const urgentNow = new Set(changed.filter((r) => r.state.level <= 2 && r.step?.change !== 'resolved' && r.step?.change !== 'updated').map((r) => r.alertId));
  const openUrgent = all.filter((r) => r.subjectType === 'employer' && r.state.status === 'open' && r.state.level <= 2 && r.state.firstNotifiedAt !== null && !urgentNow.has(r.alertId));
  const toRemind = openUrgent.filter((r) => now.getTime() - (r.state.lastRemindedAt ?? r.state.firstNotifiedAt ?? now).getTime() >= reminderHours);
  const toEscalate = openUrgent.filter((r) => r.state.escalatedAt === null && now.getTime() - (r.state.firstNotifiedAt ?? now).getTime() >= escalateMs);

  const needSeries = [...changed, ...toRemind, ...toEscalate].filter((r) => r.subjectType === 'employer' && r.state.level <= 2);
  const series = await readSeries(trx, needSeries.map((r) => r.evidence as EmployerEvidence), period);
  const view = (r: Row, change: AlertChange): EmployerAlertView => employerView(r, change, series, now);

  const employerChanges = changed.filter((r) => r.subjectType === 'employer');
  const cityChanges = changed.filter((r) => r.subjectType === 'city');
  const dataMissing = cityRows
    .filter((c) => c.data_missing)
    .map((c) => ({ cityCode: c.city_code, cityName: CITY_BY_CODE.get(c.city_code)?.name ?? c.city_code, feeds: c.missing_feeds }));
  const failed = await trx.selectFrom('notification').select(sql<number>`count(*)::int`.as('n')).where('status', '=', 'failed').executeTakeFirstOrThrow();
  const group = (list: Row[], change: AlertChange) =>
    CITIES.map((c) => ({ cityCode: c.code, alerts: list.filter((r) => r.cityCode === c.code).map((r) => view(r, change)) })).filter((g) => g.alerts.length > 0);

  const entries = routeRun(
    {
      runId,
      period,
      day,
      employers: employerChanges.map((r) => view(r, r.step?.change as AlertChange)),
      employerCities: employerChanges.map((r) => r.cityCode),
      cities: cityChanges.map((r) => cityView(r)),
      cityCodes: cityChanges.map((r) => r.cityCode),
      reminders: group(toRemind, 'unacknowledged'),
      escalations: group(toEscalate, 'unacknowledged'),
      dataMissing,
      summary: summaryRows(all, employerChanges, dataMissing.map((d) => d.cityCode)),
      failedDeliveries: failed.n,
    },
    deps.notify,
  );

  // Mark what was sent (so reminders and escalations count from it).
  const notified = new Set(entries.filter((e) => e.kind === 'immediate').flatMap((e) => e.alertIds));
  for (const r of all) {
    if (r.alertId !== null && notified.has(r.alertId) && r.state.firstNotifiedAt === null) {
      r.state = { ...r.state, firstNotifiedAt: now };
      r.touched = true;
    }
  }
  for (const r of toRemind) {
    r.state = { ...r.state, lastRemindedAt: now };
    r.touched = true;
    r.extraEvents.push({ action: 'reminded', fromStatus: 'open', toStatus: 'open', fromLevel: r.state.level, toLevel: r.state.level });
  }
  for (const r of toEscalate) {
    r.state = { ...r.state, escalatedAt: now };
    r.touched = true;
    r.extraEvents.push({ action: 'escalated_to_province', fromStatus: 'open', toStatus: 'open', fromLevel: r.state.level, toLevel: r.state.level });
  }

  await writeAlerts(trx, all.filter((r) => r.touched), runId);
  await writeEvents(trx, all, runId, first, now);
  const ids = await writeOutbox(trx, entries, runId, raisedAt);

  const count = (pred: (r: Row) => boolean): number => all.filter(pred).length;
  const summary: ProcessResult = {
    runId,
    period,
    alreadyProcessed: false,
    signals: signals.length,
    raised: count((r) => r.step?.events.some((e) => e.action === 'raised') ?? false),
    opened: count((r) => r.step?.change === 'new' || r.step?.change === 'reopened'),
    escalated: count((r) => r.step?.change === 'escalated'),
    resolved: count((r) => r.step?.change === 'resolved'),
    pending: count((r) => r.state.status === 'pending'),
    notifications: ids,
  };
  await trx.insertInto('alert_run').values({ run_id: runId, period: first, summary: JSON.stringify({ ...summary, notifications: ids.length }) }).execute();
  return summary;
}

/** The calendar date ('YYYY-MM-DD') of an instant in a time zone. */
export function calendarDay(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(at);
  const get = (t: string): string => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** An alert row as PostgreSQL returns it. */
export type AlertDbRow = Selectable<Tables['alert']>;

export function toState(a: AlertDbRow): AlertState {
  return {
    status: a.status,
    level: a.level as Level,
    peakLevel: a.peak_level as Level,
    modelOnly: a.model_only,
    recentSignals: a.recent_signals,
    firstPeriod: a.first_period.slice(0, 7),
    lastPeriod: a.last_period.slice(0, 7),
    reopenCount: a.reopen_count,
    firstNotifiedAt: a.first_notified_at,
    acknowledgedAt: a.acknowledged_at,
    acknowledgedBy: a.acknowledged_by,
    resolvedAt: a.resolved_at,
    resolvedBy: a.resolved_by,
    disposition: a.disposition,
    comment: a.comment,
    openedAt: a.opened_at,
    escalatedAt: a.escalated_at,
    lastRemindedAt: a.last_reminded_at,
  };
}

function dbFields(r: Row): Record<string, unknown> {
  const s = r.state;
  return {
    city_code: r.cityCode,
    name: r.name,
    status: s.status,
    level: s.level,
    peak_level: s.peakLevel,
    model_only: s.modelOnly,
    recent_signals: s.recentSignals,
    first_period: periodDate(s.firstPeriod),
    last_period: periodDate(s.lastPeriod),
    opened_at: s.openedAt?.toISOString() ?? null,
    acknowledged_at: s.acknowledgedAt?.toISOString() ?? null,
    acknowledged_by: s.acknowledgedBy,
    resolved_at: s.resolvedAt?.toISOString() ?? null,
    resolved_by: s.resolvedBy,
    disposition: s.disposition,
    comment: s.comment,
    reopen_count: s.reopenCount,
    first_notified_at: s.firstNotifiedAt?.toISOString() ?? null,
    last_reminded_at: s.lastRemindedAt?.toISOString() ?? null,
    escalated_at: s.escalatedAt?.toISOString() ?? null,
    evidence: r.evidence,
  };
}

/** Writes the rows whose fields differ from the stored ones: an alert the run left as it was keeps its last_run_id and updated_at. */
async function writeAlerts(trx: Transaction<Tables>, rows: Row[], runId: number): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    UPDATE alert a SET city_code = v.city_code, name = v.name, status = v.status, level = v.level, peak_level = v.peak_level, model_only = v.model_only,
           recent_signals = v.recent_signals, first_period = v.first_period, last_period = v.last_period, last_run_id = ${runId},
           opened_at = v.opened_at, acknowledged_at = v.acknowledged_at, acknowledged_by = v.acknowledged_by, resolved_at = v.resolved_at,
           resolved_by = v.resolved_by, disposition = v.disposition, comment = v.comment, reopen_count = v.reopen_count,
           first_notified_at = v.first_notified_at, last_reminded_at = v.last_reminded_at, escalated_at = v.escalated_at, evidence = v.evidence, updated_at = now()
      FROM jsonb_to_recordset(${JSON.stringify(rows.map((r) => ({ alert_id: r.alertId, ...dbFields(r) })))}::jsonb)
           AS v(alert_id bigint, city_code text, name text, status text, level smallint, peak_level smallint, model_only boolean, recent_signals smallint,
                first_period date, last_period date, opened_at timestamptz, acknowledged_at timestamptz, acknowledged_by text, resolved_at timestamptz,
                resolved_by text, disposition text, comment text, reopen_count integer, first_notified_at timestamptz, last_reminded_at timestamptz,
                escalated_at timestamptz, evidence jsonb)
     WHERE a.alert_id = v.alert_id
       AND (a.city_code::text, a.name, a.status, a.level, a.peak_level, a.model_only, a.recent_signals, a.first_period, a.last_period, a.opened_at,
            a.acknowledged_at, a.acknowledged_by, a.resolved_at, a.resolved_by, a.disposition, a.comment, a.reopen_count, a.first_notified_at,
            a.last_reminded_at, a.escalated_at, a.evidence)
           IS DISTINCT FROM
           (v.city_code, v.name, v.status, v.level, v.peak_level, v.model_only, v.recent_signals, v.first_period, v.last_period, v.opened_at,
            v.acknowledged_at, v.acknowledged_by, v.resolved_at, v.resolved_by, v.disposition, v.comment, v.reopen_count, v.first_notified_at,
            v.last_reminded_at, v.escalated_at, v.evidence)`.execute(trx);
}

async function writeEvents(trx: Transaction<Tables>, rows: Row[], runId: number, day: string, now: Date): Promise<void> {
  const events = rows.flatMap((r) =>
    [...(r.step?.events ?? []), ...r.extraEvents].map((e) => ({
      alert_id: r.alertId,
      run_id: runId,
      period: day,
      action: e.action,
      from_status: e.fromStatus,
      to_status: e.toStatus,
      from_level: e.fromLevel,
      to_level: e.toLevel,
      actor: 'system',
      disposition: e.action === 'resolved' ? (e.disposition ?? r.state.disposition) : null,
      evidence: e.action === 'reminded' || e.action === 'escalated_to_province' || e.action === 'lapsed' ? null : r.evidence,
      at: now.toISOString(),
    })),
  );
  if (events.length === 0) return;
  await sql`
    INSERT INTO alert_event (alert_id, run_id, period, action, from_status, to_status, from_level, to_level, actor, disposition, evidence, at)
    SELECT v.alert_id, v.run_id, v.period, v.action, v.from_status, v.to_status, v.from_level, v.to_level, v.actor, v.disposition, v.evidence, v.at
      FROM jsonb_to_recordset(${JSON.stringify(events)}::jsonb)
           AS v(alert_id bigint, run_id bigint, period date, action text, from_status text, to_status text, from_level smallint, to_level smallint,
                actor text, disposition text, evidence jsonb, at timestamptz)`.execute(trx);
}

async function writeOutbox(trx: Transaction<Tables>, entries: OutboxEntry[], runId: number, raisedAt: Date): Promise<number[]> {
  if (entries.length === 0) return [];
  const ids: number[] = [];
  // In slices: a night with thousands of e-mails stays within one statement's comfortable size.
  for (let i = 0; i < entries.length; i += 500) {
    const slice = entries.slice(i, i + 500);
    const inserted = await sql<{ notification_id: string }>`
      INSERT INTO notification (dedupe_key, kind, run_id, city_code, recipient, message_id, payload, alert_ids, raised_at)
      SELECT v.dedupe_key, v.kind, ${runId}, v.city_code, v.recipient, v.message_id, v.payload, ARRAY(SELECT jsonb_array_elements_text(v.alert_ids)::bigint), ${raisedAt.toISOString()}::timestamptz
        FROM jsonb_to_recordset(${JSON.stringify(slice.map((e) => ({ dedupe_key: e.dedupeKey, kind: e.kind, city_code: e.cityCode, recipient: e.recipient, message_id: e.messageId, payload: e.payload, alert_ids: e.alertIds })))}::jsonb)
             AS v(dedupe_key text, kind text, city_code text, recipient text, message_id text, payload jsonb, alert_ids jsonb)
      ON CONFLICT (dedupe_key) DO NOTHING
      RETURNING notification_id`.execute(trx);
    ids.push(...inserted.rows.map((r) => Number(r.notification_id)));
  }
  return ids.sort((a, b) => a - b);
}

async function readSignals(trx: Transaction<Tables>, day: string): Promise<Signal[]> {
  const rows = await trx
    .selectFrom('employer_risk')
    .select(['bucket', 'uscc', 'name', 'city_code', 'region_code', 'industry_code', 'workforce', 'level', 'rule_level', 'probability', 'excess_separations', 'rules', 'kinds', 'explanation'])
    .where('period', '=', day)
    .where((eb) => eb.or([eb('level', 'is not', null), sql<boolean>`'crosscheck' = ANY(kinds)`]))
    .execute();
  const out: Signal[] = [];
  for (const r of rows) {
    const hits = ruleHits(r.explanation);
    const evidence = (kinds: readonly string[]): EmployerEvidence => ({
      bucket: r.bucket,
      uscc: r.uscc,
      name: r.name,
      regionCode: r.region_code,
      industryCode: r.industry_code,
      insured: r.workforce,
      excessSeparations: r.excess_separations,
      probability: r.probability,
      rules: hits.filter((h) => kinds.includes(h.kind)).map((h) => h.rule),
      ruleSummaries: hits.filter((h) => kinds.includes(h.kind)).map((h) => h.summary),
      period: day.slice(0, 7),
    });
    const base = { subjectType: 'employer' as const, subject: r.uscc, cityCode: r.city_code, name: r.name };
    if (r.level !== null) {
      const layoffKinds = ['layoff', 'distress', 'unreported'];
      out.push({ ...base, kind: 'layoff', level: r.level as Level, modelOnly: r.rule_level === null, evidence: evidence(layoffKinds) });
      if (r.kinds.includes('unreported')) out.push({ ...base, kind: 'unreported', level: r.level as Level, modelOnly: false, evidence: evidence(['unreported', 'layoff']) });
    }
    if (r.kinds.includes('crosscheck')) out.push({ ...base, kind: 'crosscheck', level: 4, modelOnly: false, evidence: evidence(['crosscheck']) });
  }
  return out;
}

function ruleHits(explanation: unknown): { rule: string; kind: string; summary: string }[] {
  const rules = (explanation as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules)) return [];
  return rules
    .filter((h): h is { rule: string; kind: string; summary: string } => typeof h === 'object' && h !== null && typeof (h as { rule?: unknown }).rule === 'string')
    .map((h) => ({ rule: h.rule, kind: String(h.kind), summary: String(h.summary ?? '') }));
}

function cityReasons(explanation: unknown): string[] {
  const signals = (explanation as { signals?: unknown } | null)?.signals;
  if (!Array.isArray(signals)) return [];
  const label: Record<string, string> = { job_losses: '预计及已发生失岗', ui_claims_ratio: '失业保险新增申领较往年同期', surveyed_rate: '城镇调查失业率' };
  return signals
    .filter((s): s is { name: string; value: number | null; level: number | null } => typeof s === 'object' && s !== null && (s as { level?: unknown }).level != null)
    .map((s) => `${label[s.name] ?? s.name}：${s.value ?? '—'}（触发 ${isLevel(s.level) ? LEVEL_NUMERAL[s.level] : ''}级）`);
}

/** The last 24 months of insured staff and separations for the employers whose e-mails carry a chart. */
async function readSeries(trx: Transaction<Tables>, evidence: EmployerEvidence[], period: string): Promise<Map<string, MonthlySeries>> {
  const out = new Map<string, MonthlySeries>();
  if (evidence.length === 0) return out;
  const periods = monthRange(addMonths(period, -23), period);
  const rows = await sql<{ uscc: string; period: string; insured: number; separated: number }>`
    SELECT s.uscc, to_char(s.period, 'YYYY-MM') AS period, s.insured, s.separated
      FROM social_insurance s
      JOIN unnest(${evidence.map((e) => e.bucket)}::smallint[], ${evidence.map((e) => e.uscc)}::char(18)[]) AS k(bucket, uscc)
        ON s.bucket = k.bucket AND s.uscc = k.uscc
     WHERE s.period BETWEEN ${periodDate(periods[0] as string)}::date AND ${periodDate(period)}::date`.execute(trx);
  for (const e of evidence) out.set(e.uscc, { periods, insured: periods.map(() => null), separated: periods.map(() => null) });
  const index = new Map(periods.map((p, i) => [p, i]));
  for (const r of rows.rows) {
    const s = out.get(r.uscc);
    const i = index.get(r.period);
    if (!s || i === undefined) continue;
    s.insured[i] = r.insured;
    s.separated[i] = r.separated;
  }
  return out;
}

function employerView(r: Row, change: AlertChange, series: Map<string, MonthlySeries>, now: Date): EmployerAlertView {
  const e = r.evidence as EmployerEvidence;
  const s = r.state;
  return {
    alertId: r.alertId as number,
    kind: r.kind as 'layoff' | 'unreported' | 'crosscheck',
    uscc: r.subject,
    name: r.name,
    regionCode: e.regionCode,
    industryCode: e.industryCode,
    insured: e.insured,
    excessSeparations: e.excessSeparations,
    probability: e.probability,
    rules: e.rules,
    ruleSummaries: e.ruleSummaries,
    level: s.level,
    previousLevel: r.step?.previousLevel ?? null,
    change,
    status: s.status === 'pending' ? 'open' : s.status,
    disposition: s.disposition,
    resolvedBy: s.resolvedBy,
    openedPeriod: s.firstPeriod,
    unacknowledgedDays: s.firstNotifiedAt ? Math.floor((now.getTime() - s.firstNotifiedAt.getTime()) / 86_400_000) : null,
    series: s.level <= 2 ? (series.get(r.subject) ?? null) : null,
  };
}

function cityView(r: Row): CityAlertView {
  const e = r.evidence as CityEvidence;
  return {
    alertId: r.alertId as number,
    level: r.state.level,
    previousLevel: r.step?.previousLevel ?? null,
    change: r.step?.change as AlertChange,
    expectedJobLosses: e.expectedJobLosses,
    observedLayoffs: e.observedLayoffs,
    uiClaimsRatio: e.uiClaimsRatio,
    surveyedRate: e.surveyedRate,
    reasons: e.reasons,
  };
}

function summaryRows(all: Row[], changedEmployers: Row[], missing: string[]): CitySummaryRow[] {
  return CITIES.map((c) => {
    const mine = all.filter((r) => r.cityCode === c.code && r.subjectType === 'employer' && r.kind !== 'crosscheck' && (r.state.status === 'open' || r.state.status === 'acknowledged'));
    const levels = noLevels();
    for (const r of mine) countLevel(levels, r.state.level);
    const systemic = all.find((r) => r.cityCode === c.code && r.subjectType === 'city' && r.state.status !== 'resolved' && r.state.status !== 'pending');
    return {
      cityCode: c.code,
      cityName: c.name,
      levels,
      unacknowledged: mine.filter((r) => r.state.status === 'open' && r.state.level <= 2).length,
      newToday: changedEmployers.filter((r) => r.cityCode === c.code && (r.step?.change === 'new' || r.step?.change === 'reopened')).length,
      systemicLevel: systemic ? systemic.state.level : null,
      dataMissing: missing.includes(c.code),
    };
  });
}

