import type { AlertsConfig } from '../../config/notify.schema.js';
import type { AlertAction, AlertKind, AlertStatus } from '../domain/alert.js';
import type { AlertChange } from '../domain/alert.js';
import type { Level } from '../domain/level.js';
import { addMonths, monthsBetween } from '../domain/period.js';

/**
 * The alert lifecycle as pure functions: what one run's signal (or its
 * absence) for a month does to an alert. Prometheus Alertmanager and
 * PagerDuty are the models: one alert per subject and kind (deduplication),
 * a higher level re-triggers (escalation), quiet months resolve, a resolved
 * alert that fires again reopens with its history, and an alert that rests
 * on the model alone waits for confirmation in later months (no flapping).
 *
 * Everything counts calendar months ('YYYY-MM'), never runs: the nightly job
 * scores the same month every night until the next month's feeds land, and a
 * month scored again is the same evidence, not a second opinion.
 *
 * - The confirmation window is a bit mask aligned to the alert's last month
 *   with a signal (`lastPeriod`): bit k is set when the month k months before
 *   it flagged the alert (bit 0, `lastPeriod` itself, always). A signal for a
 *   later month shifts it by the months between (months no run scored count
 *   as quiet) and sets bit 0; a signal for the same month sets the same bit
 *   again: nothing changes.
 * - A model-only level opens the alert when `modelConfirmations` of the last
 *   `modelConfirmWindow` months (the month scored and the ones before it)
 *   flagged it; a pending alert with no flagged month left in the window
 *   lapses, unsent.
 * - An open or acknowledged alert resolves once `resolveAfterQuietMonths`
 *   months have passed since its last month with a signal.
 * - The same month again: only a different result is news (a rule hit where
 *   there was none, a higher or lower level: a restatement, a catch-up of
 *   missing feeds); the same result changes nothing, not even the row. A
 *   resolved alert is not reopened by the month it was resolved in. A month's
 *   flag, once counted, is not withdrawn by a rescore that no longer shows
 *   it; the months after it tell.
 * - A month older than the alert's last month (a backfill or rescore of an
 *   old month) changes nothing: the window never moves backwards, and
 *   nothing opens that would not have opened in order. (`processRun`
 *   does not even look at such a run: alerts follow the latest month.)
 * - A signal after a gap long enough to have ended the alert (quiet months
 *   with no run) is taken as in order: the alert ends at the month it would
 *   have ended (resolved, or lapsed), then the signal reopens it.
 */

export interface Signal {
  subjectType: 'employer' | 'city';
  subject: string;
  kind: AlertKind;
  cityCode: string;
  name: string;
  level: Level;
  /** The level rests on the model alone (no rule hit raises it). */
  modelOnly: boolean;
  evidence: unknown;
}

/** The parts of an alert row the lifecycle reads and writes. */
export interface AlertState {
  status: AlertStatus;
  level: Level;
  peakLevel: Level;
  modelOnly: boolean;
  recentSignals: number;
  firstPeriod: string;
  lastPeriod: string;
  reopenCount: number;
  /** Cleared when an alert (re)opens or re-triggers, so it is notified and reminded afresh. */
  firstNotifiedAt: Date | null;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  disposition: string | null;
  comment: string | null;
  openedAt: Date | null;
  escalatedAt: Date | null;
  lastRemindedAt: Date | null;
}

export interface Transition {
  action: AlertAction;
  fromStatus: AlertStatus | null;
  toStatus: AlertStatus;
  fromLevel: Level | null;
  toLevel: Level;
  /** For a resolution within a step that goes on to reopen the alert: the disposition it was resolved with. */
  disposition?: string | null;
}

export interface Step {
  next: AlertState;
  events: Transition[];
  /** What officials are told about it this run; null: nothing new to say. */
  change: AlertChange | null;
  /** The level before this run (for "Ⅲ → Ⅱ" in e-mails). */
  previousLevel: Level | null;
  /** The signal is for a month the alert has moved past, or was resolved in: the alert stays as it was, evidence included. */
  ignored?: boolean;
}

export const AUTO_RESOLVED = (months: number): string => `连续 ${months} 个月无预警信号，系统自动解除`;

const windowMask = (cfg: AlertsConfig): number => (1 << cfg.modelConfirmWindow) - 1;

function popcount(n: number): number {
  let c = 0;
  for (let v = n; v > 0; v >>= 1) c += v & 1;
  return c;
}

/**
 * The months within the confirmation window at `period` that flagged the
 * alert, as a mask aligned to `period` (bit k: k months before it), not
 * counting `period` itself unless it is the alert's last month. Bit 0 of the
 * stored mask is taken as set whatever it says: the last month with a signal
 * flagged it by definition (masks written before months were counted may lack it).
 */
