import type { Thresholds } from '../../../config/thresholds.schema.js';
import { employerCaused, monthWorkforce } from '../features.js';
import type { ScoringContext, SeriesBatch } from '../series.js';

/**
 * How much more a month's separations stray than a Poisson count would:
 * the dispersion φ = variance / mean of an employer's ordinary monthly
 * separations (quits and dismissals arrive in lumps — a team leaves, a
 * contract ends — so real payroll churn is over-dispersed, φ > 1). The
 * noise band (separations.baseline.ts) is the quasi-Poisson tail
 * φ · PoissonCritical(expected / φ): for φ = 1 exactly the Poisson tail.
 *
 * φ is learned from the deployment's own data: the employer's own months,
 * shrunk towards its peers' (same industry section × size band) while its
 * own history is short. Peers are pooled over the employers read together:
 * a scoring shard is a range of hash buckets, so a random sample of the
 * province.
 */

/** Size bands peers are pooled by (workforce). */
export function sizeBandIndex(workforce: number): number {
  return workforce <= 5 ? 0 : workforce < 100 ? 1 : workforce < 1000 ? 2 : 3;
}

/**
 * A residual beyond this many Poisson sigmas (plus one person) counts as if
 * it were there: lumps of ordinary churn show, but one layoff-sized month
 * adds at most about 9/12 to a year's φ, so a real layoff does not blind the
 * rule to the next one.
 */
const CAP_SIGMAS = 3;

/** One month's contribution to Pearson's Σ (c − λ)², capped (see CAP_SIGMAS). */
export function cappedSquare(caused: number, lambda: number): number {
  const cap = CAP_SIGMAS * Math.sqrt(Math.max(lambda, 0)) + 1;
  const d = Math.min(Math.abs(caused - lambda), cap);
  return d * d;
}

/** Expected separations a cell must have seen before its φ is trusted over the pooled one. */
const MIN_CELL_EXPECTED = 30;

export interface PeerDispersion {
  /** φ of the employer's peers: its section × size band, the pooled value where the cell saw too little. */
  of(section: string, workforce: number): number;
}

/**
 * Peers' dispersion from the batch's months before `lastMonth` (by default
 * all but the month scored and the one before, as for the employer's own:
 * separations.baseline.ts employerDispersion).
 */
export function peerDispersion(b: SeriesBatch, lastMonth = b.months - 2, maxDispersion = Infinity): PeerDispersion {
  const ss = new Float64Array(CELLS);
  const lam = new Float64Array(CELLS);
  let poolSs = 0;
  let poolLam = 0;
  for (let i = 0; i < b.size; i++) {
    let sumC = 0;
    let sumW = 0;
    let n = 0;
    let lastW = 0;
    const base = i * b.months;
    for (let m = 0; m < lastMonth; m++) {
      const k = base + m;
      if (b.si[k] !== 1) continue;
      const w = monthWorkforce(b, k);
      if (!(w > 0)) continue;
      sumC += employerCaused(b, k);
      sumW += w;
      n++;
      lastW = w;
    }
    if (n < 3 || sumW <= 0) continue;
    const rate = sumC / sumW;
    let s = 0;
    let l = 0;
    for (let m = 0; m < lastMonth; m++) {
      const k = base + m;
      if (b.si[k] !== 1) continue;
      const w = monthWorkforce(b, k);
      if (!(w > 0)) continue;
      const lambda = rate * w;
      s += cappedSquare(employerCaused(b, k), lambda);
      l += lambda;
    }
    // The rate was estimated from the same months: one degree of freedom less.
    s *= n / (n - 1);
    const c = cellOf(b.industryCode[i] ?? '', lastW);
    ss[c] = (ss[c] as number) + s;
    lam[c] = (lam[c] as number) + l;
    poolSs += s;
    poolLam += l;
  }
  const clamp = (v: number): number => Math.min(maxDispersion, Math.max(1, v));
  const pooled = poolLam >= MIN_CELL_EXPECTED ? clamp(poolSs / poolLam) : 1;
  const table = new Float64Array(CELLS);
  for (let c = 0; c < CELLS; c++) table[c] = (lam[c] as number) >= MIN_CELL_EXPECTED ? clamp((ss[c] as number) / (lam[c] as number)) : pooled;
  return {
    of(section: string, workforce: number): number {
      return table[cellOf(section, workforce)] as number;
    },
  };
}

/** Sections A–Z (GB/T 4754 uses A–T) and one for unknown, × 4 size bands. */
const CELLS = 27 * 4;

/** The cell of an industry code (or section letter) and a workforce: no string is built, this runs for every employer. */
function cellOf(industry: string, workforce: number): number {
  const code = industry.length > 0 ? industry.charCodeAt(0) - 65 : -1;
  const section = code >= 0 && code < 26 ? code : 26;
  return section * 4 + sizeBandIndex(workforce);
}

/** The context with the peers of the employers in `b` (months before `lastMonth`). */
export function withPeers(ctx: ScoringContext, b: SeriesBatch, t: Thresholds, lastMonth = b.months - 2): ScoringContext {
  return { ...ctx, peers: peerDispersion(b, lastMonth, t.baseline.maxDispersion) };
}
