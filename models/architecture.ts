import * as tf from '@tensorflow/tfjs';
import { LastStep, TemporalUnfold } from './temporal.layers.js';
import type { UnfoldMethod } from './temporal.layers.js';

/**
 * Model builders. Each returns an uncompiled LayersModel mapping
 * [batch, steps, features] to one sigmoid probability per sequence. All
 * initialisers are seeded so the same seed builds the same weights.
 */

export type ModelKind = 'tcn' | 'gru' | 'mlp' | 'logistic';

export interface ArchitectureOptions {
  steps: number;
  features: number;
  seed: number;
}

export interface TcnOptions extends ArchitectureOptions {
  /** Channels of every block; default 16. */
  channels?: number;
  /** Taps per block; default 3. */
  kernelSize?: number;
  /** One block per dilation; default [1, 2, 4] (receptive field 15 steps). */
  dilations?: readonly number[];
  /** How TemporalUnfold is computed; default 'shift-matmul' (see UnfoldMethod). */
  unfold?: UnfoldMethod;
}

export interface GruOptions extends ArchitectureOptions {
  /** Default 32. */
  units?: number;
}

export interface MlpOptions extends ArchitectureOptions {
  /** Hidden layer widths; default [64, 32]. */
  hidden?: readonly number[];
}

/** Seeds each initialiser differently but reproducibly. */
function seeds(seed: number): () => number {
  let i = 0;
  return () => (Math.abs(Math.trunc(seed)) % 1_000_000) * 1_000 + i++;
}

function glorot(next: () => number): ReturnType<typeof tf.initializers.glorotUniform> {
  return tf.initializers.glorotUniform({ seed: next() });
}

function checkShape(opts: ArchitectureOptions): void {
  for (const key of ['steps', 'features'] as const) {
    if (!Number.isInteger(opts[key]) || opts[key] < 1) {
      throw new RangeError(`${key} must be a positive integer, got ${opts[key]}`);
    }
  }
}

/**
 * Dilated causal temporal convolution: per block, TemporalUnfold then a Dense
 * over the channel axis (= Conv1D), ReLU, residual from the second block on.
 * The head sees the last step and a max over time, so an event early in the
 * window still counts after the receptive field has moved past it.
 */
export function buildTcn(opts: TcnOptions): tf.LayersModel {
  checkShape(opts);
  const next = seeds(opts.seed);
  const channels = opts.channels ?? 16;
  const kernelSize = opts.kernelSize ?? 3;
  const dilations = opts.dilations ?? [1, 2, 4];
  const input = tf.input({ shape: [opts.steps, opts.features], name: 'window' });
  let h: tf.SymbolicTensor = input;
  dilations.forEach((dilation, i) => {
    const unfolded = new TemporalUnfold({ kernelSize, dilation, method: opts.unfold, name: `tcn_unfold_${i}` }).apply(h) as tf.SymbolicTensor;
    const conv = tf.layers
      .dense({ units: channels, activation: 'relu', kernelInitializer: glorot(next), name: `tcn_conv_${i}` })
      .apply(unfolded) as tf.SymbolicTensor;
    h = i === 0 ? conv : (tf.layers.add({ name: `tcn_residual_${i}` }).apply([h, conv]) as tf.SymbolicTensor);
  });
  const last = new LastStep({ name: 'tcn_last' }).apply(h) as tf.SymbolicTensor;
  const peak = tf.layers.globalMaxPooling1d({ name: 'tcn_peak' }).apply(h) as tf.SymbolicTensor;
  const both = tf.layers.concatenate({ name: 'tcn_head_in' }).apply([last, peak]) as tf.SymbolicTensor;
  const output = tf.layers
    .dense({ units: 1, activation: 'sigmoid', kernelInitializer: glorot(next), name: 'probability' })
    .apply(both) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: 'tcn' });
}

export function buildGru(opts: GruOptions): tf.LayersModel {
  checkShape(opts);
  const next = seeds(opts.seed);
  const model = tf.sequential({ name: 'gru' });
  model.add(
    tf.layers.gru({
      inputShape: [opts.steps, opts.features],
      units: opts.units ?? 32,
      // tfjs defaults to hard_sigmoid; Keras and the literature use sigmoid.
      recurrentActivation: 'sigmoid',
      kernelInitializer: glorot(next),
      // Keras uses orthogonal here; tfjs's orthogonal runs a QR on every build
      // and prints a slowness warning above 2000 elements, so glorot instead.
      recurrentInitializer: glorot(next),
      name: 'recurrent',
    }),
  );
  model.add(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: glorot(next), name: 'probability' }));
  return model;
}

export function buildMlp(opts: MlpOptions): tf.LayersModel {
  checkShape(opts);
  const next = seeds(opts.seed);
  const model = tf.sequential({ name: 'mlp' });
  model.add(tf.layers.flatten({ inputShape: [opts.steps, opts.features], name: 'flatten' }));
  (opts.hidden ?? [64, 32]).forEach((units, i) => {
    model.add(tf.layers.dense({ units, activation: 'relu', kernelInitializer: glorot(next), name: `hidden_${i}` }));
  });
  model.add(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: glorot(next), name: 'probability' }));
  return model;
}

/** Baseline for the evaluation: logistic regression on the flattened window. */
export function buildLogistic(opts: ArchitectureOptions): tf.LayersModel {
  checkShape(opts);
  const next = seeds(opts.seed);
  const model = tf.sequential({ name: 'logistic' });
  model.add(tf.layers.flatten({ inputShape: [opts.steps, opts.features], name: 'flatten' }));
  model.add(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: glorot(next), name: 'probability' }));
  return model;
}

export function buildModel(kind: ModelKind, opts: ArchitectureOptions): tf.LayersModel {
  switch (kind) {
    case 'tcn':
      return buildTcn(opts);
    case 'gru':
      return buildGru(opts);
    case 'mlp':
      return buildMlp(opts);
    case 'logistic':
      return buildLogistic(opts);
  }
}
