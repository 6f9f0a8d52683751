import { copyScan, type CopyFields } from '../db/copy.read.js';
import type { Database } from '../db/database.js';
import { addMonths, monthRange } from './period.js';
import type { Filing, NewEmployerIntake, ScoringContext, SeriesBatch } from './series.js';

/**
 * Reads what the scoring stage needs, shard by shard: the monthly history
 * of every employer in a bucket range (optionally one city) that reported
 * in the last few months, as a columnar SeriesBatch. Rows stream out with
 * COPY … TO STDOUT in (bucket, uscc, period) order, the order of the fact
 * tables' primary keys, so each month's partition is read as index ranges.
 */

export interface ShardQuery {
  /** 'YYYY-MM' scored */
  period: string;
  /** Months of history including the scored one. */
  months: number;
  bucketFrom: number;
  bucketTo: number;
  city?: string;
  /** Employers whose last social-insurance row is at most this many months old (closures stay visible). */
  recentMonths?: number;
}

export class SeriesRepository {
  constructor(private readonly database: Database) {}

  async readShard(q: ShardQuery): Promise<SeriesBatch> {
    const periods = monthRange(addMonths(q.period, -(q.months - 1)), q.period);
    const first = monthNumber(periods[0] as string);
    const from = `${periods[0]}-01`;
    const to = `${q.period}-01`;
    const recentFrom = `${addMonths(q.period, -((q.recentMonths ?? 3) - 1))}-01`;
    const b = new BatchBuilder(periods);
    const client = await this.database.pool.connect();
    try {
      const lit = (v: string): string => client.escapeLiteral(v);
      const where = (alias: string, since: string): string =>
        `${alias}.period BETWEEN ${lit(since)}::date AND ${lit(to)}::date AND ${alias}.bucket BETWEEN ${Number(q.bucketFrom) | 0} AND ${Number(q.bucketTo) | 0}` +
        (q.city !== undefined && alias === 's' ? ` AND s.city_code = ${lit(q.city)}` : '');

      // Who is scored: employers with a social-insurance row in the recent
      // months (closures stay visible a while), named by their latest row.
      // Employers that stopped reporting before that are gone, not at risk.
      await copyScan(client, `SELECT s.bucket, s.uscc, s.period, s.name, s.city_code, s.region_code, s.industry_code FROM social_insurance s WHERE ${where('s', recentFrom)}`, (r) => {
        const bucket = r.int();
        const i = b.employer(r.ascii(), bucket);
        b.attributes(i, r.month() - first, r);
      });

      // Their history: no ORDER BY, so each month's partition is one scan;
      // the text columns came above, once per employer, not once per month.
      await copyScan(
        client,
        `SELECT s.uscc, s.period, s.insured, s.hired, s.separated, s.arrears_months, s.wage_base_total,
                s.ui_claims, s.separated_transfer, s.separated_natural, s.separated_migrant
           FROM social_insurance s WHERE ${where('s', from)}`,
        (r) => {
          const i = b.next(r);
          if (i !== undefined) b.si(i, r.month() - first, r);
        },
      );

      await copyScan(
        client,
        `SELECT h.uscc, h.period, h.jobs_begin, h.jobs_end, h.jobs_lost, h.planned_layoffs, h.furloughed FROM headcount h WHERE ${where('h', from)}`,
        (r) => {
          const i = b.next(r);
          if (i !== undefined) b.hc(i, r.month() - first, r);
        },
      );

      const filings = await client.query<{ uscc: string; filing_id: string; filed_on: string; effective_on: string; planned_count: number; staff_total: number }>(
        `SELECT uscc, filing_id, to_char(filed_on, 'YYYY-MM-DD') AS filed_on, to_char(effective_on, 'YYYY-MM-DD') AS effective_on, planned_count, staff_total
           FROM layoff_filing
          WHERE bucket BETWEEN $1 AND $2 AND effective_on >= $3::date
          ORDER BY filed_on, filing_id`,
        [q.bucketFrom, q.bucketTo, from],
      );
      for (const f of filings.rows) {
        const i = b.known(f.uscc);
        if (i !== undefined) b.filing(i, { filingId: f.filing_id, filedOn: f.filed_on, effectiveOn: f.effective_on, plannedCount: f.planned_count, staffTotal: f.staff_total });
      }
    } finally {
      client.release();
    }
    return b.build();
  }