export function signalsAt(a: Pick<AlertState, 'recentSignals' | 'lastPeriod'>, period: string, cfg: AlertsConfig): number {
  const d = monthsBetween(a.lastPeriod, period);
  if (d < 0 || d >= cfg.modelConfirmWindow) return 0;
  return ((a.recentSignals | 1) << d) & windowMask(cfg);
}

function confirmed(signal: Signal, mask: number, cfg: AlertsConfig): boolean {
  return !signal.modelOnly || popcount(mask) >= cfg.modelConfirmations;
}

const unchanged = (a: AlertState, ignored = false): Step => ({ next: a, events: [], change: null, previousLevel: a.level, ...(ignored ? { ignored } : {}) });

/** A fresh opening (a first raise or a reopen): the signal's level, nothing acknowledged, notified or resolved yet. */
function opening(signal: Signal, open: boolean, now: Date): Omit<AlertState, 'firstPeriod' | 'lastPeriod' | 'reopenCount'> {
  return {
    status: open ? 'open' : 'pending',
    level: signal.level,
    peakLevel: signal.level,
    modelOnly: signal.modelOnly,
    recentSignals: 1,
    firstNotifiedAt: null,
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    resolvedBy: null,
    disposition: null,
    comment: null,
    openedAt: open ? now : null,
    escalatedAt: null,
    lastRemindedAt: null,
  };
}

/** A subject with a signal and no alert yet. */
export function raise(signal: Signal, period: string, now: Date, cfg: AlertsConfig): Step {
  const open = confirmed(signal, 1, cfg);
  const next: AlertState = { ...opening(signal, open, now), firstPeriod: period, lastPeriod: period, reopenCount: 0 };
  return { next, events: [{ action: 'raised', fromStatus: null, toStatus: next.status, fromLevel: null, toLevel: signal.level }], change: open ? 'new' : null, previousLevel: null };
}

/**
 * The first month at which an active alert ends without a signal: a pending
 * one when no flagged month is left in the window, an open or acknowledged
 * one after the quiet months. Null for a resolved alert.
 */
export function endsAt(a: AlertState, cfg: AlertsConfig): string | null {
  if (a.status === 'resolved') return null;
  return addMonths(a.lastPeriod, a.status === 'pending' ? cfg.modelConfirmWindow : cfg.resolveAfterQuietMonths);
}

/** An existing alert with a signal for `period`. */
export function withSignal(a: AlertState, signal: Signal, period: string, now: Date, cfg: AlertsConfig): Step {
  const d = monthsBetween(a.lastPeriod, period);
  // An older month: the window does not move backwards, and what is already decided stays decided.
  if (d < 0) return unchanged(a, true);
  const prev = a.level;

  if (a.status === 'resolved') {
    // Resolved in (or after) this very month: the same month again does not reopen it.
    if (d === 0) return unchanged(a, true);
    // Fires again in a later month: the same alert reopens, with its history, and a fresh window.
    const open = confirmed(signal, 1, cfg);
    const next: AlertState = { ...opening(signal, open, now), firstPeriod: a.firstPeriod, lastPeriod: period, reopenCount: a.reopenCount + 1 };
    return { next, events: [{ action: 'reopened', fromStatus: 'resolved', toStatus: next.status, fromLevel: prev, toLevel: signal.level }], change: open ? 'reopened' : null, previousLevel: prev };
  }

  const end = endsAt(a, cfg) as string;
  if (period > end) {
    // No run saw the quiet months that ended it: as in order, it ends at that month, and this signal reopens it.
    const ended = withoutSignal(a, end, now, cfg);
    const back = withSignal(ended.next, signal, period, now, cfg);
    return { next: back.next, events: [...ended.events, ...back.events], change: back.change, previousLevel: prev };
  }

  // The same month sets the same bit: the stored mask stays as it is.
  const mask = d === 0 ? a.recentSignals : (signalsAt(a, period, cfg) | 1);
  const base: AlertState = { ...a, recentSignals: mask, modelOnly: signal.modelOnly, lastPeriod: period };

  if (a.status === 'pending') {
    // A model-only level is confirmed by another month, never by the same month scored again.
    const open = !signal.modelOnly || (d > 0 && confirmed(signal, mask, cfg));
    if (!open) {
      return { next: { ...base, level: signal.level, peakLevel: minLevel(a.peakLevel, signal.level) }, events: [], change: null, previousLevel: prev };
    }
    const next: AlertState = { ...base, status: 'open', level: signal.level, peakLevel: minLevel(a.peakLevel, signal.level), openedAt: now };
    return {
      next,
      events: [{ action: 'confirmed', fromStatus: 'pending', toStatus: 'open', fromLevel: prev, toLevel: signal.level }],
      change: a.reopenCount > 0 ? 'reopened' : 'new',
      previousLevel: prev,
    };
  }

  // open or acknowledged
  if (signal.level < a.level) {
    // More severe: escalates. An acknowledged alert that reaches Ⅰ/Ⅱ is re-triggered: it needs a new acknowledgement.
    const retrigger = a.status === 'acknowledged' && signal.level <= 2;
    const next: AlertState = {
      ...base,
      level: signal.level,
      peakLevel: minLevel(a.peakLevel, signal.level),
      ...(retrigger ? { status: 'open' as const, acknowledgedAt: null, acknowledgedBy: null } : {}),
      ...(signal.level <= 2 && prev > 2 ? { firstNotifiedAt: null, lastRemindedAt: null, escalatedAt: null } : {}),
    };
    return { next, events: [{ action: 'escalated', fromStatus: a.status, toStatus: next.status, fromLevel: prev, toLevel: signal.level }], change: 'escalated', previousLevel: prev };
  }
  if (signal.level > a.level) {
    const next: AlertState = { ...base, level: signal.level };
    return { next, events: [{ action: 'deescalated', fromStatus: a.status, toStatus: a.status, fromLevel: prev, toLevel: signal.level }], change: 'updated', previousLevel: prev };
  }
  // Same level: new evidence for a new month is recorded; the same month again (a rerun) is not news.
  return {
    next: base,
    events: d > 0 ? [{ action: 'updated', fromStatus: a.status, toStatus: a.status, fromLevel: prev, toLevel: prev }] : [],
    change: null,
    previousLevel: prev,
  };
}

