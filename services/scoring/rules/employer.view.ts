import type { Filing, SeriesBatch } from '../series.js';
import { formatOrdinal, periodOrdinal } from '../../domain/period.js';

/**
 * One employer's months, cleaned once so that every rule can read them
 * without guarding: required counts are finite and ≥ 0, optional counts are
 * -1 when not reported, and the figures derived here (employer-caused
 * separations, workforce at the start of the month, wage base per head) are
 * defined for every month.
 */
export interface EmployerView {
  readonly uscc: string;
  readonly cityCode: string;
  /** GB/T 4754 section letter, '' when unknown. */
  readonly section: string;
  readonly months: number;
  /** Month ordinal (year * 12 + month - 1) of month 0, or null when the batch's periods are malformed. */
  readonly firstOrdinal: number | null;
  readonly periods: readonly string[];

  /** 1 where the employer has a social-insurance row. */
  readonly present: Uint8Array;
  /** First month with a row, -1 when none. */
  readonly firstPresent: number;
  readonly insured: Float64Array;
  readonly hired: Float64Array;
  readonly separated: Float64Array;
  readonly arrears: Float64Array;
  /** -1: not reported. */
  readonly transfer: Float64Array;
  /** -1: not reported. */
  readonly natural: Float64Array;
  /** -1: not reported. */
  readonly migrant: Float64Array;
  /** -1: not reported. */
  readonly uiClaims: Float64Array;
  /** separated − transfer − natural (unreported parts count as 0), never below 0. */
  readonly caused: Float64Array;
  /** Insured at the start of the month: last month's insured, or this month's reconstructed from its flows. */
  readonly workforce: Float64Array;
  /** Wage base per insured person, -1 when there is nobody insured. */
  readonly wagePerHead: Float64Array;

  /** 1 where a headcount report exists. */
  readonly reported: Uint8Array;
  readonly jobsBegin: Float64Array;
  readonly jobsEnd: Float64Array;
  readonly plannedLayoffs: Float64Array;
  /** -1: not reported. */
  readonly furloughed: Float64Array;

  readonly filings: readonly Filing[];
}

const count = (v: number | undefined): number => (v !== undefined && Number.isFinite(v) && v > 0 ? v : 0);
const optional = (v: number | undefined): number => (v !== undefined && Number.isFinite(v) && v >= 0 ? v : -1);

type Arrays = Pick<
  EmployerView,
  | 'present' | 'insured' | 'hired' | 'separated' | 'arrears' | 'transfer' | 'natural' | 'migrant' | 'uiClaims'
  | 'caused' | 'workforce' | 'wagePerHead' | 'reported' | 'jobsBegin' | 'jobsEnd' | 'plannedLayoffs' | 'furloughed'
>;

function newArrays(months: number): Arrays {
  const f = (): Float64Array => new Float64Array(months);
  return {
    present: new Uint8Array(months), insured: f(), hired: f(), separated: f(), arrears: f(), transfer: f(), natural: f(), migrant: f(),
    uiClaims: f(), caused: f(), workforce: f(), wagePerHead: f(), reported: new Uint8Array(months), jobsBegin: f(), jobsEnd: f(),
    plannedLayoffs: f(), furloughed: f(),
  };
}

/** One employer's view, in arrays of its own. */
export function employerView(batch: SeriesBatch, employer: number): EmployerView {
  return fillView(batch, employer, newArrays(Math.max(0, Math.floor(batch.months))));
}

let shared: Arrays | null = null;

/**
 * The same view in arrays that the next call overwrites: for a caller that
 * is done with it before it asks for the next employer's (evaluateRules,
 * whose hits copy the numbers they keep). Saves 17 allocations per employer.
 */
export function transientEmployerView(batch: SeriesBatch, employer: number): EmployerView {
  const months = Math.max(0, Math.floor(batch.months));
  if (shared === null || shared.present.length !== months) shared = newArrays(months);
  return fillView(batch, employer, shared);
}

