import type { Thresholds } from '../../../config/thresholds.schema.js';
import type { ScoringContext } from '../series.js';
import type { EmployerView } from './employer.view.js';
import { calendarMonth, insertSorted, median } from './employer.view.js';
import { cappedSquare } from './dispersion.js';
import { poissonCritical } from './poisson.tail.js';
import { meetsStatutoryLine } from './statutory.line.js';
import type { TransferMatch } from './transfer.match.js';
import { matchTransfer } from './transfer.match.js';

/**
 * Expected separations: what the employer's own history says it would
 * separate this month without a layoff, so that steady churn, the Spring
 * Festival and other seasons do not fire.
 *
 *   level    = median monthly rate (employer-caused separations / workforce)
 *              of the last `windowMonths` months with data that were not
 *              themselves layoff or transfer months nor festival months —
 *              or their mean, when larger (small counts) — × this month's
 *              workforce. Fewer than `minHistoryMonths` such months:
 *              fallbackChurnRate × workforce.
 *   seasonal = outside the festival: the same calendar month in up to
 *              `seasonalYears` earlier years relative to its own level
 *              ((caused + 1) / (level + 1)), the largest, clamped to
 *              [1, maxSeasonalFactor]. A month that was itself flagged
 *              counts only as far as another year (this one included)
 *              shows the same spike: a spike in the same month every year
 *              is a season, a one-off is not.
 *   allowance = in Spring Festival months: a budget for the whole season
 *              (festivalAllowance below), because the festival moves
 *              between late January and mid-February.
 *   expected = level × seasonal + allowance
 *   band     = how far separations stray above `expected` by chance
 *              (noiseBand); the statutory line is raised to it.
 *
 * Only months whose own level came from history serve as references. The
 * first month an employer appears never fires.
 */
export type Basis = 'none' | 'first' | 'fallback' | 'history';

export interface MonthBaseline {
  readonly basis: Basis;
  readonly caused: number;
  readonly workforce: number;
  /** Monthly separation rate of the level. */
  readonly levelRate: number;
  /** levelRate × workforce. */
  readonly level: number;
  readonly seasonal: number;
  /** Earlier years that gave the seasonal factor or the festival budget. */
  readonly seasonYears: number;
  /** Spring Festival departures allowed this month (what is left of the season's budget). */
  readonly allowance: number;
  readonly expected: number;
  /** How far separations stray above `expected` by chance (noiseBand). */
  readonly band: number;
  /** Variance / mean of the employer's ordinary separations: its own, shrunk towards its peers' (dispersion.ts); 1 = Poisson. */
  readonly dispersion: number;
  /** max(0, caused − expected); 0 in an employer's first month. */
  readonly excess: number;
  /** Months the level was taken from. */
  readonly historyMonths: number;
}

export interface EmployerHistory {
  readonly baseline: readonly MonthBaseline[];
  /** 1: the month meets the statutory line on its own. */
  readonly single: Uint8Array;
  /** 1: the month completes a statutory layoff together with the month before (a layoff straddling a month end). */
  readonly pair: Uint8Array;
  /** 1: the month is part of a statutory layoff (single or pair). */
  readonly layoff: Uint8Array;
  /** The new employer code that took up the month's excess, if any. */
  readonly transfer: readonly (TransferMatch | null)[];
  /** 1: left out of later baselines (layoff and transfer months). */
  readonly excluded: Uint8Array;
}

const NONE: MonthBaseline = {
  basis: 'none', caused: 0, workforce: 0, levelRate: 0, level: 0, seasonal: 1, seasonYears: 0, allowance: 0, expected: 0, band: 0, dispersion: 1, excess: 0, historyMonths: 0,
};

/** A month whose separations say something about normal churn. */
export const isScored = (b: MonthBaseline | undefined): boolean => b !== undefined && (b.basis === 'history' || b.basis === 'fallback');

