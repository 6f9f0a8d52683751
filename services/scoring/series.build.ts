import { periodOrdinal } from '../domain/period.js';
import type { Filing, SeriesBatch } from './series.js';
import { unpackSeries, type MonthColumns } from './series.pack.js';

/**
 * The columnar SeriesBatch built up as rows arrive, whatever their source:
 * the fact tables (COPY rows), the previous period's pack, or a test. Pure:
 * rows come in as a cursor over their fields (RowFields), which the
 * repository's COPY reader (services/db/copy.read.ts, CopyFields) satisfies,
 * so nothing here knows about the database.
 */

/** The fields of one row, read in order (CopyFields, or a test's list of values). */
export interface RowFields {
  /** Steps past the next field when it is exactly s; false (and stays) otherwise. */
  skipIf(s: string): boolean;
  /** The next field as ASCII text ('' when null). */
  ascii(): string;
  /** The next field as text, null when null. */
  text(): string | null;
  /** The next field as an integer, ifNull when null. */
  int(ifNull?: number): number;
  /** The next field as a number, ifNull when null. */
  num(ifNull?: number): number;
  /** Steps past n fields. */
  skip(n?: number): void;
}

/** The monthly integer columns of a SeriesBatch. */
export const INT_COLUMNS = [
  'insured', 'hired', 'separated', 'arrearsMonths', 'uiClaims', 'separatedTransfer', 'separatedNatural', 'separatedMigrant', 'separatedGraduate',
  'jobsBegin', 'jobsEnd', 'jobsLost', 'plannedLayoffs', 'furloughed',
] as const;
export type IntColumn = (typeof INT_COLUMNS)[number];
/** Counts a feed may leave out: -1 ("not reported") where there is no value. */
export const OPTIONAL_COLUMNS: readonly IntColumn[] = ['uiClaims', 'separatedTransfer', 'separatedNatural', 'separatedMigrant', 'separatedGraduate', 'furloughed'];

/** 'YYYY-MM' as year × 12 + month − 1 (services/domain periodOrdinal), the numbering CopyFields.month() uses. */
export function monthNumber(period: string): number {
  const n = periodOrdinal(period);
  if (n === null) throw new RangeError(`not a month: "${period}" (expected YYYY-MM)`);
  return n;
}

/** Columnar arrays that grow as employers arrive. */
export class BatchBuilder {
  private readonly months: number;
  private n = 0;
  private cap = 1024;
  private readonly index = new Map<string, number>();
  private readonly uscc: string[] = [];
  private readonly name: string[] = [];
  private readonly cityCode: string[] = [];
  private readonly regionCode: string[] = [];
  private readonly industryCode: string[] = [];
  private readonly filings: Filing[][] = [];
  /** Month index of the row the attributes came from. */
  private readonly named: number[] = [];
  private bucket = new Uint8Array(this.cap);
  private cols: Record<IntColumn, Int32Array>;
  private wage: Float64Array;
  private flags: { si: Uint8Array; hc: Uint8Array };

  constructor(readonly periods: readonly string[]) {
    this.months = periods.length;
    this.cols = Object.fromEntries(INT_COLUMNS.map((c) => [c, new Int32Array(this.cap * this.months)])) as Record<IntColumn, Int32Array>;
    this.wage = new Float64Array(this.cap * this.months);
    this.flags = { si: new Uint8Array(this.cap * this.months), hc: new Uint8Array(this.cap * this.months) };
  }

  employer(uscc: string, bucket: number): number {
    const found = this.index.get(uscc);
    if (found !== undefined) return found;
    if (this.n === this.cap) this.grow();
    const i = this.n++;
    this.index.set(uscc, i);
    this.uscc.push(uscc);
    this.name.push('');
    this.cityCode.push('');
    this.regionCode.push('');
    this.industryCode.push('');
    this.filings.push([]);
    this.named.push(-1);
    this.bucket[i] = bucket;
    // Optional counts default to "not reported".
    const base = i * this.months;
    for (const c of OPTIONAL_COLUMNS) this.cols[c].fill(-1, base, base + this.months);
    return i;
  }

  known(uscc: string): number | undefined {
    return this.index.get(uscc);
  }

  /** Where the last row's employer was followed by another: rows of each month come in the same order. */
  private expected = 0;

