import { at, type SeriesBatch } from './series.js';
import { addMonths, lastDay, monthOf, periodOf } from '../domain/period.js';
import { insertSorted } from './rules/employer.view.js';

/**
 * Model input from an employer's last 24 months: counts scaled by the
 * employer's own size, its own baselines, seasonality, and who it is
 * (industry, city group) — every value finite and roughly in [-1, 2].
 * Missing months are explicit: the `si`/`hc` mask features are 0 and the
 * month's other features 0, never a guess.
 *
 * FEATURE_VERSION names this exact list; a model trained on another
 * version is refused at load.
 */
export const FEATURE_STEPS = 24;
export const FEATURE_VERSION = 'v2';

/**
 * v2 adds the leading signals the literature names (../shared/research/,
 * DOMAIN.md "Leading signals"): how long and how far arrears have run
 * (maximum over 6 months, change over 3), the wage base per head against 3
 * and 12 months before, months since the last hire, an Art. 41 filing
 * announcing a layoff in the next 3 months, distress (arrears) among peers
 * of the same city × industry section against the province, and how much
 * history the employer has (so that short windows, padded with zeros, are
 * told apart from quiet ones).
 */
export const STEP_FEATURES = [
  'si_present', 'log_size', 'hire_rate', 'sep_rate', 'sep_excess_ratio', 'transfer_share', 'arrears', 'wage_per_head_change',
  'ui_claim_rate', 'ui_reported', 'hc_present', 'planned_layoff_rate', 'furlough_rate', 'jobs_lost_rate', 'net_change',
  'migrant_share', 'month_sin', 'month_cos',
  'arrears_max6', 'arrears_trend3', 'wage_vs_3m', 'wage_vs_12m', 'months_since_hire', 'filing_planned_rate', 'peer_arrears', 'history_months',
] as const;

export const STATIC_FEATURES = ['ind_manufacturing', 'ind_construction_trade', 'ind_primary_energy', 'ind_services', 'city_chengdu', 'city_plain', 'city_other'] as const;

export const FEATURE_NAMES: readonly string[] = [...STEP_FEATURES, ...STATIC_FEATURES];
export const FEATURES_PER_STEP = FEATURE_NAMES.length;

export interface FeatureSpec {
  readonly version: string;
  readonly steps: number;
  readonly names: readonly string[];
}

export const FEATURE_SPEC: FeatureSpec = { version: FEATURE_VERSION, steps: FEATURE_STEPS, names: FEATURE_NAMES };

/**
 * Mean and spread of each feature in the last month of ordinary employers'
 * windows across the province the model was trained on (stored with the
 * artifact): what an explanation's drivers are measured against, so that a
 * driver means the same in every shard.
 */
export interface FeatureReference {
  readonly mean: readonly number[];
  readonly sd: readonly number[];
}

/** The reference of windows x [n, steps, F] whose label is 0 (or of all, when none is 0). */
export function featureReference(x: Float32Array, y: Uint8Array, n: number): FeatureReference {
  const F = FEATURES_PER_STEP;
  const sum = new Float64Array(F);
  const sq = new Float64Array(F);
  let count = 0;
  const anyNegative = y.some((v, r) => r < n && v === 0);
  for (let r = 0; r < n; r++) {
    if (anyNegative && y[r] !== 0) continue;
    const o = (r * FEATURE_STEPS + FEATURE_STEPS - 1) * F;
    for (let f = 0; f < F; f++) {
      const v = x[o + f] as number;
      sum[f] = (sum[f] as number) + v;
      sq[f] = (sq[f] as number) + v * v;
    }
    count++;
  }
  const mean = Array.from(sum, (v) => v / Math.max(1, count));
  const sd = Array.from(sq, (v, f) => Math.sqrt(Math.max(1e-9, v / Math.max(1, count) - (mean[f] as number) ** 2)));
  return { mean, sd };
}

/** 成都平原经济区 cities besides Chengdu. */
const PLAIN = new Set(['510600', '510700', '511400', '512000', '510900', '511100', '511800']);

