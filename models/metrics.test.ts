import { describe, expect, it } from 'vitest';
import { applyCalibration, fitPlatt, IDENTITY_CALIBRATION } from './calibration.js';
import { brierScore, logLoss } from './metrics.js';
import { seededRandom } from './random.js';
import { averagePrecision, rocAuc } from './train.js';

describe('averagePrecision and rocAuc', () => {
  it('match a hand computation', () => {
    const scores = [0.9, 0.8, 0.7, 0.6, 0.5];
    const labels = [1, 0, 1, 0, 0];
    // Positives at ranks 1 and 3: recall steps of 1/2 at precisions 1/1 and 2/3.
    expect(averagePrecision(scores, labels)).toBeCloseTo(0.5 * 1 + 0.5 * (2 / 3), 12);
    // 6 positive–negative pairs, ordered right in 5 (0.7 loses to 0.8).
    expect(rocAuc(scores, labels)).toBeCloseTo(5 / 6, 12);
  });

  it('count tied scores as one threshold and half a win', () => {
    const scores = new Float32Array([0.8, 0.8, 0.3, 0.3]);
    const labels = new Uint8Array([1, 0, 1, 0]);
    expect(averagePrecision(scores, labels)).toBeCloseTo(0.5 * 0.5 + 0.5 * 0.5, 12);
    expect(rocAuc(scores, labels)).toBeCloseTo((0.5 + 1 + 0 + 0.5) / 4, 12);
  });

  it('give 1 for a perfect ranking and NaN when undefined', () => {
    expect(averagePrecision([0.1, 0.9, 0.2], [0, 1, 0])).toBe(1);
    expect(rocAuc([0.1, 0.9, 0.2], [0, 1, 0])).toBe(1);
    expect(averagePrecision([0.1, 0.2], [0, 0])).toBeNaN();
    expect(rocAuc([0.1, 0.2], [1, 1])).toBeNaN();
  });

  it('reject mismatched lengths and NaN scores', () => {
    expect(() => rocAuc([0.1], [0, 1])).toThrow('scores has 1 entries, labels has 2');
    expect(() => averagePrecision([Number.NaN, 0.2], [0, 1])).toThrow('score 0 is NaN');
  });

  it('brierScore and logLoss by hand', () => {
    expect(brierScore([0.2, 0.6], [0, 1])).toBeCloseTo((0.04 + 0.16) / 2, 12);
    expect(logLoss([0.2, 0.6], [0, 1])).toBeCloseTo(-(Math.log(0.8) + Math.log(0.6)) / 2, 12);
  });
});

describe('Platt calibration', () => {
  // True probability sigmoid(z); the "model" says sigmoid(3z + 2): overconfident and too high.
  const random = seededRandom(11);
  const n = 20_000;
  const raw = new Float32Array(n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const z = (random() - 0.5) * 8;
    labels[i] = random() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    raw[i] = 1 / (1 + Math.exp(-(3 * z + 2)));
  }

  it('recovers the distortion and improves the Brier score', () => {
    const calibration = fitPlatt(raw, labels);
    // Sampling noise in 20k labels: a within ±0.05, b within ±0.1.
    expect(Math.abs(calibration.a - 1 / 3)).toBeLessThan(0.05);
    expect(Math.abs(calibration.b + 2 / 3)).toBeLessThan(0.1);
    const calibrated = applyCalibration(calibration, raw);
    expect(brierScore(calibrated, labels)).toBeLessThan(brierScore(raw, labels));
    expect(logLoss(calibrated, labels)).toBeLessThan(logLoss(raw, labels));
    for (const p of calibrated) {
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
    }
  });

  it('keeps already calibrated probabilities about where they are', () => {
    const honest = raw.map((p) => {
      const z = (Math.log(p / (1 - p)) - 2) / 3;
      return 1 / (1 + Math.exp(-z));
    });
    const calibration = fitPlatt(honest, labels);
    expect(calibration.a).toBeCloseTo(1, 1);
    expect(brierScore(applyCalibration(calibration, honest), labels)).toBeLessThanOrEqual(brierScore(honest, labels) + 1e-4);
  });

  it('stays the identity when one class is missing, and handles 0 and 1 exactly', () => {
    expect(fitPlatt([0.2, 0.4], [0, 0])).toEqual(IDENTITY_CALIBRATION);
    const out = applyCalibration({ method: 'platt', a: 2, b: -1 }, new Float32Array([0, 1, 0.5]));
    expect([...out].every((p) => p >= 0 && p <= 1 && Number.isFinite(p))).toBe(true);
  });
});
