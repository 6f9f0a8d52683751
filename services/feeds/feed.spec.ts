import type { FeedName } from '../../sql/schema.js';
import { checkIndustry } from '../domain/industry.js';
import { findPii, maskPii, PII_LABEL } from '../domain/pii.js';
import { cityOfRegion } from '../domain/region.js';
import { checkUscc, usccBucket } from '../domain/uscc.js';
import { CITY_BY_CODE } from '../../config/cities.js';
import type { SourceRecord } from './record.js';
import { periodDate } from '../domain/period.js';

/**
 * The four feeds of ../shared/FEEDS.md: their columns, how a row is checked,
 * and the values it becomes in the fact table. A row is checked whole: every
 * problem is reported, each naming its column; values that look like
 * personal data are reported by column name only.
 */

export type Value = string | number | null;

export interface Problem {
  readonly column: string;
  readonly message: string;
}

export type RowResult = { ok: true; values: Value[]; key: string } | { ok: false; problems: Problem[]; withheld: ReadonlySet<string> };

export interface FeedSpec {
  readonly feed: FeedName;
  readonly table: 'social_insurance' | 'headcount' | 'regional' | 'layoff_filing';
  readonly partitioned: boolean;
  readonly required: readonly string[];
  readonly optional: readonly string[];
  /** Fact columns (batch_id aside) in the order validate() returns values, with their SQL types. */
  readonly columns: readonly (readonly [name: string, sqlType: string])[];
  /** The input column that names one row within a period: a second row with the same value is a duplicate, reported under it. */
  readonly keyLabel: string;
  /** A restatement replaces earlier rows of the period that share these columns. */
  readonly replaceColumns: readonly string[];
  /** Keep raw text of good rows in staging (small feeds whose rows can still be refused in SQL). */
  readonly keepRaw: boolean;
  validate(record: SourceRecord, batchPeriod: string): RowResult;
}

const NONE: ReadonlySet<string> = new Set();

/** Column lists already found free of personal data in their names (a CSV file's header is one list for all its rows). */
let cleanColumns: readonly string[] | undefined;

/** Reads and checks one record's fields, collecting every problem. */
class RowReader {
  readonly problems: Problem[] = [];
  private hidden: Set<string> | undefined;

  constructor(private readonly record: SourceRecord) {
    // Personal data anywhere, known column or not, in a value or in a column's
    // name, withholds that column. In a value, the row is refused and the
    // problem names the column, never the value. As a column's name (no feed
    // has such a column: an unknown one), the column is withheld and the row
    // goes on: one such name in a CSV header must not refuse every row.
    const { columns, fields } = record;
    const checkNames = columns !== cleanColumns;
    let namesClean = true;
    for (let i = 0; i < fields.length; i++) {
      const column = columns[i] as string;
      if (checkNames) {
        const inName = findPii(column);
        if (inName !== undefined) {
          namesClean = false;
          (this.hidden ??= new Set()).add(column);
          continue;
        }
      }
      const value = fields[i];
      // Personal data is at least six characters (a@b.cn); most fields are counts.
      if (value === undefined || value.length < 6) continue;
      if (column === 'uscc' && checkUscc(value) === undefined) continue;
      const kind = findPii(value);
      if (kind !== undefined) this.withhold(column, `${column}: looks like ${PII_LABEL[kind]}; value withheld`);
    }
    if (checkNames && namesClean) cleanColumns = columns;
  }

  private withhold(column: string, message: string): void {
    (this.hidden ??= new Set()).add(column);
    this.problems.push({ column: maskPii(column), message });
  }

  get withheld(): ReadonlySet<string> {
    return this.hidden ?? NONE;
  }

  private raw(column: string, required: boolean): string | undefined {
    if (this.hidden?.has(column) === true) return undefined;
    const v = this.record.get(column)?.trim();
    if (v === undefined || v === '') {
      if (required) this.problems.push({ column, message: `${column}: missing (required)` });
      return undefined;
    }
    if (v.includes('\u0000')) {
      this.problems.push({ column, message: `${column}: contains a NUL character` });
      return undefined;
    }
    return v;
  }

