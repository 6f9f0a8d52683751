/**
 * Warning levels in the convention of Chinese emergency warnings: Ⅰ 红色
 * 特别严重, Ⅱ 橙色 严重, Ⅲ 黄色 较重, Ⅳ 蓝色 一般. 1 is the most serious.
 * Scoring sets them, alerts carry them, e-mails and the CLI print them.
 */
export type Level = 1 | 2 | 3 | 4;

export const LEVELS: readonly Level[] = [1, 2, 3, 4];

/** How many of something (employers, alerts) stand at each level. */
export type LevelCounts = Record<'1' | '2' | '3' | '4', number>;

export function isLevel(value: unknown): value is Level {
  return value === 1 || value === 2 || value === 3 || value === 4;
}

/** A level read back from storage (a smallint): null when absent, an error when out of range. */
export function toLevel(value: number | null): Level | null {
  if (value === null) return null;
  if (!isLevel(value)) throw new Error(`not a warning level: ${value} (expected 1–4)`);
  return value;
}

export function noLevels(): LevelCounts {
  return { '1': 0, '2': 0, '3': 0, '4': 0 };
}

export function countLevel(counts: LevelCounts, level: Level, by = 1): void {
  counts[String(level) as keyof LevelCounts] += by;
}

export function addCounts(into: LevelCounts, from: LevelCounts): void {
  for (const l of LEVELS) countLevel(into, l, from[String(l) as keyof LevelCounts]);
}

/** Ⅰ Ⅱ Ⅲ Ⅳ (U+2160..U+2163). */
export const LEVEL_NUMERAL: { readonly [L in Level]: string } = { 1: 'Ⅰ', 2: 'Ⅱ', 3: 'Ⅲ', 4: 'Ⅳ' };

export const LEVEL_COLOUR: { readonly [L in Level]: string } = { 1: '红色', 2: '橙色', 3: '黄色', 4: '蓝色' };

export const LEVEL_SEVERITY: { readonly [L in Level]: string } = { 1: '特别严重', 2: '严重', 3: '较重', 4: '一般' };

/** 'Ⅰ级（红色）' … */
export const LEVEL_NAMES: { readonly [L in Level]: string } = {
  1: `${LEVEL_NUMERAL[1]}级（${LEVEL_COLOUR[1]}）`,
  2: `${LEVEL_NUMERAL[2]}级（${LEVEL_COLOUR[2]}）`,
  3: `${LEVEL_NUMERAL[3]}级（${LEVEL_COLOUR[3]}）`,
  4: `${LEVEL_NUMERAL[4]}级（${LEVEL_COLOUR[4]}）`,
};

/** The name of a level as stored (any number): 'Ⅱ级（橙色）', or the number itself when it is no level. */
export function levelName(value: number): string {
  return isLevel(value) ? LEVEL_NAMES[value] : String(value);
}