/** The employer's months, oldest first: baselines, and which months were layoffs or transfers. */
export function analyseHistory(v: EmployerView, ctx: ScoringContext, t: Thresholds): EmployerHistory {
  const n = v.months;
  const baseline: MonthBaseline[] = [];
  const single = new Uint8Array(n);
  const pair = new Uint8Array(n);
  const layoff = new Uint8Array(n);
  const excluded = new Uint8Array(n);
  const transfer: (TransferMatch | null)[] = new Array<TransferMatch | null>(n).fill(null);
  const phi = employerDispersion(v, t, ctx.peers);
  for (let m = 0; m < n; m++) {
    const b = monthBaseline(v, m, baseline, layoff, transfer, excluded, t, phi);
    baseline.push(b);
    if (!isScored(b) || b.excess <= 0) continue;
    // Only an excess of statutory size is checked against new codes: matching every small excess would let chance hide creeping layoffs.
    if (meetsStatutoryLine(b.excess, b.workforce, b.band, t)) {
      const moved = matchTransfer(v, ctx, b.excess, m, m + 1, t);
      if (moved) transfer[m] = moved;
      else {
        single[m] = 1;
        layoff[m] = 1;
      }
      excluded[m] = 1;
      continue;
    }
    const p = baseline[m - 1];
    if (!t.law41.twoMonths || !isScored(p) || p === undefined || p.excess <= 0 || excluded[m - 1] === 1) continue;
    const both = p.excess + b.excess;
    if (!meetsStatutoryLine(both, p.workforce, noiseBand(p.expected + b.expected, 0, t, p.dispersion), t)) continue;
    const movedBoth = matchTransfer(v, ctx, both, m - 1, m + 1, t);
    if (movedBoth) {
      transfer[m - 1] = movedBoth;
      transfer[m] = movedBoth;
    } else {
      pair[m] = 1;
      layoff[m - 1] = 1;
      layoff[m] = 1;
    }
    excluded[m - 1] = 1;
    excluded[m] = 1;
  }
  return { baseline, single, pair, layoff, transfer, excluded };
}

/** Expected separations of month m from months before it (`prior` holds months 0..m-1). */
export function monthBaseline(
  v: EmployerView,
  m: number,
  prior: readonly MonthBaseline[],
  layoff: Uint8Array,
  transfer: readonly (TransferMatch | null)[],
  excluded: Uint8Array,
  t: Thresholds,
  dispersion = 1,
): MonthBaseline {
  if (v.present[m] !== 1) return NONE;
  const cfg = t.baseline;
  const workforce = v.workforce[m] ?? 0;
  const caused = v.caused[m] ?? 0;
  // The window's rates, kept sorted in a reused buffer: this runs for every month of every employer.
  if (rateBuf.length < cfg.windowMonths) rateBuf = new Float64Array(cfg.windowMonths);
  const rates = rateBuf;
  let count = 0;
  let sum = 0;
  for (let j = m - 1; j >= 0 && count < cfg.windowMonths; j--) {
    const w = v.workforce[j] ?? 0;
    if (v.present[j] !== 1 || !(w > 0) || excluded[j] === 1 || isFestival(v, j, t)) continue;
    const r = (v.caused[j] ?? 0) / w;
    count = insertSorted(rates, count, r);
    sum += r;
  }
  const basis: Basis = m === v.firstPresent ? 'first' : count >= cfg.minHistoryMonths ? 'history' : 'fallback';
  const mid = sortedMedian(rates, count);
  // The median alone is no level for a small employer: one that loses a
  // person every other month has a median month of 0. Layoff months are
  // already left out, so the mean is safe to take when it is larger.
  const levelRate = basis === 'history' ? Math.max(mid, count === 0 ? 0 : sum / count) : cfg.fallbackChurnRate;
  const level = levelRate * workforce;
  let spread = 0;
  if (basis === 'history') spread = 1.4826 * medianDeviation(rates, count, mid) * workforce;

  let seasonal = 1;
  let seasonYears = 0;
  let allowance = 0;
  if (isFestival(v, m, t)) {
    ({ allowance, years: seasonYears } = festivalAllowance(v, m, caused - level, prior, layoff, transfer, t));
  } else {
    ({ factor: seasonal, years: seasonYears } = seasonalFactor(v, m, (caused + 1) / (level + 1), prior, layoff, transfer, t));
  }
  const expected = level * seasonal + allowance;
  const band = noiseBand(expected, spread * seasonal, t, dispersion);
  return {
    basis,
    caused,
    workforce,
    levelRate,
    level,
    seasonal,
    seasonYears,
    allowance,
    expected,
    band,
    dispersion,
    excess: basis === 'first' ? 0 : Math.max(0, caused - expected),
    historyMonths: basis === 'history' ? count : 0,
  };
}

