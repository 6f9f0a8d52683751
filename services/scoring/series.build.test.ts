import { describe, expect, it } from 'vitest';
import { BatchBuilder, INT_COLUMNS, monthNumber, OPTIONAL_COLUMNS, type RowFields } from './series.build.js';
import { PackWriter, packSeries } from './series.pack.js';
import type { Filing, SeriesBatch } from './series.js';

/** A row as a list of values, read in order as the COPY reader would (null: a NULL field). */
class Row implements RowFields {
  private pos = 0;
  constructor(private readonly values: readonly (string | number | null)[]) {}

  /** Fields not read yet. */
  get rest(): readonly (string | number | null)[] {
    return this.values.slice(this.pos);
  }

  skipIf(s: string): boolean {
    if (this.values[this.pos] !== s) return false;
    this.pos++;
    return true;
  }
  ascii(): string {
    const v = this.values[this.pos++];
    return v === null || v === undefined ? '' : String(v);
  }
  text(): string | null {
    const v = this.values[this.pos++];
    return v === null || v === undefined ? null : String(v);
  }
  int(ifNull = -1): number {
    const v = this.values[this.pos++];
    return v === null || v === undefined ? ifNull : Number(v);
  }
  num(ifNull = Number.NaN): number {
    const v = this.values[this.pos++];
    return v === null || v === undefined ? ifNull : Number(v);
  }
  skip(n = 1): void {
    this.pos += n;
  }
}

const PERIODS = ['2026-01', '2026-02', '2026-03', '2026-04'];

/** A social-insurance row after uscc and period: insured, hired, separated, arrears, wage base, UI claims, separated by transfer, natural, migrant, graduate. */
const si = (insured: number, optional: number | null = null): Row => new Row([insured, 1, 2, 0, insured * 5000, optional, optional, optional, optional, optional]);
/** A headcount row after uscc and period: jobs at the start, at the end, lost, planned layoffs, furloughed. */
const hc = (jobs: number, furloughed: number | null = null): Row => new Row([jobs, jobs - 1, 1, 0, furloughed]);
/** Name, city, region, industry. */
const named = (name: string, city = '5101'): Row => new Row([name, city, `${city}04`, 'C36']);

const column = (b: SeriesBatch, key: keyof SeriesBatch): number[] => Array.from(b[key] as ArrayLike<number>);