/** An active alert on a run for `period` without a signal for it. */
export function withoutSignal(a: AlertState, period: string, now: Date, cfg: AlertsConfig): Step {
  if (a.status === 'resolved') return unchanged(a);
  // Its own month scored again (a month once flagged stays flagged), or an older one: nothing to decide.
  if (monthsBetween(a.lastPeriod, period) <= 0) return unchanged(a);
  if (a.status === 'pending') {
    if (signalsAt(a, period, cfg) !== 0) return unchanged(a);
    // Never confirmed within the window: it lapses quietly (it was never sent).
    const next: AlertState = { ...a, status: 'resolved', resolvedAt: now, resolvedBy: 'system', disposition: null };
    return { next, events: [{ action: 'lapsed', fromStatus: 'pending', toStatus: 'resolved', fromLevel: a.level, toLevel: a.level }], change: null, previousLevel: a.level };
  }
  const quiet = monthsBetween(a.lastPeriod, period);
  if (quiet < cfg.resolveAfterQuietMonths) return unchanged(a);
  const disposition = AUTO_RESOLVED(quiet);
  const next: AlertState = { ...a, status: 'resolved', resolvedAt: now, resolvedBy: 'system', disposition };
  return { next, events: [{ action: 'resolved', fromStatus: a.status, toStatus: 'resolved', fromLevel: a.level, toLevel: a.level, disposition }], change: 'resolved', previousLevel: a.level };
}

export const DISPOSITIONS = ['核实为规模裁员', '误报', '已采取稳岗措施', '企业已报告', '其他'] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

export class AlertTransitionError extends Error {
  override name = 'AlertTransitionError';
}

/** An official acknowledges: open → acknowledged. */
export function acknowledge(a: AlertState, by: string, now: Date, comment: string | null): Step {
  if (a.status !== 'open') {
    throw new AlertTransitionError(
      a.status === 'acknowledged' ? `already acknowledged by ${a.acknowledgedBy ?? 'someone'}` : a.status === 'pending' ? 'not open yet: it waits for the model to be confirmed in a later month' : 'already resolved',
    );
  }
  const next: AlertState = { ...a, status: 'acknowledged', acknowledgedAt: now, acknowledgedBy: by, comment: comment ?? a.comment };
  return { next, events: [{ action: 'acknowledged', fromStatus: 'open', toStatus: 'acknowledged', fromLevel: a.level, toLevel: a.level }], change: null, previousLevel: a.level };
}

/** An official resolves with a disposition: open or acknowledged → resolved. */
export function resolveByOfficial(a: AlertState, by: string, now: Date, disposition: Disposition, comment: string | null): Step {
  if (a.status === 'resolved') throw new AlertTransitionError(`already resolved${a.resolvedBy ? ` by ${a.resolvedBy}` : ''}`);
  if (a.status === 'pending') throw new AlertTransitionError('not open yet: it waits for the model to be confirmed in a later month');
  if (disposition === '其他' && (comment === null || comment.trim() === '')) throw new AlertTransitionError('the disposition 其他 (other) needs a --comment saying what was found');
  const next: AlertState = { ...a, status: 'resolved', resolvedAt: now, resolvedBy: by, disposition, comment: comment ?? a.comment };
  return { next, events: [{ action: 'resolved', fromStatus: a.status, toStatus: 'resolved', fromLevel: a.level, toLevel: a.level }], change: 'resolved', previousLevel: a.level };
}

function minLevel(a: Level, b: Level): Level {
  return (a < b ? a : b);
}
