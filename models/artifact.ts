import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { initTf } from './backend.js';
import { applyCalibration } from './calibration.js';
import type { Calibration } from './calibration.js';
import { featureMismatchMessage, ModelArtifactError } from './artifact.contract.js';
import type { ArtifactMetadata, FeatureSpec } from './artifact.contract.js';
import { checkWindow, predictRaw } from './predict.js';
import type { TrainedModel } from './train.js';
// Registers the custom layers so a saved TCN deserialises.
import './temporal.layers.js';

export { ModelArtifactError } from './artifact.contract.js';
export type { ArtifactMetadata, FeatureSpec } from './artifact.contract.js';

/**
 * A model on disk: `<dir>/model.json` + `<dir>/weights.bin` (the layout
 * tfjs-node's file:// handler writes and reads) + `<dir>/metadata.json`.
 * Without tfjs-node there is no file:// handler, so both directions go
 * through in-memory model artifacts.
 */

export interface LoadedModel {
  model: tf.LayersModel;
  calibration: Calibration;
  metadata: ArtifactMetadata;
  /** Calibrated probabilities for n windows laid out as [n, steps, features]. */
  predict(x: Float32Array, n: number): Promise<Float32Array>;
}

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';
const METADATA_JSON = 'metadata.json';
const RETRAIN = 'retrain with `npx ews train`';