describe('BatchBuilder', () => {
  it('keeps employers in the order they arrived, once each, and sorts them by (bucket, uscc) when asked', () => {
    const b = new BatchBuilder(PERIODS);
    const c = b.employer('C', 7);
    const a = b.employer('A', 9);
    const bb = b.employer('B', 7);
    expect([c, a, bb]).toEqual([0, 1, 2]);
    expect(b.employer('A', 9)).toBe(1);
    expect(b.known('B')).toBe(2);
    expect(b.known('Z')).toBeUndefined();
    expect([b.bucketOf(a), b.usccOf(a)]).toEqual([9, 'A']);
    b.si(c, 3, si(30));
    b.si(a, 3, si(10));
    b.si(bb, 3, si(20));

    const arrived = b.build().batch;
    expect(arrived.uscc).toEqual(['C', 'A', 'B']);
    expect(column(arrived, 'bucket')).toEqual([7, 9, 7]);
    expect(column(arrived, 'insured')).toEqual([0, 0, 0, 30, 0, 0, 0, 10, 0, 0, 0, 20]);

    const sorted = b.build({ sorted: true }).batch;
    expect(sorted.uscc).toEqual(['B', 'C', 'A']);
    expect(column(sorted, 'bucket')).toEqual([7, 7, 9]);
    expect(column(sorted, 'insured')).toEqual([0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 10]);
    expect(column(sorted, 'si')).toEqual([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(sorted.periods).toEqual(PERIODS);
    expect([sorted.months, sorted.size]).toEqual([4, 3]);
  });

  it('sets a month from a row, leaves the optional counts at -1 where they are not reported, and ignores months outside the window', () => {
    const b = new BatchBuilder(PERIODS);
    const i = b.employer('A', 1);
    b.si(i, 0, si(10));
    b.si(i, 2, si(12, 3));
    b.hc(i, 2, hc(50, 4));
    b.hc(i, 3, hc(40));
    const outside = si(99);
    b.si(i, 4, outside);
    b.si(i, -1, si(98));
    expect(outside.rest).toHaveLength(10);

    const { batch } = b.build();
    expect(column(batch, 'si')).toEqual([1, 0, 1, 0]);
    expect(column(batch, 'insured')).toEqual([10, 0, 12, 0]);
    expect(column(batch, 'hired')).toEqual([1, 0, 1, 0]);
    expect(column(batch, 'wageBaseTotal')).toEqual([50000, 0, 60000, 0]);
    expect(column(batch, 'uiClaims')).toEqual([-1, -1, 3, -1]);
    expect(column(batch, 'separatedMigrant')).toEqual([-1, -1, 3, -1]);
    expect(column(batch, 'separatedGraduate')).toEqual([-1, -1, 3, -1]);
    expect(column(batch, 'hc')).toEqual([0, 0, 1, 1]);
    expect(column(batch, 'jobsBegin')).toEqual([0, 0, 50, 40]);
    expect(column(batch, 'jobsEnd')).toEqual([0, 0, 49, 39]);
    expect(column(batch, 'furloughed')).toEqual([-1, -1, 4, -1]);
  });

  it('clears one month of every employer, or every month of one, back to "no row"', () => {
    const b = new BatchBuilder(PERIODS);
    const a = b.employer('A', 1);
    const c = b.employer('C', 1);
    for (const i of [a, c]) {
      for (let m = 0; m < 4; m++) {
        b.si(i, m, si(10 * (i + 1) + m, 5));
        b.hc(i, m, hc(100 + m, 2));
      }
    }
    b.clearMonth(1);
    b.clearEmployer(c);
    const { batch } = b.build();
    expect(column(batch, 'si')).toEqual([1, 0, 1, 1, 0, 0, 0, 0]);
    expect(column(batch, 'insured')).toEqual([10, 0, 12, 13, 0, 0, 0, 0]);
    expect(column(batch, 'wageBaseTotal')).toEqual([50000, 0, 60000, 65000, 0, 0, 0, 0]);
    expect(column(batch, 'separatedTransfer')).toEqual([5, -1, 5, 5, -1, -1, -1, -1]);
    expect(column(batch, 'hc')).toEqual([1, 0, 1, 1, 0, 0, 0, 0]);
    expect(column(batch, 'jobsLost')).toEqual([1, 0, 1, 1, 0, 0, 0, 0]);
    expect(column(batch, 'furloughed')).toEqual([2, -1, 2, 2, -1, -1, -1, -1]);
  });

  it('names an employer by its latest named month, whatever the order the months come in', () => {
    const b = new BatchBuilder(PERIODS);
    const i = b.employer('A', 1);
    const j = b.employer('B', 1);
    b.attributes(i, 2, named('March name', '5103'));
    const older = named('January name');
    b.attributes(i, 0, older);
    // An older month's fields are stepped over, not read.
    expect(older.rest).toEqual([]);
    b.attributes(i, 3, named('April name', '5107'));
    b.attributes(i, 1, named('February name'));
    // As a pack kept it: month 1, then a later row of the facts wins.
    b.setAttributes(j, 1, 'Packed', '5101', '510104', 'F51');
    b.attributes(j, 0, named('Too old'));
    for (const m of [0, 1, 2, 3]) b.si(i, m, si(1));
    b.si(j, 3, si(1));

    const built = b.build();
    expect(built.batch.name).toEqual(['April name', 'Packed']);
    expect(built.batch.cityCode).toEqual(['5107', '5101']);
    expect(built.batch.regionCode).toEqual(['510704', '510104']);
    expect(built.batch.industryCode).toEqual(['C36', 'F51']);
    expect(Array.from(built.namedMonth)).toEqual([3, 1]);
  });

  it("attaches filings to their employer in the order given, and moves them with the employer's row", () => {
    const b = new BatchBuilder(PERIODS);
    const z = b.employer('Z', 3);
    const a = b.employer('A', 3);
    const filing = (id: string): Filing => ({ filingId: id, filedOn: '2026-03-02', effectiveOn: '2026-05-01', plannedCount: 40, staffTotal: 300 });
    b.filing(z, filing('F-2'));
    b.filing(z, filing('F-1'));
    b.filing(a, filing('F-3'));
    b.filing(99, filing('nobody'));
    b.si(z, 3, si(1));
    b.si(a, 3, si(1));
    const { batch } = b.build({ sorted: true });
    expect(batch.uscc).toEqual(['A', 'Z']);
    expect(batch.filings.map((fs) => fs.map((f) => f.filingId))).toEqual([['F-3'], ['F-2', 'F-1']]);
  });

  it('scores only employers with a social-insurance row in the recent months', () => {
    const b = new BatchBuilder(PERIODS);
    const gone = b.employer('GONE', 1);
    const recent = b.employer('RECENT', 1);
    const hcOnly = b.employer('HC', 1);
    b.si(gone, 0, si(10));
    b.si(recent, 2, si(20));
    b.hc(hcOnly, 3, hc(30));
    const { batch, namedMonth } = b.build({ recentMonths: 2 });
    expect(batch.uscc).toEqual(['RECENT']);
    expect(column(batch, 'insured')).toEqual([0, 0, 20, 0]);
    expect(Array.from(namedMonth)).toEqual([-1]);
    expect(b.build({ recentMonths: 4 }).batch.uscc).toEqual(['GONE', 'RECENT']);
  });

  it('finds the employer of a row by the order of the month before, else by its code', () => {
    const b = new BatchBuilder(PERIODS);
    for (const u of ['A', 'B', 'C']) b.employer(u, 1);
    const seen: (number | undefined)[] = [];
    for (const u of ['A', 'B', 'C', 'A', 'C', 'X', 'B']) {
      const row = new Row([u, 7]);
      seen.push(b.next(row));
      // The code is read either way: the row's next field follows.
      expect(row.rest).toEqual([7]);
    }
    expect(seen).toEqual([0, 1, 2, 0, 2, undefined, 1]);
  });

  it('keeps every value when it grows past its first capacity, and after reserve', () => {
    const b = new BatchBuilder(['2026-03', '2026-04']);
    b.reserve(1500);
    const n = 2500;
    for (let i = 0; i < n; i++) {
      const e = b.employer(`E${String(i).padStart(5, '0')}`, i % 256);
      b.si(e, 1, si(i));
    }
    const { batch } = b.build();
    expect(batch.size).toBe(n);
    expect(batch.insured[2 * 2499 + 1]).toBe(2499);
    expect(batch.insured[2 * 1024 + 1]).toBe(1024);
    expect(batch.uiClaims[2 * 2000]).toBe(-1);
    expect(batch.bucket[300]).toBe(300 % 256);
  });

  it("unpacks the previous period's pack one month earlier, leaving the newest month to the facts", () => {
    const before = new BatchBuilder(['2026-01', '2026-02', '2026-03']);
    const i = before.employer('A', 1);
    before.si(i, 0, si(10));
    before.si(i, 1, si(11, 2));
    before.hc(i, 2, hc(60, 1));
    const old = before.build().batch;
    const writer = new PackWriter();
    packSeries(old, 0, 3, writer);

    const b = new BatchBuilder(['2026-02', '2026-03', '2026-04']);
    const j = b.employer('A', 1);
    b.unpack(j, writer.bytes(), 3, 1);
    b.si(j, 2, si(13));
    const { batch } = b.build();
    expect(column(batch, 'si')).toEqual([1, 0, 1]);
    expect(column(batch, 'insured')).toEqual([11, 0, 13]);
    expect(column(batch, 'uiClaims')).toEqual([2, -1, -1]);
    expect(column(batch, 'hc')).toEqual([0, 1, 0]);
    expect(column(batch, 'jobsBegin')).toEqual([0, 60, 0]);
    expect(column(batch, 'furloughed')).toEqual([-1, 1, -1]);
  });

  it('numbers months as the COPY reader does, and names its columns', () => {
    expect(monthNumber('2026-01')).toBe(2026 * 12);
    expect(monthNumber('2026-12') - monthNumber('2025-12')).toBe(12);
    expect(() => monthNumber('2026-13')).toThrow(RangeError);
    expect(OPTIONAL_COLUMNS.every((c) => INT_COLUMNS.includes(c))).toBe(true);
  });
});
