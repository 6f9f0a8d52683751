import type { Thresholds } from '../../config/thresholds.schema.js';
import { seededRandom } from '../../models/random.js';
import { buildFeatures, FEATURES_PER_STEP, FEATURE_STEPS } from './features.js';
import { addMonths, monthRange } from './period.js';
import { evaluateRules } from './rules/index.js';
import { at, type SeriesBatch } from './series.js';
import type { SeriesRepository } from './series.repository.js';
import { sliceBatch } from './series.slice.js';

/**
 * Training examples from the database's own history: for each month m of
 * the window, every employer with a workforce of at least MIN_WORKFORCE,
 * its features as of m, and the label "a statutory layoff (a layoff rule
 * hit) in m+1, m+2 or m+3", found by the same rules that score the nightly
 * run. Negatives are sampled (all positives kept); the kept share is
 * returned so probabilities can be corrected back to the true base rate.
 */

export const HORIZON = 3;
const MIN_WORKFORCE = 10;

export interface TrainingSet {
  x: Float32Array;
  y: Uint8Array;
  n: number;
  steps: number;
  features: number;
  positives: number;
  /** Share of negatives kept. */
  negativeKeep: number;
  months: string[];
}

export interface TrainingOptions {
  /** First and last month m whose features are used ('YYYY-MM'). */
  from: string;
  to: string;
  negativeKeep: number;
  seed: number;
  bucketFrom?: number;
  bucketTo?: number;
  onMonth?: (month: string, positives: number, samples: number) => void;
}

export async function buildTrainingSet(series: SeriesRepository, thresholds: Thresholds, o: TrainingOptions): Promise<TrainingSet> {
  const chunks: { x: Float32Array; y: Uint8Array }[] = [];
  let random = seededRandom(o.seed);
  let positives = 0;
  const months = monthRange(o.from, o.to);
  for (const month of months) {
    const labelEnd = addMonths(month, HORIZON);
    const batch = await series.readShard({
      period: labelEnd,
      months: FEATURE_STEPS + 1 + HORIZON,
      bucketFrom: o.bucketFrom ?? 0,
      bucketTo: o.bucketTo ?? 255,
      recentMonths: HORIZON + 2,
    });
    const featureMonth = batch.months - 1 - HORIZON;
    const labels = await layoffLabels(series, batch, featureMonth, thresholds);
    const rows: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < batch.size; i++) {
      const k = at(batch, i, featureMonth);
      if (batch.si[k] !== 1 || (batch.insured[k] as number) < MIN_WORKFORCE) continue;
      const label = labels[i] as number;
      if (label === 0 && random() >= o.negativeKeep) continue;
      rows.push(i);
      y.push(label);
    }
    const monthPositives = y.reduce((a, b) => a + b, 0);
    positives += monthPositives;
    chunks.push({ x: buildFeatures(batch, rows, featureMonth), y: Uint8Array.from(y) });
    o.onMonth?.(month, monthPositives, rows.length);
    random = seededRandom(o.seed + chunks.length);
  }
  const n = chunks.reduce((a, c) => a + c.y.length, 0);
  const x = new Float32Array(n * FEATURE_STEPS * FEATURES_PER_STEP);
  const y = new Uint8Array(n);
  let offset = 0;
  for (const c of chunks) {
    x.set(c.x, offset * FEATURE_STEPS * FEATURES_PER_STEP);
    y.set(c.y, offset);
    offset += c.y.length;
  }
  return { x, y, n, steps: FEATURE_STEPS, features: FEATURES_PER_STEP, positives, negativeKeep: o.negativeKeep, months };
}

/** 1 where the rules find a layoff in any of the HORIZON months after `featureMonth`. */
async function layoffLabels(series: SeriesRepository, batch: SeriesBatch, featureMonth: number, thresholds: Thresholds): Promise<Uint8Array> {
  const labels = new Uint8Array(batch.size);
  for (let h = 1; h <= HORIZON; h++) {
    const m = featureMonth + h;
    const period = batch.periods[m] as string;
    const view = sliceBatch(batch, m);
    const ctx = await series.newIntakes([addMonths(period, -1), period]);
    for (let i = 0; i < batch.size; i++) {
      if (labels[i] === 1) continue;
      if (evaluateRules(view, i, ctx, thresholds).some((hit) => hit.kind === 'layoff')) labels[i] = 1;
    }
  }
  return labels;
}

/** Undoes negative sampling: p on the sampled data → p on the true base rate. */
export function correctForSampling(p: number, negativeKeep: number): number {
  return (p * negativeKeep) / (p * negativeKeep + (1 - p));
}
