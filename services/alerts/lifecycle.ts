import type { AlertsConfig } from '../../config/notify.schema.js';
import type { AlertAction, AlertKind, AlertStatus } from '../../sql/schema.js';
import type { AlertChange, Level } from '../notify/notification.types.js';

/**
 * The alert lifecycle as pure functions: what one night's signal (or its
 * absence) does to an alert. Prometheus Alertmanager and PagerDuty are the
 * models: one alert per subject and kind (deduplication), a higher level
 * re-triggers (escalation), quiet months resolve, a resolved alert that
 * fires again reopens with its history, and an alert that rests on the
 * model alone waits for confirmation on later runs (no flapping).
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
}

export interface Step {
  next: AlertState;
  events: Transition[];
  /** What officials are told about it this run; null: nothing new to say. */
  change: AlertChange | null;
  /** The level before this run (for "Ⅲ → Ⅱ" in e-mails). */
  previousLevel: Level | null;
}

export const AUTO_RESOLVED = (months: number): string => `连续 ${months} 个月无预警信号，系统自动解除`;

const windowMask = (cfg: AlertsConfig): number => (1 << cfg.modelConfirmWindow) - 1;

function popcount(n: number): number {
  let c = 0;
  for (let v = n; v > 0; v >>= 1) c += v & 1;
  return c;
}

function confirmed(signal: Signal, mask: number, cfg: AlertsConfig): boolean {
  return !signal.modelOnly || popcount(mask) >= cfg.modelConfirmations;
}

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

/** An existing alert on a night with a signal for it. */
export function withSignal(a: AlertState, signal: Signal, period: string, now: Date, cfg: AlertsConfig): Step {
  const mask = ((a.recentSignals << 1) | 1) & windowMask(cfg);
  const base: AlertState = { ...a, recentSignals: mask, modelOnly: signal.modelOnly, lastPeriod: period > a.lastPeriod ? period : a.lastPeriod };
  const prev = a.level;

  if (a.status === 'resolved') {
    // Fires again: the same alert reopens, with its history.
    const open = confirmed(signal, 1, cfg);
    const next: AlertState = { ...opening(signal, open, now), firstPeriod: a.firstPeriod, lastPeriod: base.lastPeriod, reopenCount: a.reopenCount + 1 };
    return { next, events: [{ action: 'reopened', fromStatus: 'resolved', toStatus: next.status, fromLevel: prev, toLevel: signal.level }], change: open ? 'reopened' : null, previousLevel: prev };
  }

  if (a.status === 'pending') {
    if (!confirmed(signal, mask, cfg)) {
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
  const newMonth = period > a.lastPeriod;
  return {
    next: base,
    events: newMonth ? [{ action: 'updated', fromStatus: a.status, toStatus: a.status, fromLevel: prev, toLevel: prev }] : [],
    change: null,
    previousLevel: prev,
  };
}

/** An active alert on a night without a signal for it. */
export function withoutSignal(a: AlertState, period: string, now: Date, cfg: AlertsConfig): Step {
  const mask = (a.recentSignals << 1) & windowMask(cfg);
  const base: AlertState = { ...a, recentSignals: mask };
  if (a.status === 'pending') {
    if (mask !== 0) return { next: base, events: [], change: null, previousLevel: a.level };
    // Never confirmed within the window: it lapses quietly (it was never sent).
    const next: AlertState = { ...base, status: 'resolved', resolvedAt: now, resolvedBy: 'system', disposition: null };
    return { next, events: [{ action: 'lapsed', fromStatus: 'pending', toStatus: 'resolved', fromLevel: a.level, toLevel: a.level }], change: null, previousLevel: a.level };
  }
  if (a.status === 'resolved') return { next: a, events: [], change: null, previousLevel: a.level };
  const quiet = monthsBetween(a.lastPeriod, period);
  if (quiet < cfg.resolveAfterQuietMonths) return { next: base, events: [], change: null, previousLevel: a.level };
  const next: AlertState = { ...base, status: 'resolved', resolvedAt: now, resolvedBy: 'system', disposition: AUTO_RESOLVED(quiet) };
  return { next, events: [{ action: 'resolved', fromStatus: a.status, toStatus: 'resolved', fromLevel: a.level, toLevel: a.level }], change: 'resolved', previousLevel: a.level };
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
      a.status === 'acknowledged' ? `already acknowledged by ${a.acknowledgedBy ?? 'someone'}` : a.status === 'pending' ? 'not open yet: it waits for the model to be confirmed on a later run' : 'already resolved',
    );
  }
  const next: AlertState = { ...a, status: 'acknowledged', acknowledgedAt: now, acknowledgedBy: by, comment: comment ?? a.comment };
  return { next, events: [{ action: 'acknowledged', fromStatus: 'open', toStatus: 'acknowledged', fromLevel: a.level, toLevel: a.level }], change: null, previousLevel: a.level };
}

/** An official resolves with a disposition: open or acknowledged → resolved. */
export function resolveByOfficial(a: AlertState, by: string, now: Date, disposition: Disposition, comment: string | null): Step {
  if (a.status === 'resolved') throw new AlertTransitionError(`already resolved${a.resolvedBy ? ` by ${a.resolvedBy}` : ''}`);
  if (a.status === 'pending') throw new AlertTransitionError('not open yet: it waits for the model to be confirmed on a later run');
  if (disposition === '其他' && (comment === null || comment.trim() === '')) throw new AlertTransitionError('the disposition 其他 (other) needs a --comment saying what was found');
  const next: AlertState = { ...a, status: 'resolved', resolvedAt: now, resolvedBy: by, disposition, comment: comment ?? a.comment };
  return { next, events: [{ action: 'resolved', fromStatus: a.status, toStatus: 'resolved', fromLevel: a.level, toLevel: a.level }], change: 'resolved', previousLevel: a.level };
}

function minLevel(a: Level, b: Level): Level {
  return (a < b ? a : b);
}

export function monthsBetween(from: string, to: string): number {
  return (Number(to.slice(0, 4)) - Number(from.slice(0, 4))) * 12 + Number(to.slice(5, 7)) - Number(from.slice(5, 7));
}
