import { CITY_PROFILES, cityWeights } from './city.profile.js';
import { csvField } from './csv.format.js';
import { MANUFACTURING, SEASON, SECTION_PROFILES, sectionDivisions } from './industry.profile.js';
import type { SeasonId } from './industry.profile.js';
import { BRAND_COUNT, composeName } from './name.compose.js';
import type { NameQuirk } from './name.compose.js';
import { cumulative } from './random.js';
import type { Rng } from './random.js';
import { composeUscc, usccKeys } from './uscc.compose.js';
import type { UsccKeys, UsccType } from './uscc.compose.js';

/**
 * The employers of the synthetic province as columns (structure of arrays):
 * a million employers cost tens of megabytes instead of a million objects.
 * Fixed traits are set once; the month-to-month state lives in EmployerState.
 */

export const FLAG_REPORTS_FURLOUGH = 1;
export const FLAG_REPORTS_DISPATCHED = 2;
export const FLAG_CHRONIC_ARREARS = 4;
export const FLAG_TRANSFER_TARGET = 8;

const C_INDEX = SECTION_PROFILES.findIndex((p) => p.section === 'C');

export class Population {
  count = 0;
  readonly city: Uint8Array;
  readonly region: Int32Array;
  readonly section: Uint8Array;
  /** Manufacturing division used for behaviour (C employers), 0 otherwise. */
  readonly division: Uint8Array;
  /** Length of the industry code as reported (1 = section letter only, 3 = with division). */
  readonly codeLength: Uint8Array;
  readonly baseSize: Int32Array;
  readonly monitored: Uint8Array;
  /** Month index of the first row (0 = already trading when the window opens). */
  readonly firstMonth: Int16Array;
  /** Month index after the last row (months = trading to the end). */
  readonly endMonth: Int16Array;
  readonly churn: Float32Array;
  readonly natural: Float32Array;
  readonly trend: Float32Array;
  readonly wage: Float32Array;
  readonly migrant: Float32Array;
  readonly graduate: Float32Array;
  readonly season: Uint8Array;
  /** Amplitude of the seasonal cycle (tourism depends on the city). */
  readonly seasonAmp: Float32Array;
  readonly jobsRatio: Float32Array;
  readonly dispatchShare: Float32Array;
  readonly furloughBase: Float32Array;
  readonly flags: Uint8Array;
  readonly brand: Uint16Array;
  /** Index of the employer a transfer target was split from, −1 otherwise. */
  readonly parent: Int32Array;
  readonly uscc: string[] = [];
  /**
   * The CSV text "uscc,name,region_code,industry_code," every social-insurance
   * row starts with, kept once as UTF-8 bytes: rows copy these bytes instead
   * of re-encoding a Chinese name each month, and bytes take half the memory
   * of the two-byte strings V8 would hold.
   */
  private arena: Buffer;
  private arenaUsed = 0;
  /** Byte offset of each employer's prefix in the arena; employer e ends where e + 1 starts. */
  private readonly prefixAt: Float64Array;

  constructor(
    readonly capacity: number,
    readonly months: number,
  ) {
    this.city = new Uint8Array(capacity);
    this.region = new Int32Array(capacity);
    this.section = new Uint8Array(capacity);
    this.division = new Uint8Array(capacity);
    this.codeLength = new Uint8Array(capacity);
    this.baseSize = new Int32Array(capacity);
    this.monitored = new Uint8Array(capacity);
    this.firstMonth = new Int16Array(capacity);
    this.endMonth = new Int16Array(capacity).fill(months);
    this.churn = new Float32Array(capacity);
    this.natural = new Float32Array(capacity);
    this.trend = new Float32Array(capacity);
    this.wage = new Float32Array(capacity);
    this.migrant = new Float32Array(capacity);
    this.graduate = new Float32Array(capacity);
    this.season = new Uint8Array(capacity);
    this.seasonAmp = new Float32Array(capacity);
    this.jobsRatio = new Float32Array(capacity);
    this.dispatchShare = new Float32Array(capacity);
    this.furloughBase = new Float32Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.brand = new Uint16Array(capacity);
    this.parent = new Int32Array(capacity).fill(-1);
    this.arena = Buffer.alloc(Math.max(1024, capacity * 72));
    this.prefixAt = new Float64Array(capacity + 1);
  }