/**
 * Features of employers `rows` (indexes into the batch) at the month
 * `endMonth` (default: the batch's last), as a Float32Array [n, 24, F].
 */
export function buildFeatures(batch: SeriesBatch, rows: readonly number[], endMonth = batch.months - 1): Float32Array {
  const F = FEATURES_PER_STEP;
  const out = new Float32Array(rows.length * FEATURE_STEPS * F);
  const start = endMonth - FEATURE_STEPS + 1;
  // The calendar features are the same for every employer of the batch.
  const sin = new Float64Array(FEATURE_STEPS);
  const cos = new Float64Array(FEATURE_STEPS);
  for (let s = 0; s < FEATURE_STEPS; s++) {
    const cal = monthOf(batch.periods[Math.max(0, start + s)] ?? batch.periods[0] ?? '2000-01');
    sin[s] = Math.sin((2 * Math.PI * cal) / 12);
    cos[s] = Math.cos((2 * Math.PI * cal) / 12);
  }
  const months = Math.max(0, batch.months);
  if (series.caused.length < months) series = newSeries(months);
  const peers = peerArrears(batch, Math.max(0, start), Math.min(endMonth, months - 1));
  const monthEnds = batch.periods.map(lastDay);
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r] as number;
    const statics = staticFeatures(batch, i);
    fillSeries(batch, i, Math.max(0, start - CAUSED_SPAN), Math.min(endMonth, months - 1));
    countPresent(batch, i, Math.min(endMonth, months - 1));
    // The caused separations of the 12 months before the step, kept sorted
    // as the window slides a month at a time (its upper median is `typical`).
    let held = 0;
    const first = Math.max(0, start);
    for (let j = Math.max(0, first - CAUSED_SPAN); j < first; j++) if (series.counted[j] === 1) held = insertSorted(causedWindow, held, series.caused[j] as number);
    for (let s = 0; s < FEATURE_STEPS; s++) {
      const m = start + s;
      const o = (r * FEATURE_STEPS + s) * F;
      out[o + 16] = sin[s] as number;
      out[o + 17] = cos[s] as number;
      for (let k = 0; k < statics.length; k++) out[o + STEP_FEATURES.length + k] = statics[k] as number;
      if (m < 0) continue;
      stepFeatures(batch, i, m, held === 0 ? 0 : (causedWindow[held >> 1] as number), out, o);
      leadingFeatures(batch, i, m, monthEnds, out, o);
      out[o + PEER] = peers.of(i, m);
      const leaving = m - CAUSED_SPAN;
      if (leaving >= 0 && series.counted[leaving] === 1) held = removeSorted(causedWindow, held, series.caused[leaving] as number);
      if (series.counted[m] === 1) held = insertSorted(causedWindow, held, series.caused[m] as number);
    }
  }
  for (let k = 0; k < out.length; k++) if (!Number.isFinite(out[k])) out[k] = 0;
  return out;
}

/** Months before a step whose caused separations give its `typical` (the upper median). */
const CAUSED_SPAN = 12;

