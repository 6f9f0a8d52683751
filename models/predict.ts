import * as tf from '@tensorflow/tfjs';

/** Rows per forward pass; tfjs's predict() default of 32 is ~200× slower on wasm. */
export const PREDICT_BATCH = 4096;

export interface WindowShape {
  steps: number;
  features: number;
}

export function checkWindow(x: Float32Array, n: number, shape: WindowShape): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  const expected = n * shape.steps * shape.features;
  if (x.length !== expected) {
    throw new RangeError(
      `input has ${x.length} values, expected n × steps × features = ${n} × ${shape.steps} × ${shape.features} = ${expected}`,
    );
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      const row = Math.floor(i / (shape.steps * shape.features));
      const step = Math.floor(i / shape.features) % shape.steps;
      throw new RangeError(`input row ${row} has a non-finite value (${x[i]}) at step ${step}, feature ${i % shape.features}`);
    }
  }
}

/**
 * The model's uncalibrated probabilities for n windows, PREDICT_BATCH rows
 * at a time; every intermediate tensor is disposed. Each batch is its own
 * tensor run through model.apply: the same numbers as
 * predict(x, { batchSize: 4096 }) without predict's per-batch copy of the
 * input, which costs as much as a small model itself (MEASURE.md). Yields to
 * the event loop between batches so a long call does not starve timers and I/O.
 */
export async function predictRaw(model: tf.LayersModel, x: Float32Array, n: number, shape: WindowShape): Promise<Float32Array> {
  const out = new Float32Array(n);
  const rowSize = shape.steps * shape.features;
  for (let start = 0; start < n; start += PREDICT_BATCH) {
    const rows = Math.min(PREDICT_BATCH, n - start);
    const values = tf.tidy(() => {
      const input = tf.tensor3d(x.subarray(start * rowSize, (start + rows) * rowSize), [rows, shape.steps, shape.features]);
      const output = model.apply(input, { training: false });
      if (!(output instanceof tf.Tensor)) throw new Error('expected a model with one output');
      return output.dataSync();
    });
    out.set(values, start);
    if (start + rows < n) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return out;
}