/**
 * How far separations stray above `expected` by chance at rarity z
 * (poisson.tail.ts): the count a month reaches with the probability of z
 * normal sigmas under the employer's own dispersion φ — the quasi-Poisson
 * tail φ · PoissonCritical(expected / φ), the exact Poisson tail at φ = 1 —
 * or z times the history's own spread (plus the skew term) when that is
 * wider. A firm that loses 0.6 people a month on average loses 3 in some
 * month about once in 40 months, and 4 about once in 300 when its leavers
 * come one by one; a firm whose leavers come in pairs (φ = 2) does so far
 * more often.
 */
export function noiseBand(expected: number, spread: number, t: Thresholds, dispersion = 1): number {
  const z = t.baseline.noiseSigmas;
  const e = Math.max(0, expected);
  const phi = Number.isFinite(dispersion) && dispersion > 1 ? dispersion : 1;
  const chance = phi === 1 ? poissonCritical(e, z) - e : phi * poissonCritical(e / phi, z) - e;
  return Math.max(chance, z * spread + Math.max(0, (z * z - 1) / 6));
}

/**
 * The employer's dispersion, once per employer: its own over the months
 * before the one scored (Pearson's Σ (c − λ)² / Σ λ around its average rate
 * outside the festival, each month's residual capped: dispersion.ts), shrunk
 * towards its peers' by `dispersionPriorMonths` months of weight, so a short
 * history leans on its peers. Months once flagged as layoffs count too,
 * capped: a lump of ordinary churn that a Poisson band once flagged is just
 * what shows the employer's churn comes in lumps. The month scored and the
 * one before are left out (a layoff may straddle a month end), so a layoff
 * under way does not widen its own band.
 */
export function employerDispersion(v: EmployerView, t: Thresholds, peers?: ScoringContext['peers']): number {
  const cfg = t.baseline;
  const last = v.months - 2;
  let sumC = 0;
  let sumW = 0;
  let used = 0;
  let latest = 0;
  for (let j = 0; j < last; j++) {
    const w = v.workforce[j] ?? 0;
    if (v.present[j] !== 1 || !(w > 0) || isFestival(v, j, t)) continue;
    sumC += v.caused[j] ?? 0;
    sumW += w;
    used++;
    latest = w;
  }
  const peer = peers?.of(v.section, latest > 0 ? latest : (v.workforce[v.months - 1] ?? 0)) ?? 1;
  let own = peer;
  if (used > 1 && sumW > 0) {
    const rate = sumC / sumW;
    let ss = 0;
    let lam = 0;
    for (let j = 0; j < last; j++) {
      const w = v.workforce[j] ?? 0;
      if (v.present[j] !== 1 || !(w > 0) || isFestival(v, j, t)) continue;
      const lambda = rate * w;
      ss += cappedSquare(v.caused[j] ?? 0, lambda);
      lam += lambda;
    }
    // The rate came from the same months: one degree of freedom less.
    if (lam > 0) own = (ss / lam) * (used / (used - 1));
  }
  const k = cfg.dispersionPriorMonths;
  const phi = (used * own + k * peer) / Math.max(1e-9, used + k);
  return Math.max(1, Math.min(cfg.maxDispersion, phi));
}

let rateBuf = new Float64Array(24);

/** The median of the first n values of a, which are sorted ascending (0 for none). */
function sortedMedian(a: Float64Array, n: number): number {
  if (n <= 0) return 0;
  const half = n >> 1;
  return n % 2 === 1 ? (a[half] as number) : ((a[half - 1] as number) + (a[half] as number)) / 2;
}

