import type { Thresholds } from '../../config/thresholds.schema.js';
import { buildFeatures } from '../scoring/features.js';
import { addMonths } from '../domain/period.js';
import { evaluateRules, withPeers } from '../scoring/rules/index.js';
import { judgeEmployer } from '../scoring/judgement.js';
import { HISTORY_MONTHS } from '../scoring/score.service.js';
import { at, type SeriesBatch } from '../scoring/series.js';
import type { SeriesRepository } from '../scoring/series.repository.js';
import type { MethodMonth, ReplayMonth } from './metrics.js';
import { type Level } from '../domain/level.js';

/**
 * Replays a province month by month as the nightly run would (the same
 * reads, rules, features and level mapping as `ews score`), and records
 * what each method says about every employer:
 *
 * - full:     rules + the sequence model, levels as scored at night;
 * - rules:    the same rules, no model;
 * - logistic: a logistic regression on the same features, levels from its
 *             probability alone (the same mapping the model gets);
 * - boosting: gradient-boosted trees on the last month's features (the
 *             simple, current-month signals), levels from its probability
 *             alone, as for the logistic regression;
 * - seasonal: a seasonal-naive z-score of the monthly net change in
 *             insured staff (this month's net change against the same
 *             month last year, scaled by the last 12 months' residuals);
 *             an alert at z ≤ −3.
 */

export const METHODS = ['full', 'rules', 'logistic', 'boosting', 'seasonal'] as const;
export type Method = (typeof METHODS)[number];

export interface Predictor {
  predict(x: Float32Array, n: number): Promise<Float32Array>;
}

const SEASONAL_ALERT_Z = -3;

export async function replayProvince(
  series: SeriesRepository,
  thresholds: Thresholds,
  models: { sequence: Predictor; logistic: Predictor; boosting: Predictor },
  range: { from: string; to: string },
  onMonth?: (period: string, employers: number) => void,
): Promise<ReplayMonth[]> {
  const out: ReplayMonth[] = [];
  for (let period = range.from; period <= range.to; period = addMonths(period, 1)) {
    const batch = await series.readShard({ period, months: HISTORY_MONTHS, bucketFrom: 0, bucketTo: 255 });
    const ctx = withPeers(await series.newIntakes([addMonths(period, -1), period]), batch, thresholds);
    const n = batch.size;
    const all = Array.from({ length: n }, (_, i) => i);
    const features = buildFeatures(batch, all);
    const none = new Float32Array(0);
    const [pSeq, pLog, pBoost] = n > 0 ? await Promise.all([models.sequence.predict(features, n), models.logistic.predict(features, n), models.boosting.predict(features, n)]) : [none, none, none];
    const method = (): MethodMonth => ({ score: new Float64Array(n), alert: new Uint8Array(n), warn: new Uint8Array(n) });
    const m: Record<Method, MethodMonth> = { full: method(), rules: method(), logistic: method(), boosting: method(), seasonal: method() };
    const workforce = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const hits = evaluateRules(batch, i, ctx, thresholds);
      const full = judgeEmployer(batch, i, ctx, thresholds, pSeq[i] as number, hits);
      workforce[i] = full.workforce;
      record(m.full, i, full.level, full.level !== null ? levelScore(full.level) + (pSeq[i] as number) : (pSeq[i] as number));
      const rules = judgeEmployer(batch, i, ctx, thresholds, null, hits);
      record(m.rules, i, rules.level, levelScore(rules.level) + rules.excess / (rules.excess + 100));
      const logistic = judgeEmployer(batch, i, ctx, thresholds, pLog[i] as number, []);
      record(m.logistic, i, logistic.level, pLog[i] as number);
      const boosting = judgeEmployer(batch, i, ctx, thresholds, pBoost[i] as number, []);
      record(m.boosting, i, boosting.level, pBoost[i] as number);
      const z = seasonalZ(batch, i);
      m.seasonal.score[i] = z === null ? 0 : -z;
      const seasonal = z !== null && z <= SEASONAL_ALERT_Z ? 1 : 0;
      m.seasonal.alert[i] = seasonal;
      (m.seasonal.warn as Uint8Array)[i] = seasonal;
    }
    out.push({ period, uscc: batch.uscc, workforce, methods: m });
    onMonth?.(period, n);
  }
  return out;
}

function record(into: MethodMonth, i: number, level: Level | null, score: number): void {
  into.score[i] = score;
  into.alert[i] = level !== null && level <= 3 ? 1 : 0;
  if (into.warn) into.warn[i] = level !== null ? 1 : 0;
}

/** Ⅰ → 4 … Ⅳ → 1, none → 0. */
function levelScore(level: Level | null): number {
  return level === null ? 0 : 5 - level;
}

/**
 * This month's net change in insured staff against the same month a year
 * before, in units of how much that residual strayed over the previous 12
 * months; null without the history.
 */
export function seasonalZ(b: SeriesBatch, i: number): number | null {
  const last = b.months - 1;
  const net = (m: number): number | null => {
    if (m < 1) return null;
    const k = at(b, i, m);
    const j = at(b, i, m - 1);
    return b.si[k] === 1 && b.si[j] === 1 ? (b.insured[k] as number) - (b.insured[j] as number) : null;
  };
  const residual = (m: number): number | null => {
    const now = net(m);
    const year = net(m - 12);
    return now === null || year === null ? null : now - year;
  };
  const r = residual(last);
  if (r === null) return null;
  const past: number[] = [];
  for (let m = last - 12; m < last; m++) {
    const v = residual(m);
    if (v !== null) past.push(v);
  }
  if (past.length < 3) return null;
  const mean = past.reduce((a, v) => a + v, 0) / past.length;
  const sd = Math.sqrt(past.reduce((a, v) => a + (v - mean) ** 2, 0) / past.length);
  return r / Math.max(1, sd);
}
