import { describe, expect, it } from 'vitest';
import { findPii, idCheckChar, isIdNumber, isOldIdNumber, looksLikeIdNumber, maskPii, maskPiiDeep, type PiiKind } from './pii.js';
import { checkUscc, USCC_ALPHABET, usccCheckChar } from './uscc.js';

/** An 18-digit ID number with its right check character. */
function id18(first17: string): string {
  return first17 + idCheckChar(first17);
}

/** The same number with a wrong check character. */
function wrongCheck(id: string): string {
  const right = id[17] as string;
  return id.slice(0, 17) + (right === '0' ? '1' : '0');
}

const ID = id18('51010419850312123');
const OLD_ID = '510104850312123';

// Every written form the guard must catch, with its kind.
const FOUND: readonly (readonly [string, PiiKind])[] = [
  [ID, 'id_number'],
  ['11010519491231002X', 'id_number'],
  ['11010519491231002x', 'id_number'],
  [`${ID.slice(0, 6)} ${ID.slice(6, 14)} ${ID.slice(14)}`, 'id_number'],
  [wrongCheck(ID), 'id_number'],
  [OLD_ID, 'id_number'],
  ['510104 850312 123', 'id_number'],
  ['13800138000', 'phone'],
  ['138 0013 8000', 'phone'],
  ['138-0013-8000', 'phone'],
  ['+86 138 0013 8000', 'phone'],
  ['+8613800138000', 'phone'],
  ['0086-13800138000', 'phone'],
  ['(+86)13800138000', 'phone'],
  ['１３８００１３８０００', 'phone'],
  ['028-85123456', 'phone'],
  ['(028)85123456', 'phone'],
  ['( 028 ) 85123456', 'phone'],
  ['（028）85123456', 'phone'],
  ['028 8512 3457', 'phone'],
  ['02885123458', 'phone'],
  ['028－85123456', 'phone'],
  ['010-62345678', 'phone'],
  ['0816-2345678', 'phone'],
  ['08162345678', 'phone'],
  ['028-85123456-801', 'phone'],
  ['028-85123456转801', 'phone'],
  ['+86 28 8512 3456', 'phone'],
  ['+86-10-62345678', 'phone'],
  ['zhang.san@example.com', 'email'],
  ['li_si+ews@mail.sc.gov.cn', 'email'],
  ['wang＠example.cn', 'email'],
  ['13800138000@163.com', 'email'],
];

// Digits that are not personal data, as they appear in feeds, messages and logs.
const LEFT_ALONE: readonly string[] = [
  '91350100M000100Y43',
  '91510100MA6C5XXXX1',
  '123456789012.50',
  '13800138000.00',
  '0.13800138000',
  '99999999999999',
  '720000.00',
  '2147483647',
  '2026-10',
  '2026-10-08',
  '2026-11-03T01:12:00+08:00',
  '1762150000000',
  'LF510100-202610-0001',
  'CD-2026-0001',
  // A document number carrying a recent date and a wrong ID check character.
  '510104202610080001',
  'insured 130, hired 13, separated 1380013800',
  'sha256 9f2c13800138000ab13800138000cdef0123456789abcdef0123456789ab',
  'rows  13800  loaded  138000',
  // A model version (date, time, sha256 prefix) and a time followed by digits.
  '2026-11-03T0816-28512345',
  '08:16:02885123458',
  // A Message-ID.
  '<ews.9f2c13800138000ab13800138000cdef@layoff-ews.hrss>',
  '四川省成都市锦江区某某科技有限公司',
  '名称,带"引号"的公司',
  '@张三 请核实',
];

describe('personal identifiers are found in every written form', () => {
  it.each(FOUND)('%s is %s, alone, inside text and in full-width text', (text, kind) => {
    expect(findPii(text)).toBe(kind);
    expect(maskPii(text)).not.toMatch(/\d{4}/);
    expect(findPii(`成都市${text}贸易有限公司`)).toBe(kind);
    expect(maskPii(`联系人：${text}。`)).toMatch(/^联系人：\[(id-number|phone|email)\]。$/);
  });

  it.each(LEFT_ALONE)('%s is left alone', (text) => {
    expect(findPii(text)).toBeUndefined();
    expect(maskPii(text)).toBe(text);
  });

  it('masks each finding where it is and keeps the rest of the text', () => {
    const text = `uscc 91510100MA6C5XXXX1, 法人 ${ID}, 电话 (028)85123456 或 138 0013 8000, 邮箱 zs@example.com; insured 120`;
    expect(maskPii(text)).toBe('uscc 91510100MA6C5XXXX1, 法人 [id-number], 电话 [phone] 或 [phone], 邮箱 [email]; insured 120');
    expect(maskPii(maskPii(text))).toBe(maskPii(text));
  });

  it('finds personal data exactly when masking changes the text', () => {
    for (const text of [...FOUND.map(([t]) => t), ...LEFT_ALONE]) {
      expect(findPii(text) !== undefined, text).toBe(maskPii(text) !== text);
    }
  });
});

