import { isIdNumber } from './pii.js';
import { isDivisionCodeAt } from './region.js';

/**
 * 统一社会信用代码 (unified social credit code), GB 32100-2015: 18 characters
 * from a 31-character alphabet (digits and capitals without I, O, S, V, Z);
 * the last is a check character over the first 17, weights 3^i mod 31.
 * Characters 3–8 are the registering authority's 行政区划代码 (100000 for
 * the national ones), which an 18-digit 公民身份号码 read as a code often
 * fails; one that passes, check character and all, is still refused: a
 * valid personal ID number is never taken for an employer code (about one
 * all-digit code in ten thousand reads as one, none of Sichuan's letters-
 * bearing 'MA' codes can).
 */
export const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;
// Character code → value in the alphabet, -1 outside it (a table: this runs for every row).
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < USCC_ALPHABET.length; i++) VALUE[USCC_ALPHABET.charCodeAt(i)] = i;

function valueAt(s: string, i: number): number {
  const code = s.charCodeAt(i);
  return code < 128 ? (VALUE[code] as number) : -1;
}

/** The check character for the first 17 characters, or undefined if one is outside the alphabet. */
export function usccCheckChar(first17: string): string | undefined {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = valueAt(first17, i);
    if (v < 0) return undefined;
    sum += v * (WEIGHTS[i] as number);
  }
  const check = (31 - (sum % 31)) % 31;
  return USCC_ALPHABET[check];
}

export type UsccProblem =
  | { kind: 'length'; length: number }
  | { kind: 'char'; position: number; char: string }
  | { kind: 'check'; expected: string }
  /** Characters 3–8 are not an administrative division code. */
  | { kind: 'region'; region: string }
  /** A valid 公民身份号码: never shown, never taken for an employer. */
  | { kind: 'personal_id' };

/**
 * undefined when valid; otherwise what is wrong, for a message a person can
 * act on. A personal ID number is said to be one before anything else, so
 * that no other message quotes it.
 */
export function checkUscc(value: string): UsccProblem | undefined {
  if (value.length !== 18) return { kind: 'length', length: value.length };
  // One pass (this runs for every row): characters, the weighted sum, and whether the first 17 are digits.
  let sum = 0;
  let digits = true;
  for (let i = 0; i < 17; i++) {
    const v = valueAt(value, i);
    if (v < 0) return isIdNumber(value) ? { kind: 'personal_id' } : { kind: 'char', position: i + 1, char: value[i] as string };
    if (v > 9) digits = false;
    sum += v * (WEIGHTS[i] as number);
  }
  if (digits && isIdNumber(value)) return { kind: 'personal_id' };
  if (valueAt(value, 17) < 0) return { kind: 'char', position: 18, char: value[17] as string };
  const expected = USCC_ALPHABET[(31 - (sum % 31)) % 31] as string;
  if (expected !== value[17]) return { kind: 'check', expected };
  if (!isDivisionCodeAt(value, 2) && !value.startsWith('100000', 2)) return { kind: 'region', region: value.slice(2, 8) };
  return undefined;
}

/**
 * A stable employer bucket (0–255) from the code: FNV-1a over its bytes.
 * Fact tables are keyed (bucket, uscc, period) so a scoring shard, a range
 * of buckets, reads its employers' series as contiguous index ranges.
 */
export const BUCKETS = 256;
export function usccBucket(uscc: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < uscc.length; i++) {
    h ^= uscc.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % BUCKETS;
}
