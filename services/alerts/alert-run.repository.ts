import { sql, type Kysely } from 'kysely';
import type { Tables } from '../../sql/schema.js';
import { readCityExplanation, readEmployerExplanation } from '../domain/explanation.js';
import { toLevel } from '../domain/level.js';
import { addMonths, monthRange, periodDate, periodOf } from '../domain/period.js';
import type { MonthlySeries, NightIssues } from '../notify/notification.types.js';
import { alertColumns, toStoredAlert, type AlertDbRow, type StoredAlert } from './alert.row.js';
import type { OutboxEntry } from './routing.js';
import type { AlertEventRecord } from './run.policy.js';
import type { CityRiskSignalRow, EmployerRiskSignalRow } from './run.signals.js';

/**
 * Every query of turning a scoring run into alerts and their outbox rows.
 * Built on the database (the run lookup) or on the transaction the whole
 * run is processed in (everything else).
 */

const LOCK = 'ews/alerts';

/** A new alert to insert: its subject, kind and columns. */
export type NewAlert = Pick<StoredAlert, 'subjectType' | 'subject' | 'kind' | 'cityCode' | 'name' | 'state' | 'evidence'>;

/** An alert a run changed: its id and columns. */
export type ChangedAlert = Pick<StoredAlert, 'cityCode' | 'name' | 'state' | 'evidence'> & { alertId: number | null };

export class AlertRunRepository {
  constructor(private readonly db: Kysely<Tables>) {}

  /** The scoring run, with its month as 'YYYY-MM'. */
  async scoreRun(runId: number): Promise<{ period: string; status: string; finishedAt: Date | null } | undefined> {
    const run = await this.db.selectFrom('score_run').select(['run_id', 'period', 'status', 'finished_at']).where('run_id', '=', runId).executeTakeFirst();
    return run && { period: periodOf(run.period), status: run.status, finishedAt: run.finished_at };
  }

  /** One run is processed at a time (held to the end of the transaction). */
  async lock(): Promise<void> {
    await sql`SELECT pg_advisory_xact_lock(hashtext(${LOCK}))`.execute(this.db);
  }

  /** The summary of a run already processed, if it was. */
  async processed(runId: number): Promise<{ summary: unknown } | undefined> {
    return this.db.selectFrom('alert_run').select('summary').where('run_id', '=', runId).executeTakeFirst();
  }

  /** A month later than `period` whose run was already processed ('YYYY-MM'), if any. */
  async newerMonth(period: string): Promise<string | undefined> {
    const newer = await this.db.selectFrom('alert_run').select('period').where('period', '>', periodDate(period)).limit(1).executeTakeFirst();
    return newer && periodOf(newer.period);
  }

  /** Records a run as processed, with its summary. */
  async recordRun(runId: number, period: string, summary: unknown): Promise<void> {
    await this.db.insertInto('alert_run').values({ run_id: runId, period: periodDate(period), summary: JSON.stringify(summary) }).execute();
  }

  /** The employers of the month with a level or a data cross-check. */
  async employerRisks(period: string): Promise<EmployerRiskSignalRow[]> {
    const rows = await this.db
      .selectFrom('employer_risk')
      .select([
        'bucket', 'uscc', 'name', 'city_code', 'region_code', 'industry_code', 'workforce', 'level', 'rule_level', 'probability', 'excess_separations', 'kinds', 'explanation',
        'separated_migrant', 'separated_graduate', 'jobs_at_stake_migrant', 'jobs_at_stake_graduate',
      ])
      .where('period', '=', periodDate(period))
      .where((eb) => eb.or([eb('level', 'is not', null), sql<boolean>`'crosscheck' = ANY(kinds)`]))
      // In key order: new alerts get their ids in this order, whichever shard finished first.
      .orderBy('bucket')
      .orderBy('uscc')
      .execute();
    return rows.map((r) => ({
      bucket: r.bucket,
      uscc: r.uscc,
      name: r.name,
      cityCode: r.city_code,
      regionCode: r.region_code,
      industryCode: r.industry_code,
      workforce: r.workforce,
      level: toLevel(r.level),
      ruleLevel: toLevel(r.rule_level),
      probability: r.probability,
      excessSeparations: r.excess_separations,
      kinds: r.kinds,
      explanation: readEmployerExplanation(r.explanation),
      separatedMigrant: r.separated_migrant,
      separatedGraduate: r.separated_graduate,
      jobsAtStakeMigrant: r.jobs_at_stake_migrant,
      jobsAtStakeGraduate: r.jobs_at_stake_graduate,
    }));
  }

