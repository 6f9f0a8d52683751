import { describe, expect, it } from 'vitest';
import { fitBoosting, predictBoosting } from './boosting.js';
import { precisionRecall } from './metrics.js';

/** n rows of 3 features in [0, 1); the label is an interaction a linear model cannot draw: x0 > 0.6 and x1 > 0.6, with 5% flipped. */
function dataset(n: number, seed: number): { x: Float32Array; y: Uint8Array } {
  let s = seed;
  const rand = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const x = new Float32Array(n * 3);
  const y = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    for (let f = 0; f < 3; f++) x[r * 3 + f] = rand();
    const truth = (x[r * 3] as number) > 0.6 && (x[r * 3 + 1] as number) > 0.6;
    y[r] = (rand() < 0.05 ? !truth : truth) ? 1 : 0;
  }
  return { x, y };
}

describe('gradient boosting', () => {
  it('learns an interaction and ranks held-out rows well', () => {
    const train = dataset(4000, 1);
    const test = dataset(2000, 2);
    const model = fitBoosting(train.x, train.y, 3, { trees: 60, depth: 3 });
    const p = predictBoosting(model, test.x, 2000);
    const { auc } = precisionRecall(Array.from(p, (score, r) => ({ score, label: test.y[r] as number })));
    // About 16% positive, 5% noise: a perfect ranking of the truth gives roughly 0.8.
    expect(auc).toBeGreaterThan(0.7);
    expect([...p].every((v) => v > 0 && v < 1)).toBe(true);
  });

  it('is deterministic and survives NaN and infinite inputs', () => {
    const train = dataset(500, 3);
    const a = fitBoosting(train.x, train.y, 3, { trees: 10 });
    const b = fitBoosting(train.x, train.y, 3, { trees: 10 });
    expect(predictBoosting(a, train.x, 500)).toEqual(predictBoosting(b, train.x, 500));
    const odd = Float32Array.from([NaN, Infinity, -Infinity]);
    expect(Number.isFinite(predictBoosting(a, odd, 1)[0])).toBe(true);
  });

  it('refuses a matrix of the wrong size', () => {
    expect(() => fitBoosting(new Float32Array(5), new Uint8Array(2), 3)).toThrow(/expected 2 rows × 3/);
  });
});
