import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildMlp, buildTcn } from './architecture.js';
import { initTf } from './backend.js';
import { predictRaw } from './predict.js';
import { syntheticWindows } from './synthetic.js';

describe('predictRaw', () => {
  beforeAll(async () => {
    await initTf('wasm');
  });

  it('gives exactly what predict(x, { batchSize: 4096 }) gives, across a batch boundary', async () => {
    const data = syntheticWindows({ n: 5000, seed: 8, features: 6 });
    for (const model of [buildTcn({ steps: 24, features: 6, seed: 1 }), buildMlp({ steps: 24, features: 6, seed: 1 })]) {
      const x = tf.tensor3d(data.x, [data.n, 24, 6]);
      const viaPredict = model.predict(x, { batchSize: 4096 }) as tf.Tensor;
      const expected = viaPredict.dataSync();
      const before = tf.memory().numTensors;
      const got = await predictRaw(model, data.x, data.n, data);
      expect(tf.memory().numTensors).toBe(before);
      expect(got).toEqual(expected);
      tf.dispose([x, viaPredict]);
      model.dispose();
    }
  });
});
