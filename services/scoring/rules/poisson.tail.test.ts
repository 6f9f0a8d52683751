import { describe, expect, it } from 'vitest';
import { normalTail, poissonCritical, poissonCriticalExact } from './poisson.tail.js';

/** P(X ≥ k) for X ~ Poisson(lambda), summed directly. */
function upperTail(lambda: number, k: number): number {
  let p = Math.exp(-lambda);
  let below = 0;
  for (let j = 0; j < k; j++) {
    below += p;
    p *= lambda / (j + 1);
  }
  return 1 - below;
}

describe('the Poisson noise band', () => {
  it('turns z into the one-sided normal tail', () => {
    expect(normalTail(0)).toBeCloseTo(0.5, 6);
    expect(normalTail(3)).toBeCloseTo(0.00135, 5);
    expect(normalTail(4.5) * 1e6).toBeCloseTo(3.4, 1);
  });

  it('gives the smallest count whose upper tail is within alpha', () => {
    for (const lambda of [0.05, 0.5, 3, 20, 60]) {
      const alpha = normalTail(4.5);
      const k = poissonCriticalExact(lambda, alpha);
      expect(upperTail(lambda, k)).toBeLessThanOrEqual(alpha);
      expect(upperTail(lambda, k - 1)).toBeGreaterThan(alpha);
    }
  });

  it('knows that a firm losing 0.5 a month loses 4 in some month far more often than 3 sigma says', () => {
    // 3 sigma of a normal: 0.5 + 3 × 0.71 = 2.6, so 3 would already be "rare"; the Poisson tail needs 5 at z = 3 and 7 at z = 4.5.
    expect(poissonCritical(0.5, 3)).toBe(5);
    expect(poissonCritical(0.5, 4.5)).toBe(7);
  });

  it('never undershoots the exact count from the table, and meets the expansion above it', () => {
    for (const lambda of [0.013, 1.237, 9.999, 33.3]) expect(poissonCritical(lambda, 4)).toBeGreaterThanOrEqual(poissonCriticalExact(lambda, normalTail(4)));
    const exact = poissonCriticalExact(64.5, normalTail(4.5));
    expect(Math.abs(poissonCritical(64.5, 4.5) - exact)).toBeLessThanOrEqual(1);
    expect(poissonCritical(10_000, 4.5)).toBeGreaterThan(10_000 + 4.5 * 100);
  });

  it('treats a non-finite or negative mean as zero', () => {
    expect(poissonCritical(Number.NaN, 4.5)).toBe(1);
    expect(poissonCritical(-3, 4.5)).toBe(1);
  });
});
