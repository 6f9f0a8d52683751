/** Shared preparation of a payload: ordering, sections, links. */
import type { Level } from '../../domain/level.js';
import type { CitySummaryRow, EmployerAlertView, NotificationPayload } from '../notification.types.js';
import { cleanText, truncate } from './escape.js';
import { type LevelCounts } from '../../domain/level.js';

/** Charts per e-mail at most. */
export const MAX_CHARTS = 20;
/** Characters of an employer name kept in chart titles and the text part. */
export const NAME_MAX = 60;

export function isResolved(e: EmployerAlertView): boolean {
  return e.change === 'resolved' || e.status === 'resolved';
}

function finiteOr(v: number, fallback: number): number {
  return Number.isFinite(v) ? v : fallback;
}

/** Most severe level first, then most excess separations, then alert id. */
export function compareEmployers(a: EmployerAlertView, b: EmployerAlertView): number {
  return (
    finiteOr(a.level, 9) - finiteOr(b.level, 9) ||
    finiteOr(b.excessSeparations, -Infinity) - finiteOr(a.excessSeparations, -Infinity) ||
    a.alertId - b.alertId
  );
}

export function sortEmployers(list: readonly EmployerAlertView[]): EmployerAlertView[] {
  return [...list].sort(compareEmployers);
}

/** The most severe (lowest) level, or null for none. */
export function highestLevel(levels: readonly number[]): Level | null {
  let best: Level | null = null;
  for (const l of levels) if ((l === 1 || l === 2 || l === 3 || l === 4) && (best === null || l < best)) best = l;
  return best;
}

/** Count per level, most severe first, only levels present. */
export function countByLevel(levels: readonly number[]): { level: Level; count: number }[] {
  const counts = new Map<Level, number>();
  for (const l of levels) if (l === 1 || l === 2 || l === 3 || l === 4) counts.set(l, (counts.get(l) ?? 0) + 1);
  return ([1, 2, 3, 4] as const).filter((l) => counts.has(l)).map((level) => ({ level, count: counts.get(level) ?? 0 }));
}

/** The console base URL when it is http(s), without trailing slashes; otherwise null (no links). */
export function consoleBase(p: NotificationPayload): string | null {
  const base = cleanText(p.consoleUrl).trim().replace(/\/+$/, '');
  return /^https?:\/\/[^\s]+$/i.test(base) ? base : null;
}

/** An alert id as a safe URL path segment / cid token. */
export function idToken(alertId: number): string {
  return Number.isSafeInteger(alertId) ? String(alertId) : String(alertId).replace(/[^0-9A-Za-z-]/g, '_');
}

export function alertUrl(base: string | null, alertId: number): string | null {
  return base === null ? null : `${base}/alerts/${idToken(alertId)}`;
}

/** A payload string for a subject: one line, no controls, bounded. */
export function subjectPart(value: string, max: number): string {
  return truncate(cleanText(value).replace(/\s+/g, ' ').trim(), max);
}

/** The employer name for places with limited room (chart title, text part). */
export function shortName(name: string): string {
  return truncate(cleanText(name).replace(/\s+/g, ' ').trim(), NAME_MAX);
}

/** Probability as a whole percentage, or `—`. */
export function percent(p: number | null): string {
  return p === null || !Number.isFinite(p) ? '—' : `${Math.round(p * 100)}%`;
}

/** The rule summaries, or the rule ids when there are no summaries. */
export function rulesOf(e: EmployerAlertView): { items: string[]; summaries: boolean } {
  const summaries = e.ruleSummaries.filter((s) => s.trim() !== '');
  if (summaries.length > 0) return { items: summaries, summaries: true };
  return { items: e.rules.filter((s) => s.trim() !== ''), summaries: false };
}

/** A count from a payload: a non-negative whole number, else 0. */
export function count(v: number): number {
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;
}

/** Summary rows' counts per level, summed (all four levels, most severe first). */
export function summaryTotals(rows: readonly CitySummaryRow[]): { level: Level; count: number }[] {
  return ([1, 2, 3, 4] as const).map((level) => ({
    level,
    count: rows.reduce((sum, r) => sum + count(r.levels[String(level) as keyof LevelCounts]), 0),
  }));
}

/** 1.3 → '为往年同期的 1.30 倍'; '—' when unknown. */
export function claimsRatio(r: number | null): string {
  return r === null || !Number.isFinite(r) ? '—' : `为往年同期的 ${r.toFixed(2)} 倍`;
}
