import { isDivisionCodeAt } from './region.js';

/**
 * Personal data that must never be stored, logged, printed or mailed, found
 * and masked in any text:
 *
 * - 公民身份号码, 18 digits (6-digit region, YYYYMMDD birth date, 3-digit
 *   sequence, ISO 7064 MOD 11-2 check character 0–9 or X), alone, inside
 *   text, or written in groups (`110105 19491231 002X`). Also one whose check
 *   character is wrong (a typing slip leaves a person's number all the same)
 *   when the rest is plausible: a division-code region, and a birth date of a
 *   person of working age (16 or older) — the age bound spares document
 *   numbers that carry a recent date — unless the 18 digits are a valid
 *   统一社会信用代码 (an employer code, which may be all digits).
 * - Old 15-digit numbers: 6-digit region (a division code), YYMMDD birth
 *   date in the 1900s, 3-digit sequence.
 * - Mainland mobiles: 1[3-9] and 9 more digits, with an optional +86 / 0086 /
 *   86 / (+86) prefix, spaces or dashes between the digits.
 * - Landlines with an area code: 010 and 02x (3 digits) or 0[3-9]xx (4
 *   digits), written `028-85123456`, `(028)85123456`, `（028）85123456`,
 *   `028 8512 3457`, `02885123458`, `+86 28 8512 3456`, then 7–8 digits
 *   and an optional extension (`-801`, `转801`, `ext. 801`). A number without
 *   an area code is not told apart from a count.
 * - E-mail addresses.
 *
 * Full-width forms (１３８…, （）, －, ＠, the ideographic space) count as
 * their ASCII twins. Left alone: amounts with decimals (13800138000.00),
 * counts, months and dates, employer codes, digits inside long hex words
 * (sha256 digests, ids) or right after a time's T or colon, and Message-IDs
 * (an address whose local part holds a long hex word). A field that holds
 * personal data is reported by column name only; any other text has each
 * finding replaced by a mask.
 */
export type PiiKind = 'id_number' | 'phone' | 'email';

export const PII_LABEL: Readonly<Record<PiiKind, string>> = {
  id_number: 'a personal ID number (公民身份号码)',
  phone: 'a phone number',
  email: 'an e-mail address',
};

/** What a finding is replaced with: no digits and no '@', so masking twice changes nothing. */
export const PII_MASK: Readonly<Record<PiiKind, string>> = {
  id_number: '[id-number]',
  phone: '[phone]',
  email: '[email]',
};

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const ID_CHECK = '10X98765432';
const THIS_YEAR = new Date().getUTCFullYear();
const WORKING_AGE = 16;

function isDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function isDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return day <= days;
}

/** The number written by `n` digits from `at` (the caller has checked they are digits). */
function numberAt(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) v = v * 10 + s.charCodeAt(i) - 48;
  return v;
}

/** YYYYMMDD at `at`: a real date from 1900 to latestYear. */
function hasBirthDate(s: string, at: number, latestYear: number): boolean {
  const year = numberAt(s, at, 4);
  return year >= 1900 && year <= latestYear && isDate(year, numberAt(s, at + 4, 2), numberAt(s, at + 6, 2));
}

/** The MOD 11-2 check character of 17 digits. */
export function idCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * (ID_WEIGHTS[i] as number);
  return ID_CHECK[sum % 11] as string;
}

/** 18 characters that are a 公民身份号码: a birth date from 1900 to this year and the right check character. */
export function isIdNumber(candidate: string): boolean {
  if (candidate.length !== 18 || !isDigits(candidate, 0, 17)) return false;
  const last = candidate.charCodeAt(17);
  if (!((last >= 48 && last <= 57) || last === 88 || last === 120)) return false;
  return hasBirthDate(candidate, 6, THIS_YEAR) && idCheckChar(candidate) === candidate[17]?.toUpperCase();
}

/**
 * 18 digits (or 17 and X) that are an ID number, or one with a wrong check
 * character but a division-code region and the birth date of someone of
 * working age — unless they are a valid employer code (all digits, the
 * check character maybe X).
 */
export function looksLikeIdNumber(candidate: string): boolean {
  if (isIdNumber(candidate)) return true;
  if (candidate.length !== 18 || !isDigits(candidate, 0, 17)) return false;
  if (!isDivisionCodeAt(candidate, 0) || !hasBirthDate(candidate, 6, THIS_YEAR - WORKING_AGE)) return false;
  return !isUsccDigits(candidate);
}

