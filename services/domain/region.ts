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
