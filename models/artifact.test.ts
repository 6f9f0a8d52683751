import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadArtifact, ModelArtifactError, saveArtifact } from './artifact.js';
import type { FeatureSpec } from './artifact.js';
import { predictRaw } from './predict.js';
import { syntheticWindows } from './synthetic.js';
import { applyCalibration, trainModel } from './train.js';
import type { TrainedModel } from './train.js';

const RETRAIN = 'retrain with `npx ews train`';
const spec: FeatureSpec = { version: 'v1', steps: 24, names: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] };
const data = syntheticWindows({ n: 800, seed: 31, features: 8, positiveRate: 0.1 });

let root: string;
let trained: TrainedModel;
let saved: string;

/** A fresh copy of the saved artifact to damage. */
function copy(name: string): string {
  const dir = path.join(root, name);
  fs.cpSync(saved, dir, { recursive: true });
  return dir;
}

async function expectArtifactError(promise: Promise<unknown>, message: string): Promise<void> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelArtifactError);
  expect((err as Error).message).toBe(message);
}

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected invalid JSON');
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'model-'));
  trained = await trainModel({ ...data, kind: 'tcn', epochs: 2, seed: 3 });
  saved = path.join(root, 'tcn-v1');
  await saveArtifact(saved, trained, { featureSpec: spec, trainingWindow: { from: '2023-01', to: '2024-12' }, seed: 3, notes: 'test' });
});

