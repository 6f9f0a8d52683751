/**
 * Platt scaling: calibrated = sigmoid(a · logit(raw) + b), fitted on held-out
 * rows. Training with class weights inflates raw probabilities by design;
 * this maps them back to observed frequencies without changing the ranking
 * (when a > 0).
 */

export interface Calibration {
  method: 'platt';
  a: number;
  b: number;
}

export const IDENTITY_CALIBRATION: Readonly<Calibration> = Object.freeze({ method: 'platt', a: 1, b: 0 });

const EPS = 1e-7;

function logit(p: number): number {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
}

function sigmoid(s: number): number {
  return s >= 0 ? 1 / (1 + Math.exp(-s)) : Math.exp(s) / (1 + Math.exp(s));
}

/** log(1 + e^s) without overflow. */
function softplus(s: number): number {
  return s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s));
}

export function applyCalibration(calibration: Calibration, rawProbabilities: Float32Array): Float32Array {
  const out = new Float32Array(rawProbabilities.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = sigmoid(calibration.a * logit(rawProbabilities[i] ?? 0) + calibration.b);
  }
  return out;
}

/**
 * Newton's method with backtracking on the (convex) log loss, as in Lin, Lin
 * and Weng's note on Platt's algorithm. Targets are Platt's smoothed labels
 * (N₊+1)/(N₊+2) and 1/(N₋+2), which keep a handful of positives from pushing
 * the fit to extreme slopes.
 */
export function fitPlatt(rawProbabilities: ArrayLike<number>, labels: ArrayLike<number>): Calibration {
  const n = labels.length;
  if (rawProbabilities.length !== n) {
    throw new RangeError(`${rawProbabilities.length} probabilities for ${n} labels`);
  }
  const z = new Float64Array(n);
  const t = new Float64Array(n);
  let positives = 0;
  for (let i = 0; i < n; i++) if ((labels[i] ?? 0) > 0.5) positives++;
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return { ...IDENTITY_CALIBRATION };
  const hi = (positives + 1) / (positives + 2);
  const lo = 1 / (negatives + 2);
  for (let i = 0; i < n; i++) {
    z[i] = logit(rawProbabilities[i] ?? 0);
    t[i] = (labels[i] ?? 0) > 0.5 ? hi : lo;
  }
  const objective = (a: number, b: number): number => {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const s = a * (z[i] ?? 0) + b;
      sum += softplus(s) - (t[i] ?? 0) * s;
    }
    return sum;
  };

  let a = 0;
  let b = Math.log((positives + 1) / (negatives + 1));
  let f = objective(a, b);
  for (let iteration = 0; iteration < 100; iteration++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-12;
    let hab = 0;
    let hbb = 1e-12;
    for (let i = 0; i < n; i++) {
      const zi = z[i] ?? 0;
      const p = sigmoid(a * zi + b);
      const r = p - (t[i] ?? 0);
      const w = p * (1 - p);
      ga += r * zi;
      gb += r;
      haa += w * zi * zi;
      hab += w * zi;
      hbb += w;
    }
    if (Math.abs(ga) < 1e-9 * n && Math.abs(gb) < 1e-9 * n) break;
    const det = haa * hbb - hab * hab;
    const da = -(hbb * ga - hab * gb) / det;
    const db = -(haa * gb - hab * ga) / det;
    const slope = ga * da + gb * db;
    let step = 1;
    let improved = false;
    while (step >= 1e-10) {
      const fNew = objective(a + step * da, b + step * db);
      if (fNew <= f + 1e-4 * step * slope) {
        a += step * da;
        b += step * db;
        improved = f - fNew > 1e-12 * Math.max(1, Math.abs(f));
        f = fNew;
        break;
      }
      step /= 2;
    }
    if (!improved) break;
  }
  return { method: 'platt', a, b };
}