/** A 15-digit ID number of the old form: division-code region, YYMMDD of the 1900s, sequence. */
export function isOldIdNumber(candidate: string): boolean {
  if (candidate.length !== 15 || !isDigits(candidate, 0, 15) || !isDivisionCodeAt(candidate, 0)) return false;
  return isDate(1900 + numberAt(candidate, 6, 2), numberAt(candidate, 8, 2), numberAt(candidate, 10, 2));
}

const USCC_CHECK_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

/**
 * Whether 17 digits and a last character are a valid 统一社会信用代码 (GB
 * 32100-2015: weights 3^i mod 31, check (31 − sum mod 31) mod 31 in the
 * code alphabet, so X too). Computed here rather than taken from uscc.ts,
 * which imports this file to refuse ID numbers as codes.
 */
function isUsccDigits(s: string): boolean {
  let sum = 0;
  let weight = 1;
  for (let i = 0; i < 17; i++) {
    sum += (s.charCodeAt(i) - 48) * weight;
    weight = (weight * 3) % 31;
  }
  return USCC_CHECK_ALPHABET[(31 - (sum % 31)) % 31] === s[17];
}

// ---------------------------------------------------------------------------
// Scanning

/**
 * Cheap test run on every field and log line: an '@', or ten digits in one
 * cluster (digits with at most three separators — spaces, dashes, brackets,
 * plus, point, or their full-width forms — between two of them, as in
 * `( 028 ) 8512 3456`). Every finding needs one; counts, amounts, dates and
 * JSON numbers apart (`"rows":1000087,"loaded":1000000`) do not make one.
 */
function mayHold(text: string): boolean {
  const n = text.length;
  // Under ten characters there is no room for ten digits (full-width ones count one each).
  if (n < 10) return n >= 6 && (text.includes('@') || text.includes('＠'));
  let digits = 0;
  let gap = 0;
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0x80) {
      // Full-width digits and punctuation as ASCII; the other separators as a space; anything else ends a cluster.
      if (c >= 0xff08 && c <= 0xff20) c -= 0xfee0;
      else if (c === 0x3000 || c === 0xa0 || (c >= 0x2010 && c <= 0x2015) || c === 0x2212) c = 0x20;
      else {
        digits = 0;
        gap = 0;
        continue;
      }
    }
    if (c >= 48 && c <= 57) {
      if (++digits >= 10) return true;
      gap = 0;
    } else if (c === 64) {
      return true;
    } else if (c === 0x20 || c === 0x2d || c === 0x28 || c === 0x29 || c === 0x2b || c === 0x2e) {
      if (++gap > 3) digits = 0;
    } else {
      digits = 0;
      gap = 0;
    }
  }
  return false;
}

/** Full-width ASCII, the ideographic and no-break spaces and dash variants as plain ASCII, one unit for one, so positions stay. */
function normalise(text: string): string {
  let out: Uint16Array | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xa0) continue;
    let m = c;
    if (c >= 0xff01 && c <= 0xff5e) m = c - 0xfee0;
    else if (c === 0x3000 || c === 0xa0) m = 0x20;
    else if ((c >= 0x2010 && c <= 0x2015) || c === 0x2212 || c === 0xfe58 || c === 0xfe63) m = 0x2d;
    if (m === c) continue;
    if (out === undefined) {
      out = new Uint16Array(text.length);
      for (let k = 0; k < text.length; k++) out[k] = text.charCodeAt(k);
    }
    out[i] = m;
  }
  if (out === undefined) return text;
  let s = '';
  for (let i = 0; i < out.length; i += 8192) s += String.fromCharCode(...out.subarray(i, i + 8192));
  return s;
}

// Digits not glued to other digits, nor to a decimal point with digits, nor
// following a date's or time's T or colon (2026-11-03T0816-28512345 is a model version).
const B = String.raw`(?<![0-9]|[0-9][.T:])`;
const E = String.raw`(?![0-9]|\.[0-9])`;
const SEP = '[ -]?';
const EMAIL = /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}/g;
const ID18 = new RegExp(`${B}(\\d{6})${SEP}(\\d{8})${SEP}(\\d{3}[0-9Xx])(?![0-9A-Za-z]|\\.[0-9])`, 'g');
const ID15 = new RegExp(`${B}(\\d{6})${SEP}(\\d{6})${SEP}(\\d{3})${E}`, 'g');
const INTL = String.raw`(?:(?:\+|00)86[ -]?|\(\+?86\)[ -]?)`;
const MOBILE = new RegExp(`${B}(?:${INTL}|86${SEP})?1[3-9]\\d(?:${SEP}\\d){8}${E}`, 'g');
const AREA = String.raw`(?:10|2\d|[3-9]\d{2})`;
const EXTENSION = String.raw`(?:[ -]?(?:转|ext\.?|x|#|-)[ ]?\d{1,6})?`;
const LANDLINE = new RegExp(
  `${B}(?:\\( ?0${AREA} ?\\)|0${AREA}|${INTL}(?:\\(0?${AREA}\\)|0?${AREA}))[ -]?[1-9]\\d{2,3}${SEP}\\d{4}${EXTENSION}${E}`,
  'g',
);