  uscc(column = 'uscc'): string | undefined {
    const v = this.raw(column, true);
    if (v === undefined) return undefined;
    const problem = checkUscc(v);
    if (problem === undefined) return v;
    const shown = /^[0-9A-Z]{1,30}$/.test(v) ? `${column} ${v}` : column;
    switch (problem.kind) {
      case 'length':
        this.problems.push({ column, message: `${shown}: must be 18 characters, has ${problem.length}` });
        break;
      case 'char':
        this.problems.push({ column, message: `${shown}: character ${problem.position} "${problem.char}" is not allowed (digits and capitals except I, O, S, V, Z)` });
        break;
      case 'check':
        this.problems.push({ column, message: `${shown}: check digit should be ${problem.expected}` });
        break;
      case 'region':
        this.problems.push({ column, message: `${shown}: characters 3–8 "${problem.region}" are not an administrative division code` });
        break;
      case 'personal_id':
        this.problems.push({ column, message: `${column}: looks like ${PII_LABEL.id_number}, not an employer code; value withheld` });
        break;
      default:
        problem satisfies never;
    }
    return undefined;
  }

  text(column: string, max: number): string | undefined {
    const v = this.raw(column, true);
    if (v === undefined) return undefined;
    // UTF-16 length bounds the character count from above: count only when it might be over.
    if (v.length > max) {
      const chars = [...v].length;
      if (chars > max) {
        this.problems.push({ column, message: `${column}: ${chars} characters, at most ${max}` });
        return undefined;
      }
    }
    return v;
  }

  int(column: string, required: boolean, min = 0): number | null {
    const v = this.raw(column, required);
    if (v === undefined) return null;
    if (!isInteger(v)) {
      this.problems.push({ column, message: `${column} "${clip(v)}": must be a whole number` });
      return null;
    }
    const n = Number(v);
    if (n < min) {
      this.problems.push({ column, message: min === 0 ? `${column} ${v}: must not be negative` : `${column} ${v}: must be at least ${min}` });
      return null;
    }
    if (n > 2_147_483_647) {
      this.problems.push({ column, message: `${column} ${clip(v)}: too large` });
      return null;
    }
    return n;
  }

  decimal(column: string, required: boolean, max: number): string | null {
    const v = this.raw(column, required);
    if (v === undefined) return null;
    if (!/^-?\d+(\.\d+)?$/.test(v)) {
      this.problems.push({ column, message: `${column} "${clip(v)}": must be a decimal number` });
      return null;
    }
    const n = Number(v);
    if (n < 0) {
      this.problems.push({ column, message: `${column} ${v}: must not be negative` });
      return null;
    }
    if (n > max) {
      this.problems.push({ column, message: `${column} ${clip(v)}: must be at most ${max}` });
      return null;
    }
    return v;
  }

  /** YYYY-MM that must equal the batch period; returns the first day as a date. */
  period(batchPeriod: string, column = 'period'): string | undefined {
    const v = this.raw(column, true);
    if (v === undefined) return undefined;
    if (!isMonth(v)) {
      this.problems.push({ column, message: `${column} "${clip(v)}": must be a month YYYY-MM` });
      return undefined;
    }
    if (v !== batchPeriod) {
      this.problems.push({ column, message: `${column} ${v}: differs from the batch period ${batchPeriod}` });
      return undefined;
    }
    return periodDate(v);
  }

  date(column: string): string | undefined {
    const v = this.raw(column, true);
    if (v === undefined) return undefined;
    if (!isDate(v)) {
      this.problems.push({ column, message: `${column} "${clip(v)}": must be a date YYYY-MM-DD` });
      return undefined;
    }
    return v;
  }

  oneOf<T extends string>(column: string, allowed: readonly T[], required: boolean): T | null {
    const v = this.raw(column, required);
    if (v === undefined) return null;
    if (!(allowed as readonly string[]).includes(v)) {
      this.problems.push({ column, message: `${column} "${clip(v)}": must be one of ${allowed.join(', ')}` });
      return null;
    }
    return v as T;
  }

  region(column: string): { region: string; city: string } | undefined {
    const v = this.raw(column, true);
    if (v === undefined) return undefined;
    const r = cityOfRegion(v);
    if (!r.ok) {
      this.problems.push({ column, message: `${column} ${r.reason}` });
      return undefined;
    }
    return { region: v, city: r.city };
  }

  industry(column: string): string | undefined {
    const v = this.raw(column, true);
    if (v === undefined) return undefined;
    const problem = checkIndustry(v);
    if (problem !== undefined) {
      this.problems.push({ column, message: `${column} ${problem}` });
      return undefined;
    }
    return v;
  }

  /** Optional part ≤ whole, when both are known. */
  notAbove(part: string, partValue: number | null, whole: string, wholeValue: number | null): void {
    if (partValue !== null && wholeValue !== null && partValue > wholeValue) {
      this.problems.push({ column: part, message: `${part} ${partValue}: exceeds ${whole} ${wholeValue}` });
    }
  }

  problem(column: string, message: string): void {
    this.problems.push({ column, message });
  }

  result(values: Value[], key: string): RowResult {
    return this.problems.length === 0 ? { ok: true, values, key } : { ok: false, problems: this.problems, withheld: this.withheld };
  }
}

