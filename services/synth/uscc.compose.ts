import { USCC_ALPHABET, usccCheckChar } from '../domain/uscc.js';

/**
 * 统一社会信用代码 for synthetic employers: registration authority and type
 * (91 company, 93 farmers' cooperative, 52 private non-enterprise unit, 51
 * social group), the 6-digit region code, a 9-character organisation code
 * and the GB 32100 check character. Organisation codes come from a
 * bijection of the employer index, so codes never collide, in either of the
 * two styles found in real registers: post-2015 'MA…' codes and the older
 * 8-digit 组织机构代码 with its own GB 11714 check character.
 */
export type UsccType = '91' | '93' | '52' | '51';

const NEW_SPACE = 31 ** 7;
const OLD_SPACE = 30_000_000;

export interface UsccKeys {
  readonly newMul: number;
  readonly newAdd: number;
  readonly oldMul: number;
  readonly oldAdd: number;
}

/** Per-seed permutation keys: multipliers coprime to the space size keep the map one-to-one. */
export function usccKeys(draw: () => number): UsccKeys {
  let newMul = 1_000_003 + Math.floor(draw() * 7_000_000);
  while (newMul % 31 === 0) newMul++;
  let oldMul = 1_000_003 + Math.floor(draw() * 7_000_000);
  while (oldMul % 2 === 0 || oldMul % 3 === 0 || oldMul % 5 === 0) oldMul++;
  return { newMul, newAdd: Math.floor(draw() * NEW_SPACE), oldMul, oldAdd: Math.floor(draw() * OLD_SPACE) };
}

const OLD_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2] as const;

function orgCodeOld(index: number, keys: UsccKeys): string {
  // Leading 5–7 keeps a code with a damaged check character from reading as a 公民身份号码.
  const digits = String(50_000_000 + ((keys.oldMul * index + keys.oldAdd) % OLD_SPACE));
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += Number(digits[i]) * (OLD_WEIGHTS[i] as number);
  const c = 11 - (sum % 11);
  return digits + (c === 10 ? 'X' : c === 11 ? '0' : String(c));
}

const ALPHABET_CODES = Array.from(USCC_ALPHABET, (c) => c.charCodeAt(0));
const digits7 = [0, 0, 0, 0, 0, 0, 0];

function orgCodeNew(index: number, keys: UsccKeys): string {
  let v = (keys.newMul * index + keys.newAdd) % NEW_SPACE;
  for (let i = 6; i >= 0; i--) {
    digits7[i] = ALPHABET_CODES[v % 31] ?? 48;
    v = Math.floor(v / 31);
  }
  return `MA${String.fromCharCode(...digits7)}`;
}

export function composeUscc(type: UsccType, region: string, index: number, oldStyle: boolean, keys: UsccKeys): string {
  if (index >= OLD_SPACE) throw new Error(`composeUscc: employer index ${index} exceeds the code space`);
  const body = type + region + (oldStyle ? orgCodeOld(index, keys) : orgCodeNew(index, keys));
  const check = usccCheckChar(body);
  if (check === undefined) throw new Error(`composeUscc: bad characters in ${body}`);
  // One flat string: the code lives as long as the employer, see rowPrefix.
  return [body, check].join('');
}

/** The same code with a wrong check character (a data defect). */
export function breakCheckChar(uscc: string, draw: () => number): string {
  const right = uscc[17] ?? '0';
  let wrong = right;
  while (wrong === right) wrong = USCC_ALPHABET[Math.floor(draw() * 31)] ?? '0';
  return uscc.slice(0, 17) + wrong;
}