/** One step's features; `typical` is the upper median of the caused separations of the CAUSED_SPAN months before m. */
function stepFeatures(b: SeriesBatch, i: number, m: number, typical: number, out: Float32Array, o: number): void {
  const k = at(b, i, m);
  if (b.si[k] === 1) {
    const insured = b.insured[k] as number;
    const hired = b.hired[k] as number;
    const separated = b.separated[k] as number;
    const workforce = Math.max(1, insured - hired + separated);
    const caused = employerCaused(b, k);
    const transfer = Math.max(0, b.separatedTransfer[k] as number);
    const migrant = Math.max(0, b.separatedMigrant[k] as number);
    const claims = b.uiClaims[k] as number;
    out[o + 0] = 1;
    out[o + 1] = Math.log1p(insured) / 10;
    out[o + 2] = clip(hired / workforce, 0, 1);
    out[o + 3] = clip(caused / workforce, 0, 1);
    out[o + 4] = clip((caused - typical) / Math.max(typical, 1, 0.01 * workforce), -2, 20) / 10;
    out[o + 5] = separated > 0 ? clip(transfer / separated, 0, 1) : 0;
    out[o + 6] = clip((b.arrearsMonths[k] as number) / 6, 0, 2);
    out[o + 7] = wageChange(m);
    out[o + 8] = claims >= 0 ? clip(claims / workforce, 0, 1) : 0;
    out[o + 9] = claims >= 0 ? 1 : 0;
    out[o + 14] = clip((insured - (m > 0 && b.si[k - 1] === 1 ? (b.insured[k - 1] as number) : insured)) / workforce, -1, 1);
    out[o + 15] = separated > 0 ? clip(migrant / separated, 0, 1) : 0;
  }
  if (b.hc[k] === 1) {
    const begin = Math.max(1, b.jobsBegin[k] as number);
    const furloughed = b.furloughed[k] as number;
    out[o + 10] = 1;
    out[o + 11] = clip((b.plannedLayoffs[k] as number) / begin, 0, 1);
    out[o + 12] = furloughed >= 0 ? clip(furloughed / begin, 0, 1) : 0;
    out[o + 13] = clip((b.jobsLost[k] as number) / begin, 0, 1);
  }
}

const IDX = (name: (typeof STEP_FEATURES)[number]): number => STEP_FEATURES.indexOf(name);
const ARREARS_MAX6 = IDX('arrears_max6');
const ARREARS_TREND3 = IDX('arrears_trend3');
const WAGE_VS_3 = IDX('wage_vs_3m');
const WAGE_VS_12 = IDX('wage_vs_12m');
const SINCE_HIRE = IDX('months_since_hire');
const FILING = IDX('filing_planned_rate');
const PEER = IDX('peer_arrears');
const HISTORY = IDX('history_months');

/** Months a layoff announced by a filing may lie ahead of the month scored (the label's horizon). */
const FILING_AHEAD_MONTHS = 3;

/**
 * The v2 leading signals of month m, from the employer's months up to m
 * (never after: training reads months beyond m for its labels).
 */
function leadingFeatures(b: SeriesBatch, i: number, m: number, monthEnds: readonly string[], out: Float32Array, o: number): void {
  out[o + HISTORY] = Math.min(presence.upTo[m] as number, FEATURE_STEPS) / FEATURE_STEPS;
  const k = at(b, i, m);
  if (b.si[k] === 1) {
    let max6 = 0;
    const base = i * b.months;
    for (let j = Math.max(0, m - 5); j <= m; j++) {
      if (b.si[base + j] === 1) max6 = Math.max(max6, b.arrearsMonths[base + j] as number);
    }
    out[o + ARREARS_MAX6] = clip(max6 / 6, 0, 2);
    const back = m - 3;
    const before = back >= 0 && b.si[at(b, i, back)] === 1 ? (b.arrearsMonths[at(b, i, back)] as number) : 0;
    out[o + ARREARS_TREND3] = clip(((b.arrearsMonths[k] as number) - before) / 6, -1, 1);
    out[o + WAGE_VS_3] = wageAgainst(m, 3);
    out[o + WAGE_VS_12] = wageAgainst(m, 12);
    // Months since the last hire (12 and more, or none in the months read: 1).
    const hire = presence.lastHire[m] as number;
    out[o + SINCE_HIRE] = hire < 0 ? 1 : Math.min(12, m - hire) / 12;
  }
  const filings = b.filings[i];
  if (filings !== undefined && filings.length > 0) {
    const filedBy = monthEnds[m] ?? '';
    const until = monthEnds[m + FILING_AHEAD_MONTHS] ?? (filedBy === '' ? '' : lastDay(addMonths(periodOf(filedBy), FILING_AHEAD_MONTHS)));
    let planned = 0;
    let staff = 1;
    for (const f of filings) {
      if (f.filedOn <= filedBy && f.effectiveOn > filedBy && f.effectiveOn <= until) {
        planned += f.plannedCount;
        staff = Math.max(staff, f.staffTotal);
      }
    }
    out[o + FILING] = clip(planned / staff, 0, 1);
  }
}

