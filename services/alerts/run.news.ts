import { CITIES } from '../../config/cities.js';
import type { AlertChange, EmployerAlertKind } from '../domain/alert.js';
import { countLevel, noLevels } from '../domain/level.js';
import type { CityAlertView, CitySummaryRow, EmployerAlertView, MonthlySeries, NightIssues } from '../notify/notification.types.js';
import type { RunNews } from './routing.js';
import type { CityEvidence, EmployerEvidence } from './run.signals.js';
import type { WorkingAlert } from './run.policy.js';

/**
 * What a run tells officials, as the e-mails' views: pure. Built from the
 * run policy's results (changes, reminders, escalations) and handed to
 * routing.ts, which decides who hears what.
 */

export interface RunNewsInput {
  runId: number;
  period: string;
  /** The calendar day of the run ('YYYY-MM-DD'). */
  day: string;
  now: Date;
  /** Every alert the run holds (the province summary counts them). */
  all: readonly WorkingAlert[];
  /** What officials are told (run policy `changesToTell`). */
  changed: readonly WorkingAlert[];
  toRemind: readonly WorkingAlert[];
  toEscalate: readonly WorkingAlert[];
  /** The 24-month series of the employers whose e-mails carry a chart, by USCC. */
  series: ReadonlyMap<string, MonthlySeries>;
  dataMissing: { cityCode: string; cityName: string; feeds: string[] }[];
  failedDeliveries: number;
  /** The night behind the run, when a queued night opened it and something went wrong. */
  nightIssues?: NightIssues | null;
}

/** The employers whose e-mails carry a chart (Ⅰ/Ⅱ, told of a change, reminded or escalated): where their history is. */
export function chartedEmployers(lists: readonly (readonly WorkingAlert[])[]): Pick<EmployerEvidence, 'bucket' | 'uscc'>[] {
  return lists
    .flat()
    .filter((r) => r.subjectType === 'employer' && r.state.level <= 2)
    .map((r) => {
      const e = r.evidence as EmployerEvidence;
      return { bucket: e.bucket, uscc: e.uscc };
    });
}

export function runNews(input: RunNewsInput): RunNews {
  const view = (r: WorkingAlert, change: AlertChange): EmployerAlertView => employerView(r, change, input.series, input.now);
  const employerChanges = input.changed.filter((r) => r.subjectType === 'employer');
  const cityChanges = input.changed.filter((r) => r.subjectType === 'city');
  const group = (list: readonly WorkingAlert[], change: AlertChange) =>
    CITIES.map((c) => ({ cityCode: c.code, alerts: list.filter((r) => r.cityCode === c.code).map((r) => view(r, change)) })).filter((g) => g.alerts.length > 0);
  return {
    runId: input.runId,
    period: input.period,
    day: input.day,
    employers: employerChanges.map((r) => view(r, r.step?.change as AlertChange)),
    employerCities: employerChanges.map((r) => r.cityCode),
    cities: cityChanges.map((r) => cityView(r)),
    cityCodes: cityChanges.map((r) => r.cityCode),
    reminders: group(input.toRemind, 'unacknowledged'),
    escalations: group(input.toEscalate, 'unacknowledged'),
    dataMissing: input.dataMissing,
    summary: summaryRows(input.all, employerChanges, input.dataMissing.map((d) => d.cityCode)),
    failedDeliveries: input.failedDeliveries,
    nightIssues: input.nightIssues ?? null,
  };
}

export function employerView(r: WorkingAlert, change: AlertChange, series: ReadonlyMap<string, MonthlySeries>, now: Date): EmployerAlertView {
  const e = r.evidence as EmployerEvidence;
  const s = r.state;
  return {
    alertId: r.alertId as number,
    kind: r.kind as EmployerAlertKind,
    uscc: r.subject,
    name: r.name,
    regionCode: e.regionCode,
    industryCode: e.industryCode,
    insured: e.insured,
    excessSeparations: e.excessSeparations,
    // Evidence an alert kept from before key groups were carried has neither.
    ...(e.migrant !== undefined ? { migrant: e.migrant } : {}),
    ...(e.graduate !== undefined ? { graduate: e.graduate } : {}),
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

export function cityView(r: WorkingAlert): CityAlertView {
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

/** The province office's row per city: open employer alerts by level, unacknowledged Ⅰ/Ⅱ, new today, the systemic level, missing feeds. */
export function summaryRows(all: readonly WorkingAlert[], changedEmployers: readonly WorkingAlert[], missing: readonly string[]): CitySummaryRow[] {
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
