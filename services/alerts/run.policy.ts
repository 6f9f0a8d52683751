import type { AlertsConfig } from '../../config/notify.schema.js';
import type { AlertAction, AlertStatus } from '../domain/alert.js';
import type { Level } from '../domain/level.js';
import type { StoredAlert } from './alert.row.js';
import { raise, withoutSignal, withSignal, type Signal, type Step, type Transition } from './lifecycle.js';

/**
 * What one scoring run does to the alerts, as pure functions over the
 * alerts in hand (the service reads them and writes the result):
 *
 * 1. `applySignals`: each signal raises, confirms, escalates or updates its
 *    alert, and each active alert without one may resolve or lapse
 *    (lifecycle.ts decides each step);
 * 2. `changesToTell`: what officials are told: the run's changes (not the
 *    pending ones), and what officials resolved since the last run;
 * 3. `dueFollowUps`: open Ⅰ/Ⅱ employer alerts sent but not acknowledged,
 *    due a reminder (every `reminderHours`) or an escalation to the
 *    province (once, after `escalateAfterDays`);
 * 4. `markNotified`: stamps what the outbox now carries, so reminders and
 *    escalations count from it;
 * 5. `alertEvents` and `runCounts`: the history to write and the summary.
 */

/** An alert while a run is applied to it: its state, what this run did to it, and whether its row must be written. */
export interface WorkingAlert extends Omit<StoredAlert, 'alertId'> {
  /** null until the row is inserted. */
  alertId: number | null;
  /** What this run did to it (null: nothing was decided). */
  step: Step | null;
  /** Its row differs from the stored one. */
  touched: boolean;
  /** History beyond the lifecycle's step: reminders and escalations to the province. */
  extraEvents: Transition[];
}

/** One row of alert history as a run writes it (run, month, actor and time are the run's). */
export interface AlertEventRecord {
  alertId: number | null;
  action: AlertAction;
  fromStatus: AlertStatus | null;
  toStatus: AlertStatus;
  fromLevel: Level | null;
  toLevel: Level;
  disposition: string | null;
  evidence: unknown;
}

/** The counts a run's summary reports. */
export interface RunCounts {
  signals: number;
  raised: number;
  opened: number;
  escalated: number;
  resolved: number;
  pending: number;
}

/** One alert per subject and kind. */
export function alertKey(a: { subjectType: string; subject: string; kind: string }): string {
  return `${a.subjectType}/${a.subject}/${a.kind}`;
}

function working(a: StoredAlert): WorkingAlert {
  return { ...a, step: null, touched: false, extraEvents: [] };
}

/**
 * Applies a run's signals for `period` to the alerts in hand (every active
 * one, and the resolved ones a signal names). Returns every alert by key:
 * the stored ones first, in the order given, then the new ones in the order
 * of their signals (alertId null). A second signal for the same alert is
 * ignored; the working rows are new objects, the stored ones stay as given.
 */
export function applySignals(existing: readonly StoredAlert[], signals: readonly Signal[], period: string, now: Date, cfg: AlertsConfig): Map<string, WorkingAlert> {
  const rows = new Map<string, WorkingAlert>();
  for (const a of existing) rows.set(alertKey(a), working(a));
  const seen = new Set<string>();
  for (const s of signals) {
    const key = alertKey(s);
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
  return rows;
}

/**
 * What officials are told: every change of this run that is not pending,
 * then each alert an official resolved since the last run (told in the
 * digest), unless this run reopened it (that e-mail says so).
 */
export function changesToTell(rows: ReadonlyMap<string, WorkingAlert>, resolvedByOfficials: readonly StoredAlert[]): WorkingAlert[] {
  const changed = [...rows.values()].filter((r) => r.step?.change != null && r.state.status !== 'pending');
  for (const a of resolvedByOfficials) {
    const row = rows.get(alertKey(a));
    if (row && row.step?.ignored !== true) continue;
    changed.push({ ...working(a), step: { next: a.state, events: [], change: 'resolved', previousLevel: a.state.level } });
  }
  return changed;
}

/**
 * Open Ⅰ/Ⅱ employer alerts already sent and not acknowledged (and not sent
 * afresh by this run): due a reminder `reminderHours` after the last one
 * (or the first e-mail), and an escalation to the province once,
 * `escalateAfterDays` after the first e-mail.
 */
export function dueFollowUps(all: readonly WorkingAlert[], changed: readonly WorkingAlert[], now: Date, cfg: AlertsConfig): { toRemind: WorkingAlert[]; toEscalate: WorkingAlert[] } {
  const reminderMs = cfg.reminderHours * 3_600_000;
  const escalateMs = cfg.escalateAfterDays * 86_400_000;
  const urgentNow = new Set(changed.filter((r) => r.state.level <= 2 && r.step?.change !== 'resolved' && r.step?.change !== 'updated').map((r) => r.alertId));
  const openUrgent = all.filter((r) => r.subjectType === 'employer' && r.state.status === 'open' && r.state.level <= 2 && r.state.firstNotifiedAt !== null && !urgentNow.has(r.alertId));
  return {
    toRemind: openUrgent.filter((r) => now.getTime() - (r.state.lastRemindedAt ?? r.state.firstNotifiedAt ?? now).getTime() >= reminderMs),
    toEscalate: openUrgent.filter((r) => r.state.escalatedAt === null && now.getTime() - (r.state.firstNotifiedAt ?? now).getTime() >= escalateMs),
  };
}

/**
 * Stamps what the outbox now carries (on the working alerts): the first
 * immediate e-mail of an alert, each reminder and each escalation to the
 * province (with its history row).
 */
export function markNotified(all: readonly WorkingAlert[], immediateAlertIds: ReadonlySet<number>, toRemind: readonly WorkingAlert[], toEscalate: readonly WorkingAlert[], now: Date): void {
  for (const r of all) {
    if (r.alertId !== null && immediateAlertIds.has(r.alertId) && r.state.firstNotifiedAt === null) {
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
}

/** The history rows of a run: each step's transitions, then reminders and escalations; evidence on the ones that rest on it. */
export function alertEvents(rows: readonly WorkingAlert[]): AlertEventRecord[] {
  return rows.flatMap((r) =>
    [...(r.step?.events ?? []), ...r.extraEvents].map((e) => ({
      alertId: r.alertId,
      action: e.action,
      fromStatus: e.fromStatus,
      toStatus: e.toStatus,
      fromLevel: e.fromLevel,
      toLevel: e.toLevel,
      disposition: e.action === 'resolved' ? (e.disposition ?? r.state.disposition) : null,
      evidence: e.action === 'reminded' || e.action === 'escalated_to_province' || e.action === 'lapsed' ? null : r.evidence,
    })),
  );
}

export function runCounts(signals: number, all: readonly WorkingAlert[]): RunCounts {
  const count = (pred: (r: WorkingAlert) => boolean): number => all.filter(pred).length;
  return {
    signals,
    raised: count((r) => r.step?.events.some((e) => e.action === 'raised') ?? false),
    opened: count((r) => r.step?.change === 'new' || r.step?.change === 'reopened'),
    escalated: count((r) => r.step?.change === 'escalated'),
    resolved: count((r) => r.step?.change === 'resolved'),
    pending: count((r) => r.state.status === 'pending'),
  };
}

/** The calendar date ('YYYY-MM-DD') of an instant in a time zone: the day the once-a-day e-mails are keyed by. */
export function calendarDay(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(at);
  const get = (t: string): string => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}