  /**
   * The employer of a row whose next field is its uscc (and steps past it).
   * Each month's rows arrive in the order the employers were first seen, so
   * the one after the last match is tried before the index.
   */
  next(r: RowFields): number | undefined {
    const guess = this.expected;
    if (guess < this.n && r.skipIf(this.uscc[guess] as string)) {
      this.expected = guess + 1;
      return guess;
    }
    const i = this.index.get(r.ascii());
    if (i !== undefined) this.expected = i + 1;
    return i;
  }

  bucketOf(i: number): number {
    return this.bucket[i] as number;
  }

  usccOf(i: number): string {
    return this.uscc[i] as string;
  }

  /** Name and codes as a pack kept them, from month m's row. */
  setAttributes(i: number, m: number, name: string, city: string, region: string, industry: string): void {
    this.named[i] = m;
    this.name[i] = name;
    this.cityCode[i] = city;
    this.regionCode[i] = region;
    this.industryCode[i] = industry;
  }

  /** A packed series into employer i, `shift` months earlier (throws PackFormatError, leaving i partly filled). */
  unpack(i: number, bytes: Uint8Array, packMonths: number, shift: number): void {
    unpackSeries(bytes, 0, bytes.length, packMonths, this.view(), i * this.months, this.months, shift);
  }

  /** Month m of every employer back to "no row". */
  clearMonth(m: number): void {
    const M = this.months;
    const end = this.n * M;
    const each = (a: Int32Array | Uint8Array | Float64Array, v: number): void => {
      for (let k = m; k < end; k += M) a[k] = v;
    };
    each(this.flags.si, 0);
    each(this.flags.hc, 0);
    each(this.wage, 0);
    for (const c of INT_COLUMNS) each(this.cols[c], 0);
    for (const c of OPTIONAL_COLUMNS) each(this.cols[c], -1);
  }

  /** Every month of employer i back to "no row". */
  clearEmployer(i: number): void {
    for (let m = 0; m < this.months; m++) this.clearSlot(i * this.months + m);
  }

  private clearSlot(k: number): void {
    this.flags.si[k] = 0;
    this.flags.hc[k] = 0;
    for (const c of INT_COLUMNS) this.cols[c][k] = 0;
    for (const c of OPTIONAL_COLUMNS) this.cols[c][k] = -1;
    this.wage[k] = 0;
  }

  private columns: MonthColumns | null = null;

  /** The monthly columns as they are now (made again after a grow replaces them). */
  private view(): MonthColumns {
    this.columns ??= { ...this.cols, wageBaseTotal: this.wage, si: this.flags.si, hc: this.flags.hc };
    return this.columns;
  }

  /** Name and codes from the employer's latest row (fields: name, city, region, industry). */
  attributes(i: number, m: number, r: RowFields): void {
    if (m < (this.named[i] as number)) {
      r.skip(4);
      return;
    }
    this.named[i] = m;
    this.name[i] = r.text() ?? '';
    this.cityCode[i] = r.ascii();
    this.regionCode[i] = r.ascii();
    this.industryCode[i] = r.ascii();
  }

  /** A social-insurance row (fields after uscc and period, in readShard's order). */
  si(i: number, m: number, r: RowFields): void {
    if (m < 0 || m >= this.months) return;
    const k = i * this.months + m;
    this.flags.si[k] = 1;
    this.cols.insured[k] = r.int();
    this.cols.hired[k] = r.int();
    this.cols.separated[k] = r.int();
    this.cols.arrearsMonths[k] = r.int();
    this.wage[k] = r.num(0);
    this.cols.uiClaims[k] = r.int(-1);
    this.cols.separatedTransfer[k] = r.int(-1);
    this.cols.separatedNatural[k] = r.int(-1);
    this.cols.separatedMigrant[k] = r.int(-1);
    this.cols.separatedGraduate[k] = r.int(-1);
  }

  /** A headcount row (fields after uscc and period, in readShard's order). */
  hc(i: number, m: number, r: RowFields): void {
    if (m < 0 || m >= this.months) return;
    const k = i * this.months + m;
    this.flags.hc[k] = 1;
    this.cols.jobsBegin[k] = r.int();
    this.cols.jobsEnd[k] = r.int();
    this.cols.jobsLost[k] = r.int();
    this.cols.plannedLayoffs[k] = r.int();
    this.cols.furloughed[k] = r.int(-1);
  }

