import type { SeriesBatch } from './series.js';

/**
 * The same employers seen as of an earlier month: months 0..endMonth of
 * each, so rules written for "the last month" can be asked about any month
 * (training labels, month-by-month replays).
 */
export function sliceBatch(b: SeriesBatch, endMonth: number): SeriesBatch {
  if (endMonth === b.months - 1) return b;
  if (endMonth < 0 || endMonth >= b.months) throw new RangeError(`month ${endMonth} outside 0..${b.months - 1}`);
  const months = endMonth + 1;
  const cut = <T extends Int32Array | Uint8Array | Float64Array>(a: T, make: (n: number) => T): T => {
    const out = make(b.size * months);
    for (let i = 0; i < b.size; i++) out.set(a.subarray(i * b.months, i * b.months + months), i * months);
    return out;
  };
  const int = (a: Int32Array): Int32Array => cut(a, (n) => new Int32Array(n));
  const flag = (a: Uint8Array): Uint8Array => cut(a, (n) => new Uint8Array(n));
  const last = b.periods[endMonth] as string;
  return {
    ...b,
    periods: b.periods.slice(0, months),
    months,
    si: flag(b.si),
    insured: int(b.insured),
    hired: int(b.hired),
    separated: int(b.separated),
    arrearsMonths: int(b.arrearsMonths),
    wageBaseTotal: cut(b.wageBaseTotal, (n) => new Float64Array(n)),
    uiClaims: int(b.uiClaims),
    separatedTransfer: int(b.separatedTransfer),
    separatedNatural: int(b.separatedNatural),
    separatedMigrant: int(b.separatedMigrant),
    separatedGraduate: int(b.separatedGraduate),
    hc: flag(b.hc),
    jobsBegin: int(b.jobsBegin),
    jobsEnd: int(b.jobsEnd),
    jobsLost: int(b.jobsLost),
    plannedLayoffs: int(b.plannedLayoffs),
    furloughed: int(b.furloughed),
    // Filings received after the month are not yet known then.
    filings: b.filings.map((list) => list.filter((f) => f.filedOn.slice(0, 7) <= last)),
  };
}