/**
 * The median of |a[i] − mid| over the first n values of a, sorted
 * ascending: the deviations below mid and above it are each already in
 * order, so they are merged up to the middle rank instead of sorted.
 */
export function medianDeviation(a: Float64Array, n: number, mid: number): number {
  if (n <= 0) return 0;
  let up = 0;
  while (up < n && (a[up] as number) < mid) up++;
  let down = up - 1;
  const half = n >> 1;
  let previous = 0;
  for (let rank = 0; ; rank++) {
    const below = down >= 0 ? mid - (a[down] as number) : Infinity;
    const above = up < n ? (a[up] as number) - mid : Infinity;
    let next: number;
    if (below <= above) {
      next = below;
      down--;
    } else {
      next = above;
      up++;
    }
    if (rank === half) return n % 2 === 1 ? next : (previous + next) / 2;
    previous = next;
  }
}
let yearBuf = { clean: new Float64Array(5), all: new Float64Array(5) };

/** Room for one value per earlier year, reused (the seasonal lookups run for every month of every employer). */
function yearBuffers(years: number): { clean: Float64Array; all: Float64Array } {
  if (yearBuf.all.length < years) yearBuf = { clean: new Float64Array(years), all: new Float64Array(years) };
  return yearBuf;
}

/**
 * Spring Festival calendar months as a lookup by calendar month 0–12 (0:
 * periods malformed, never a festival), for the thresholds last asked
 * about: a scoring run uses one thresholds object throughout, and this is
 * asked for every month of every employer's window.
 */
let maskFor: Thresholds | null = null;
let maskMonths: readonly number[] | null = null;
const mask = new Uint8Array(13);

function festivalMask(t: Thresholds): Uint8Array {
  const months = t.baseline.springFestival.months;
  if (t !== maskFor || months !== maskMonths) {
    mask.fill(0);
    for (const month of months) if (month >= 1 && month <= 12) mask[month] = 1;
    maskFor = t;
    maskMonths = months;
  }
  return mask;
}

function isFestival(v: EmployerView, m: number, t: Thresholds): boolean {
  return festivalMask(t)[calendarMonth(v, m)] === 1;
}

/**
 * The same calendar month in up to `seasonalYears` earlier years, as a
 * ratio to its own level; `current` is this month's own ratio, so that a
 * flagged month of an earlier year is trusted as far as another year — this
 * one included — shows the same spike.
 */
function seasonalFactor(
  v: EmployerView,
  m: number,
  current: number,
  prior: readonly MonthBaseline[],
  layoff: Uint8Array,
  transfer: readonly (TransferMatch | null)[],
  t: Thresholds,
): { factor: number; years: number } {
  const cfg = t.baseline;
  const { clean, all } = yearBuffers(cfg.seasonalYears);
  let n = 0;
  for (let k = 1; k <= cfg.seasonalYears; k++) {
    const j = m - 12 * k;
    if (j < 0) break; // (and never index an array below 0: V8 looks that up as a named property)
    const b = prior[j];
    if (b?.basis !== 'history' || transfer[j] !== null) continue;
    const ratio = (b.caused + 1) / (b.level + 1);
    all[n] = ratio;
    clean[n++] = layoff[j] === 1 ? -Infinity : ratio;
  }
  const { value, years } = confirmed(clean, all, n, current);
  return { factor: years === 0 ? 1 : Math.min(cfg.maxSeasonalFactor, Math.max(1, value)), years };
}

/**
 * The largest value the earlier years support. An unflagged year counts as
 * it is; a year whose months were flagged as layoffs counts only as far as
 * another year, or the current one, shows as much.
 */
function confirmed(clean: ArrayLike<number>, all: ArrayLike<number>, n: number, current: number): { value: number; years: number } {
  let value = -Infinity;
  let years = 0;
  for (let k = 0; k < n; k++) {
    let others = current;
    for (let o = 0; o < n; o++) if (o !== k) others = Math.max(others, all[o] ?? -Infinity);
    const trusted = Math.max(clean[k] ?? -Infinity, Math.min(all[k] ?? -Infinity, others));
    if (trusted > -Infinity) {
      years++;
      value = Math.max(value, trusted);
    }
  }
  return { value, years };
}

