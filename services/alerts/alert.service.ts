import type { AlertsConfig, NotifyConfig } from '../../config/notify.schema.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../log.js';
import { AlertRunRepository } from './alert-run.repository.js';
import { routeRun } from './routing.js';
import { chartedEmployers, runNews } from './run.news.js';
import { alertEvents, alertKey, applySignals, calendarDay, changesToTell, dueFollowUps, markNotified, runCounts, type RunCounts } from './run.policy.js';
import { citySignal, dataMissing, employerSignals } from './run.signals.js';

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
 *
 * This file is the orchestration only: the queries are in
 * alert-run.repository.ts, the decisions in run.signals.ts (what the run
 * says), run.policy.ts (what it does to the alerts, who is reminded or
 * escalated), run.news.ts (the e-mails' views) and routing.ts (who hears
 * what).
 */

export interface AlertDeps {
  database: Database;
  alerts: AlertsConfig;
  notify: NotifyConfig;
  log: Logger;
  /** The time zone whose calendar day keys the once-a-day e-mails (the province summary); default Asia/Shanghai. */
  timeZone?: string;
}

export interface ProcessResult extends RunCounts {
  runId: number;
  period: string;
  alreadyProcessed: boolean;
  notifications: number[];
}

export async function processRun(deps: AlertDeps, runId: number, options: { now?: Date } = {}): Promise<ProcessResult> {
  const { database } = deps;
  const run = await new AlertRunRepository(database.db).scoreRun(runId);
  if (!run) throw new Error(`no scoring run ${runId} (see \`ews score\`)`);
  if (run.status !== 'done') throw new Error(`scoring run ${runId} is ${run.status}, not done: alerts are raised only from a finished run`);
  const { period } = run;
  const now = options.now ?? new Date();
  const raisedAt = run.finishedAt ?? now;

  const result = await database.db.transaction().execute(async (trx) => {
    const repo = new AlertRunRepository(trx);
    await repo.lock();
    const done = await repo.processed(runId);
    if (done) return { ...(done.summary as ProcessResult), alreadyProcessed: true, notifications: [] };
    const newer = await repo.newerMonth(period);
    if (newer !== undefined) {
      // A backfill of an older month: its scores stand, but alerts follow the latest month only.
      const summary: ProcessResult = { runId, period, alreadyProcessed: false, signals: 0, raised: 0, opened: 0, escalated: 0, resolved: 0, pending: 0, notifications: [] };
      await repo.recordRun(runId, period, { ...summary, skipped: `alerts already follow ${newer}` });
      deps.log.info({ runId, period, latest: newer }, 'alerts skipped for an older month');
      return summary;
    }
    return processInTransaction(repo, deps, runId, period, now, raisedAt, calendarDay(now, deps.timeZone ?? 'Asia/Shanghai'));
  });
  deps.log.info({ ...result, notifications: result.notifications.length }, 'alerts processed');
  return result;
}

async function processInTransaction(repo: AlertRunRepository, deps: AlertDeps, runId: number, period: string, now: Date, raisedAt: Date, day: string): Promise<ProcessResult> {
  // What the run says.
  const employers = await repo.employerRisks(period);
  const cities = await repo.cityRisks(period);
  const signals = [...employers.flatMap((r) => employerSignals(r, period)), ...cities.flatMap((c) => citySignal(c, period) ?? [])];

  // What it does to every active alert, and to the resolved ones that fire again.
  const rows = applySignals(await repo.activeOr(signals), signals, period, now, deps.alerts);

  // New alerts get their ids first: e-mails and history point at them.
  const inserted = await repo.insertAlerts([...rows.values()].filter((r) => r.alertId === null), runId);
  for (const r of inserted) {
    const row = rows.get(alertKey(r));
    if (row) row.alertId = r.alertId;
  }

  // What officials are told: this run's changes, what officials resolved since the last run, reminders and escalations due.
  const all = [...rows.values()];
  const lastRunAt = await repo.lastRunAt();
  const changed = changesToTell(rows, lastRunAt ? await repo.resolvedByOfficialsSince(lastRunAt) : []);
  const { toRemind, toEscalate } = dueFollowUps(all, changed, now, deps.alerts);
  const series = await repo.series(chartedEmployers([changed, toRemind, toEscalate]), period);
  const entries = routeRun(
    runNews({ runId, period, day, now, all, changed, toRemind, toEscalate, series, dataMissing: dataMissing(cities), failedDeliveries: await repo.failedDeliveries(), nightIssues: await repo.nightIssues(runId) }),
    deps.notify,
  );

  // Mark what was sent (so reminders and escalations count from it), then write it all.
  markNotified(all, new Set(entries.filter((e) => e.kind === 'immediate').flatMap((e) => e.alertIds)), toRemind, toEscalate, now);
  await repo.updateAlerts(all.filter((r) => r.touched), runId);
  await repo.insertEvents(alertEvents(all), runId, period, now);
  const ids = await repo.insertOutbox(entries, runId, raisedAt);

  const summary: ProcessResult = { runId, period, alreadyProcessed: false, ...runCounts(signals.length, all), notifications: ids };
  await repo.recordRun(runId, period, { ...summary, notifications: ids.length });
  return summary;
}
