import { describe, expect, it } from 'vitest';
import { buildFeatures, FEATURE_NAMES, FEATURE_STEPS, FEATURES_PER_STEP } from './features.js';
import { monthRange } from '../domain/period.js';
import type { SeriesBatch } from './series.js';
import { buildBatch, filing, periodsFrom, repeat, track } from './rules/fixture.testkit.js';
import type { EmployerSpec, Flow } from './rules/fixture.testkit.js';

/** A one-employer batch from monthly values (undefined months have no row). */
function batchOf(months: number, rows: ({ insured: number; hired: number; separated: number; wage?: number; transfer?: number } | undefined)[]): SeriesBatch {
  const len = months;
  const int = (): Int32Array => new Int32Array(len);
  const optional = (): Int32Array => new Int32Array(len).fill(-1);
  const b = {
    periods: monthRange('2024-01', '2030-12').slice(0, months), months, size: 1,
    uscc: ['91510100MA0000001X'], bucket: new Uint8Array(1), name: ['x'], cityCode: ['510100'], regionCode: ['510104'], industryCode: ['C39'],
    si: new Uint8Array(len), insured: int(), hired: int(), separated: int(), arrearsMonths: int(), wageBaseTotal: new Float64Array(len),
    uiClaims: optional(), separatedTransfer: optional(), separatedNatural: optional(), separatedMigrant: optional(), separatedGraduate: optional(),
    hc: new Uint8Array(len), jobsBegin: int(), jobsEnd: int(), jobsLost: int(), plannedLayoffs: int(), furloughed: optional(), filings: [[]],
  } satisfies SeriesBatch;
  rows.forEach((r, m) => {
    if (!r) return;
    b.si[m] = 1;
    b.insured[m] = r.insured;
    b.hired[m] = r.hired;
    b.separated[m] = r.separated;
    b.wageBaseTotal[m] = r.wage ?? r.insured * 6000;
    if (r.transfer !== undefined) b.separatedTransfer[m] = r.transfer;
  });
  return b;
}

const feature = (x: Float32Array, step: number, name: string): number => x[step * FEATURES_PER_STEP + FEATURE_NAMES.indexOf(name)] as number;

