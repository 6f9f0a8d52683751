/**
 * An alert's evidence as the alert stage stored it (services/alerts/run.signals.ts:
 * EmployerEvidence, CityEvidence), read back defensively: it is JSON written
 * by whichever release raised the alert, so what is not well-formed is left
 * out rather than trusted.
 */

export interface KeyGroupEvidence {
  separated: number | null;
  jobsAtStake: number | null;
}

export interface EmployerEvidenceView {
  period: string | null;
  regionCode: string | null;
  industryCode: string | null;
  insured: number | null;
  excessSeparations: number | null;
  probability: number | null;
  /** Each rule with its sentence (the summary may be empty for evidence that kept only ids). */
  rules: { rule: string; summary: string }[];
  /** Absent in evidence kept from before key groups were carried. */
  migrant: KeyGroupEvidence | null;
  graduate: KeyGroupEvidence | null;
}

export interface CityEvidenceView {
  period: string | null;
  expectedJobLosses: number | null;
  observedLayoffs: number | null;
  uiClaimsRatio: number | null;
  surveyedRate: number | null;
  reasons: string[];
}

const record = (v: unknown): Record<string, unknown> | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null);
const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const texts = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function keyGroup(v: unknown): KeyGroupEvidence | null {
  const r = record(v);
  return r === null ? null : { separated: finite(r['separated']), jobsAtStake: finite(r['jobsAtStake']) };
}

export function readEmployerEvidence(json: unknown): EmployerEvidenceView {
  const e = record(json) ?? {};
  const ids = texts(e['rules']);
  const summaries = texts(e['ruleSummaries']);
  return {
    period: text(e['period']),
    regionCode: text(e['regionCode']),
    industryCode: text(e['industryCode']),
    insured: finite(e['insured']),
    excessSeparations: finite(e['excessSeparations']),
    probability: finite(e['probability']),
    // run.signals.ts writes the two lists from the same hits, in the same order.
    rules: ids.map((rule, i) => ({ rule, summary: summaries.length === ids.length ? (summaries[i] ?? '') : '' })),
    migrant: keyGroup(e['migrant']),
    graduate: keyGroup(e['graduate']),
  };
}

export function readCityEvidence(json: unknown): CityEvidenceView {
  const e = record(json) ?? {};
  return {
    period: text(e['period']),
    expectedJobLosses: finite(e['expectedJobLosses']),
    observedLayoffs: finite(e['observedLayoffs']),
    uiClaimsRatio: finite(e['uiClaimsRatio']),
    surveyedRate: finite(e['surveyedRate']),
    reasons: texts(e['reasons']),
  };
}
