import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadArtifact, ModelArtifactError, saveArtifact } from './artifact.js';
import type { FeatureSpec } from './artifact.js';
import { startInferencePool } from './inference.pool.js';
import { syntheticWindows } from './synthetic.js';
import { trainModel } from './train.js';

const spec: FeatureSpec = { version: 'v1', steps: 24, names: ['a', 'b', 'c', 'd', 'e', 'f'] };
let root: string;
let dir: string;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'model-'));
  dir = path.join(root, 'tcn-pool');
  const data = syntheticWindows({ n: 600, seed: 41, features: 6, positiveRate: 0.1 });
  const trained = await trainModel({ ...data, kind: 'tcn', epochs: 1, seed: 2 });
  await saveArtifact(dir, trained, { featureSpec: spec, trainingWindow: { from: '2023-01', to: '2024-12' }, seed: 2 });
  trained.model.dispose();
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

// The pool itself (threads dying, asks, closing) is tested in services/threads/pool.test.ts.
describe('startInferencePool', () => {
  it('gives the same numbers as in-process predict, in order, across concurrent calls', async () => {
    const loaded = await loadArtifact(dir, spec);
    const calls = [20_000, 3, 9_001].map((n, i) => syntheticWindows({ n, seed: 50 + i, features: 6 }));
    const expected = await Promise.all(calls.map((c) => loaded.predict(c.x, c.n)));
    loaded.model.dispose();

    const pool = await startInferencePool(dir, spec, { threads: 2 });
    try {
      expect(pool.backend).toBe('wasm');
      expect(pool.version).toBe('tcn-pool');
      expect(pool.metadata.kind).toBe('tcn');
      const inputs = calls.map((c) => c.x.slice());
      const got = await Promise.all(calls.map((c, i) => pool.predict(inputs[i] ?? c.x, c.n)));
      got.forEach((g, i) => expect(g).toEqual(expected[i]));
      // The caller's arrays are copied, not transferred away.
      expect(inputs[0]?.length).toBe(20_000 * 24 * 6);
      // Handed over, a call small enough goes whole to one worker and its array is detached, not copied.
      const small = calls[2] as (typeof calls)[number];
      const own = small.x.slice();
      expect(await pool.predict(own, small.n, { handOver: true })).toEqual(expected[2]);
      expect(own.length).toBe(0);
      // A view into a larger buffer cannot be handed over without taking the rest: it is copied.
      const big = calls[0] as (typeof calls)[number];
      const rowSize = 24 * 6;
      const view = big.x.slice().subarray(0, 3 * rowSize);
      expect(await pool.predict(view, 3, { handOver: true })).toEqual((expected[0] as Float32Array).subarray(0, 3));
      expect(view.length).toBe(3 * rowSize);
      expect(await pool.predict(new Float32Array(0), 0)).toEqual(new Float32Array(0));
      await expect(pool.predict(new Float32Array(5), 1)).rejects.toThrow(RangeError);
    } finally {
      await pool.close();
    }
    await expect(pool.predict(new Float32Array(0), 0)).rejects.toThrow('inference pool is closed');
  });

  it('rejects with the ModelArtifactError a worker met while loading', async () => {
    const err: unknown = await startInferencePool(dir, { ...spec, version: 'v2' }, { threads: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ModelArtifactError);
    expect((err as Error).message).toBe(
      `model ${dir} was trained on feature version v1 (6 features), this code builds v2 (6 features): retrain with \`npx ews train\``,
    );
  });
});