  /** Appends employer e's row prefix; employers are added in index order. */
  setPrefix(e: number, text: string): void {
    const need = text.length * 3;
    if (this.arena.length - this.arenaUsed < need) {
      const grown = Buffer.alloc(Math.max(this.arena.length * 2, this.arenaUsed + need));
      this.arena.copy(grown, 0, 0, this.arenaUsed);
      this.arena = grown;
    }
    this.prefixAt[e] = this.arenaUsed;
    this.arenaUsed += this.arena.write(text, this.arenaUsed, 'utf8');
    this.prefixAt[e + 1] = this.arenaUsed;
  }

  /** The bytes holding every prefix (re-read after adding employers: the arena may move). */
  get prefixBytes(): Buffer {
    return this.arena;
  }

  prefixStart(e: number): number {
    return this.prefixAt[e] ?? 0;
  }

  prefixEnd(e: number): number {
    return this.prefixAt[e + 1] ?? 0;
  }

  prefixText(e: number): string {
    return this.arena.toString('utf8', this.prefixStart(e), this.prefixEnd(e));
  }

  industryCode(e: number): string {
    const p = this.prefixText(e);
    const len = this.codeLength[e] ?? 1;
    return p.slice(p.length - 1 - len, p.length - 1);
  }

  regionCode(e: number): string {
    return String(this.region[e]);
  }

  cityCode(e: number): string {
    return CITY_PROFILES[this.city[e] ?? 0]?.code ?? '510100';
  }

  /** The name exactly as written in CSV (quoted when it needs to be). */
  nameField(e: number): string {
    const p = this.prefixText(e);
    return p.slice(19, p.length - 1 - (this.codeLength[e] ?? 1) - 1 - 6 - 1);
  }
}

export function sizeClass(size: number): string {
  return size < 10 ? 'micro' : size < 100 ? 'small' : size < 1000 ? 'medium' : size < 10_000 ? 'large' : 'xlarge';
}

/**
 * Firm sizes: a lognormal body (median 7) for the many small firms and,
 * for a section-dependent share, a Pareto tail (α = 1, 50 to 60,000 staff) that
 * produces the few employers with tens of thousands of staff.
 */
export function drawSize(rng: Rng, tail: number): number {
  // Inverse CDF of a Pareto truncated at 60,000, so the largest employers spread out below the cap instead of piling on it.
  if (rng.chance(tail)) return Math.round(50 / (1 - rng.next() * (1 - 50 / 60_000)));
  return Math.max(1, Math.min(2_000, Math.round(rng.lognormal(Math.log(7), 1.05))));
}

function rowPrefix(uscc: string, name: string, region: string, industry: string): string {
  return [uscc, csvField(name), region, industry, ''].join(',');
}

