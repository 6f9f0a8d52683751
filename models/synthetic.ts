import { seededRandom } from './random.js';

/**
 * Windows with a known answer, for tests and measurements: noise in every
 * feature, and in positives feature 0 climbs over the last three months
 * (the pattern a causal temporal model should find).
 */

export interface SyntheticWindows {
  x: Float32Array;
  y: Uint8Array;
  n: number;
  steps: number;
  features: number;
}

export function syntheticWindows(opts: {
  n: number;
  seed: number;
  steps?: number;
  features?: number;
  /** Default 0.05. */
  positiveRate?: number;
  /** Height of the climb relative to the noise (uniform, width 1); default 0.8. */
  signal?: number;
}): SyntheticWindows {
  const { n, seed } = opts;
  const steps = opts.steps ?? 24;
  const features = opts.features ?? 16;
  const rate = opts.positiveRate ?? 0.05;
  const signal = opts.signal ?? 0.8;
  const random = seededRandom(seed);
  const x = new Float32Array(n * steps * features);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const positive = random() < rate;
    y[i] = positive ? 1 : 0;
    const row = i * steps * features;
    for (let j = 0; j < steps * features; j++) x[row + j] = random() - 0.5;
    if (positive) {
      for (let k = 1; k <= 3; k++) x[row + (steps - 4 + k) * features] = (x[row + (steps - 4 + k) * features] ?? 0) + k * signal;
    }
  }
  return { x, y, n, steps, features };
}
