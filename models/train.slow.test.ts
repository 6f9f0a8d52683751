import { describe, expect, it } from 'vitest';
import { predictRaw } from './predict.js';
import { syntheticWindows } from './synthetic.js';
import { applyCalibration, trainModel } from './train.js';

describe('trainModel', () => {
  it('trains a TCN on wasm that finds a late rise (PR-AUC > 0.9) and calibrates it', async () => {
    const data = syntheticWindows({ n: 3000, seed: 21, features: 8, positiveRate: 0.03 });
    const epochs: number[] = [];
    const trained = await trainModel({ ...data, kind: 'tcn', epochs: 6, seed: 5, onEpoch: (e) => epochs.push(e) });
    try {
      expect(trained.backend).toBe('wasm');
      expect(epochs).toEqual([0, 1, 2, 3, 4, 5]);
      const m = trained.metrics;
      expect(m.n).toBe(600);
      expect(m.positives).toBeGreaterThan(0);
      expect(m.prAuc).toBeGreaterThan(0.9);
      expect(m.rocAuc).toBeGreaterThan(0.95);
      // Class weights inflate the raw probabilities; Platt scaling must not make them worse.
      expect(m.brier).toBeLessThanOrEqual(m.uncalibrated.brier);
      expect(m.logLoss).toBeLessThanOrEqual(m.uncalibrated.logLoss);

      const raw = await predictRaw(trained.model, data.x, data.n, data);
      const calibrated = applyCalibration(trained.calibration, raw);
      expect(calibrated.every((p) => p >= 0 && p <= 1)).toBe(true);
    } finally {
      trained.model.dispose();
    }
  });

  it('is deterministic for a seed', async () => {
    const data = syntheticWindows({ n: 600, seed: 3, features: 4, steps: 12, positiveRate: 0.1 });
    const run = async (seed: number): Promise<number[]> => {
      const trained = await trainModel({ ...data, kind: 'mlp', epochs: 2, seed });
      const weights = trained.model.getWeights().flatMap((w) => [...w.dataSync()]);
      trained.model.dispose();
      return weights;
    };
    const first = await run(9);
    expect(await run(9)).toEqual(first);
    expect(await run(10)).not.toEqual(first);
  });

  it('refuses data it cannot validate on', async () => {
    const data = syntheticWindows({ n: 50, seed: 1, features: 2, steps: 3, positiveRate: 0 });
    await expect(trainModel({ ...data, seed: 1 })).rejects.toThrow('need at least 2 positives and 2 negatives to train and validate, got 0 and 50');
    await expect(trainModel({ ...data, n: 49, seed: 1 })).rejects.toThrow('input has 300 values, expected n × steps × features = 49 × 3 × 2 = 294');
  });
});
