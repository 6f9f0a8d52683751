import { CITY_BY_CODE } from '../../config/cities.js';
import type { CityExplanation, CitySignalName, EmployerExplanation, FindingKind } from '../domain/explanation.js';
import { LEVEL_NUMERAL, type Level } from '../domain/level.js';
import type { CityAlertView, EmployerAlertView } from '../notify/notification.types.js';
import type { Signal } from './lifecycle.js';

/**
 * What one scoring run says, as the alert lifecycle's signals: pure. The
 * repository reads the month's employer and city results (with their typed
 * explanations); these functions turn them into signals and the evidence an
 * alert keeps (employer data only).
 */

/** What an employer alert remembers of its evidence: the e-mail's fields, and where the history is. */
export type EmployerEvidence = Pick<EmployerAlertView, 'uscc' | 'name' | 'regionCode' | 'industryCode' | 'insured' | 'excessSeparations' | 'probability' | 'rules' | 'ruleSummaries' | 'migrant' | 'graduate'> & {
  bucket: number;
  period: string;
};

export type CityEvidence = Pick<CityAlertView, 'expectedJobLosses' | 'observedLayoffs' | 'uiClaimsRatio' | 'surveyedRate' | 'reasons'> & { period: string };

/** An employer's result for the month that may raise an alert: a level, or a data cross-check. */
export interface EmployerRiskSignalRow {
  bucket: number;
  uscc: string;
  name: string;
  cityCode: string;
  regionCode: string;
  industryCode: string;
  workforce: number;
  level: Level | null;
  ruleLevel: Level | null;
  probability: number | null;
  excessSeparations: number;
  kinds: readonly string[];
  explanation: EmployerExplanation;
  /** Key groups as scoring stored them (services/scoring/keygroups.ts); null: not reported, or scored before they were. */
  separatedMigrant: number | null;
  separatedGraduate: number | null;
  jobsAtStakeMigrant: number | null;
  jobsAtStakeGraduate: number | null;
}

/** A city's result for the month, all industries together. */
export interface CityRiskSignalRow {
  cityCode: string;
  level: Level | null;
  dataMissing: boolean;
  missingFeeds: string[];
  expectedJobLosses: number;
  observedLayoffs: number;
  uiClaimsRatio: number | null;
  surveyedRate: number | null;
  explanation: CityExplanation;
}

/** Which findings each employer alert kind cites. */
const LAYOFF_FINDINGS: readonly FindingKind[] = ['layoff', 'distress', 'unreported'];
const UNREPORTED_FINDINGS: readonly FindingKind[] = ['unreported', 'layoff'];
const CROSSCHECK_FINDINGS: readonly FindingKind[] = ['crosscheck'];

/** An employer's signals for `period`: layoff risk at its level, an unreported layoff beside it, a data cross-check (Ⅳ). */
export function employerSignals(r: EmployerRiskSignalRow, period: string): Signal[] {
  const evidence = (kinds: readonly FindingKind[]): EmployerEvidence => {
    const hits = r.explanation.rules.filter((h) => kinds.includes(h.kind));
    return {
      bucket: r.bucket,
      uscc: r.uscc,
      name: r.name,
      regionCode: r.regionCode,
      industryCode: r.industryCode,
      insured: r.workforce,
      excessSeparations: r.excessSeparations,
      probability: r.probability,
      rules: hits.map((h) => h.rule),
      ruleSummaries: hits.map((h) => h.summary),
      migrant: { separated: r.separatedMigrant, jobsAtStake: r.jobsAtStakeMigrant },
      graduate: { separated: r.separatedGraduate, jobsAtStake: r.jobsAtStakeGraduate },
      period,
    };
  };
  const base = { subjectType: 'employer' as const, subject: r.uscc, cityCode: r.cityCode, name: r.name };
  const out: Signal[] = [];
  if (r.level !== null) {
    out.push({ ...base, kind: 'layoff', level: r.level, modelOnly: r.ruleLevel === null, evidence: evidence(LAYOFF_FINDINGS) });
    if (r.kinds.includes('unreported')) out.push({ ...base, kind: 'unreported', level: r.level, modelOnly: false, evidence: evidence(UNREPORTED_FINDINGS) });
  }
  if (r.kinds.includes('crosscheck')) out.push({ ...base, kind: 'crosscheck', level: 4, modelOnly: false, evidence: evidence(CROSSCHECK_FINDINGS) });
  return out;
}

/** A city's systemic-risk signal for `period`, or null when it has no level or lacks data. */
export function citySignal(c: CityRiskSignalRow, period: string): Signal | null {
  if (c.level === null || c.dataMissing) return null;
  const evidence: CityEvidence = {
    expectedJobLosses: c.expectedJobLosses,
    observedLayoffs: c.observedLayoffs,
    uiClaimsRatio: c.uiClaimsRatio,
    surveyedRate: c.surveyedRate,
    reasons: cityReasons(c.explanation),
    period,
  };
  return { subjectType: 'city', subject: c.cityCode, kind: 'systemic', cityCode: c.cityCode, name: cityLabel(c.cityCode), level: c.level, modelOnly: false, evidence };
}

/** The cities whose feeds are missing or late for the month (the e-mails say so). */
export function dataMissing(cities: readonly CityRiskSignalRow[]): { cityCode: string; cityName: string; feeds: string[] }[] {
  return cities.filter((c) => c.dataMissing).map((c) => ({ cityCode: c.cityCode, cityName: cityLabel(c.cityCode), feeds: c.missingFeeds }));
}

const SIGNAL_LABELS: Record<CitySignalName, string> = { job_losses: '预计及已发生失岗', ui_claims_ratio: '失业保险新增申领较往年同期', surveyed_rate: '城镇调查失业率' };

/** One line per city signal that set a level: '失业保险新增申领较往年同期：1.6（触发 Ⅱ级）'. */
export function cityReasons(explanation: CityExplanation): string[] {
  return explanation.signals.flatMap((s) => (s.level === null ? [] : [`${SIGNAL_LABELS[s.name]}：${s.value ?? '—'}（触发 ${LEVEL_NUMERAL[s.level]}级）`]));
}

function cityLabel(code: string): string {
  return CITY_BY_CODE.get(code)?.name ?? code;
}
