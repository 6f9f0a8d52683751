import { CITY_BY_CODE } from '../../config/cities.js';

/** Sichuan 行政区划代码 → the city (市州) responsible for it, or why not. */
export type RegionResult = { ok: true; city: string } | { ok: false; reason: string };

// A few hundred distinct codes recur across a million rows.
const cache = new Map<string, RegionResult>();

export function cityOfRegion(code: string): RegionResult {
  let r = cache.get(code);
  if (r === undefined) {
    r = resolveRegion(code);
    if (cache.size < 10_000) cache.set(code, r);
  }
  return r;
}

function resolveRegion(code: string): RegionResult {
  if (!/^\d{6}$/.test(code)) return { ok: false, reason: `must be 6 digits, got "${code}"` };
  if (!code.startsWith('51')) return { ok: false, reason: `${code} is not in Sichuan (codes start with 51)` };
  const city = `${code.slice(0, 4)}00`;
  if (!CITY_BY_CODE.has(city)) return { ok: false, reason: `${code}: ${city} is not one of Sichuan's 21 cities and prefectures` };
  return { ok: true, city };
}

export function cityName(code: string): string {
  return CITY_BY_CODE.get(code)?.name ?? code;
}

/**
 * 行政区划代码 (GB/T 2260) shape, anywhere in China: the first two digits a
 * province-level code, the next two a prefecture-level place (00 for the
 * province itself, 01–70, or 90 for county-level units under the province)
 * and the last two the county (00 when the prefecture is 00). Not a lookup
 * of every code in force: enough to tell a division code from other digits
 * (a personal ID number read as an employer code, a date, a count).
 * Province-level codes: 11–15, 21–23, 31–37, 41–46, 50–54, 61–65, 71, 81, 82.
 */
const PROVINCE = new Uint8Array(100);
for (const [from, to] of [[11, 15], [21, 23], [31, 37], [41, 46], [50, 54], [61, 65], [71, 71], [81, 82]] as const) {
  for (let p = from; p <= to; p++) PROVINCE[p] = 1;
}

function digitAt(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

/** The two digits at `at` as a number, or -1. */
function twoDigits(s: string, at: number): number {
  const a = digitAt(s, at);
  const b = digitAt(s, at + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

/** Whether the six characters of `s` from `at` have the shape of a division code (no allocation: this runs for every employer code). */
export function isDivisionCodeAt(s: string, at = 0): boolean {
  const province = twoDigits(s, at);
  const prefecture = twoDigits(s, at + 2);
  const county = twoDigits(s, at + 4);
  if (province < 0 || prefecture < 0 || county < 0 || PROVINCE[province] !== 1) return false;
  if (prefecture === 0) return county === 0;
  return prefecture <= 70 || prefecture === 90;
}

/** Why six characters are not a plausible division code, or undefined when they are. */
export function divisionCodeProblem(code: string): string | undefined {
  if (!/^\d{6}$/.test(code)) return 'not 6 digits';
  if (PROVINCE[Number(code.slice(0, 2))] !== 1) return `${code.slice(0, 2)} is not a province-level code`;
  const prefecture = Number(code.slice(2, 4));
  if (prefecture > 70 && prefecture !== 90) return `${code.slice(2, 4)} is not a prefecture-level place (00–70, or 90)`;
  if (prefecture === 0 && code.slice(4) !== '00') return 'a province-level code ends in 0000';
  return undefined;
}
