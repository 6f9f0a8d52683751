/**
 * Personal data that must never be stored or shown: 公民身份号码 (18 digits
 * with an ISO 7064 MOD 11-2 check character and a plausible birth date) and
 * phone numbers (mainland mobiles, landlines with an area code). A field that
 * holds one is reported by column name only.
 */
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const ID_CHECK = '10X98765432';
const ID_CANDIDATE = /(?<!\d)\d{17}[\dXx](?!\d)/g;
const MOBILE = /(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)/;
const LANDLINE = /(?<!\d)0\d{2,3}-\d{7,8}(?!\d)/;

export type PiiKind = 'id_number' | 'phone';

export function isIdNumber(candidate: string): boolean {
  if (!/^\d{17}[\dXx]$/.test(candidate)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(candidate[i]) * (ID_WEIGHTS[i] as number);
  if (ID_CHECK[sum % 11] !== candidate[17]?.toUpperCase()) return false;
  const year = Number(candidate.slice(6, 10));
  const month = Number(candidate.slice(10, 12));
  const day = Number(candidate.slice(12, 14));
  return year >= 1900 && year <= 2100 && month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/** The kind of personal data the text contains, if any. Cheap for short numeric fields. */
export function findPii(text: string): PiiKind | undefined {
  if (text.length < 10) return undefined;
  // Every pattern needs at least ten digits: most fields are passed over here.
  let digits = 0;
  for (let i = 0; i < text.length && digits < 10; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  if (digits < 10) return undefined;
  ID_CANDIDATE.lastIndex = 0;
  for (let m = ID_CANDIDATE.exec(text); m !== null; m = ID_CANDIDATE.exec(text)) {
    if (isIdNumber(m[0])) return 'id_number';
  }
  if (MOBILE.test(text) || LANDLINE.test(text)) return 'phone';
  return undefined;
}

export const PII_LABEL: Readonly<Record<PiiKind, string>> = {
  id_number: 'a personal ID number (公民身份号码)',
  phone: 'a phone number',
};
