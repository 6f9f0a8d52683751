import type { Thresholds } from '../../config/thresholds.schema.js';
import type { EmployerExplanation, ModelDriver } from '../domain/explanation.js';
import type { Level } from '../domain/level.js';
import { FEATURES_PER_STEP, monthWorkforce, STEP_FEATURES, type FeatureReference } from './features.js';
import { keyGroups } from './keygroups.js';
import type { EmployerRiskRow } from './risk.repository.js';
import { employerLevel, evaluateRules, type RuleHit } from './rules/index.js';
import { at, type ScoringContext, type SeriesBatch } from './series.js';

/**
 * The judgement of one employer, pure: its rules, jobs at stake and level
 * given the model's probability, and the explanation an official reads
 * (reasons, findings, the model's drivers against the artifact's
 * reference). scoreShard and the evaluation's replay call it alike.
 */

export interface Judgement {
  hits: RuleHit[];
  workforce: number;
  excess: number;
  jobsAtStake: number;
  level: Level | null;
  /** The level the rules alone give: null when the level (if any) comes from the model alone. */
  ruleLevel: Level | null;
  reasons: string[];
}

/** One employer's rules, jobs at stake and level, given the model's probability (null: rules only). */
export function judgeEmployer(
  batch: SeriesBatch,
  i: number,
  ctx: ScoringContext,
  thresholds: Thresholds,
  p: number | null,
  hits: RuleHit[] = evaluateRules(batch, i, ctx, thresholds),
): Judgement {
  const workforce = workforceOf(batch, i);
  const excess = Math.max(0, ...hits.filter((h) => h.kind === 'layoff').map((h) => h.numbers['excess'] ?? 0));
  const planned = Math.max(0, ...hits.map((h) => h.numbers['plannedLayoffs'] ?? 0));
  // Jobs at stake if the layoff happens: what the rules measured, or, when
  // the model sees a layoff coming (at least the lowest level's cut-off),
  // the share of the workforce a layoff typically takes. The expected loss
  // (× probability) is the cities' measure, not the employer's.
  // What the model predicts is a layoff of at least the 规模 minimum (its training label), so
  // the jobs at stake when it sees one coming are at least that many, never more than the staff.
  const modelCut = thresholds.levels.IV.probability ?? 1;
  const predicted = p !== null && p >= modelCut ? Math.min(workforce, Math.max(thresholds.scale.minJobs, workforce * TYPICAL_LAYOFF_SHARE)) : 0;
  const jobsAtStake = Math.round(Math.max(excess, planned, predicted));
  const { level, reasons } = employerLevel(hits, p, jobsAtStake, thresholds);
  const ruleLevel = p === null ? level : employerLevel(hits, null, Math.round(Math.max(excess, planned)), thresholds).level;
  return { hits, workforce, excess, jobsAtStake, level, ruleLevel, reasons: [...reasons] };
}

/** One employer's row as scoring writes it: the judgement, and its explanation with the model's drivers when there is a level. */
export function judgeRow(
  batch: SeriesBatch,
  i: number,
  ctx: ScoringContext,
  thresholds: Thresholds,
  p: number | null,
  features: Float32Array | null,
  reference: FeatureReference | null,
  modelVersion: string | null,
): EmployerRiskRow & { level: Level | null } {
  const { hits, workforce, excess, jobsAtStake, level, ruleLevel, reasons } = judgeEmployer(batch, i, ctx, thresholds, p);
  return {
    bucket: batch.bucket[i] as number,
    uscc: batch.uscc[i] as string,
    name: batch.name[i] as string,
    cityCode: batch.cityCode[i] as string,
    regionCode: batch.regionCode[i] as string,
    industryCode: batch.industryCode[i] as string,
    workforce,
    level,
    ruleLevel,
    probability: p === null ? null : Math.round(p * 10_000) / 10_000,
    jobsAtStake,
    excessSeparations: Math.round(excess),
    rules: [...new Set(hits.map((h) => h.rule))],
    kinds: [...new Set(hits.map((h) => h.kind))],
    explanation: explain(hits, p, reasons, features && reference && level !== null ? modelDrivers(features, reference, i) : [], modelVersion),
    ...keyGroups(batch, i, jobsAtStake),
  };
}

/** A layoff typically takes this share of a workforce: turns a probability into jobs at stake (employer and city alike). */
export const TYPICAL_LAYOFF_SHARE = 0.2;

function workforceOf(b: SeriesBatch, i: number): number {
  for (let m = b.months - 1; m >= 0; m--) {
    const k = at(b, i, m);
    if (b.si[k] === 1) return monthWorkforce(b, k);
  }
  return 0;
}

export function explain(hits: readonly RuleHit[], probability: number | null, reasons: readonly string[], drivers: ModelDriver[], modelVersion: string | null): EmployerExplanation {
  return {
    reasons: [...reasons],
    rules: hits.map((h) => ({ rule: h.rule, kind: h.kind, summary: h.summary, window: { ...h.window }, numbers: { ...h.numbers }, threshold: h.threshold, source: h.source })),
    model: probability === null ? null : { version: modelVersion, probability: Math.round(probability * 10_000) / 10_000, drivers },
  };
}

/** Signals that stand out in an employer's last three months, against the ordinary employers of the province the model was trained on. */
const DRIVER_FEATURES: readonly { name: (typeof STEP_FEATURES)[number]; sign: 1 | -1 }[] = [
  { name: 'sep_excess_ratio', sign: 1 }, { name: 'arrears', sign: 1 }, { name: 'planned_layoff_rate', sign: 1 },
  { name: 'furlough_rate', sign: 1 }, { name: 'ui_claim_rate', sign: 1 }, { name: 'hire_rate', sign: -1 },
  { name: 'wage_per_head_change', sign: -1 }, { name: 'jobs_lost_rate', sign: 1 }, { name: 'net_change', sign: -1 },
  { name: 'arrears_max6', sign: 1 }, { name: 'wage_vs_12m', sign: -1 }, { name: 'months_since_hire', sign: 1 },
  { name: 'filing_planned_rate', sign: 1 }, { name: 'peer_arrears', sign: 1 },
];

/** Steps of each window the explanation reads: the last three months. */
export const DRIVER_STEPS = 3;

export function modelDrivers(x: Float32Array, stats: FeatureReference, r: number): ModelDriver[] {
  const F = FEATURES_PER_STEP;
  const out: ModelDriver[] = [];
  for (const d of DRIVER_FEATURES) {
    const f = STEP_FEATURES.indexOf(d.name);
    let best = -Infinity;
    let value = 0;
    for (let s = 0; s < DRIVER_STEPS; s++) {
      const v = x[(r * DRIVER_STEPS + s) * F + f] as number;
      const z = (d.sign * (v - (stats.mean[f] as number))) / (stats.sd[f] as number);
      if (z > best) {
        best = z;
        value = v;
      }
    }
    if (best >= 2) out.push({ feature: d.name, value: Math.round(value * 1000) / 1000, z: Math.round(best * 10) / 10 });
  }
  return out.sort((a, b) => b.z - a.z).slice(0, 3);
}
