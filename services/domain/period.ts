/**
 * Months and days, the one way every stage writes them.
 *
 * A period is a month as 'YYYY-MM'. Its ordinal (year × 12 + month − 1)
 * makes month arithmetic integer addition. In the database a month is the
 * date of its first day ('YYYY-MM-01': `periodDate`), and reads come back
 * to a period with `periodOf`. Days are 'YYYY-MM-DD', counted through
 * Date.UTC so no local time zone leaks in.
 */

const PERIOD = /^(\d{4})-(\d{2})$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

export function isPeriod(value: string): boolean {
  return periodOrdinal(value) !== null;
}

/** year × 12 + month − 1, or null for text that is not a 'YYYY-MM' month. */
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
  return `${String(year).padStart(4, '0')}-${month < 10 ? '0' : ''}${month}`;
}

/** The ordinal of a period known to be well-formed (throws otherwise: a programming error, not bad input). */
function ordinalOf(period: string): number {
  const o = periodOrdinal(period);
  if (o === null) throw new Error(`not a month: "${period}" (expected YYYY-MM)`);
  return o;
}

export function addMonths(period: string, delta: number): string {
  return formatOrdinal(ordinalOf(period) + delta);
}

/** Months from `from` to `to`, both ends included, oldest first (empty when `to` is before `from`). */
export function monthRange(from: string, to: string): string[] {
  const a = ordinalOf(from);
  const b = ordinalOf(to);
  const out: string[] = [];
  for (let o = a; o <= b; o++) out.push(formatOrdinal(o));
  return out;
}

/** Months from `from` to `to` (positive when `to` is later). */
export function monthsBetween(from: string, to: string): number {
  return ordinalOf(to) - ordinalOf(from);
}

/** Calendar month 1–12 of a period. */
export function monthOf(period: string): number {
  return Number(period.slice(5, 7));
}

/** The month as the database stores it: the date of its first day. */
export function periodDate(period: string): string {
  return `${period}-01`;
}

/** The period a date (a 'YYYY-MM-DD…' text or a Date, read in UTC) falls in. */
export function periodOf(date: string | Date): string {
  return typeof date === 'string' ? date.slice(0, 7) : date.toISOString().slice(0, 7);
}

/** The last day of a period, 'YYYY-MM-DD'. */
export function lastDay(period: string): string {
  const o = ordinalOf(period);
  const days = new Date(Date.UTC(Math.floor(o / 12), (o % 12) + 1, 0)).getUTCDate();
  return `${period}-${String(days).padStart(2, '0')}`;
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
  return Math.round(ms / DAY_MS);
}

/** The month ordinal of a 'YYYY-MM-DD' date, or null when it is not a date. */
export function dayMonthOrdinal(day: string): number | null {
  return dayNumber(day) === null ? null : periodOrdinal(day.slice(0, 7));
}
