/**
 * 统一社会信用代码 (unified social credit code), GB 32100-2015: 18 characters
 * from a 31-character alphabet (digits and capitals without I, O, S, V, Z);
 * the last is a check character over the first 17, weights 3^i mod 31.
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
  | { kind: 'check'; expected: string };

/** undefined when valid; otherwise what is wrong, for a message a person can act on. */
export function checkUscc(value: string): UsccProblem | undefined {
  if (value.length !== 18) return { kind: 'length', length: value.length };
  for (let i = 0; i < 18; i++) {
    if (valueAt(value, i) < 0) return { kind: 'char', position: i + 1, char: value[i] as string };
  }
  const expected = usccCheckChar(value.slice(0, 17)) as string;
  return expected === value[17] ? undefined : { kind: 'check', expected };
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