export async function saveArtifact(
  dir: string,
  trained: TrainedModel,
  meta: { featureSpec: FeatureSpec; trainingWindow: { from: string; to: string }; seed: number; notes?: string; reference?: { readonly mean: readonly number[]; readonly sd: readonly number[] } },
): Promise<void> {
  const inputShape = trained.model.inputs[0]?.shape ?? [];
  if (inputShape[1] !== meta.featureSpec.steps || inputShape[2] !== meta.featureSpec.names.length) {
    throw new RangeError(
      `the model takes windows of [${inputShape.slice(1).join(', ')}] but the feature spec describes ` +
        `[${meta.featureSpec.steps}, ${meta.featureSpec.names.length}]`,
    );
  }
  let captured: tf.io.ModelArtifacts | undefined;
  await trained.model.save(
    tf.io.withSaveHandler((artifacts) => {
      captured = artifacts;
      return Promise.resolve({ modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) });
    }),
  );
  if (!captured?.weightSpecs || captured.weightData === undefined) throw new Error('tfjs returned no weights to save');

  const modelJson: tf.io.ModelJSON = {
    modelTopology: captured.modelTopology as object,
    format: captured.format ?? 'layers-model',
    generatedBy: captured.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: captured.convertedBy ?? null,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: captured.weightSpecs }],
  };
  const metadata: ArtifactMetadata = {
    formatVersion: 1,
    kind: trained.kind,
    featureSpec: { version: meta.featureSpec.version, steps: meta.featureSpec.steps, names: [...meta.featureSpec.names] },
    trainingWindow: { ...meta.trainingWindow },
    seed: meta.seed,
    metrics: trained.metrics,
    calibration: trained.calibration,
    tfjsVersion: tf.version.tfjs,
    backend: trained.backend,
    createdAt: new Date().toISOString(),
    ...(meta.notes === undefined ? {} : { notes: meta.notes }),
    ...(meta.reference === undefined ? {} : { reference: { mean: [...meta.reference.mean], sd: [...meta.reference.sd] } }),
  };

  // Written beside the target and renamed into place, so a reader never sees
  // a half-written artifact.
  const target = path.resolve(dir);
  const staging = `${target}.partial-${process.pid}-${Date.now()}`;
  await fs.mkdir(staging, { recursive: true });
  try {
    await fs.writeFile(path.join(staging, WEIGHTS_BIN), new Uint8Array(tf.io.CompositeArrayBuffer.join(captured.weightData)));
    await fs.writeFile(path.join(staging, MODEL_JSON), JSON.stringify(modelJson));
    await fs.writeFile(path.join(staging, METADATA_JSON), `${JSON.stringify(metadata, null, 2)}\n`);
    if (existsSync(target)) await removeOldArtifact(dir, target);
    await fs.rename(staging, target);
  } catch (err) {
    await fs.rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/** Replaces only what is recognisably an artifact (or empty): never a source folder. */
async function removeOldArtifact(dir: string, target: string): Promise<void> {
  const entries = await fs.readdir(target);
  const known = new Set([MODEL_JSON, WEIGHTS_BIN, METADATA_JSON]);
  if (entries.some((entry) => !known.has(entry))) {
    throw new ModelArtifactError(
      `refusing to overwrite ${dir}: it holds files other than ${[...known].join(', ')}; choose a new artifact directory`,
    );
  }
  await fs.rm(target, { recursive: true, force: true });
}

export async function loadArtifact(dir: string, expected: FeatureSpec): Promise<LoadedModel> {
  const target = path.resolve(dir);
  const stat = await fs.stat(target).catch(() => undefined);
  if (!stat?.isDirectory()) {
    throw new ModelArtifactError(`model directory ${dir} does not exist: train one with \`npx ews train\` or fix the model path`);
  }
  for (const file of [MODEL_JSON, WEIGHTS_BIN, METADATA_JSON]) {
    if (!existsSync(path.join(target, file))) {
      throw new ModelArtifactError(`model ${dir} is incomplete: ${file} is missing (an artifact needs ${MODEL_JSON}, ${WEIGHTS_BIN} and ${METADATA_JSON}); ${RETRAIN}`);
    }
  }
  const modelJson = modelJsonSchema.safeParse(await readJson(dir, target, MODEL_JSON));
  if (!modelJson.success) {
    throw new ModelArtifactError(`model ${dir}: ${MODEL_JSON} is not a tfjs layers model (${z.prettifyError(modelJson.error)}); ${RETRAIN}`);
  }
  const parsedMeta = metadataSchema.safeParse(await readJson(dir, target, METADATA_JSON));
  if (!parsedMeta.success) {
    throw new ModelArtifactError(`model ${dir}: ${METADATA_JSON} is not valid model metadata (${z.prettifyError(parsedMeta.error)}); ${RETRAIN}`);
  }
  const metadata = parsedMeta.data as ArtifactMetadata;
  const mismatch = featureMismatchMessage(dir, metadata.featureSpec, expected);
  if (mismatch) throw new ModelArtifactError(mismatch);

  const manifest = modelJson.data.weightsManifest as tf.io.WeightsManifestConfig;
  const foreign = manifest.flatMap((group) => group.paths).filter((p) => p !== WEIGHTS_BIN);
  if (foreign.length > 0) {
    throw new ModelArtifactError(`model ${dir}: ${MODEL_JSON} refers to weight files other than ${WEIGHTS_BIN} (${foreign.join(', ')}); ${RETRAIN}`);
  }
  const weightSpecs = tf.io.getWeightSpecs(manifest);
  const needed = weightSpecs.reduce((sum, spec) => sum + weightBytes(spec), 0);
  const weights = await fs.readFile(path.join(target, WEIGHTS_BIN));
  if (weights.byteLength !== needed) {
    throw new ModelArtifactError(
      `model ${dir}: ${WEIGHTS_BIN} has ${weights.byteLength} bytes, ${MODEL_JSON} needs ${needed}: the copy is truncated or from another model; copy the whole directory again or ${RETRAIN}`,
    );
  }

  await initTf();
  const artifacts = tf.io.getModelArtifactsForJSONSync(
    modelJson.data as tf.io.ModelJSON,
    weightSpecs,
    weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  );
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (err) {
    throw new ModelArtifactError(`model ${dir}: tfjs could not rebuild the model (${err instanceof Error ? err.message : String(err)}); ${RETRAIN}`);
  }
  const inputShape = model.inputs[0]?.shape ?? [];
  if (inputShape[1] !== metadata.featureSpec.steps || inputShape[2] !== metadata.featureSpec.names.length) {
    model.dispose();
    throw new ModelArtifactError(
      `model ${dir}: the network takes windows of [${inputShape.slice(1).join(', ')}] but ${METADATA_JSON} describes ` +
        `[${metadata.featureSpec.steps}, ${metadata.featureSpec.names.length}]: the files come from different models; ${RETRAIN}`,
    );
  }

  const shape = { steps: metadata.featureSpec.steps, features: metadata.featureSpec.names.length };
  const calibration = metadata.calibration;
  return {
    model,
    calibration,
    metadata,
    async predict(x: Float32Array, n: number): Promise<Float32Array> {
      checkWindow(x, n, shape);
      const raw = await predictRaw(model, x, n, shape);
      const bad = raw.findIndex((p) => Number.isNaN(p));
      if (bad !== -1) {
        const count = raw.reduce((sum, p) => sum + (Number.isNaN(p) ? 1 : 0), 0);
        throw new ModelArtifactError(
          `model ${dir} produced NaN for ${count} of ${n} rows (first: row ${bad}) from finite input: its weights are damaged; ${RETRAIN}`,
        );
      }
      return applyCalibration(calibration, raw);
    },
  };
}

async function readJson(dir: string, target: string, file: string): Promise<unknown> {
  const text = await fs.readFile(path.join(target, file), 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ModelArtifactError(
      `model ${dir}: ${file} is not valid JSON (${err instanceof Error ? err.message : String(err)}): the file is damaged; ${RETRAIN}`,
    );
  }
}

const BYTES_PER_DTYPE: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** Bytes a weight occupies in weights.bin (quantised weights are stored in their quantised type). */
function weightBytes(spec: tf.io.WeightsManifestEntry): number {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const bytes = BYTES_PER_DTYPE[dtype];
  if (bytes === undefined) throw new ModelArtifactError(`weight ${spec.name} has dtype ${dtype}, which this loader does not read; ${RETRAIN}`);
  return spec.shape.reduce((product, dim) => product * dim, 1) * bytes;
}

const modelJsonSchema = z.looseObject({
  modelTopology: z.looseObject({}),
  weightsManifest: z.array(
    z.looseObject({
      paths: z.array(z.string()),
      weights: z.array(z.looseObject({ name: z.string(), shape: z.array(z.number().int().nonnegative()), dtype: z.string() })),
    }),
  ),
});

// Numbers that may be NaN in memory are null in JSON.
const score = z.number().nullable().transform((v) => v ?? Number.NaN);

const metadataSchema = z.object({
  formatVersion: z.literal(1),
  kind: z.enum(['tcn', 'gru', 'mlp', 'logistic']),
  featureSpec: z.object({ version: z.string(), steps: z.number().int().positive(), names: z.array(z.string()) }),
  trainingWindow: z.object({ from: z.string(), to: z.string() }),
  seed: z.number(),
  metrics: z.object({
    n: z.number(),
    positives: z.number(),
    prAuc: score,
    rocAuc: score,
    brier: score,
    logLoss: score,
    uncalibrated: z.object({ brier: score, logLoss: score }),
  }),
  calibration: z.object({ method: z.literal('platt'), a: z.number(), b: z.number() }),
  tfjsVersion: z.string(),
  backend: z.string(),
  createdAt: z.string(),
  notes: z.string().optional(),
  reference: z.object({ mean: z.array(z.number()), sd: z.array(z.number().positive()) }).optional(),
});