/** A local part holding a long hex word is a machine's (a Message-ID like <ews.9f2c…@layoff-ews.hrss>), not a person's. */
const MACHINE_LOCAL_PART = /[0-9a-fA-F]{24}/;

interface Finding {
  start: number;
  end: number;
  kind: PiiKind;
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** Digits inside a long hex word (a digest, an id) are not a phone or ID number. */
function inHexWord(s: string, start: number, end: number): boolean {
  let from = start;
  while (from > 0 && isAlnum(s.charCodeAt(from - 1))) from--;
  let to = end;
  while (to < s.length && isAlnum(s.charCodeAt(to))) to++;
  if (to - from < 24 || (from === start && to === end)) return false;
  for (let i = from; i < to; i++) if (!isHex(s.charCodeAt(i))) return false;
  return true;
}

function overlaps(found: readonly Finding[], start: number, end: number): boolean {
  for (const f of found) if (start < f.end && f.start < end) return true;
  return false;
}

function digitsOf(m: RegExpExecArray): string {
  return (m[1] ?? '') + (m[2] ?? '') + (m[3] ?? '');
}

/**
 * Every finding in the text, in no particular order; stops after the first
 * when `first` is set. Digits a check refuses are retried one character
 * later, so a refused candidate cannot hide a real one it overlaps.
 */
function scan(s: string, first: boolean): Finding[] {
  const found: Finding[] = [];
  const run = (re: RegExp, kind: PiiKind, accept: (m: RegExpExecArray) => boolean): boolean => {
    re.lastIndex = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      const start = m.index;
      const end = start + m[0].length;
      if (!overlaps(found, start, end) && accept(m) && !inHexWord(s, start, end)) {
        found.push({ start, end, kind });
        if (first) return true;
      } else if (kind !== 'email') {
        // (An address refused is refused whole: a tail of its local part is no person's either.)
        re.lastIndex = start + 1;
      }
    }
    return false;
  };
  if (s.includes('@') && run(EMAIL, 'email', (m) => !MACHINE_LOCAL_PART.test(m[0].slice(0, m[0].indexOf('@'))))) return found;
  if (run(ID18, 'id_number', (m) => looksLikeIdNumber(digitsOf(m)))) return found;
  if (run(ID15, 'id_number', (m) => isOldIdNumber(digitsOf(m)))) return found;
  if (run(MOBILE, 'phone', () => true)) return found;
  run(LANDLINE, 'phone', () => true);
  return found;
}

/** The kind of personal data the text holds, if any. Cheap for text with fewer than ten digits and no '@'. */
export function findPii(text: string): PiiKind | undefined {
  if (!mayHold(text)) return undefined;
  return scan(normalise(text), true)[0]?.kind;
}

/** The text with every personal identifier replaced by its mask (PII_MASK); the same string when there is none. */
export function maskPii(text: string): string {
  if (!mayHold(text)) return text;
  const found = scan(normalise(text), false);
  if (found.length === 0) return text;
  found.sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const f of found) {
    out += text.slice(at, f.start) + PII_MASK[f.kind];
    at = f.end;
  }
  return out + text.slice(at);
}

/**
 * A JSON-like value with maskPii applied to every string, every key and
 * every number whose digits would be masked (such a number becomes the
 * masked string), as JSON.stringify would see it (toJSON is called: dates
 * become their ISO text). The value itself is never changed.
 */
export function maskPiiDeep(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      return maskPii(value);
    case 'number': {
      if (!(Math.abs(value) >= 1e9)) return value;
      const text = String(value);
      const masked = maskPii(text);
      return masked === text ? value : masked;
    }
    case 'object': {
      if (value === null) return value;
      if (Array.isArray(value)) return value.map(maskPiiDeep);
      const toJSON = (value as { toJSON?: () => unknown }).toJSON;
      if (typeof toJSON === 'function') return maskPiiDeep(toJSON.call(value));
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[maskPii(k)] = maskPiiDeep(v);
      return out;
    }
    case 'bigint': {
      const text = value.toString();
      const masked = maskPii(text);
      return masked === text ? value : masked;
    }
    case 'boolean':
    case 'undefined':
    case 'function':
    case 'symbol':
      return value;
  }
}
