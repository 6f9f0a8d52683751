import { CITY_BY_CODE } from '../../config/cities.js';
import { DISTRICTS, RETIRED_DISTRICTS } from '../../config/districts.js';
import { DIVISION_NAMES, SECTION_NAMES } from '../../config/industries.js';
import { checkIndustry } from './industry.js';

/**
 * Names beside codes, for what officials read (e-mails, the console):
 * Sichuan's division codes (GB/T 2260) and industry codes (GB/T 4754-2017).
 * The `…Name` functions say undefined for a code they do not know; the
 * `…Label` ones give the code itself back, so a label is never empty.
 */

const DISTRICT_NAMES: ReadonlyMap<string, string> = new Map(DISTRICTS.map((d) => [d.code, d.name]));
// A withdrawn code is shown under today's name of its territory (511422 彭山县 → 彭山区): that is the place an official knows.
const RETIRED_NAMES: ReadonlyMap<string, string> = new Map(
  RETIRED_DISTRICTS.flatMap((r) => {
    const now = DISTRICT_NAMES.get(r.successor);
    return now === undefined ? [] : [[r.code, now] as const];
  }),
);

/**
 * 510105 → 青羊区, 510100 → 成都市 (a city or prefecture), 511422 → 彭山区
 * (a withdrawn county code, under today's name); undefined for any other
 * code, including those outside Sichuan.
 */
export function districtName(code: string): string | undefined {
  return DISTRICT_NAMES.get(code) ?? CITY_BY_CODE.get(code)?.name ?? RETIRED_NAMES.get(code);
}

/** C → 制造业, C18 → 纺织服装、服饰业; undefined for a code GB/T 4754-2017 does not have (A18: 18 is in C). */
export function industryName(code: string): string | undefined {
  if (checkIndustry(code) !== undefined) return undefined;
  return code.length === 1 ? SECTION_NAMES[code] : DIVISION_NAMES[code.slice(1)];
}

/** '青羊区', or the code when it is not one of Sichuan's. */
export function regionLabel(code: string): string {
  return districtName(code) ?? code;
}

/** '纺织服装、服饰业' for C18, '制造业' for C, or the code when the standard does not have it. */
export function industryLabel(code: string): string {
  return industryName(code) ?? code;
}
