import type { Selectable } from 'kysely';
import type { Tables } from '../../sql/schema.js';
import type { AlertKind, AlertSubjectType } from '../domain/alert.js';
import type { Level } from '../domain/level.js';
import { periodDate, periodOf } from '../domain/period.js';
import type { AlertState } from './lifecycle.js';

/**
 * An alert row and the lifecycle's view of it, both ways: the one mapping
 * the alert repositories share (no query here, and nothing that depends on
 * a service).
 */

/** An alert row as PostgreSQL returns it. */
export type AlertDbRow = Selectable<Tables['alert']>;

/** A stored alert as the run policy sees it. */
export interface StoredAlert {
  alertId: number;
  subjectType: AlertSubjectType;
  subject: string;
  kind: AlertKind;
  cityCode: string;
  name: string;
  state: AlertState;
  evidence: unknown;
}

export function toState(a: AlertDbRow): AlertState {
  return {
    status: a.status,
    level: a.level as Level,
    peakLevel: a.peak_level as Level,
    modelOnly: a.model_only,
    recentSignals: a.recent_signals,
    firstPeriod: periodOf(a.first_period),
    lastPeriod: periodOf(a.last_period),
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

export function toStoredAlert(a: AlertDbRow): StoredAlert {
  return {
    alertId: Number(a.alert_id), subjectType: a.subject_type, subject: a.subject, kind: a.kind, cityCode: a.city_code, name: a.name,
    state: toState(a), evidence: a.evidence,
  };
}

/** The columns a run writes for an alert (ids, subject and kind aside), as JSON values for jsonb_to_recordset. */
export function alertColumns(a: Pick<StoredAlert, 'cityCode' | 'name' | 'state' | 'evidence'>): Record<string, unknown> {
  const s = a.state;
  return {
    city_code: a.cityCode,
    name: a.name,
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
    evidence: a.evidence,
  };
}
