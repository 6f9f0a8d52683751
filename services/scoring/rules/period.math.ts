/**
 * Month arithmetic on 'YYYY-MM' and day arithmetic on 'YYYY-MM-DD'.
 * A month ordinal is year * 12 + (month - 1); malformed text gives null.
 */
const PERIOD = /^(\d{4})-(\d{2})$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

export function periodOrdinal(period: string): number | null {
  const m = PERIOD.exec(period);
  if (!m) return null;
  const month = Number(m[2]);
  if (month < 1 || month > 12) return null;
  return Number(m[1]) * 12 + month - 1;
}

export function formatOrdinal(ordinal: number): string {
  const year = Math.floor(ordinal / 12);
  const month = ordinal - year * 12 + 1;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
}

/** Days since 1970-01-01 (UTC), or null for a date that does not exist. */
export function dayNumber(day: string): number | null {
  const m = DAY.exec(day);
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return Math.round(ms / 86_400_000);
}

/** The month ordinal of a 'YYYY-MM-DD' date. */
export function dayMonthOrdinal(day: string): number | null {
  return dayNumber(day) === null ? null : periodOrdinal(day.slice(0, 7));
}