describe('features', () => {
  it('shape [n, 24, F], finite, with explicit masks for missing months', () => {
    const b = batchOf(24, [...Array.from({ length: 23 }, () => undefined), { insured: 50, hired: 1, separated: 1 }]);
    const x = buildFeatures(b, [0]);
    expect(x.length).toBe(FEATURE_STEPS * FEATURES_PER_STEP);
    expect([...x].every(Number.isFinite)).toBe(true);
    expect(feature(x, 0, 'si_present')).toBe(0);
    expect(feature(x, 23, 'si_present')).toBe(1);
    expect(feature(x, 0, 'ind_manufacturing')).toBe(1);
    expect(feature(x, 0, 'city_chengdu')).toBe(1);
  });

  it('a history shorter than the window is padded, not invented', () => {
    const b = batchOf(3, [{ insured: 10, hired: 0, separated: 0 }, { insured: 10, hired: 0, separated: 0 }, { insured: 0, hired: 0, separated: 10 }]);
    const x = buildFeatures(b, [0]);
    expect([...x].every(Number.isFinite)).toBe(true);
    expect(feature(x, 20, 'si_present')).toBe(0);
    expect(feature(x, 23, 'sep_rate')).toBe(1);
  });

  it('shows a layoff as separations far above the own baseline, and a transfer as not caused', () => {
    const steady = Array.from({ length: 23 }, () => ({ insured: 1000, hired: 30, separated: 30 }));
    const layoff = buildFeatures(batchOf(24, [...steady, { insured: 700, hired: 0, separated: 330 }]), [0]);
    const transfer = buildFeatures(batchOf(24, [...steady, { insured: 700, hired: 0, separated: 330, transfer: 300 }]), [0]);
    expect(feature(layoff, 23, 'sep_excess_ratio')).toBeGreaterThan(0.9);
    expect(feature(transfer, 23, 'sep_excess_ratio')).toBe(0);
    expect(feature(transfer, 23, 'transfer_share')).toBeCloseTo(300 / 330, 5);
  });

  it('never passes NaN or Infinity on, even from a NaN wage total or zero staff', () => {
    const b = batchOf(24, Array.from({ length: 24 }, (_, m) => ({ insured: m % 2, hired: 0, separated: 0, wage: m === 5 ? NaN : Infinity })));
    expect([...buildFeatures(b, [0])].every(Number.isFinite)).toBe(true);
  });

  it("sep_excess_ratio's typical month is the upper median of the 12 months before, gaps left out, at every step", () => {
    // 30 months of uneven separations with gaps, so that the sliding window
    // gains, loses and skips months; checked against a plain recount per step.
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const rows = Array.from({ length: 30 }, (_, m) => (m % 7 === 3 || m === 11 ? undefined : { insured: 200, hired: 5, separated: Math.floor(rand() * 12) }));
    const b = batchOf(30, rows);
    const x = buildFeatures(b, [0]);
    const start = 30 - FEATURE_STEPS;
    let checked = 0;
    for (let s = 0; s < FEATURE_STEPS; s++) {
      const m = start + s;
      const row = rows[m];
      if (!row) continue;
      const before = rows.slice(Math.max(0, m - 12), m).flatMap((r) => (r ? [r.separated] : [])).sort((a, c) => a - c);
      const typical = before.length === 0 ? 0 : (before[before.length >> 1] as number);
      const workforce = Math.max(1, row.insured - row.hired + row.separated);
      const want = Math.min(20, Math.max(-2, (row.separated - typical) / Math.max(typical, 1, 0.01 * workforce))) / 10;
      expect(feature(x, s, 'sep_excess_ratio'), `step ${s}`).toBeCloseTo(want, 6);
      checked++;
    }
    expect(checked).toBeGreaterThan(18);
  });

  describe('v2 leading signals', () => {
    const months = 24;
    const periods = periodsFrom('2024-11', months);
    const steady = (flow: Partial<Flow> = {}): Flow[] => repeat(months, { hired: 3, separated: 3, ...flow });

    it('arrears: the maximum of 6 months and the change over 3, from months up to the step only', () => {
      const flows = steady().map((f, m) => ({ ...f, arrears: m >= 18 && m <= 20 ? m - 17 : 0 }));
      const b = buildBatch(periods, [{ si: track(100, flows) }]);
      const x = buildFeatures(b, [0]);
      expect(feature(x, 17, 'arrears_max6')).toBe(0);
      expect(feature(x, 20, 'arrears_max6')).toBeCloseTo(3 / 6, 5);
      // Paid back in month 21, the maximum of the last 6 months remembers it; the trend turns.
      expect(feature(x, 21, 'arrears_max6')).toBeCloseTo(3 / 6, 5);
      expect(feature(x, 20, 'arrears_trend3')).toBeCloseTo(3 / 6, 5);
      expect(feature(x, 23, 'arrears_trend3')).toBeCloseTo(-3 / 6, 5);
    });

    it('wage base per head against 3 and 12 months before, and months since the last hire', () => {
      const flows = steady().map((f, m) => ({ ...f, wagePerHead: m >= 20 ? 4000 : 5000, hired: m >= 19 ? 0 : 3, separated: m >= 19 ? 0 : 3 }));
      const x = buildFeatures(buildBatch(periods, [{ si: track(100, flows) }]), [0]);
      expect(feature(x, 22, 'wage_vs_3m')).toBeCloseTo(Math.log(0.8), 5);
      expect(feature(x, 23, 'wage_vs_3m')).toBe(0);
      expect(feature(x, 23, 'wage_vs_12m')).toBeCloseTo(Math.log(0.8), 5);
      expect(feature(x, 19, 'wage_vs_3m')).toBe(0);
      expect(feature(x, 18, 'months_since_hire')).toBe(0);
      expect(feature(x, 23, 'months_since_hire')).toBeCloseTo(5 / 12, 5);
    });

    it('an Art. 41 filing counts from the month it is filed, for a layoff in the next 3 months', () => {
      const f = filing('2026-08-20', '2026-09-25', 40, 200);
      const b = buildBatch(periods, [{ si: track(200, steady()), filings: [f] }]);
      const x = buildFeatures(b, [0]);
      const step = (p: string): number => periods.indexOf(p);
      expect(feature(x, step('2026-07'), 'filing_planned_rate')).toBe(0);
      expect(feature(x, step('2026-08'), 'filing_planned_rate')).toBeCloseTo(0.2, 5);
      expect(feature(x, step('2026-09'), 'filing_planned_rate')).toBe(0);
    });

    it('peer arrears: the city × section share in arrears against all employers read, 0 for a small cell', () => {
      const late = { si: track(50, steady({ arrears: 1 })), cityCode: '510300', industryCode: 'C13' };
      const onTime = (city: string): EmployerSpec => ({ si: track(50, steady()), cityCode: city, industryCode: 'C13' });
      const employers: EmployerSpec[] = [...Array.from({ length: 5 }, () => late), ...Array.from({ length: 5 }, () => onTime('510300')), ...Array.from({ length: 10 }, () => onTime('510100'))];
      const b = buildBatch(periods, employers);
      const x = buildFeatures(b, [0, 10]);
      const at = (row: number, name: string): number => x[(row * FEATURE_STEPS + 23) * FEATURES_PER_STEP + FEATURE_NAMES.indexOf(name)] as number;
      expect(at(0, 'peer_arrears')).toBeCloseTo(0.5 - 0.25, 5);
      expect(at(1, 'peer_arrears')).toBeCloseTo(0 - 0.25, 5);
      const few = buildBatch(periods, employers.slice(0, 4));
      expect(feature(buildFeatures(few, [0]), 23, 'peer_arrears')).toBe(0);
    });

    it('says how much history an employer has, so a short window is not read as a quiet one', () => {
      const flows: (Flow | null)[] = steady().map((f, m) => (m < 20 ? null : f));
      const x = buildFeatures(buildBatch(periods, [{ si: track(30, flows) }]), [0]);
      expect(feature(x, 23, 'history_months')).toBeCloseTo(4 / 24, 5);
      expect(feature(x, 19, 'history_months')).toBe(0);
      expect(feature(x, 23, 'months_since_hire')).toBeLessThanOrEqual(3 / 12);
    });
  });
});
