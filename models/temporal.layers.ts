import * as tf from '@tensorflow/tfjs';

/**
 * Custom layers for a causal temporal convolution built from ops that have
 * gradients on the wasm backend (which lacks Conv2DBackpropFilter, so Conv1D
 * cannot train there).
 */

type LayerArgs = ConstructorParameters<typeof tf.layers.Layer>[0];
type Shape = (number | null)[];

/**
 * How TemporalUnfold moves the data; both give identical values and
 * gradients. On wasm a 3-D Slice copies its whole input out of the wasm heap
 * and then, like a Concat on the last axis, copies one channel vector per
 * (row, step) in JavaScript; a matmul with a constant 0/1 shift matrix runs
 * in XNNPACK and makes the TCN infer markedly faster (models/MEASURE.md).
 * 'slice-concat' is kept as the plain reference.
 */
export type UnfoldMethod = 'shift-matmul' | 'slice-concat';

export interface TemporalUnfoldArgs extends NonNullable<LayerArgs> {
  kernelSize: number;
  dilation: number;
  /** Default 'shift-matmul'. */
  method?: UnfoldMethod;
}

/**
 * [batch, steps, channels] → [batch, steps, kernelSize·channels], where output
 * step t is x[t], x[t−d], …, x[t−(k−1)d] concatenated along the channel axis,
 * with zeros before the first step (causal: step t sees nothing after t).
 * A Dense on the result is a dilated causal Conv1D.
 */
export class TemporalUnfold extends tf.layers.Layer {
  static readonly className = 'TemporalUnfold';
  readonly kernelSize: number;
  readonly dilation: number;
  readonly method: UnfoldMethod;

  constructor(args: TemporalUnfoldArgs) {
    super(args);
    if (!Number.isInteger(args.kernelSize) || args.kernelSize < 1) {
      throw new RangeError(`TemporalUnfold kernelSize must be a positive integer, got ${args.kernelSize}`);
    }
    if (!Number.isInteger(args.dilation) || args.dilation < 1) {
      throw new RangeError(`TemporalUnfold dilation must be a positive integer, got ${args.dilation}`);
    }
    this.kernelSize = args.kernelSize;
    this.dilation = args.dilation;
    this.method = args.method ?? 'shift-matmul';
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(inputShape, 3, this.name);
    const channels = shape[2] ?? null;
    return [shape[0] ?? null, shape[1] ?? null, channels === null ? null : channels * this.kernelSize];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs, 3, this.name);
      if (this.kernelSize === 1) return x.clone();
      return this.method === 'slice-concat' ? this.sliceConcat(x) : this.shiftMatmul(x);
    });
  }

  private sliceConcat(x: tf.Tensor): tf.Tensor {
    const [batch, steps, channels] = x.shape as [number, number, number];
    const taps: tf.Tensor[] = [x];
    for (let j = 1; j < this.kernelSize; j++) {
      const shift = j * this.dilation;
      if (shift >= steps) taps.push(tf.zerosLike(x));
      else taps.push(tf.pad(tf.slice(x, [0, 0, 0], [batch, steps - shift, channels]), [[0, 0], [shift, 0], [0, 0]]));
    }
    return tf.concat(taps, 2);
  }

  /**
   * Time moved to the last axis, one matmul with S[s, j·steps + t] = 1 iff
   * s = t − j·d makes every tap at once (a 0/1 product is exact), then the
   * taps are interleaved back to [batch, steps, tap, channel].
   */
  private shiftMatmul(x: tf.Tensor): tf.Tensor {
    const [batch, steps, channels] = x.shape as [number, number, number];
    const k = this.kernelSize;
    const byChannel = tf.reshape(tf.transpose(x, [0, 2, 1]), [batch * channels, steps]);
    const shifted = tf.matMul(byChannel, shiftMatrix(steps, k, this.dilation));
    const taps = tf.transpose(tf.reshape(shifted, [batch, channels, k, steps]), [0, 3, 2, 1]);
    return tf.reshape(taps, [batch, steps, k * channels]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), kernelSize: this.kernelSize, dilation: this.dilation, method: this.method };
  }
}

/**
 * [batch, steps, channels] → [batch, channels]: the most recent step. A
 * matmul with a 0/1 selection matrix rather than tf.slice: on wasm a Slice
 * first copies its whole input out of the wasm heap, which took about a third
 * of the TCN's inference time when measured.
 */
export class LastStep extends tf.layers.Layer {
  static readonly className = 'LastStep';

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(inputShape, 3, this.name);
    return [shape[0] ?? null, shape[2] ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs, 3, this.name);
      const [batch, steps, channels] = x.shape as [number, number, number];
      return tf.matMul(tf.reshape(x, [batch, steps * channels]), lastStepMatrix(steps, channels));
    });
  }
}

const constants = new Map<string, tf.Tensor2D>();

/** A constant 0/1 matrix, built once per shape and kept outside any tidy. */
function constant(key: string, rows: number, columns: number, fill: (values: Float32Array) => void): tf.Tensor2D {
  const cached = constants.get(key);
  if (cached && !cached.isDisposed) return cached;
  const values = new Float32Array(rows * columns);
  fill(values);
  const matrix = tf.keep(tf.tensor2d(values, [rows, columns]));
  constants.set(key, matrix);
  return matrix;
}

/** [steps, k·steps] with S[s, j·steps + t] = 1 iff s = t − j·d. */
function shiftMatrix(steps: number, k: number, dilation: number): tf.Tensor2D {
  return constant(`shift/${steps}/${k}/${dilation}`, steps, k * steps, (values) => {
    for (let j = 0; j < k; j++) {
      for (let t = j * dilation; t < steps; t++) values[(t - j * dilation) * k * steps + j * steps + t] = 1;
    }
  });
}

/** [steps·channels, channels] picking the last step of a flattened window. */
function lastStepMatrix(steps: number, channels: number): tf.Tensor2D {
  return constant(`last/${steps}/${channels}`, steps * channels, channels, (values) => {
    for (let c = 0; c < channels; c++) values[((steps - 1) * channels + c) * channels + c] = 1;
  });
}

function single(inputs: tf.Tensor | tf.Tensor[], rank: number, layer: string): tf.Tensor {
  const x = Array.isArray(inputs) ? inputs[0] : inputs;
  if (x === undefined || (Array.isArray(inputs) && inputs.length !== 1)) {
    throw new Error(`${layer} takes exactly one input`);
  }
  if (x.rank !== rank) throw new Error(`${layer} expects a rank-${rank} input, got shape [${x.shape.join(', ')}]`);
  return x;
}

function singleShape(inputShape: Shape | Shape[], rank: number, layer: string): Shape {
  const first = inputShape[0];
  const shape = Array.isArray(first) ? (inputShape as Shape[]) : [inputShape as Shape];
  if (shape.length !== 1 || shape[0] === undefined) throw new Error(`${layer} takes exactly one input`);
  if (shape[0].length !== rank) throw new Error(`${layer} expects a rank-${rank} input, got [${shape[0].join(', ')}]`);
  return shape[0];
}

// Registration is what lets tf.loadLayersModel rebuild a saved TCN.
tf.serialization.registerClass(TemporalUnfold);
tf.serialization.registerClass(LastStep);
