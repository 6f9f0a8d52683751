/**
 * How many separations a month can bring by chance: the upper tail of a
 * Poisson count. A firm's ordinary leavers (quits, dismissals, retirements)
 * arrive independently, so a month's count is close to Poisson around the
 * expected value. For the small counts of small firms that tail is far
 * heavier than a normal one: at a mean of 0.5, four or more leavers in a
 * month happen about once in 570 months, not once in 30,000 as "3 sigma"
 * would suggest, and a province has 100,000 such employer-months a year.
 *
 * The level of rarity is given as z, the one-sided normal quantile
 * (z = 4: about 3 in 100,000 months), and turned into the count by exact
 * summation for means up to TABLE_MAX (tabulated once per z on a grid and
 * looked up at the grid point above, so the answer never undershoots), and
 * by the Cornish–Fisher expansion with a continuity correction above it,
 * where the normal approximation is good.
 */

const STEP = 0.01;
const TABLE_MAX = 64;
const tables = new Map<number, Int32Array>();

/** One-sided upper tail of the standard normal, P(Z ≥ z) (Abramowitz–Stegun 7.1.26 on erfc; |error| < 1.5e-7). */
export function normalTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = poly * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** The smallest k with P(X ≥ k) ≤ alpha for X ~ Poisson(lambda), by summing the distribution. */
export function poissonCriticalExact(lambda: number, alpha: number): number {
  if (!(lambda > 0)) return 1;
  // P(X ≥ k) = 1 − P(X ≤ k − 1); accumulate the pmf from 0 in log space to stay finite for larger means.
  let logP = -lambda;
  let cdf = 0;
  for (let k = 0; k < 100_000; k++) {
    const p = Math.exp(logP);
    cdf += p;
    // P(X ≥ k + 1) = 1 − cdf; stop once it falls to alpha (guard rounding with the tail's own size).
    if (1 - cdf <= alpha) return k + 1;
    logP += Math.log(lambda) - Math.log(k + 1);
  }
  return Math.ceil(lambda + 10 * Math.sqrt(lambda));
}

function tableFor(z: number): Int32Array {
  let table = tables.get(z);
  if (table) return table;
  const alpha = normalTail(z);
  const n = Math.round(TABLE_MAX / STEP) + 1;
  table = new Int32Array(n);
  for (let i = 0; i < n; i++) table[i] = poissonCriticalExact(i * STEP, alpha);
  tables.set(z, table);
  return table;
}

/**
 * The count that separations must reach before they are more than chance
 * at rarity z: the smallest k with P(X ≥ k) ≤ P(Z ≥ z), X ~ Poisson(expected).
 */
export function poissonCritical(expected: number, z: number): number {
  const e = Number.isFinite(expected) ? Math.max(0, expected) : 0;
  if (e <= TABLE_MAX) {
    const table = tableFor(z);
    return table[Math.min(table.length - 1, Math.ceil(e / STEP - 1e-9))] as number;
  }
  const s = Math.sqrt(e);
  return Math.ceil(e + z * s + (z * z - 1) / 6 + (z - z * z * z) / (72 * s) + 0.5);
}