  /** The cities' results for the month, all industries together. */
  async cityRisks(period: string): Promise<CityRiskSignalRow[]> {
    const rows = await this.db.selectFrom('city_risk').selectAll().where('period', '=', periodDate(period)).where('industry_section', '=', '*').execute();
    return rows.map((c) => ({
      cityCode: c.city_code,
      level: toLevel(c.level),
      dataMissing: c.data_missing,
      missingFeeds: c.missing_feeds,
      expectedJobLosses: c.expected_job_losses,
      observedLayoffs: c.observed_layoffs,
      uiClaimsRatio: c.ui_claims_ratio,
      surveyedRate: c.surveyed_unemployment_rate,
      explanation: readCityExplanation(c.explanation),
    }));
  }

  /** Every active alert, and the resolved ones with the subjects and kinds given (they may fire again). */
  async activeOr(keys: readonly { subjectType: string; subject: string; kind: string }[]): Promise<StoredAlert[]> {
    const existing = await sql<AlertDbRow>`
      SELECT a.* FROM alert a
       WHERE a.status <> 'resolved'
          OR (a.subject_type, a.subject, a.kind) IN (SELECT * FROM unnest(${keys.map((s) => s.subjectType)}::text[], ${keys.map((s) => s.subject)}::text[], ${keys.map((s) => s.kind)}::text[]))`.execute(this.db);
    return existing.rows.map(toStoredAlert);
  }

  /** Inserts new alerts (raised by run `runId`); returns their ids with their subjects and kinds. */
  async insertAlerts(alerts: readonly NewAlert[], runId: number): Promise<{ subjectType: string; subject: string; kind: string; alertId: number }[]> {
    if (alerts.length === 0) return [];
    const inserted = await sql<{ alert_id: string; subject_type: string; subject: string; kind: string }>`
      INSERT INTO alert (subject_type, subject, kind, city_code, name, status, level, peak_level, model_only, recent_signals, first_period, last_period, last_run_id, opened_at, evidence)
      SELECT v.subject_type, v.subject, v.kind, v.city_code, v.name, v.status, v.level, v.peak_level, v.model_only, v.recent_signals, v.first_period, v.last_period, ${runId}, v.opened_at, v.evidence
        FROM jsonb_to_recordset(${JSON.stringify(alerts.map((r) => ({ ...alertColumns(r), subject_type: r.subjectType, subject: r.subject, kind: r.kind })))}::jsonb)
             AS v(subject_type text, subject text, kind text, city_code text, name text, status text, level smallint, peak_level smallint, model_only boolean,
                  recent_signals smallint, first_period date, last_period date, opened_at timestamptz, evidence jsonb)
      RETURNING alert_id, subject_type, subject, kind`.execute(this.db);
    return inserted.rows.map((r) => ({ subjectType: r.subject_type, subject: r.subject, kind: r.kind, alertId: Number(r.alert_id) }));
  }

  /** Writes the alerts whose fields differ from the stored ones: an alert the run left as it was keeps its last_run_id and updated_at. */
  async updateAlerts(alerts: readonly ChangedAlert[], runId: number): Promise<void> {
    if (alerts.length === 0) return;
    await sql`
      UPDATE alert a SET city_code = v.city_code, name = v.name, status = v.status, level = v.level, peak_level = v.peak_level, model_only = v.model_only,
             recent_signals = v.recent_signals, first_period = v.first_period, last_period = v.last_period, last_run_id = ${runId},
             opened_at = v.opened_at, acknowledged_at = v.acknowledged_at, acknowledged_by = v.acknowledged_by, resolved_at = v.resolved_at,
             resolved_by = v.resolved_by, disposition = v.disposition, comment = v.comment, reopen_count = v.reopen_count,
             first_notified_at = v.first_notified_at, last_reminded_at = v.last_reminded_at, escalated_at = v.escalated_at, evidence = v.evidence, updated_at = now()
        FROM jsonb_to_recordset(${JSON.stringify(alerts.map((r) => ({ alert_id: r.alertId, ...alertColumns(r) })))}::jsonb)
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
              v.last_reminded_at, v.escalated_at, v.evidence)`.execute(this.db);
  }

