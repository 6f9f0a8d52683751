import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initTf } from './backend.js';
import { LastStep, TemporalUnfold } from './temporal.layers.js';
import type { UnfoldMethod } from './temporal.layers.js';

const METHODS: UnfoldMethod[] = ['shift-matmul', 'slice-concat'];

function unfold(x: tf.Tensor, kernelSize: number, dilation: number, method: UnfoldMethod): number[][][] {
  const out = new TemporalUnfold({ kernelSize, dilation, method }).apply(x) as tf.Tensor;
  const values = out.arraySync() as number[][][];
  out.dispose();
  return values;
}

describe('TemporalUnfold', () => {
  beforeAll(async () => {
    await initTf('wasm');
  });

  // x[b, t, c]: batch 1, 4 steps, 2 channels.
  const x = (): tf.Tensor3D => tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [1, 4, 2]);

  for (const method of METHODS) {
    it(`${method}: step t is x[t], x[t−d], x[t−2d] with zeros before the start`, () => {
      expect(unfold(x(), 3, 2, method)).toEqual([
        [
          [1, 2, 0, 0, 0, 0],
          [3, 4, 0, 0, 0, 0],
          [5, 6, 1, 2, 0, 0],
          [7, 8, 3, 4, 0, 0],
        ],
      ]);
      expect(unfold(x(), 2, 1, method)).toEqual([
        [
          [1, 2, 0, 0],
          [3, 4, 1, 2],
          [5, 6, 3, 4],
          [7, 8, 5, 6],
        ],
      ]);
    });

    it(`${method}: a tap beyond the window is all zeros`, () => {
      expect(unfold(x(), 2, 5, method)).toEqual([
        [
          [1, 2, 0, 0],
          [3, 4, 0, 0],
          [5, 6, 0, 0],
          [7, 8, 0, 0],
        ],
      ]);
    });
  }

  it('both methods have the same gradient (each x[t] counted once per tap that sees it)', () => {
    const input = tf.randomNormal([3, 6, 2], 0, 1, 'float32', 7);
    const weights = tf.range(1, 1 + 3 * 2).reshape([1, 1, 6]);
    const grads = METHODS.map((method) => {
      const layer = new TemporalUnfold({ kernelSize: 3, dilation: 2, method });
      return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(layer.apply(a) as tf.Tensor, weights)))(input).arraySync() as number[][][];
    });
    expect(grads[0]).toEqual(grads[1]);
    // x[t] feeds tap 0 at t, tap 1 at t+2, tap 2 at t+4 (weights 1–2, 3–4, 5–6 per channel).
    const first = grads[0]?.[0];
    expect(first?.[0]).toEqual([1 + 3 + 5, 2 + 4 + 6]);
    expect(first?.[5]).toEqual([1, 2]);
    expect(first?.[3]).toEqual([1 + 3, 2 + 4]);
  });

  it('round-trips its config', () => {
    const layer = new TemporalUnfold({ kernelSize: 3, dilation: 4, method: 'slice-concat', name: 'u' });
    const config = layer.getConfig();
    expect(config).toMatchObject({ kernelSize: 3, dilation: 4, method: 'slice-concat', name: 'u' });
    expect(layer.computeOutputShape([null, 24, 16])).toEqual([null, 24, 48]);
  });

  it('LastStep takes the most recent step', () => {
    const out = new LastStep({}).apply(x()) as tf.Tensor;
    expect(out.arraySync()).toEqual([[7, 8]]);
  });
});