/** The run of consecutive festival months around month j: [start, end]. */
function festivalRun(v: EmployerView, j: number, t: Thresholds): [number, number] {
  let start = j;
  let end = j;
  while (start > j - 12 && isFestival(v, start - 1, t)) start--;
  while (end < j + 12 && isFestival(v, end + 1, t)) end++;
  return [start, end];
}

/** Separations above the level in months from..to of the festival run (months without data count 0). */
function seasonExcess(prior: readonly MonthBaseline[], from: number, to: number): number {
  let sum = 0;
  for (let j = Math.max(0, from); j <= to; j++) {
    const b = prior[j];
    if (b !== undefined && b.basis !== 'none') sum += Math.max(0, b.caused - b.level);
  }
  return sum;
}

/**
 * Spring Festival months get a budget for the season instead of a factor
 * per month: the festival moves between late January and mid-February, so
 * migrant departures land in January one year and February the next, but
 * the season's total is steady. The budget is the largest share of staff
 * that left above the level in an earlier year's whole season (all its
 * months known), less what this season has already used. Without an earlier
 * season: migrant separations above their usual level when
 * `separated_migrant` is reported (the season capped at maxShare of staff),
 * otherwise noHistoryShare of staff for the season.
 */
function festivalAllowance(
  v: EmployerView,
  m: number,
  surplusNow: number,
  prior: readonly MonthBaseline[],
  layoff: Uint8Array,
  transfer: readonly (TransferMatch | null)[],
  t: Thresholds,
): { allowance: number; years: number } {
  const cfg = t.baseline;
  const [start] = festivalRun(v, m, t);
  let base = v.workforce[m] ?? 0;
  for (let j = Math.max(0, start); j < m; j++) {
    if (v.present[j] === 1 && (v.workforce[j] ?? 0) > 0) {
      base = v.workforce[j] ?? 0;
      break;
    }
  }
  const used = seasonExcess(prior, start, m - 1);
  const currentShare = base > 0 ? (used + Math.max(0, surplusNow)) / base : 0;

  const { clean, all } = yearBuffers(cfg.seasonalYears);
  let n = 0;
  for (let k = 1; k <= cfg.seasonalYears; k++) {
    const [s, e] = festivalRun(v, m - 12 * k, t);
    let complete = s >= 0 && e < m;
    let flagged = false;
    for (let j = Math.max(0, s); j <= e && complete; j++) {
      if (prior[j]?.basis !== 'history' || transfer[j] !== null) complete = false;
      if (layoff[j] === 1) flagged = true;
    }
    if (!complete) continue;
    const w = prior[s]?.workforce ?? 0;
    if (!(w > 0)) continue;
    const share = seasonExcess(prior, s, e) / w;
    all[n] = share;
    clean[n++] = flagged ? -Infinity : share;
  }
  const { value, years } = confirmed(clean, all, n, currentShare);
  if (years > 0) return { allowance: Math.max(0, value * base - used), years };

  const migrant = v.migrant[m] ?? -1;
  if (migrant < 0) return { allowance: seasonBudget(cfg.springFestival.noHistoryShare, base, used), years: 0 };
  const rates: number[] = [];
  for (let j = m - 1; j >= 0 && rates.length < cfg.windowMonths; j--) {
    const w = v.workforce[j] ?? 0;
    const mj = v.migrant[j] ?? -1;
    if (v.present[j] === 1 && w > 0 && mj >= 0 && !isFestival(v, j, t)) rates.push(mj / w);
  }
  const usual = median(rates) * (v.workforce[m] ?? 0);
  return { allowance: Math.min(seasonBudget(cfg.springFestival.maxShare, base, used), Math.max(0, migrant - usual)), years: 0 };
}

/** What is left of a season's budget of `share` of the base when `used` has gone already. */
function seasonBudget(share: number, base: number, used: number): number {
  return Math.max(0, share * base - used);
}