  filing(i: number, f: Filing): void {
    this.filings[i]?.push(f);
  }

  /**
   * The batch: every employer as it arrived, or (scoring) only those with a
   * social-insurance row in the last `recentMonths` months, in (bucket, uscc)
   * order so that the same employers give the same batch however they were read.
   */
  build(options: { recentMonths?: number; sorted?: boolean } = {}): { batch: SeriesBatch; namedMonth: Int16Array } {
    const M = this.months;
    let order: number[] | null = null;
    if (options.recentMonths !== undefined || options.sorted === true) {
      const recent = options.recentMonths ?? M;
      order = [];
      for (let i = 0; i < this.n; i++) {
        let seen = false;
        for (let m = Math.max(0, M - recent); m < M && !seen; m++) seen = this.flags.si[i * M + m] === 1;
        if (seen) order.push(i);
      }
      if (options.sorted === true) {
        const u = this.uscc;
        const bk = this.bucket;
        const before = (x: number, y: number): number => (bk[x] as number) - (bk[y] as number) || ((u[x] as string) < (u[y] as string) ? -1 : (u[x] as string) > (u[y] as string) ? 1 : 0);
        // A pack comes back in key order: sorted already, but for employers new this month.
        let inOrder = true;
        for (let r = 1; r < order.length && inOrder; r++) inOrder = before(order[r - 1] as number, order[r] as number) < 0;
        if (!inOrder) order.sort(before);
      }
    }
    const n = order === null ? this.n : order.length;
    const pick = <T extends Int32Array | Uint8Array | Float64Array>(a: T, make: (len: number) => T): T => {
      if (order === null) return a.slice(0, n * M) as T;
      const out = make(n * M);
      for (let r = 0; r < n; r++) {
        const i = order[r] as number;
        out.set(a.subarray(i * M, i * M + M), r * M);
      }
      return out;
    };
    const col = (c: IntColumn): Int32Array => pick(this.cols[c], (len) => new Int32Array(len));
    const list = <T>(a: readonly T[]): T[] => (order === null ? a.slice(0, n) : order.map((i) => a[i] as T));
    const flag = (a: Uint8Array): Uint8Array => pick(a, (len) => new Uint8Array(len));
    const bucket = order === null ? this.bucket.slice(0, n) : Uint8Array.from(order, (i) => this.bucket[i] as number);
    const namedMonth = Int16Array.from(list(this.named));
    const batch: SeriesBatch = {
      periods: this.periods,
      months: M,
      size: n,
      uscc: list(this.uscc),
      bucket,
      name: list(this.name),
      cityCode: list(this.cityCode),
      regionCode: list(this.regionCode),
      industryCode: list(this.industryCode),
      si: flag(this.flags.si),
      insured: col('insured'),
      hired: col('hired'),
      separated: col('separated'),
      arrearsMonths: col('arrearsMonths'),
      wageBaseTotal: pick(this.wage, (len) => new Float64Array(len)),
      uiClaims: col('uiClaims'),
      separatedTransfer: col('separatedTransfer'),
      separatedNatural: col('separatedNatural'),
      separatedMigrant: col('separatedMigrant'),
      separatedGraduate: col('separatedGraduate'),
      hc: flag(this.flags.hc),
      jobsBegin: col('jobsBegin'),
      jobsEnd: col('jobsEnd'),
      jobsLost: col('jobsLost'),
      plannedLayoffs: col('plannedLayoffs'),
      furloughed: col('furloughed'),
      filings: list(this.filings),
    };
    return { batch, namedMonth };
  }

  /** Room for at least n employers without growing. */
  reserve(n: number): void {
    while (this.cap < n) this.grow();
  }

  private grow(): void {
    const cap = this.cap * 2;
    const widen = <T extends Int32Array | Uint8Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap * this.months);
      b.set(a);
      return b;
    };
    for (const c of INT_COLUMNS) this.cols[c] = widen(this.cols[c], (n) => new Int32Array(n));
    this.wage = widen(this.wage, (n) => new Float64Array(n));
    this.flags = { si: widen(this.flags.si, (n) => new Uint8Array(n)), hc: widen(this.flags.hc, (n) => new Uint8Array(n)) };
    const bucket = new Uint8Array(cap);
    bucket.set(this.bucket);
    this.bucket = bucket;
    this.cap = cap;
    this.columns = null;
  }
}