function clip(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

export interface PopulationContext {
  readonly keys: UsccKeys;
}

const SECTION_S_WORDS = SECTION_PROFILES.find((p) => p.section === 'S')?.words ?? ['行业'];

export function buildPopulation(employers: number, months: number, reserve: number, rng: Rng): { pop: Population; ctx: PopulationContext } {
  const pop = new Population(employers + reserve, months);
  const ctx: PopulationContext = { keys: usccKeys(() => rng.next()) };
  const cityCum = cumulative(cityWeights());
  const sectionCum = CITY_PROFILES.map((c) => cumulative(SECTION_PROFILES.map((s) => s.weight * (c.sectionBoost[s.section] ?? 1))));
  const divisionCum = CITY_PROFILES.map((c) => cumulative(MANUFACTURING.map((d) => d.weight * (c.divisionBoost[d.division] ?? 1))));
  const births = months > 1 ? Math.min(0.3, 0.0025 * months) : 0;

  for (let e = 0; e < employers; e++) {
    const city = rng.pickCumulative(cityCum);
    const cp = CITY_PROFILES[city];
    const sec = rng.pickCumulative(sectionCum[city] as Float64Array);
    const sp = SECTION_PROFILES[sec];
    if (!cp || !sp) throw new Error('population: profile tables out of step');
    let division = 0;
    let reportDivision = 0;
    let words = sp.words;
    let season: SeasonId = sp.season;
    let migrantMul = 1;
    let wageMul = 1;
    if (sec === C_INDEX) {
      const dp = MANUFACTURING[rng.pickCumulative(divisionCum[city] as Float64Array)];
      if (!dp) throw new Error('population: division table out of step');
      division = dp.division;
      reportDivision = rng.chance(0.85) ? division : 0;
      words = dp.words;
      season = dp.season;
      migrantMul = dp.migrant;
      wageMul = dp.wage;
    } else if (rng.chance(0.7)) {
      reportDivision = rng.pick(sectionDivisions(sp.section));
    }
    if (sp.section === 'S') words = SECTION_S_WORDS;

    const size = drawSize(rng, sp.tail);
    const regionSuffix = rng.chance(0.1) ? '00' : rng.pick(cp.counties);
    const region = cp.code.slice(0, 4) + regionSuffix;
    const industry = sp.section + (reportDivision > 0 ? String(reportDivision).padStart(2, '0') : '');

    let type: UsccType = '91';
    if (sp.section === 'S') type = '51';
    else if (sp.section === 'A' && rng.chance(0.25)) type = '93';
    else if ((sp.section === 'P' || sp.section === 'Q') && rng.chance(0.3)) type = '52';
    const oldStyle = rng.chance(type === '91' ? (size >= 300 ? 0.65 : 0.25) : 0.15);
    const uscc = composeUscc(type, region, e, oldStyle, ctx.keys);
    // A few fixed positions guarantee that even small runs exercise CSV quoting.
    let quirk: NameQuirk = 'none';
    if (e === 3 || rng.chance(0.0005)) quirk = 'quote';
    else if (e === 5 || rng.chance(0.0005)) quirk = 'comma';
    const brand = rng.int(BRAND_COUNT);
    const name = composeName({ type, cityShort: cp.short, brand, word: rng.pick(words), large: size >= 1000, quirk }, rng);

    pop.city[e] = city;
    pop.region[e] = Number(region);
    pop.section[e] = sec;
    pop.division[e] = division;
    pop.codeLength[e] = industry.length;
    pop.baseSize[e] = size;
    pop.brand[e] = brand;
    pop.uscc.push(uscc);
    pop.setPrefix(e, rowPrefix(uscc, name, region, industry));
    setBehaviour(pop, e, rng, size, sec, season, migrantMul, wageMul, cp.tourism, cp.wage);
    pop.monitored[e] = size >= 300 || (size >= 20 && rng.chance(0.06)) ? 1 : 0;
    pop.firstMonth[e] = rng.chance(births) ? 1 + rng.int(months - 1) : 0;
  }
  pop.count = employers;
  return { pop, ctx };
}

function setBehaviour(pop: Population, e: number, rng: Rng, size: number, sec: number, season: SeasonId, migrantMul: number, wageMul: number, tourism: number, cityWage: number): void {
  const sp = SECTION_PROFILES[sec];
  if (!sp) throw new Error('population: unknown section');
  pop.churn[e] = clip(sp.churn * rng.lognormal(0, 0.3) * (size >= 1000 ? 0.8 : 1), 0.01, 0.045);
  pop.natural[e] = sp.natural * rng.range(0.6, 1.4);
  pop.trend[e] = clip(0.0008 + 0.003 * rng.normal(), -0.012, 0.015);
  pop.wage[e] = clip(cityWage * sp.wageFactor * wageMul * rng.lognormal(0, 0.18) * (1 + 0.04 * Math.log10(size + 1)), 3000, 15000);
  pop.migrant[e] = clip(rng.range(sp.migrant[0], sp.migrant[1]) * migrantMul, 0, 0.95);
  pop.graduate[e] = sp.graduate * rng.range(0.5, 1.5);
  const tourismOnly = season === SEASON.tourism;
  pop.season[e] = tourismOnly && tourism === 0 ? SEASON.none : season;
  pop.seasonAmp[e] = tourismOnly ? tourism : rng.range(0.6, 1.4);
  pop.jobsRatio[e] = rng.range(0.96, 1.06);
  const labour = sp.section === 'C' || sp.section === 'E' || sp.section === 'G' || sp.section === 'L';
  pop.dispatchShare[e] = rng.range(0, labour ? 0.15 : 0.05);
  pop.furloughBase[e] = rng.chance(0.35) ? rng.range(0.003, 0.03) : 0;
  let flags = 0;
  if (rng.chance(0.9)) flags |= FLAG_REPORTS_FURLOUGH;
  if (rng.chance(0.8)) flags |= FLAG_REPORTS_DISPATCHED;
  if (size < 50 && rng.chance(0.006)) flags |= FLAG_CHRONIC_ARREARS;
  pop.flags[e] = flags;
}

/**
 * A new employer code that takes over a block of staff from `parent`
 * (restructuring): same city, same section, usually the same county, a
 * related business line and the parent's 字号.
 */
export function addTransferTarget(pop: Population, ctx: PopulationContext, parent: number, month: number, rng: Rng): number {
  const e = pop.count;
  if (e >= pop.capacity) return -1;
  const city = pop.city[parent] ?? 0;
  const cp = CITY_PROFILES[city];
  const sec = pop.section[parent] ?? 0;
  const sp = SECTION_PROFILES[sec];
  if (!cp || !sp) return -1;
  const region = rng.chance(0.75) ? String(pop.region[parent]) : cp.code.slice(0, 4) + rng.pick(cp.counties);
  let division = pop.division[parent] ?? 0;
  let words = sp.words;
  let season: SeasonId = sp.season;
  let migrantMul = 1;
  let wageMul = 1;
  if (sec === C_INDEX) {
    const same = MANUFACTURING.find((d) => d.division === division);
    const dp = rng.chance(0.6) && same ? same : rng.pick(MANUFACTURING);
    division = dp.division;
    words = dp.words;
    season = dp.season;
    migrantMul = dp.migrant;
    wageMul = dp.wage;
  }
  if (sp.section === 'S') words = SECTION_S_WORDS;
  const parentCodeLength = pop.codeLength[parent] ?? 1;
  const reportDivision = sec === C_INDEX ? (parentCodeLength === 3 ? division : 0) : parentCodeLength === 3 ? rng.pick(sectionDivisions(sp.section)) : 0;
  const industry = sp.section + (reportDivision > 0 ? String(reportDivision).padStart(2, '0') : '');
  const parentUscc = pop.uscc[parent] ?? '';
  const type = (parentUscc.slice(0, 2) || '91') as UsccType;
  const uscc = composeUscc(type, region, e, false, ctx.keys);
  const brand = pop.brand[parent] ?? 0;
  const name = composeName({ type, cityShort: cp.short, brand, word: rng.pick(words), large: false, quirk: 'none' }, rng);

  pop.city[e] = city;
  pop.region[e] = Number(region);
  pop.section[e] = sec;
  pop.division[e] = sec === C_INDEX ? division : 0;
  pop.codeLength[e] = industry.length;
  pop.baseSize[e] = 0;
  pop.brand[e] = brand;
  pop.parent[e] = parent;
  pop.uscc.push(uscc);
  pop.setPrefix(e, rowPrefix(uscc, name, region, industry));
  setBehaviour(pop, e, rng, pop.baseSize[parent] ?? 50, sec, season, migrantMul, wageMul, cp.tourism, cp.wage);
  pop.wage[e] = pop.wage[parent] ?? pop.wage[e] ?? 5000;
  pop.flags[e] = (pop.flags[e] ?? 0) | FLAG_TRANSFER_TARGET;
  pop.firstMonth[e] = month;
  pop.count = e + 1;
  return e;
}