function isInteger(v: string): boolean {
  const start = v.charCodeAt(0) === 45 ? 1 : 0;
  if (v.length === start || v.length > 15) return false;
  for (let i = start; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

export function isMonth(v: string): boolean {
  const m = /^(\d{4})-(\d{2})$/.exec(v);
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 12 && Number(m[1]) >= 1990;
}

function isDate(v: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}

function clip(v: string): string {
  return v.length > 40 ? `${v.slice(0, 40)}…` : v;
}

const SEPARATION_PARTS = ['separated_transfer', 'separated_natural', 'separated_migrant', 'separated_graduate'] as const;

const socialInsurance: FeedSpec = {
  feed: 'social_insurance',
  table: 'social_insurance',
  partitioned: true,
  required: ['uscc', 'name', 'region_code', 'industry_code', 'period', 'insured', 'hired', 'separated', 'arrears_months', 'wage_base_total'],
  optional: ['ui_claims', ...SEPARATION_PARTS],
  columns: [
    ['bucket', 'smallint'], ['uscc', 'char(18)'], ['period', 'date'], ['name', 'text'], ['region_code', 'char(6)'],
    ['city_code', 'char(6)'], ['industry_code', 'varchar(3)'], ['insured', 'integer'], ['hired', 'integer'],
    ['separated', 'integer'], ['arrears_months', 'integer'], ['wage_base_total', 'numeric(16,2)'], ['ui_claims', 'integer'],
    ['separated_transfer', 'integer'], ['separated_natural', 'integer'], ['separated_migrant', 'integer'], ['separated_graduate', 'integer'],
  ],
  keyLabel: 'uscc',
  replaceColumns: ['bucket', 'uscc'],
  keepRaw: false,
  validate(record, batchPeriod) {
    const r = new RowReader(record);
    const uscc = r.uscc();
    const name = r.text('name', 200);
    const region = r.region('region_code');
    const industry = r.industry('industry_code');
    const period = r.period(batchPeriod);
    const insured = r.int('insured', true);
    const hired = r.int('hired', true);
    const separated = r.int('separated', true);
    const arrears = r.int('arrears_months', true);
    const wage = r.decimal('wage_base_total', true, 99_999_999_999_999);
    const claims = r.int('ui_claims', false);
    const parts = SEPARATION_PARTS.map((c) => r.int(c, false));
    parts.forEach((v, i) => r.notAbove(SEPARATION_PARTS[i] as string, v, 'separated', separated));
    const [transfer, natural] = parts as [number | null, number | null];
    if (transfer !== null && natural !== null && separated !== null && transfer <= separated && natural <= separated && transfer + natural > separated) {
      r.problem('separated_natural', `separated_transfer ${transfer} + separated_natural ${natural}: exceed separated ${separated}`);
    }
    if (r.problems.length > 0 || uscc === undefined) return r.result([], '');
    return r.result(
      [usccBucket(uscc), uscc, period ?? null, name ?? null, region?.region ?? null, region?.city ?? null, industry ?? null,
        insured, hired, separated, arrears, wage, claims, ...parts],
      uscc,
    );
  },
};

const LOSS_REASONS = ['orders', 'difficulty', 'closure', 'restructuring', 'relocation', 'seasonal', 'other'] as const;

const headcount: FeedSpec = {
  feed: 'headcount',
  table: 'headcount',
  partitioned: true,
  required: ['uscc', 'period', 'jobs_begin', 'jobs_end', 'jobs_lost', 'planned_layoffs'],
  optional: ['loss_reason', 'furloughed', 'dispatched'],
  columns: [
    ['bucket', 'smallint'], ['uscc', 'char(18)'], ['period', 'date'], ['jobs_begin', 'integer'], ['jobs_end', 'integer'],
    ['jobs_lost', 'integer'], ['loss_reason', 'text'], ['planned_layoffs', 'integer'], ['furloughed', 'integer'], ['dispatched', 'integer'],
  ],
  keyLabel: 'uscc',
  replaceColumns: ['bucket', 'uscc'],
  keepRaw: false,
  validate(record, batchPeriod) {
    const r = new RowReader(record);
    const uscc = r.uscc();
    const period = r.period(batchPeriod);
    const begin = r.int('jobs_begin', true);
    const end = r.int('jobs_end', true);
    const lost = r.int('jobs_lost', true);
    const reason = r.oneOf('loss_reason', LOSS_REASONS, false);
    const planned = r.int('planned_layoffs', true);
    const furloughed = r.int('furloughed', false);
    const dispatched = r.int('dispatched', false);
    r.notAbove('jobs_lost', lost, 'jobs_begin', begin);
    if (lost !== null && begin !== null && end !== null && lost <= begin && end < begin - lost) {
      r.problem('jobs_end', `jobs_end ${end}: below jobs_begin ${begin} minus jobs_lost ${lost}`);
    }
    if (lost === 0 && reason !== null) r.problem('loss_reason', `loss_reason "${reason}": must be empty when jobs_lost is 0`);
    if (lost !== null && lost > 0 && reason === null && !r.withheld.has('loss_reason')) {
      r.problem('loss_reason', `loss_reason: missing (required when jobs_lost is ${lost})`);
    }
    if (r.problems.length > 0 || uscc === undefined) return r.result([], '');
    return r.result([usccBucket(uscc), uscc, period ?? null, begin, end, lost, reason, planned, furloughed, dispatched], uscc);
  },
};

const regional: FeedSpec = {
  feed: 'regional',
  table: 'regional',
  partitioned: false,
  required: ['region_code', 'period', 'registered_unemployed', 'ui_new_claims', 'urban_new_jobs'],
  optional: ['surveyed_unemployment_rate'],
  columns: [
    ['city_code', 'char(6)'], ['period', 'date'], ['registered_unemployed', 'integer'], ['ui_new_claims', 'integer'],
    ['urban_new_jobs', 'integer'], ['surveyed_unemployment_rate', 'numeric(5,2)'],
  ],
  keyLabel: 'region_code',
  replaceColumns: ['city_code'],
  keepRaw: false,
  validate(record, batchPeriod) {
    const r = new RowReader(record);
    const region = r.region('region_code');
    if (region !== undefined && !CITY_BY_CODE.has(region.region)) {
      r.problem('region_code', `region_code ${region.region}: is a county; the regional feed takes the city code ${region.city}`);
    }
    const period = r.period(batchPeriod);
    const registered = r.int('registered_unemployed', true);
    const claims = r.int('ui_new_claims', true);
    const jobs = r.int('urban_new_jobs', true);
    const rate = r.decimal('surveyed_unemployment_rate', false, 100);
    if (r.problems.length > 0 || region === undefined) return r.result([], '');
    return r.result([region.city, period ?? null, registered, claims, jobs, rate], region.city);
  },
};

const FILING_REASONS = ['bankruptcy', 'difficulty', 'restructuring', 'circumstances'] as const;

const layoffFilings: FeedSpec = {
  feed: 'layoff_filings',
  table: 'layoff_filing',
  partitioned: false,
  required: ['filing_id', 'uscc', 'filed_on', 'effective_on', 'planned_count', 'staff_total', 'reason'],
  optional: [],
  columns: [
    ['filing_id', 'text'], ['period', 'date'], ['bucket', 'smallint'], ['uscc', 'char(18)'], ['filed_on', 'date'],
    ['effective_on', 'date'], ['planned_count', 'integer'], ['staff_total', 'integer'], ['reason', 'text'],
  ],
  keyLabel: 'filing_id',
  replaceColumns: ['uscc'],
  keepRaw: true,
  validate(record, batchPeriod) {
    const r = new RowReader(record);
    const id = r.text('filing_id', 64);
    const uscc = r.uscc();
    const filed = r.date('filed_on');
    const effective = r.date('effective_on');
    const planned = r.int('planned_count', true, 1);
    const staff = r.int('staff_total', true);
    const reason = r.oneOf('reason', FILING_REASONS, true);
    if (filed !== undefined && !filed.startsWith(`${batchPeriod}-`)) {
      r.problem('filed_on', `filed_on ${filed}: not within the batch period ${batchPeriod}`);
    }
    if (filed !== undefined && effective !== undefined && effective < filed) {
      r.problem('effective_on', `effective_on ${effective}: before filed_on ${filed}`);
    }
    if (planned !== null && staff !== null && staff < planned) {
      r.problem('staff_total', `staff_total ${staff}: below planned_count ${planned}`);
    }
    if (r.problems.length > 0 || uscc === undefined || id === undefined) return r.result([], '');
    return r.result([id, periodDate(batchPeriod), usccBucket(uscc), uscc, filed ?? null, effective ?? null, planned, staff, reason], id);
  },
};

export const FEEDS: Readonly<Record<FeedName, FeedSpec>> = {
  social_insurance: socialInsurance,
  headcount,
  regional,
  layoff_filings: layoffFilings,
};

export const FEED_NAMES = Object.keys(FEEDS) as FeedName[];

/** Header-level check: the columns a file must carry. */
export function missingColumns(spec: FeedSpec, present: readonly string[]): string[] {
  const have = new Set(present);
  return spec.required.filter((c) => !have.has(c));
}
