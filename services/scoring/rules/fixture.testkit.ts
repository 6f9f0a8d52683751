import type { Filing, NewEmployerIntake, ScoringContext, SeriesBatch } from '../series.js';
import { formatOrdinal, periodOrdinal } from '../../domain/period.js';
import type { RuleHit } from './rule.types.js';

/**
 * Small SeriesBatch fixtures for the rule tests: describe each employer's
 * months as plain rows (null = no social-insurance row that month) and get
 * the columnar batch the scoring stage reads.
 */
export interface SiRow {
  insured: number;
  hired?: number;
  separated?: number;
  arrears?: number;
  /** Wage base total; default insured × 5,000. */
  wage?: number;
  /** Optional counts: omitted = not reported (-1). */
  uiClaims?: number;
  transfer?: number;
  natural?: number;
  migrant?: number;
  graduate?: number;
}

export interface HcRow {
  jobsBegin: number;
  jobsEnd: number;
  jobsLost?: number;
  plannedLayoffs?: number;
  /** Omitted = not reported (-1). */
  furloughed?: number;
}

export interface EmployerSpec {
  uscc?: string;
  name?: string;
  cityCode?: string;
  industryCode?: string;
  si: readonly (SiRow | null)[];
  hc?: readonly (HcRow | null)[];
  filings?: readonly Filing[];
}

export function periodsFrom(first: string, months: number): string[] {
  const o = periodOrdinal(first);
  if (o === null) throw new Error(`bad period ${first}`);
  return Array.from({ length: months }, (_, i) => formatOrdinal(o + i));
}

/** One month of flows: insured follows from the previous month. */
export interface Flow {
  hired: number;
  separated: number;
  transfer?: number;
  natural?: number;
  migrant?: number;
  graduate?: number;
  uiClaims?: number;
  arrears?: number;
  /** Wage base per head; default 5,000. */
  wagePerHead?: number;
}

/** Rows whose insured runs on from `start` (insured before the first month) by hires and separations. */
export function track(start: number, flows: readonly (Flow | null)[]): (SiRow | null)[] {
  let insured = start;
  return flows.map((f) => {
    if (f === null) return null;
    insured = insured + f.hired - f.separated;
    const { wagePerHead, ...rest } = f;
    return { ...rest, insured, wage: insured * (wagePerHead ?? 5000) };
  });
}

/** `n` months of the same flows. */
export function repeat(n: number, flow: Flow): Flow[] {
  return Array.from({ length: n }, () => ({ ...flow }));
}

let serial = 0;

/** A made-up USCC-shaped code, unique per call. */
export function fakeUscc(): string {
  serial += 1;
  return `91510100MA${String(serial).padStart(7, '0')}X`;
}

export function buildBatch(periods: readonly string[], employers: readonly EmployerSpec[]): SeriesBatch {
  const months = periods.length;
  const size = employers.length;
  const n = months * size;
  const b = {
    periods: [...periods],
    months,
    size,
    uscc: [] as string[],
    bucket: new Uint8Array(size),
    name: [] as string[],
    cityCode: [] as string[],
    regionCode: [] as string[],
    industryCode: [] as string[],
    si: new Uint8Array(n),
    insured: new Int32Array(n),
    hired: new Int32Array(n),
    separated: new Int32Array(n),
    arrearsMonths: new Int32Array(n),
    wageBaseTotal: new Float64Array(n),
    uiClaims: new Int32Array(n).fill(-1),
    separatedTransfer: new Int32Array(n).fill(-1),
    separatedNatural: new Int32Array(n).fill(-1),
    separatedMigrant: new Int32Array(n).fill(-1),
    separatedGraduate: new Int32Array(n).fill(-1),
    hc: new Uint8Array(n),
    jobsBegin: new Int32Array(n),
    jobsEnd: new Int32Array(n),
    jobsLost: new Int32Array(n),
    plannedLayoffs: new Int32Array(n),
    furloughed: new Int32Array(n).fill(-1),
    filings: [] as Filing[][],
  };
  employers.forEach((e, i) => {
    if (e.si.length !== months) throw new Error(`employer ${i}: ${e.si.length} months of rows for ${months} periods`);
    const city = e.cityCode ?? '510400';
    b.uscc.push(e.uscc ?? fakeUscc());
    b.name.push(e.name ?? `测试单位${i}`);
    b.cityCode.push(city);
    b.regionCode.push(city);
    b.industryCode.push(e.industryCode ?? 'C39');
    b.filings.push([...(e.filings ?? [])]);
    for (let m = 0; m < months; m++) {
      const k = i * months + m;
      const r = e.si[m];
      if (r) {
        b.si[k] = 1;
        b.insured[k] = r.insured;
        b.hired[k] = r.hired ?? 0;
        b.separated[k] = r.separated ?? 0;
        b.arrearsMonths[k] = r.arrears ?? 0;
        b.wageBaseTotal[k] = r.wage ?? r.insured * 5000;
        if (r.uiClaims !== undefined) b.uiClaims[k] = r.uiClaims;
        if (r.transfer !== undefined) b.separatedTransfer[k] = r.transfer;
        if (r.natural !== undefined) b.separatedNatural[k] = r.natural;
        if (r.migrant !== undefined) b.separatedMigrant[k] = r.migrant;
        if (r.graduate !== undefined) b.separatedGraduate[k] = r.graduate;
      }
      const h = e.hc?.[m];
      if (h) {
        b.hc[k] = 1;
        b.jobsBegin[k] = h.jobsBegin;
        b.jobsEnd[k] = h.jobsEnd;
        b.jobsLost[k] = h.jobsLost ?? Math.max(0, h.jobsBegin - h.jobsEnd);
        b.plannedLayoffs[k] = h.plannedLayoffs ?? 0;
        if (h.furloughed !== undefined) b.furloughed[k] = h.furloughed;
      }
    }
  });
  return b;
}

/** A context that knows the given new employer codes. */
export function contextWith(intakes: readonly NewEmployerIntake[] = []): ScoringContext {
  return {
    intakes,
    newIntakes: (cityCode, period) => intakes.filter((x) => x.cityCode === cityCode && x.period === period),
  };
}

export const noIntakes: ScoringContext = contextWith();

export function filing(filedOn: string, effectiveOn: string, plannedCount: number, staffTotal: number): Filing {
  return { filingId: `LF-${filedOn}-${plannedCount}`, filedOn, effectiveOn, plannedCount, staffTotal };
}

/** The rule ids of the hits, in order. */
export const rulesOf = (hits: readonly RuleHit[]): string[] => hits.map((h) => h.rule);

/** Every number of every hit, for checking that none is NaN or Infinity. */
export function allNumbers(hits: readonly RuleHit[]): number[] {
  return hits.flatMap((h) => Object.values(h.numbers));
}
