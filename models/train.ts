import * as tf from '@tensorflow/tfjs';
import { buildModel, buildTcn } from './architecture.js';
import type { ModelKind, TcnOptions } from './architecture.js';
import { initTf } from './backend.js';
import { applyCalibration, fitPlatt } from './calibration.js';
import type { Calibration } from './calibration.js';
import { validationMetrics } from './metrics.js';
import type { Metrics } from './metrics.js';
import { checkWindow, predictRaw } from './predict.js';
import type { WindowShape } from './predict.js';
import { seededRandom, shuffleInPlace } from './random.js';

export { applyCalibration } from './calibration.js';
export type { Calibration } from './calibration.js';
export { averagePrecision, rocAuc } from './metrics.js';
export type { Metrics } from './metrics.js';
export type { ModelKind } from './architecture.js';

/** The architecture MEASURE.md chose. */
export const DEFAULT_KIND: ModelKind = 'tcn';

export interface TrainInput {
  /** n × steps × features values, row-major (the layout the scorer builds). */
  x: Float32Array;
  /** n labels, 0 or 1. */
  y: Uint8Array;
  n: number;
  steps: number;
  features: number;
  /** Default DEFAULT_KIND. */
  kind?: ModelKind;
  /** Default 20. */
  epochs?: number;
  /** Default 256. */
  batchSize?: number;
  seed: number;
  /** Share of each class held out for validation and calibration; default 0.2. */
  validationFraction?: number;
  /** TCN shape (channels, kernel size, dilations, unfold method); defaults in architecture.ts. */
  tcn?: Omit<TcnOptions, 'steps' | 'features' | 'seed'>;
  /** After each epoch (0-based, as in tfjs); losses are class-weighted. */
  onEpoch?: (epoch: number, logs: { loss: number; valLoss?: number }) => void;
}

export interface TrainedModel {
  model: tf.LayersModel;
  calibration: Calibration;
  /** On the validation split, after calibration. */
  metrics: Metrics;
  kind: ModelKind;
  /** The tfjs backend that trained it. */
  backend: string;
}

const LEARNING_RATE = 2e-3;
const EPS = 1e-7;

/**
 * Trains one model. The imbalance (positives can be ~1 %) is handled with
 * balanced class weights in the loss; the resulting over-confident
 * probabilities are then Platt-calibrated on the validation split, where the
 * metrics are measured too. Same seed, data and backend → same model.
 */
