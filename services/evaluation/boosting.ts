/**
 * Gradient-boosted decision trees for binary labels (logistic loss,
 * second-order leaf values, histogram splits on per-feature quantile bins):
 * the strong tabular baseline the evaluation sets beside the sequence model.
 * Small and pure (no dependency, no I/O); not on the nightly path.
 */

export interface BoostingOptions {
  trees: number;
  depth: number;
  learningRate: number;
  /** Quantile bins per feature. */
  bins: number;
  /** Least hessian (≈ examples × p(1−p)) a leaf must hold. */
  minLeafWeight: number;
  /** L2 penalty on leaf values. */
  lambda: number;
}

export const DEFAULT_BOOSTING: BoostingOptions = { trees: 150, depth: 4, learningRate: 0.1, bins: 32, minLeafWeight: 1, lambda: 1 };

interface Node {
  feature: number;
  /** Goes left when the value's bin ≤ this. */
  bin: number;
  left: number;
  right: number;
  /** Leaf value (when feature < 0). */
  value: number;
}

export interface BoostedModel {
  readonly features: number;
  readonly base: number;
  /** Per feature, the upper edges of its bins (ascending). */
  readonly edges: readonly Float64Array[];
  readonly trees: readonly Node[][];
  readonly learningRate: number;
}

/** x: n rows of `features` values, row-major; y: 0/1; weights: per example (default 1). */
export function fitBoosting(x: Float32Array, y: Uint8Array, features: number, options: Partial<BoostingOptions> = {}, weights?: Float32Array): BoostedModel {
  const o = { ...DEFAULT_BOOSTING, ...options };
  const n = y.length;
  if (x.length !== n * features) throw new RangeError(`fitBoosting: x holds ${x.length} values, expected ${n} rows × ${features}`);
  const w = weights ?? new Float32Array(n).fill(1);
  const edges = Array.from({ length: features }, (_, f) => binEdges(x, n, features, f, o.bins));
  const binned = new Uint8Array(n * features);
  for (let r = 0; r < n; r++) for (let f = 0; f < features; f++) binned[r * features + f] = binOf(edges[f] as Float64Array, x[r * features + f] as number);

  let pos = 0;
  let all = 0;
  for (let r = 0; r < n; r++) {
    pos += (y[r] as number) * (w[r] as number);
    all += w[r] as number;
  }
  const prior = Math.min(1 - 1e-6, Math.max(1e-6, pos / Math.max(all, 1e-12)));
  const base = Math.log(prior / (1 - prior));
  const margin = new Float64Array(n).fill(base);
  const grad = new Float64Array(n);
  const hess = new Float64Array(n);
  const trees: Node[][] = [];
  const rows = new Int32Array(n);
  for (let t = 0; t < o.trees; t++) {
    for (let r = 0; r < n; r++) {
      const p = 1 / (1 + Math.exp(-(margin[r] as number)));
      grad[r] = (p - (y[r] as number)) * (w[r] as number);
      hess[r] = Math.max(1e-6, p * (1 - p)) * (w[r] as number);
      rows[r] = r;
    }
    const nodes: Node[] = [];
    grow(nodes, rows, 0, n, 0, binned, features, grad, hess, o);
    for (let r = 0; r < n; r++) margin[r] = (margin[r] as number) + o.learningRate * leafOfBinned(nodes, binned, r * features);
    trees.push(nodes);
  }
  return { features, base, edges, trees, learningRate: o.learningRate };
}

/** Probabilities for n rows of x. */
export function predictBoosting(model: BoostedModel, x: Float32Array, n: number): Float32Array {
  const F = model.features;
  const out = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let m = model.base;
    for (const nodes of model.trees) {
      let k = 0;
      for (;;) {
        const node = nodes[k] as Node;
        if (node.feature < 0) {
          m += model.learningRate * node.value;
          break;
        }
        const bin = binOf(model.edges[node.feature] as Float64Array, x[r * F + node.feature] as number);
        k = bin <= node.bin ? node.left : node.right;
      }
    }
    out[r] = 1 / (1 + Math.exp(-m));
  }
  return out;
}

function grow(
  nodes: Node[], rows: Int32Array, from: number, to: number, depth: number,
  binned: Uint8Array, F: number, grad: Float64Array, hess: Float64Array, o: BoostingOptions,
): number {
  const id = nodes.length;
  let G = 0;
  let H = 0;
  for (let k = from; k < to; k++) {
    const r = rows[k] as number;
    G += grad[r] as number;
    H += hess[r] as number;
  }
  const leaf: Node = { feature: -1, bin: 0, left: -1, right: -1, value: -G / (H + o.lambda) };
  nodes.push(leaf);
  if (depth >= o.depth || to - from < 2) return id;
  const score = (g: number, h: number): number => (g * g) / (h + o.lambda);
  const parent = score(G, H);
  let best = { gain: 1e-9, feature: -1, bin: 0 };
  const gh = new Float64Array(o.bins * 2);
  for (let f = 0; f < F; f++) {
    gh.fill(0);
    for (let k = from; k < to; k++) {
      const r = rows[k] as number;
      const b = binned[r * F + f] as number;
      gh[2 * b] = (gh[2 * b] as number) + (grad[r] as number);
      gh[2 * b + 1] = (gh[2 * b + 1] as number) + (hess[r] as number);
    }
    let gl = 0;
    let hl = 0;
    for (let b = 0; b < o.bins - 1; b++) {
      gl += gh[2 * b] as number;
      hl += gh[2 * b + 1] as number;
      const hr = H - hl;
      if (hl < o.minLeafWeight || hr < o.minLeafWeight) continue;
      const gain = score(gl, hl) + score(G - gl, hr) - parent;
      if (gain > best.gain) best = { gain, feature: f, bin: b };
    }
  }
  if (best.feature < 0) return id;
  // Partition rows[from, to) in place: left (bin ≤ split) first.
  let i = from;
  let j = to - 1;
  while (i <= j) {
    if ((binned[(rows[i] as number) * F + best.feature] as number) <= best.bin) i++;
    else {
      const tmp = rows[i] as number;
      rows[i] = rows[j] as number;
      rows[j] = tmp;
      j--;
    }
  }
  leaf.feature = best.feature;
  leaf.bin = best.bin;
  leaf.left = grow(nodes, rows, from, i, depth + 1, binned, F, grad, hess, o);
  leaf.right = grow(nodes, rows, i, to, depth + 1, binned, F, grad, hess, o);
  return id;
}

function leafOfBinned(nodes: readonly Node[], binned: Uint8Array, offset: number): number {
  let k = 0;
  for (;;) {
    const node = nodes[k] as Node;
    if (node.feature < 0) return node.value;
    k = (binned[offset + node.feature] as number) <= node.bin ? node.left : node.right;
  }
}

/** Upper edges of up to `bins` quantile bins of feature f (distinct values; the last bin is open). */
function binEdges(x: Float32Array, n: number, F: number, f: number, bins: number): Float64Array {
  const values = new Float64Array(n);
  for (let r = 0; r < n; r++) values[r] = x[r * F + f] as number;
  values.sort();
  const edges: number[] = [];
  for (let b = 1; b < bins; b++) {
    const v = values[Math.min(n - 1, Math.floor((b * n) / bins))] as number;
    if (edges.length === 0 || v > (edges[edges.length - 1] as number)) edges.push(v);
  }
  return Float64Array.from(edges);
}

/** The bin of v: the first edge ≥ v (values above every edge go to the last bin). */
function binOf(edges: Float64Array, v: number): number {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 0 : v > 0 ? edges.length : 0;
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((edges[mid] as number) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
