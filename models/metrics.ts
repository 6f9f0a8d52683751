/**
 * Pure scoring metrics over probabilities and 0/1 labels (a label counts as
 * positive when it is > 0.5). Undefined cases (no positives, or no negatives
 * for ROC-AUC) return NaN rather than a flattering number.
 */

export interface Metrics {
  /** Rows in the validation split. */
  n: number;
  positives: number;
  /** Average precision (area under the precision–recall curve, step-wise). */
  prAuc: number;
  rocAuc: number;
  /** Of the calibrated probabilities. */
  brier: number;
  /** Of the calibrated probabilities, natural log. */
  logLoss: number;
  /** The same two scores before calibration, to show what calibration did. */
  uncalibrated: { brier: number; logLoss: number };
}

type Numbers = ArrayLike<number>;

const EPS = 1e-7;

function checkLengths(scores: Numbers, labels: Numbers): void {
  if (scores.length !== labels.length) {
    throw new RangeError(`scores has ${scores.length} entries, labels has ${labels.length}`);
  }
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) throw new RangeError(`score ${i} is NaN`);
  }
}

const isPositive = (label: number | undefined): boolean => (label ?? 0) > 0.5;

/** Indices sorted by score, highest first. */
function byScoreDescending(scores: Numbers): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => (scores[b] ?? 0) - (scores[a] ?? 0));
}

/**
 * Σ (R_k − R_{k−1}) · P_k over the distinct score thresholds, tied scores
 * forming one threshold (the definition scikit-learn uses).
 */
export function averagePrecision(scores: Numbers, labels: Numbers): number {
  checkLengths(scores, labels);
  const positives = countPositives(labels);
  if (positives === 0) return Number.NaN;
  const order = byScoreDescending(scores);
  let tp = 0;
  let seen = 0;
  let previousRecall = 0;
  let ap = 0;
  let i = 0;
  while (i < order.length) {
    const threshold = scores[order[i] ?? 0];
    while (i < order.length && scores[order[i] ?? 0] === threshold) {
      if (isPositive(labels[order[i] ?? 0])) tp++;
      seen++;
      i++;
    }
    const recall = tp / positives;
    ap += (recall - previousRecall) * (tp / seen);
    previousRecall = recall;
  }
  return ap;
}

/** Mann–Whitney: the probability a random positive outscores a random negative, ties counting half. */
export function rocAuc(scores: Numbers, labels: Numbers): number {
  checkLengths(scores, labels);
  const order = byScoreDescending(scores).reverse();
  let positives = 0;
  let positiveRankSum = 0;
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j < order.length && scores[order[j] ?? 0] === scores[order[i] ?? 0]) j++;
    const averageRank = (i + 1 + j) / 2; // ranks i+1 … j share their mean
    for (let k = i; k < j; k++) {
      if (isPositive(labels[order[k] ?? 0])) {
        positives++;
        positiveRankSum += averageRank;
      }
    }
    i = j;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export function brierScore(probabilities: Numbers, labels: Numbers): number {
  checkLengths(probabilities, labels);
  if (labels.length === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const d = (probabilities[i] ?? 0) - (isPositive(labels[i]) ? 1 : 0);
    sum += d * d;
  }
  return sum / labels.length;
}

/** Mean binary cross-entropy; probabilities are clipped to [1e-7, 1 − 1e-7]. */
export function logLoss(probabilities: Numbers, labels: Numbers): number {
  checkLengths(probabilities, labels);
  if (labels.length === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(1 - EPS, Math.max(EPS, probabilities[i] ?? 0));
    sum -= isPositive(labels[i]) ? Math.log(p) : Math.log(1 - p);
  }
  return sum / labels.length;
}

export function countPositives(labels: Numbers): number {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (isPositive(labels[i])) positives++;
  return positives;
}

export function validationMetrics(calibrated: Numbers, raw: Numbers, labels: Numbers): Metrics {
  return {
    n: labels.length,
    positives: countPositives(labels),
    prAuc: averagePrecision(calibrated, labels),
    rocAuc: rocAuc(calibrated, labels),
    brier: brierScore(calibrated, labels),
    logLoss: logLoss(calibrated, labels),
    uncalibrated: { brier: brierScore(raw, labels), logLoss: logLoss(raw, labels) },
  };
}
