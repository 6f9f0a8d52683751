/**
 * The monthly history of a set of employers, as the scoring stage reads it:
 * columnar typed arrays, one slot per employer per month. The value of
 * employer i at month m is at index i * months + m; month 0 is the oldest,
 * month months - 1 is the period being scored. Absent data is explicit:
 * `si`/`hc` flag whether a row exists, and optional counts use -1 for "not
 * reported" (never 0, which is a real value).
 */

export interface Filing {
  readonly filingId: string;
  /** 'YYYY-MM-DD' */
  readonly filedOn: string;
  /** 'YYYY-MM-DD' */
  readonly effectiveOn: string;
  readonly plannedCount: number;
  readonly staffTotal: number;
}

export interface SeriesBatch {
  /** 'YYYY-MM', oldest first; the last is the period scored. */
  readonly periods: readonly string[];
  readonly months: number;
  readonly size: number;

  readonly uscc: readonly string[];
  readonly bucket: Uint8Array;
  /** From the latest social-insurance row of each employer. */
  readonly name: readonly string[];
  readonly cityCode: readonly string[];
  readonly regionCode: readonly string[];
  readonly industryCode: readonly string[];

  // Social insurance (社保参保月度数据). si[k] = 1 where the employer has a row that month.
  readonly si: Uint8Array;
  readonly insured: Int32Array;
  readonly hired: Int32Array;
  readonly separated: Int32Array;
  readonly arrearsMonths: Int32Array;
  readonly wageBaseTotal: Float64Array;
  /** -1: not reported */
  readonly uiClaims: Int32Array;
  /** -1: not reported */
  readonly separatedTransfer: Int32Array;
  /** -1: not reported */
  readonly separatedNatural: Int32Array;
  /** -1: not reported */
  readonly separatedMigrant: Int32Array;
  /** -1: not reported */
  readonly separatedGraduate: Int32Array;

  // Headcount reports of monitored enterprises (企业用工监测). hc[k] = 1 where a report exists.
  readonly hc: Uint8Array;
  readonly jobsBegin: Int32Array;
  readonly jobsEnd: Int32Array;
  readonly jobsLost: Int32Array;
  readonly plannedLayoffs: Int32Array;
  /** -1: not reported */
  readonly furloughed: Int32Array;

  /** Art. 41 layoff filings per employer, oldest first. */
  readonly filings: readonly (readonly Filing[])[];
}

/** A new employer code seen for the first time in a month: where transferred staff may reappear. */
export interface NewEmployerIntake {
  readonly uscc: string;
  readonly cityCode: string;
  readonly industryCode: string;
  /** 'YYYY-MM' of its first social-insurance row */
  readonly period: string;
  readonly insured: number;
  readonly hired: number;
}

/** Facts outside one employer's own rows that the rules need. */
export interface ScoringContext {
  /** New employer codes by city for a month ('YYYY-MM'). */
  newIntakes(cityCode: string, period: string): readonly NewEmployerIntake[];
  /** All of them, as read (what a scoring thread is sent to rebuild the context). */
  readonly intakes: readonly NewEmployerIntake[];
  /** Peers' churn dispersion (rules/dispersion.ts) for the employers read together; absent: Poisson (φ = 1) for peers. */
  readonly peers?: { of(section: string, workforce: number): number };
}

export const at = (batch: SeriesBatch, employer: number, month: number): number => employer * batch.months + month;
