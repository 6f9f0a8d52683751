import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadArtifact, ModelArtifactError, saveArtifact } from './artifact.js';
import type { FeatureSpec } from './artifact.js';
import { startInferencePool } from './inference.pool.js';
import { syntheticWindows } from './synthetic.js';
import { trainModel } from './train.js';
import { startWorkerPool } from './worker-pool.js';

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

describe('startWorkerPool', () => {
  // A worker that echoes, dies on request, or throws outside any handler.
  const source = `
    const { parentPort } = require('node:worker_threads');
    parentPort.on('message', (m) => {
      if (m.request === 'exit') process.exit(3);
      if (m.request === 'throw') setImmediate(() => { throw new Error('boom'); });
      else parentPort.postMessage({ kind: 'result', id: m.id, value: m.request });
    });
    parentPort.postMessage({ kind: 'ready', info: 'up' });
  `;
  const spawn = (): Worker => new Worker(source, { eval: true });

  it('fails in-flight calls at once when a worker exits, then refuses new ones', async () => {
    const { pool, info } = await startWorkerPool<string, string, string>(spawn, { threads: 1 });
    expect(info).toEqual(['up']);
    expect(await pool.run('hello')).toBe('hello');
    await expect(pool.run('exit')).rejects.toThrow('inference worker 0 exited with code 3; 1 in-flight request(s) failed');
    expect(pool.live).toBe(0);
    await expect(pool.run('hello')).rejects.toThrow('inference pool has no live workers (worker 0 exited with code 3)');
    await pool.close();
  });

  it('fails in-flight calls when a worker crashes, and the others keep serving', async () => {
    const { pool } = await startWorkerPool<string, string, string>(spawn, { threads: 2 });
    await expect(pool.run('throw')).rejects.toThrow('inference worker 0 crashed: boom; 1 in-flight request(s) failed');
    expect(pool.live).toBe(1);
    expect(await pool.run('still here')).toBe('still here');
    await pool.close();
  });

  it('rejects start-up when a worker reports a failure', async () => {
    const failing = (): Worker =>
      new Worker(
        `require('node:worker_threads').parentPort.postMessage({ kind: 'startup-failed', error: { name: 'Error', message: 'no model' } });`,
        { eval: true },
      );
    await expect(startWorkerPool(failing, { threads: 2 })).rejects.toThrow('no model');
  });
});
