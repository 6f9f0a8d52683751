import type { Thresholds } from '../../config/thresholds.schema.js';
import { seededRandom } from '../../models/random.js';
import { buildFeatures, FEATURES_PER_STEP, FEATURE_STEPS } from './features.js';
import { addMonths, monthRange } from '../domain/period.js';
import { evaluateRules, withPeers } from './rules/index.js';
import { at, type SeriesBatch } from './series.js';
import type { SeriesRepository } from './series.repository.js';
import { sliceBatch } from './series.slice.js';

/**
 * Training examples from the database's own history, as the deployment
 * sees it: for each month m of the window, every employer with at least
 * the 规模 minimum of staff (thresholds.scale.minJobs: a smaller one cannot
 * have a layoff of that size), its features as of m, and the label "a
 * layoff of at least the minimum jobs in m+1, m+2 or m+3", found by the
 * same rules that score the nightly run. Where officials recorded a
 * disposition on an employer's alert (核实为规模裁员 / 误报), their word
 * overrides the rules for the months whose horizon the alert covers.
 * Negatives are sampled (all positives kept); the kept share is returned so
 * probabilities can be corrected back to the true base rate.
 *
 * Windows shorter than the model's 24 months are padded (features.ts masks
 * the missing months), so a deployment trains from MIN_HISTORY_MONTHS of
 * history: FIRST_FEATURE_MONTH months of baseline before the first example,
 * HORIZON months of labels after the last.
 */

export const HORIZON = 3;
/** Months of history before the first example month: the rules' baseline needs a few (thresholds.baseline.minHistoryMonths). */
export const FIRST_FEATURE_MONTH = 3;
/** The least history `ews train` accepts: with 16 months, 10 example months. */
export const MIN_HISTORY_MONTHS = 16;

/** What an official recorded on an employer's alert, as a label for the months it covers. */
export interface LabelOverride {
  uscc: string;
  /** 'YYYY-MM': the alert's first and last period. */
  from: string;
  to: string;
  /** true: 核实为规模裁员; false: 误报. */
  layoff: boolean;
}

/** Officials' dispositions by employer, for the label lookups of every example month. */
export function overridesByEmployer(overrides: readonly LabelOverride[] | undefined): ReadonlyMap<string, readonly LabelOverride[]> {
  const out = new Map<string, LabelOverride[]>();
  for (const o of overrides ?? []) {
    const list = out.get(o.uscc);
    if (list) list.push(o);
    else out.set(o.uscc, [o]);
  }
  return out;
}

/**
 * The label an official's disposition gives the feature month `month` of
 * an employer, null when none decides it: an alert's months are the months
 * it was flagged, so a disposition decides those months and the HORIZON
 * months before them (whose horizon reaches into the alert).
 */
export function overrideFor(byEmployer: ReadonlyMap<string, readonly LabelOverride[]>, uscc: string, month: string): boolean | null {
  const list = byEmployer.get(uscc);
  if (!list) return null;
  let result: boolean | null = null;
  for (const o of list) {
    if (month >= addMonths(o.from, -HORIZON) && month <= o.to) {
      // A confirmed layoff wins over a false alarm recorded on another alert of the same months.
      if (o.layoff) return true;
      result = false;
    }
  }
  return result;
}

/**
 * The example months a database of social-insurance history `first`..`last`
 * allows, or why it allows none; `from`/`to` narrow it.
 */
export function trainingWindow(first: string, last: string, from?: string, to?: string): { from: string; to: string } | { refused: string } {
  const have = monthRange(first, last).length;
  if (have < MIN_HISTORY_MONTHS) {
    return { refused: `training needs at least ${MIN_HISTORY_MONTHS} months of social-insurance history (${FIRST_FEATURE_MONTH} of baseline, ${MIN_HISTORY_MONTHS - FIRST_FEATURE_MONTH - HORIZON} example months, ${HORIZON} of labels); the database has ${have} (${first}..${last})` };
  }
  const earliest = addMonths(first, FIRST_FEATURE_MONTH);
  const latest = addMonths(last, -HORIZON);
  const f = from ?? earliest;
  const t = to ?? latest;
  if (f < earliest || t > latest || f > t) {
    return { refused: `the training window ${f}..${t} needs history the database lacks: with data ${first}..${last}, months ${earliest}..${latest} can be used` };
  }
  return { from: f, to: t };
}

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
  /** Officials' dispositions, which override the rules' label (LabelRepository.overrides). */
  overrides?: readonly LabelOverride[];
  onMonth?: (month: string, positives: number, samples: number) => void;
}

export async function buildTrainingSet(series: SeriesRepository, thresholds: Thresholds, o: TrainingOptions): Promise<TrainingSet> {
  const chunks: { x: Float32Array; y: Uint8Array }[] = [];
  let random = seededRandom(o.seed);
  let positives = 0;
  const months = monthRange(o.from, o.to);
  const overrides = overridesByEmployer(o.overrides);
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
    const minWorkforce = Math.max(1, thresholds.scale.minJobs);
    const rows: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < batch.size; i++) {
      const k = at(batch, i, featureMonth);
      if (batch.si[k] !== 1 || (batch.insured[k] as number) < minWorkforce) continue;
      const said = overrideFor(overrides, batch.uscc[i] as string, month);
      const label = said === null ? (labels[i] as number) : said ? 1 : 0;
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

/** 1 where the rules find a layoff of at least the 规模 minimum of jobs in any of the HORIZON months after `featureMonth`. */
async function layoffLabels(series: SeriesRepository, batch: SeriesBatch, featureMonth: number, thresholds: Thresholds): Promise<Uint8Array> {
  const labels = new Uint8Array(batch.size);
  for (let h = 1; h <= HORIZON; h++) {
    const m = featureMonth + h;
    const period = batch.periods[m] as string;
    const view = sliceBatch(batch, m);
    const ctx = withPeers(await series.newIntakes([addMonths(period, -1), period]), view, thresholds);
    for (let i = 0; i < batch.size; i++) {
      if (labels[i] === 1) continue;
      if (evaluateRules(view, i, ctx, thresholds).some((hit) => hit.kind === 'layoff' && (hit.numbers['excess'] ?? 0) >= thresholds.scale.minJobs)) labels[i] = 1;
    }
  }
  return labels;
}

/** Per-example weights that undo negative sampling: each kept negative stands for 1 / negativeKeep of them. */
export function samplingWeights(set: Pick<TrainingSet, 'y' | 'negativeKeep'>): Float32Array {
  return Float32Array.from(set.y, (y) => (y === 1 ? 1 : 1 / set.negativeKeep));
}

/** Undoes negative sampling: p on the sampled data → p on the true base rate. */
export function correctForSampling(p: number, negativeKeep: number): number {
  return (p * negativeKeep) / (p * negativeKeep + (1 - p));
}
