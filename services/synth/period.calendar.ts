/**
 * The generator's calendar: days of a month given as an ordinal (the
 * domain's month arithmetic, services/domain/period.ts) and the Spring
 * Festival, through Date.UTC so no local time zone leaks in.
 */

/** Calendar month 1–12 of an ordinal. */
export function monthOfYear(ordinal: number): number {
  return ordinal - Math.floor(ordinal / 12) * 12 + 1;
}

export function yearOf(ordinal: number): number {
  return Math.floor(ordinal / 12);
}

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of day `day` (1-based) of the month. */
export function dayNumber(ordinal: number, day: number): number {
  return Date.UTC(yearOf(ordinal), monthOfYear(ordinal) - 1, day) / DAY_MS;
}

export function ordinalOfDay(dayNo: number): { ordinal: number; day: number } {
  const d = new Date(dayNo * DAY_MS);
  return { ordinal: d.getUTCFullYear() * 12 + d.getUTCMonth(), day: d.getUTCDate() };
}

export function formatDay(dayNo: number): string {
  return new Date(dayNo * DAY_MS).toISOString().slice(0, 10);
}

/**
 * Lunar New Year (春节) dates; the Spring Festival migration follows it, and
 * it moves between late January and mid-February, which shifts departures
 * and returns between months from one year to the next.
 */
const SPRING_FESTIVAL: Readonly<Record<number, readonly [month: number, day: number]>> = {
  2000: [2, 5], 2001: [1, 24], 2002: [2, 12], 2003: [2, 1], 2004: [1, 22], 2005: [2, 9], 2006: [1, 29],
  2007: [2, 18], 2008: [2, 7], 2009: [1, 26], 2010: [2, 14], 2011: [2, 3], 2012: [1, 23], 2013: [2, 10],
  2014: [1, 31], 2015: [2, 19], 2016: [2, 8], 2017: [1, 28], 2018: [2, 16], 2019: [2, 5], 2020: [1, 25],
  2021: [2, 12], 2022: [2, 1], 2023: [1, 22], 2024: [2, 10], 2025: [1, 29], 2026: [2, 17], 2027: [2, 6],
  2028: [1, 26], 2029: [2, 13], 2030: [2, 3], 2031: [1, 23], 2032: [2, 11], 2033: [1, 31], 2034: [2, 19],
  2035: [2, 8],
};

/** Day number of the Spring Festival of a year (an average date outside the table). */
export function springFestivalDay(year: number): number {
  const [month, day] = SPRING_FESTIVAL[year] ?? [2, 5];
  return Date.UTC(year, month - 1, day) / DAY_MS;
}