describe('ID numbers', () => {
  it('are 18 characters with a birth date and the MOD 11-2 check character', () => {
    expect(isIdNumber(ID)).toBe(true);
    expect(isIdNumber('11010519491231002X')).toBe(true);
    expect(isIdNumber('110105194912310021')).toBe(false);
    expect(isIdNumber(id18('11010518991231002'))).toBe(false); // born before 1900
    expect(isIdNumber(id18('11010519490231002'))).toBe(false); // 31 February
    expect(isIdNumber(id18('11010520000229002'))).toBe(true); // a leap day
    expect(isIdNumber(id18('11010519000229002'))).toBe(false); // 1900 was not a leap year
  });

  it('with a wrong check character still look like one when region and birth date are plausible', () => {
    expect(looksLikeIdNumber(wrongCheck(ID))).toBe(true);
    expect(looksLikeIdNumber(wrongCheck(id18('99010419850312123')))).toBe(false); // no province 99
    expect(looksLikeIdNumber(wrongCheck(id18(`510104${new Date().getUTCFullYear() - 1}0312123`)))).toBe(false); // a child's, or a document's date
  });

  it('of the old 15-digit form have a region and a YYMMDD birth date', () => {
    expect(isOldIdNumber(OLD_ID)).toBe(true);
    expect(isOldIdNumber('510104851312123')).toBe(false); // month 13
    expect(isOldIdNumber('990104850312123')).toBe(false); // no province 99
  });

  it('a valid all-digit employer code is never taken for an ID number with a wrong check character', () => {
    // Plausible region and birth date, the USCC check character right and the ID one wrong.
    let tried = 0;
    for (let seq = 0; seq < 1000 && tried < 20; seq++) {
      const first17 = `11010519800101${String(seq).padStart(3, '0')}`;
      const check = usccCheckChar(first17);
      if (check === undefined || !/\d/.test(check) || check === idCheckChar(first17)) continue;
      const code = first17 + check;
      expect(checkUscc(code)?.kind).not.toBe('check');
      expect(findPii(code), code).toBeUndefined();
      tried++;
    }
    expect(tried).toBe(20);
  });
});

describe('random employer codes, amounts and counts', () => {
  // A small deterministic generator: the same cases every run.
  let state = 12345;
  const next = (n: number): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state % n;
  };

  it('valid Sichuan employer codes are never flagged, all-digit or not', () => {
    for (let i = 0; i < 20_000; i++) {
      const region = `51${String(1 + next(20)).padStart(2, '0')}${String(next(40)).padStart(2, '0')}`;
      const org = i % 2 === 0 ? Array.from({ length: 9 }, () => String(next(10))).join('') : `MA${Array.from({ length: 7 }, () => USCC_ALPHABET[next(31)]).join('')}`;
      const first17 = `${['91', '93', '51', '52', '12'][next(5)]}${region}${org}`;
      const code = first17 + (usccCheckChar(first17) as string);
      if (checkUscc(code) !== undefined) continue;
      expect(findPii(code), code).toBeUndefined();
    }
  });

  it('counts up to the integer limit and amounts with decimals are never flagged', () => {
    for (let i = 0; i < 20_000; i++) {
      const count = String(next(2_147_483_647));
      const amount = `${next(1_000_000_000)}${next(100_000)}.${String(next(100)).padStart(2, '0')}`;
      expect(findPii(count), count).toBeUndefined();
      expect(findPii(amount), amount).toBeUndefined();
    }
  });
});

describe('maskPiiDeep', () => {
  it('masks strings, keys and numbers that are phone numbers, and keeps everything else', () => {
    const when = new Date('2026-10-31T00:00:00Z');
    expect(maskPiiDeep({ name: `成都${ID}公司`, n: 13800138000, ok: 120, amount: 13800138000.5, list: ['028 8512 3457', null, true], '13800138000': 'x', when })).toEqual({
      name: '成都[id-number]公司',
      n: '[phone]',
      ok: 120,
      amount: 13800138000.5,
      list: ['[phone]', null, true],
      '[phone]': 'x',
      when: '2026-10-31T00:00:00.000Z',
    });
  });
});
