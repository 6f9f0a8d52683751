import { monthOfYear, ordinalOfDay, springFestivalDay, yearOf } from './period.calendar.js';
import { formatOrdinal } from '../domain/period.js';

/**
 * Per-month calendar of the window: period text, calendar month, and how
 * the Spring Festival migration falls. Migrant workers leave in the 24 days
 * before the festival and come back 6–30 days after it, so depending on the
 * year the departures land in January or February and the returns in
 * February or March.
 */
export interface SeasonCalendar {
  readonly period: readonly string[];
  /** Calendar month 0–11. */
  readonly moy: Uint8Array;
  /** Share of the season's departures that fall in the month. */
  readonly depart: Float64Array;
  /** Share of the season's returns that fall in the month. */
  readonly ret: Float64Array;
  /** The month a festival season's departures begin: the away-count restarts. */
  readonly reset: Uint8Array;
  /** The month a festival season's returns end: whoever has not returned is gone. */
  readonly returnEnd: Uint8Array;
}

const DEPART_DAYS = 24;
const RETURN_FROM = 6;
const RETURN_DAYS = 25;

export function buildCalendar(firstOrdinal: number, months: number): SeasonCalendar {
  const period: string[] = [];
  const moy = new Uint8Array(months);
  const depart = new Float64Array(months);
  const ret = new Float64Array(months);
  const reset = new Uint8Array(months);
  const returnEnd = new Uint8Array(months);
  for (let t = 0; t < months; t++) {
    period.push(formatOrdinal(firstOrdinal + t));
    moy[t] = monthOfYear(firstOrdinal + t) - 1;
  }
  const index = (dayNo: number): number => ordinalOfDay(dayNo).ordinal - firstOrdinal;
  for (let year = yearOf(firstOrdinal); year <= yearOf(firstOrdinal + months - 1) + 1; year++) {
    const festival = springFestivalDay(year);
    for (let d = festival - DEPART_DAYS; d < festival; d++) {
      const t = index(d);
      if (t >= 0 && t < months) depart[t] = (depart[t] ?? 0) + 1 / DEPART_DAYS;
    }
    for (let d = festival + RETURN_FROM; d < festival + RETURN_FROM + RETURN_DAYS; d++) {
      const t = index(d);
      if (t >= 0 && t < months) ret[t] = (ret[t] ?? 0) + 1 / RETURN_DAYS;
    }
    const first = index(festival - DEPART_DAYS);
    if (first >= 0 && first < months) reset[first] = 1;
    const end = index(festival + RETURN_FROM + RETURN_DAYS - 1);
    if (end >= 0 && end < months) returnEnd[end] = 1;
  }
  return { period, moy, depart, ret, reset, returnEnd };
}
