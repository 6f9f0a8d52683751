import { describe, expect, it } from 'vitest';
import { buildFeatures, FEATURE_NAMES, FEATURE_STEPS, FEATURES_PER_STEP } from './features.js';
import { monthRange } from './period.js';
import type { SeriesBatch } from './series.js';

/** A one-employer batch from monthly values (undefined months have no row). */
function batchOf(months: number, rows: ({ insured: number; hired: number; separated: number; wage?: number; transfer?: number } | undefined)[]): SeriesBatch {
  const len = months;
  const int = (): Int32Array => new Int32Array(len);
  const optional = (): Int32Array => new Int32Array(len).fill(-1);
  const b = {
    periods: monthRange('2024-01', '2030-12').slice(0, months), months, size: 1,
    uscc: ['91510100MA0000001X'], bucket: new Uint8Array(1), name: ['x'], cityCode: ['510100'], regionCode: ['510104'], industryCode: ['C39'],
    si: new Uint8Array(len), insured: int(), hired: int(), separated: int(), arrearsMonths: int(), wageBaseTotal: new Float64Array(len),
    uiClaims: optional(), separatedTransfer: optional(), separatedNatural: optional(), separatedMigrant: optional(),
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
});