/**
 * Of the employer being built, up to each month: how many months have a
 * social-insurance row, and the last month with a hire (−1: none).
 */
let presence = { upTo: new Int32Array(64), lastHire: new Int32Array(64) };

function countPresent(b: SeriesBatch, i: number, to: number): void {
  if (presence.upTo.length <= to) presence = { upTo: new Int32Array(to + 1), lastHire: new Int32Array(to + 1) };
  let n = 0;
  let hire = -1;
  const base = i * b.months;
  for (let j = 0; j <= to; j++) {
    if (b.si[base + j] === 1) {
      n++;
      if ((b.hired[base + j] as number) > 0) hire = j;
    }
    presence.upTo[j] = n;
    presence.lastHire[j] = hire;
  }
}

/** Log change of the wage base per head against `back` months before (0 when either month has none). */
function wageAgainst(m: number, back: number): number {
  const now = series.wagePerHead[m] as number;
  const then = m - back >= 0 ? (series.wagePerHead[m - back] as number) : Number.NaN;
  if (Number.isNaN(now) || Number.isNaN(then) || !(then > 0) || !(now > 0)) return 0;
  return clip(Math.log(now / then), -1, 1);
}

/**
 * Distress among peers: per month, the share of employers of the same city ×
 * industry section in arrears, less the share over all employers read. A
 * scoring shard is a range of hash buckets, so a random sample of the
 * province; cells of fewer than PEER_MIN employers say 0.
 */
function peerArrears(b: SeriesBatch, from: number, to: number): { of(i: number, m: number): number } {
  // Cell = city (numbered as met) × section letter (A–Z, 26 for unknown): no string built per employer.
  const cities = new Map<string, number>();
  const cellOf = new Int32Array(b.size);
  for (let i = 0; i < b.size; i++) {
    const city = b.cityCode[i] ?? '';
    let c = cities.get(city);
    if (c === undefined) {
      c = cities.size;
      cities.set(city, c);
    }
    const code = (b.industryCode[i] ?? '').charCodeAt(0) - 65;
    cellOf[i] = c * 27 + (code >= 0 && code < 26 ? code : 26);
  }
  const span = Math.max(0, to - from + 1);
  const nCells = cities.size * 27;
  const seen = new Float64Array(nCells * span);
  const late = new Float64Array(nCells * span);
  const allSeen = new Float64Array(span);
  const allLate = new Float64Array(span);
  for (let i = 0; i < b.size; i++) {
    const c = cellOf[i] as number;
    for (let s = 0; s < span; s++) {
      const k = at(b, i, from + s);
      if (b.si[k] !== 1) continue;
      const inArrears = (b.arrearsMonths[k] as number) > 0 ? 1 : 0;
      seen[c * span + s] = (seen[c * span + s] as number) + 1;
      late[c * span + s] = (late[c * span + s] as number) + inArrears;
      allSeen[s] = (allSeen[s] as number) + 1;
      allLate[s] = (allLate[s] as number) + inArrears;
    }
  }
  return {
    of(i: number, m: number): number {
      const s = m - from;
      if (s < 0 || s >= span) return 0;
      const c = cellOf[i] as number;
      const n = seen[c * span + s] as number;
      const all = allSeen[s] as number;
      if (n < PEER_MIN || all === 0) return 0;
      return clip((late[c * span + s] as number) / n - (allLate[s] as number) / all, -1, 1);
    },
  };
}

const PEER_MIN = 5;

/** The last k steps of each of n windows [n, FEATURE_STEPS, F], as [n, k, F] (the explanation's drivers, the trees' last month). */
export function lastSteps(x: Float32Array, n: number, k: number): Float32Array {
  const F = FEATURES_PER_STEP;
  const out = new Float32Array(n * k * F);
  for (let r = 0; r < n; r++) {
    const from = (r * FEATURE_STEPS + FEATURE_STEPS - k) * F;
    out.set(x.subarray(from, from + k * F), r * k * F);
  }
  return out;
}