afterAll(() => {
  trained.model.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('saveArtifact / loadArtifact', () => {
  it('writes the tfjs layout and metadata', () => {
    expect(fs.readdirSync(saved).sort()).toEqual(['metadata.json', 'model.json', 'weights.bin']);
    const modelJson = JSON.parse(fs.readFileSync(path.join(saved, 'model.json'), 'utf8')) as { format: string; weightsManifest: { paths: string[] }[] };
    expect(modelJson.format).toBe('layers-model');
    expect(modelJson.weightsManifest[0]?.paths).toEqual(['weights.bin']);
    const meta = JSON.parse(fs.readFileSync(path.join(saved, 'metadata.json'), 'utf8')) as Record<string, unknown>;
    expect(meta).toMatchObject({
      formatVersion: 1,
      kind: 'tcn',
      featureSpec: spec,
      trainingWindow: { from: '2023-01', to: '2024-12' },
      seed: 3,
      tfjsVersion: '4.22.0',
      backend: 'wasm',
      notes: 'test',
      calibration: trained.calibration,
    });
    expect(meta['metrics']).toMatchObject({ n: trained.metrics.n, positives: trained.metrics.positives });
    expect(Number.isNaN(Date.parse(meta['createdAt'] as string))).toBe(false);
  });

  it('reloads a model that predicts exactly the same calibrated probabilities', async () => {
    const loaded = await loadArtifact(saved, spec);
    const expected = applyCalibration(trained.calibration, await predictRaw(trained.model, data.x, data.n, data));
    const got = await loaded.predict(data.x, data.n);
    expect(got).toEqual(expected);
    expect(loaded.metadata.kind).toBe('tcn');
    expect(loaded.calibration).toEqual(trained.calibration);
    loaded.model.dispose();
  });

  it('replaces an older artifact but never a folder that is not one', async () => {
    const dir = copy('replace-me');
    await saveArtifact(dir, trained, { featureSpec: spec, trainingWindow: { from: '2024-01', to: '2025-12' }, seed: 4 });
    expect((JSON.parse(fs.readFileSync(path.join(dir, 'metadata.json'), 'utf8')) as { seed: number }).seed).toBe(4);
    const source = path.join(root, 'src');
    fs.mkdirSync(source);
    fs.writeFileSync(path.join(source, 'index.ts'), '');
    await expectArtifactError(
      saveArtifact(source, trained, { featureSpec: spec, trainingWindow: { from: 'a', to: 'b' }, seed: 1 }),
      `refusing to overwrite ${source}: it holds files other than model.json, weights.bin, metadata.json; choose a new artifact directory`,
    );
    expect(fs.readdirSync(source)).toEqual(['index.ts']);
  });
});

describe('ModelArtifactError', () => {
  it('missing directory', async () => {
    const dir = path.join(root, 'nope');
    await expectArtifactError(loadArtifact(dir, spec), `model directory ${dir} does not exist: train one with \`npx ews train\` or fix the model path`);
  });

  it('missing file', async () => {
    const dir = copy('no-weights');
    fs.rmSync(path.join(dir, 'weights.bin'));
    await expectArtifactError(
      loadArtifact(dir, spec),
      `model ${dir} is incomplete: weights.bin is missing (an artifact needs model.json, weights.bin and metadata.json); ${RETRAIN}`,
    );
  });

  it('model.json or metadata.json not valid JSON', async () => {
    for (const file of ['model.json', 'metadata.json']) {
      const dir = copy(`bad-${file}`);
      const text = fs.readFileSync(path.join(dir, file), 'utf8').slice(0, 40);
      fs.writeFileSync(path.join(dir, file), text);
      await expectArtifactError(loadArtifact(dir, spec), `model ${dir}: ${file} is not valid JSON (${jsonError(text)}): the file is damaged; ${RETRAIN}`);
    }
  });

  it('weights.bin size not matching the weight specs', async () => {
    const dir = copy('short-weights');
    const weights = fs.readFileSync(path.join(dir, 'weights.bin'));
    fs.writeFileSync(path.join(dir, 'weights.bin'), weights.subarray(0, weights.length - 12));
    await expectArtifactError(
      loadArtifact(dir, spec),
      `model ${dir}: weights.bin has ${weights.length - 12} bytes, model.json needs ${weights.length}: the copy is truncated or from another model; copy the whole directory again or ${RETRAIN}`,
    );
  });

  it('a feature spec that differs in version, steps or names', async () => {
    await expectArtifactError(
      loadArtifact(saved, { version: 'v2', steps: 24, names: [...spec.names, 'i'] }),
      `model ${saved} was trained on feature version v1 (8 features), this code builds v2 (9 features): ${RETRAIN}`,
    );
    await expectArtifactError(
      loadArtifact(saved, { ...spec, steps: 12 }),
      `model ${saved} was trained on feature version v1 (8 features × 24 months), this code builds v1 (8 features × 12 months): ${RETRAIN}`,
    );
    await expectArtifactError(
      loadArtifact(saved, { ...spec, names: ['a', 'b', 'x', 'd', 'e', 'f', 'g', 'h'] }),
      `model ${saved} was trained on feature version v1 (8 features), this code builds v1 (8 features) with different feature names (first difference at #2: "c" vs "x"): ${RETRAIN}`,
    );
  });

  it('a prediction containing NaN', async () => {
    const dir = copy('nan-weights');
    const size = fs.statSync(path.join(dir, 'weights.bin')).size;
    fs.writeFileSync(path.join(dir, 'weights.bin'), new Uint8Array(new Float32Array(size / 4).fill(Number.NaN).buffer));
    const loaded = await loadArtifact(dir, spec);
    await expectArtifactError(
      loaded.predict(data.x.subarray(0, 5 * 24 * 8), 5),
      `model ${dir} produced NaN for 5 of 5 rows (first: row 0) from finite input: its weights are damaged; ${RETRAIN}`,
    );
    loaded.model.dispose();
  });

  it('leaves input mistakes to the caller as RangeError', async () => {
    const loaded = await loadArtifact(saved, spec);
    await expect(loaded.predict(new Float32Array(10), 1)).rejects.toThrow(RangeError);
    const x = data.x.slice(0, 24 * 8);
    x[8 * 3 + 2] = Number.POSITIVE_INFINITY;
    await expect(loaded.predict(x, 1)).rejects.toThrow('input row 0 has a non-finite value (Infinity) at step 3, feature 2');
    loaded.model.dispose();
  });
});