  /** A run's alert history, by the system, for month `period`, at `at`. */
  async insertEvents(events: readonly AlertEventRecord[], runId: number, period: string, at: Date): Promise<void> {
    if (events.length === 0) return;
    const rows = events.map((e) => ({
      alert_id: e.alertId,
      run_id: runId,
      period: periodDate(period),
      action: e.action,
      from_status: e.fromStatus,
      to_status: e.toStatus,
      from_level: e.fromLevel,
      to_level: e.toLevel,
      actor: 'system',
      disposition: e.disposition,
      evidence: e.evidence,
      at: at.toISOString(),
    }));
    await sql`
      INSERT INTO alert_event (alert_id, run_id, period, action, from_status, to_status, from_level, to_level, actor, disposition, evidence, at)
      SELECT v.alert_id, v.run_id, v.period, v.action, v.from_status, v.to_status, v.from_level, v.to_level, v.actor, v.disposition, v.evidence, v.at
        FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
             AS v(alert_id bigint, run_id bigint, period date, action text, from_status text, to_status text, from_level smallint, to_level smallint,
                  actor text, disposition text, evidence jsonb, at timestamptz)`.execute(this.db);
  }

  /** Queues the run's e-mails in the outbox (a dedupe key already there is skipped); returns the new rows' ids, ascending. */
  async insertOutbox(entries: readonly OutboxEntry[], runId: number, raisedAt: Date): Promise<number[]> {
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
        RETURNING notification_id`.execute(this.db);
      ids.push(...inserted.rows.map((r) => Number(r.notification_id)));
    }
    return ids.sort((a, b) => a - b);
  }

  /** When the last run that told officials anything was processed (a run skipped as older than the latest month does not count). */
  async lastRunAt(): Promise<Date | null> {
    const last = await this.db
      .selectFrom('alert_run')
      .select(sql<Date | null>`max(processed_at)`.as('at'))
      .where(sql<boolean>`summary->>'skipped' IS NULL`)
      .executeTakeFirst();
    return last?.at ?? null;
  }

  /** Alerts an official (not the system) resolved after `since`. */
  async resolvedByOfficialsSince(since: Date): Promise<StoredAlert[]> {
    const rows = await this.db.selectFrom('alert').selectAll().where('status', '=', 'resolved').where('resolved_by', '<>', 'system').where('resolved_at', '>', since).execute();
    return rows.map(toStoredAlert);
  }

  /** The batches the night behind this run could not load and the stalls it was re-driven from (null: no night, or nothing went wrong). */
  async nightIssues(runId: number): Promise<NightIssues | null> {
    const rows = await sql<{ missing_batches: NightIssues['missingBatches']; redrives: number; incidents: { stage: string }[] }>`
      SELECT missing_batches, redrives, incidents FROM night WHERE run_id = ${runId}`.execute(this.db);
    const r = rows.rows[0];
    if (r === undefined || (r.missing_batches.length === 0 && r.incidents.length === 0)) return null;
    return {
      missingBatches: r.missing_batches.map((m) => ({ source: m.source, file: m.file, feed: m.feed, period: m.period, status: m.status })),
      redrives: r.redrives,
      stalledAt: r.incidents.map((i) => i.stage),
    };
  }

  /** E-mails that failed for good (the province summary tells ops). */
  async failedDeliveries(): Promise<number> {
    const failed = await this.db.selectFrom('notification').select(sql<number>`count(*)::int`.as('n')).where('status', '=', 'failed').executeTakeFirstOrThrow();
    return failed.n;
  }

  /** The last 24 months to `period` of insured staff and separations, for the employers whose e-mails carry a chart (by USCC). */
  async series(employers: readonly { bucket: number; uscc: string }[], period: string): Promise<Map<string, MonthlySeries>> {
    const out = new Map<string, MonthlySeries>();
    if (employers.length === 0) return out;
    const periods = monthRange(addMonths(period, -23), period);
    const rows = await sql<{ uscc: string; period: string; insured: number; separated: number }>`
      SELECT s.uscc, to_char(s.period, 'YYYY-MM') AS period, s.insured, s.separated
        FROM social_insurance s
        JOIN unnest(${employers.map((e) => e.bucket)}::smallint[], ${employers.map((e) => e.uscc)}::char(18)[]) AS k(bucket, uscc)
          ON s.bucket = k.bucket AND s.uscc = k.uscc
       WHERE s.period BETWEEN ${periodDate(periods[0] as string)}::date AND ${periodDate(period)}::date`.execute(this.db);
    for (const e of employers) out.set(e.uscc, { periods, insured: periods.map(() => null), separated: periods.map(() => null) });
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
}