/** Staff at the start of month slot k: insured, or insured as it was before the month's flows when that is more. */
export function monthWorkforce(b: SeriesBatch, k: number): number {
  return Math.max(b.insured[k] as number, (b.insured[k] as number) - (b.hired[k] as number) + (b.separated[k] as number));
}

/** Separations the employer caused: transfers and retirements are not job losses. */
export function employerCaused(b: SeriesBatch, k: number): number {
  return Math.max(0, (b.separated[k] as number) - Math.max(0, b.separatedTransfer[k] as number) - Math.max(0, b.separatedNatural[k] as number));
}

/** Sorting room for the wage window, and the sliding window of caused separations, reused: features run per employer and month. */
const scratch = new Float64Array(32);
const causedWindow = new Float64Array(32);

/** Removes one value equal to v from the sorted first n values of a; returns n − 1 (n when v is not there). */
function removeSorted(a: Float64Array, n: number, v: number): number {
  let j = 0;
  while (j < n && a[j] !== v) j++;
  if (j === n) return n;
  for (; j < n - 1; j++) a[j] = a[j + 1] as number;
  return n - 1;
}

/**
 * One employer's monthly figures that the windows read many times over
 * (each month is in 12 windows), worked out once per employer: whether the
 * month counts towards the typical month (a social-insurance row with a
 * number of employer-caused separations), that number, and the wage base
 * per insured person (NaN when there is none).
 */
interface EmployerSeries {
  counted: Uint8Array;
  caused: Float64Array;
  wagePerHead: Float64Array;
}

function newSeries(months: number): EmployerSeries {
  return { counted: new Uint8Array(months), caused: new Float64Array(months), wagePerHead: new Float64Array(months) };
}

let series = newSeries(36);

/** Fills `series` for employer i over months from..to (what the windows of the steps read). */
function fillSeries(b: SeriesBatch, i: number, from: number, to: number): void {
  for (let j = from; j <= to; j++) {
    const k = at(b, i, j);
    const present = b.si[k] === 1;
    const insured = b.insured[k] as number;
    const caused = present ? employerCaused(b, k) : Number.NaN;
    // A month whose counts are not numbers says nothing about the typical month.
    series.counted[j] = Number.isFinite(caused) ? 1 : 0;
    series.caused[j] = Number.isFinite(caused) ? caused : 0;
    series.wagePerHead[j] = present && insured > 0 ? (b.wageBaseTotal[k] as number) / insured : Number.NaN;
  }
}

/** Log change of the wage base per head against the upper median of the 6 months before. */
function wageChange(m: number): number {
  const now = series.wagePerHead[m] as number;
  if (Number.isNaN(now)) return 0;
  let n = 0;
  for (let j = Math.max(0, m - 6); j < m; j++) {
    const v = series.wagePerHead[j] as number;
    if (!Number.isNaN(v)) n = insertSorted(scratch, n, v);
  }
  if (n === 0) return 0;
  const median = scratch[n >> 1] as number;
  return median > 0 ? clip(Math.log(now / median), -1, 1) : 0;
}

function staticFeatures(b: SeriesBatch, i: number): number[] {
  const section = (b.industryCode[i] ?? '').charAt(0);
  const city = b.cityCode[i] ?? '';
  return [
    section === 'C' ? 1 : 0,
    section === 'E' || section === 'F' || section === 'H' ? 1 : 0,
    section === 'A' || section === 'B' || section === 'D' ? 1 : 0,
    'CEFHABD'.includes(section) && section !== '' ? 0 : 1,
    city === '510100' ? 1 : 0,
    PLAIN.has(city) ? 1 : 0,
    city !== '510100' && !PLAIN.has(city) ? 1 : 0,
  ];
}

function clip(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
