import { describe, expect, it } from 'vitest';
import { monthRange } from '../domain/period.js';
import { at, type SeriesBatch } from './series.js';
import { sliceBatch } from './series.slice.js';

function twoEmployers(months: number): SeriesBatch {
  const len = 2 * months;
  const seq = (f: (k: number) => number): Int32Array => Int32Array.from({ length: len }, (_, k) => f(k));
  return {
    periods: monthRange('2025-01', '2030-01').slice(0, months), months, size: 2,
    uscc: ['A', 'B'], bucket: new Uint8Array(2), name: ['a', 'b'], cityCode: ['510100', '510100'], regionCode: ['510104', '510104'], industryCode: ['C', 'C'],
    si: new Uint8Array(len).fill(1), insured: seq((k) => 100 + k), hired: seq((k) => k), separated: seq((k) => 2 * k), arrearsMonths: seq(() => 0),
    wageBaseTotal: Float64Array.from({ length: len }, (_, k) => k * 10), uiClaims: seq(() => -1), separatedTransfer: seq(() => -1),
    separatedNatural: seq(() => -1), separatedMigrant: seq(() => -1), separatedGraduate: seq(() => -1), hc: new Uint8Array(len), jobsBegin: seq(() => 0), jobsEnd: seq(() => 0),
    jobsLost: seq(() => 0), plannedLayoffs: seq(() => 0), furloughed: seq(() => -1),
    filings: [[{ filingId: 'f1', filedOn: '2025-02-10', effectiveOn: '2025-03-15', plannedCount: 30, staffTotal: 100 }, { filingId: 'f2', filedOn: '2025-05-02', effectiveOn: '2025-06-10', plannedCount: 30, staffTotal: 100 }], []],
  };
}

describe('sliceBatch', () => {
  it('keeps each employer\'s months up to the one asked, and only the filings known by then', () => {
    const b = twoEmployers(6);
    const s = sliceBatch(b, 2);
    expect(s.months).toBe(3);
    expect(s.periods).toEqual(['2025-01', '2025-02', '2025-03']);
    for (const i of [0, 1]) for (let m = 0; m < 3; m++) expect(s.insured[at(s, i, m)]).toBe(b.insured[at(b, i, m)]);
    expect(s.filings[0]?.map((f) => f.filingId)).toEqual(['f1']);
    expect(sliceBatch(b, 5)).toBe(b);
    expect(() => sliceBatch(b, 6)).toThrow('month 6 outside 0..5');
  });
});