/** Writes every month of every array (nothing is left from an earlier employer). */
function fillView(batch: SeriesBatch, employer: number, a: Arrays): EmployerView {
  const months = a.present.length;
  const base = employer * months;
  const { present, insured, hired, separated, arrears, transfer, natural, migrant, uiClaims, caused, workforce, wagePerHead, reported, jobsBegin, jobsEnd, plannedLayoffs, furloughed } = a;
  let firstPresent = -1;

  for (let m = 0; m < months; m++) {
    const k = base + m;
    const has = batch.si[k] === 1;
    present[m] = has ? 1 : 0;
    if (has) {
      if (firstPresent < 0) firstPresent = m;
      const ins = count(batch.insured[k]);
      const hir = count(batch.hired[k]);
      const sep = count(batch.separated[k]);
      const tra = Math.min(optional(batch.separatedTransfer[k]), sep);
      const nat = Math.min(optional(batch.separatedNatural[k]), sep);
      insured[m] = ins;
      hired[m] = hir;
      separated[m] = sep;
      arrears[m] = count(batch.arrearsMonths[k]);
      transfer[m] = tra;
      natural[m] = nat;
      migrant[m] = Math.min(optional(batch.separatedMigrant[k]), sep);
      uiClaims[m] = optional(batch.uiClaims[k]);
      caused[m] = Math.max(0, sep - Math.max(0, tra) - Math.max(0, nat));
      const prev = m - 1;
      workforce[m] = prev >= 0 && present[prev] === 1 ? (insured[prev] ?? 0) : Math.max(0, ins - hir + sep);
      const wage = count(batch.wageBaseTotal[k]);
      wagePerHead[m] = ins > 0 ? wage / ins : -1;
    } else {
      insured[m] = 0;
      hired[m] = 0;
      separated[m] = 0;
      arrears[m] = 0;
      caused[m] = 0;
      workforce[m] = 0;
      transfer[m] = -1;
      natural[m] = -1;
      migrant[m] = -1;
      uiClaims[m] = -1;
      wagePerHead[m] = -1;
    }
    const hasReport = batch.hc[k] === 1;
    reported[m] = hasReport ? 1 : 0;
    if (hasReport) {
      jobsBegin[m] = count(batch.jobsBegin[k]);
      jobsEnd[m] = count(batch.jobsEnd[k]);
      plannedLayoffs[m] = count(batch.plannedLayoffs[k]);
      furloughed[m] = optional(batch.furloughed[k]);
    } else {
      jobsBegin[m] = 0;
      jobsEnd[m] = 0;
      plannedLayoffs[m] = 0;
      furloughed[m] = -1;
    }
  }

  const last = months > 0 ? periodOrdinal(batch.periods[months - 1] ?? '') : null;
  const industry = batch.industryCode[employer] ?? '';
  return {
    uscc: batch.uscc[employer] ?? '',
    cityCode: batch.cityCode[employer] ?? '',
    section: /^[A-T]/.test(industry) ? industry.charAt(0) : '',
    months,
    firstOrdinal: last === null ? null : last - (months - 1),
    periods: batch.periods,
    ...a,
    firstPresent,
    filings: batch.filings[employer] ?? [],
  };
}

/** 'YYYY-MM' of month m (which may lie before or after the batch). */
export function periodOf(v: EmployerView, m: number): string {
  if (v.firstOrdinal !== null) return formatOrdinal(v.firstOrdinal + m);
  return v.periods[m] ?? '';
}

/** Calendar month 1–12 of month m, 0 when the periods are malformed. */
export function calendarMonth(v: EmployerView, m: number): number {
  if (v.firstOrdinal === null) return 0;
  const o = v.firstOrdinal + m;
  return o - Math.floor(o / 12) * 12 + 1;
}

/** Month index of a month ordinal, or null when the periods are malformed. */
export function indexOfOrdinal(v: EmployerView, ordinal: number): number | null {
  return v.firstOrdinal === null ? null : ordinal - v.firstOrdinal;
}

let scratch = new Float64Array(64);

/**
 * The median of a short list. The rules take tens of these per employer on
 * lists of a dozen values, so it sorts a copy in a reused buffer by
 * insertion (no allocation, no comparator calls); the caller's list is
 * left as it is.
 */
export function median(values: readonly number[]): number {
  return medianOf(values, values.length);
}

/** The median of the first n values of a list or typed array (left as it is). */
export function medianOf(values: ArrayLike<number>, n: number): number {
  if (n <= 0) return 0;
  if (n > scratch.length) scratch = new Float64Array(Math.max(n, 2 * scratch.length));
  const s = scratch;
  for (let i = 0; i < n; i++) insertSorted(s, i, values[i] as number);
  const mid = n >> 1;
  return n % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Inserts v into the sorted first n values of a (which has room for one more); returns n + 1. */
export function insertSorted(a: Float64Array, n: number, v: number): number {
  let j = n - 1;
  while (j >= 0 && (a[j] as number) > v) {
    a[j + 1] = a[j] as number;
    j--;
  }
  a[j + 1] = v;
  return n + 1;
}