  /**
   * New employer codes of these months, province-wide (a transferred block
   * may land in any bucket): codes whose first social-insurance row ever is
   * in that month. Found in two steps so that a night never hashes the whole
   * history: the codes with no row the month before (two partitions), then,
   * of those few, the ones that never had a row earlier at all (index probes).
   */
  async newIntakes(periods: readonly string[]): Promise<ScoringContext> {
    const intakes: NewEmployerIntake[] = [];
    for (const period of [...new Set(periods)]) {
      const candidates = await this.database.pool.query<{ bucket: number; uscc: string; city_code: string; industry_code: string; insured: number; hired: number }>(
        `SELECT s.bucket, s.uscc, s.city_code, s.industry_code, s.insured, s.hired
           FROM social_insurance s
          WHERE s.period = $1::date AND s.insured >= $3
            AND NOT EXISTS (SELECT 1 FROM social_insurance q WHERE q.period = $2::date AND q.bucket = s.bucket AND q.uscc = s.uscc)`,
        [`${period}-01`, `${addMonths(period, -1)}-01`, MIN_INTAKE],
      );
      if (candidates.rows.length === 0) continue;
      const returning = await this.database.pool.query<{ uscc: string }>(
        `SELECT c.uscc
           FROM unnest($1::smallint[], $2::text[]) AS c(bucket, uscc)
          WHERE EXISTS (SELECT 1 FROM social_insurance p WHERE p.bucket = c.bucket AND p.uscc = c.uscc::char(18) AND p.period < $3::date)`,
        [candidates.rows.map((r) => r.bucket), candidates.rows.map((r) => r.uscc), `${addMonths(period, -1)}-01`],
      );
      const earlier = new Set(returning.rows.map((r) => r.uscc));
      for (const r of candidates.rows) {
        if (!earlier.has(r.uscc)) intakes.push({ uscc: r.uscc, cityCode: r.city_code, industryCode: r.industry_code, period, insured: r.insured, hired: r.hired });
      }
    }
    return intakeContext(intakes);
  }
}

/** Staff a new code must start with to count as a place transferred staff may have gone. */
const MIN_INTAKE = 5;

/** A ScoringContext over a list of new employer codes (also how a worker thread rebuilds the one the main thread read). */
export function intakeContext(intakes: readonly NewEmployerIntake[]): ScoringContext {
  const byKey = new Map<string, NewEmployerIntake[]>();
  for (const r of intakes) {
    const key = `${r.cityCode}|${r.period}`;
    const list = byKey.get(key) ?? [];
    list.push(r);
    byKey.set(key, list);
  }
  return { intakes, newIntakes: (city, period) => byKey.get(`${city}|${period}`) ?? [] };
}

/** Columnar arrays that grow as employers arrive. */
class BatchBuilder {
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

  constructor(private readonly periods: readonly string[]) {
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
  next(r: CopyFields): number | undefined {
    const guess = this.expected;
    if (guess < this.n && r.skipIf(this.uscc[guess] as string)) {
      this.expected = guess + 1;
      return guess;
    }
    const i = this.index.get(r.ascii());
    if (i !== undefined) this.expected = i + 1;
    return i;
  }

  /** Name and codes from the employer's latest row (fields: name, city, region, industry). */
  attributes(i: number, m: number, r: CopyFields): void {
    if (m < (this.named[i] as number)) return;
    this.named[i] = m;
    this.name[i] = r.text() ?? '';
    this.cityCode[i] = r.ascii();
    this.regionCode[i] = r.ascii();
    this.industryCode[i] = r.ascii();
  }

  /** A social-insurance row (fields after uscc and period, in readShard's order). */
  si(i: number, m: number, r: CopyFields): void {
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
  }

  /** A headcount row (fields after uscc and period, in readShard's order). */
  hc(i: number, m: number, r: CopyFields): void {
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

  build(): SeriesBatch {
    const len = this.n * this.months;
    const col = (c: IntColumn): Int32Array => this.cols[c].slice(0, len);
    return {
      periods: this.periods,
      months: this.months,
      size: this.n,
      uscc: this.uscc,
      bucket: this.bucket.slice(0, this.n),
      name: this.name,
      cityCode: this.cityCode,
      regionCode: this.regionCode,
      industryCode: this.industryCode,
      si: this.flags.si.slice(0, len),
      insured: col('insured'),
      hired: col('hired'),
      separated: col('separated'),
      arrearsMonths: col('arrearsMonths'),
      wageBaseTotal: this.wage.slice(0, len),
      uiClaims: col('uiClaims'),
      separatedTransfer: col('separatedTransfer'),
      separatedNatural: col('separatedNatural'),
      separatedMigrant: col('separatedMigrant'),
      hc: this.flags.hc.slice(0, len),
      jobsBegin: col('jobsBegin'),
      jobsEnd: col('jobsEnd'),
      jobsLost: col('jobsLost'),
      plannedLayoffs: col('plannedLayoffs'),
      furloughed: col('furloughed'),
      filings: this.filings,
    };
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
  }
}

const INT_COLUMNS = [
  'insured', 'hired', 'separated', 'arrearsMonths', 'uiClaims', 'separatedTransfer', 'separatedNatural', 'separatedMigrant',
  'jobsBegin', 'jobsEnd', 'jobsLost', 'plannedLayoffs', 'furloughed',
] as const;
type IntColumn = (typeof INT_COLUMNS)[number];
const OPTIONAL_COLUMNS: readonly IntColumn[] = ['uiClaims', 'separatedTransfer', 'separatedNatural', 'separatedMigrant', 'furloughed'];

/** 'YYYY-MM' as year × 12 + month − 1, the numbering CopyFields.month() uses. */
function monthNumber(period: string): number {
  return Number(period.slice(0, 4)) * 12 + Number(period.slice(5, 7)) - 1;
}