export async function trainModel(input: TrainInput): Promise<TrainedModel> {
  const { x, y, n, steps, features, seed } = input;
  const kind = input.kind ?? DEFAULT_KIND;
  const epochs = input.epochs ?? 20;
  const batchSize = input.batchSize ?? 256;
  const validationFraction = input.validationFraction ?? 0.2;
  const shape: WindowShape = { steps, features };
  checkWindow(x, n, shape);
  checkLabels(y, n);
  if (!Number.isInteger(epochs) || epochs < 0) throw new RangeError(`epochs must be a non-negative integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  if (!(validationFraction > 0 && validationFraction < 1)) {
    throw new RangeError(`validationFraction must be between 0 and 1, got ${validationFraction}`);
  }

  const { backend } = await initTf();
  const random = seededRandom(seed);
  const split = stratifiedSplit(y, validationFraction, random);
  const train = gatherRows(x, y, split.train, shape);
  const validation = gatherRows(x, y, split.validation, shape);
  const weights = classWeights(train.y);

  const model = kind === 'tcn' ? buildTcn({ ...input.tcn, steps, features, seed }) : buildModel(kind, { steps, features, seed });
  const optimizer = tf.train.adam(LEARNING_RATE);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const order = Uint32Array.from({ length: train.n }, (_, i) => i);
  const rowSize = steps * features;
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      shuffleInPlace(order, random);
      let lossSum = 0;
      for (let start = 0; start < train.n; start += batchSize) {
        const rows = Math.min(batchSize, train.n - start);
        const bx = new Float32Array(rows * rowSize);
        const by = new Float32Array(rows);
        const bw = new Float32Array(rows);
        for (let r = 0; r < rows; r++) {
          const i = order[start + r] ?? 0;
          bx.set(train.x.subarray(i * rowSize, (i + 1) * rowSize), r * rowSize);
          const label = train.y[i] ?? 0;
          by[r] = label;
          bw[r] = label === 1 ? weights.positive : weights.negative;
        }
        const xs = tf.tensor3d(bx, [rows, steps, features]);
        const ys = tf.tensor1d(by);
        const ws = tf.tensor1d(bw);
        try {
          const cost = optimizer.minimize(() => weightedLogLoss(model.apply(xs, { training: true }) as tf.Tensor, ys, ws), true, variables);
          if (cost) {
            lossSum += ((await cost.data())[0] ?? 0) * rows;
            cost.dispose();
          }
        } finally {
          tf.dispose([xs, ys, ws]);
        }
      }
      if (input.onEpoch) {
        const rawVal = await predictRaw(model, validation.x, validation.n, shape);
        input.onEpoch(epoch, { loss: lossSum / train.n, valLoss: weightedLogLossJs(rawVal, validation.y, weights) });
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    optimizer.dispose();
  }

  const raw = await predictRaw(model, validation.x, validation.n, shape);
  const calibration = fitPlatt(raw, validation.y);
  const metrics = validationMetrics(applyCalibration(calibration, raw), raw, validation.y);
  return { model, calibration, metrics, kind, backend };
}

function checkLabels(y: Uint8Array, n: number): void {
  if (y.length !== n) throw new RangeError(`y has ${y.length} labels, expected n = ${n}`);
  let positives = 0;
  for (let i = 0; i < n; i++) {
    const label = y[i];
    if (label !== 0 && label !== 1) throw new RangeError(`label ${i} is ${label}; labels must be 0 or 1`);
    positives += label;
  }
  if (positives < 2 || n - positives < 2) {
    throw new RangeError(
      `need at least 2 positives and 2 negatives to train and validate, got ${positives} and ${n - positives}`,
    );
  }
}

/** Per class: shuffle, hold out round(fraction · count), at least one of each class on each side. */
function stratifiedSplit(y: Uint8Array, fraction: number, random: () => number): { train: Uint32Array; validation: Uint32Array } {
  const train: number[] = [];
  const validation: number[] = [];
  for (const label of [0, 1]) {
    const members: number[] = [];
    for (let i = 0; i < y.length; i++) if (y[i] === label) members.push(i);
    shuffleInPlace(members, random);
    const held = Math.min(members.length - 1, Math.max(1, Math.round(members.length * fraction)));
    validation.push(...members.slice(0, held));
    train.push(...members.slice(held));
  }
  // Sorted, so the split depends on the seed only, not on the class order above.
  return { train: Uint32Array.from(train).sort(), validation: Uint32Array.from(validation).sort() };
}

interface Rows {
  x: Float32Array;
  y: Uint8Array;
  n: number;
}

function gatherRows(x: Float32Array, y: Uint8Array, indices: Uint32Array, shape: WindowShape): Rows {
  const rowSize = shape.steps * shape.features;
  const out: Rows = { x: new Float32Array(indices.length * rowSize), y: new Uint8Array(indices.length), n: indices.length };
  indices.forEach((source, r) => {
    out.x.set(x.subarray(source * rowSize, (source + 1) * rowSize), r * rowSize);
    out.y[r] = y[source] ?? 0;
  });
  return out;
}

/** "Balanced" weights: each class contributes half of the expected loss. */
function classWeights(y: Uint8Array): { positive: number; negative: number } {
  let positives = 0;
  for (const label of y) positives += label;
  const negatives = y.length - positives;
  return { positive: y.length / (2 * positives), negative: y.length / (2 * negatives) };
}

function weightedLogLoss(p: tf.Tensor, y: tf.Tensor1D, w: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const q = tf.clipByValue(tf.reshape(p, [-1]), EPS, 1 - EPS);
    const perRow = tf.neg(tf.add(tf.mul(y, tf.log(q)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, q)))));
    return tf.mean(tf.mul(w, perRow));
  });
}

function weightedLogLossJs(p: Float32Array, y: Uint8Array, weights: { positive: number; negative: number }): number {
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(1 - EPS, Math.max(EPS, p[i] ?? 0));
    sum -= y[i] === 1 ? weights.positive * Math.log(q) : weights.negative * Math.log(1 - q);
  }
  return sum / y.length;
}
