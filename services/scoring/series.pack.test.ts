import { describe, expect, it } from 'vitest';
import { PackFormatError, PackWriter, packSeries, unpackSeries, type MonthColumns } from './series.pack.js';

function columns(n: number, months: number): MonthColumns {
  const len = n * months;
  const int = (fill: number): Int32Array => new Int32Array(len).fill(fill);
  return {
    si: new Uint8Array(len), insured: int(0), hired: int(0), separated: int(0), arrearsMonths: int(0), wageBaseTotal: new Float64Array(len),
    uiClaims: int(-1), separatedTransfer: int(-1), separatedNatural: int(-1), separatedMigrant: int(-1), separatedGraduate: int(-1),
    hc: new Uint8Array(len), jobsBegin: int(0), jobsEnd: int(0), jobsLost: int(0), plannedLayoffs: int(0), furloughed: int(-1),
  };
}

const INT_KEYS = ['insured', 'hired', 'separated', 'arrearsMonths', 'uiClaims', 'separatedTransfer', 'separatedNatural', 'separatedMigrant', 'separatedGraduate', 'jobsBegin', 'jobsEnd', 'jobsLost', 'plannedLayoffs', 'furloughed'] as const;

/** A deterministic mix of ordinary and awkward values: gaps, -1, zero, extremes, wages that are not whole cents. */
function fill(c: MonthColumns, n: number, months: number): void {
  let s = 7;
  const rnd = (): number => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const awkward = [0, -1, 1, 2 ** 31 - 1, -(2 ** 31), 127, 128, 16_383, 16_384];
  const wages = [0, 1500000, 0.01, 12345.67, 1 / 3, Number.NaN, 99_999_999_999_999.98, -5, -0, Infinity];
  for (let k = 0; k < n * months; k++) {
    c.si[k] = rnd() < 0.8 ? 1 : 0;
    c.hc[k] = rnd() < 0.3 ? 1 : 0;
    for (const key of INT_KEYS) c[key][k] = rnd() < 0.2 ? (awkward[Math.floor(rnd() * awkward.length)] as number) : Math.floor(rnd() * 700);
    c.wageBaseTotal[k] = rnd() < 0.3 ? (wages[Math.floor(rnd() * wages.length)] as number) : Math.round(rnd() * 1e9) / 100;
  }
}

function pack(c: MonthColumns, i: number, months: number): Buffer {
  const w = new PackWriter();
  packSeries(c, i * months, months, w);
  return Buffer.from(w.bytes());
}

describe('series pack', () => {
  it('gives back every value bit for bit, for every month with a row', () => {
    const n = 200;
    const months = 25;
    const src = columns(n, months);
    fill(src, n, months);
    const dst = columns(n, months);
    for (let i = 0; i < n; i++) {
      const bytes = pack(src, i, months);
      unpackSeries(bytes, 0, bytes.length, months, dst, i * months, months, 0);
    }
    expect(Buffer.from(dst.si.buffer)).toEqual(Buffer.from(src.si.buffer));
    expect(Buffer.from(dst.hc.buffer)).toEqual(Buffer.from(src.hc.buffer));
    for (let k = 0; k < n * months; k++) {
      if (src.si[k] === 1) {
        for (const key of ['insured', 'hired', 'separated', 'arrearsMonths', 'uiClaims', 'separatedTransfer', 'separatedNatural', 'separatedMigrant', 'separatedGraduate'] as const) expect(dst[key][k]).toBe(src[key][k]);
        expect(Object.is(dst.wageBaseTotal[k], src.wageBaseTotal[k])).toBe(true);
      }
      if (src.hc[k] === 1) for (const key of ['jobsBegin', 'jobsEnd', 'jobsLost', 'plannedLayoffs', 'furloughed'] as const) expect(dst[key][k]).toBe(src[key][k]);
    }
  });

  it('moves months earlier by the shift, drops the oldest and leaves the newest untouched', () => {
    const months = 25;
    const src = columns(1, months);
    for (let m = 0; m < months; m++) {
      src.si[m] = 1;
      src.insured[m] = 100 + m;
      src.wageBaseTotal[m] = 5200 * (100 + m);
    }
    const dst = columns(1, months);
    dst.si[24] = 1;
    dst.insured[24] = 999;
    const bytes = pack(src, 0, months);
    unpackSeries(bytes, 0, bytes.length, months, dst, 0, months, 1);
    expect(Array.from(dst.insured.subarray(0, 24))).toEqual(Array.from({ length: 24 }, (_, m) => 101 + m));
    expect(dst.wageBaseTotal[0]).toBe(5200 * 101);
    expect(dst.insured[24]).toBe(999);
    expect(dst.si[24]).toBe(1);
  });

  it('keeps packs small for ordinary employers', () => {
    const months = 25;
    const src = columns(1, months);
    for (let m = 0; m < months; m++) {
      src.si[m] = 1;
      src.insured[m] = 320;
      src.hired[m] = 6;
      src.separated[m] = 7;
      src.wageBaseTotal[m] = 320 * 5200;
      src.separatedNatural[m] = 1;
    }
    // Two bitmaps, then 15 bytes a month: the wage base 4, insured 2, each other count 1 (an unreported one too).
    expect(pack(src, 0, months).length).toBeLessThanOrEqual(8 + months * 15);
  });

  it('refuses a value cut short, one that runs on, and an unknown wage tag', () => {
    const months = 25;
    const src = columns(1, months);
    fill(src, 1, months);
    const bytes = pack(src, 0, months);
    const dst = columns(1, months);
    expect(() => unpackSeries(bytes, 0, bytes.length - 1, months, dst, 0, months, 0)).toThrow(PackFormatError);
    const longer = Buffer.concat([bytes, Buffer.from([0])]);
    expect(() => unpackSeries(longer, 0, longer.length, months, dst, 0, months, 0)).toThrow(/bytes more than its months hold/);
    expect(() => unpackSeries(Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3]), 0, 13, months, dst, 0, months, 0)).toThrow(/unknown tag/);
    expect(() => unpackSeries(Buffer.from([1, 0]), 0, 2, months, dst, 0, months, 0)).toThrow(/bitmaps/);
  });
});
