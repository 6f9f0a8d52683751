import { describe, expect, it } from 'vitest';
import { checkIndustry } from './industry.js';
import { findPii, idCheckChar, isIdNumber } from './pii.js';
import { cityOfRegion, divisionCodeProblem, isDivisionCodeAt } from './region.js';
import { checkUscc, usccBucket, usccCheckChar } from './uscc.js';

describe('USCC (GB 32100-2015)', () => {
  it('accepts published codes and computes their check character', () => {
    // A code printed on a public business licence.
    expect(checkUscc('91350100M000100Y43')).toBeUndefined();
    expect(usccCheckChar('91350100M000100Y4')).toBe('3');
  });

  it('says what the check character should be', () => {
    expect(checkUscc('91350100M000100Y47')).toEqual({ kind: 'check', expected: '3' });
  });

  it('refuses letters outside the alphabet and wrong lengths', () => {
    expect(checkUscc('91350100M000100I43')).toEqual({ kind: 'char', position: 16, char: 'I' });
    expect(checkUscc('9135')).toEqual({ kind: 'length', length: 4 });
  });

  it('refuses a code whose characters 3–8 are not an administrative division code', () => {
    const code = (first17: string): string => first17 + (usccCheckChar(first17) as string);
    expect(checkUscc(code('91510100MA6C5XXXX'))).toBeUndefined();
    expect(checkUscc(code('91100000MA6C5XXXX'))).toBeUndefined(); // a national registration authority
    expect(checkUscc(code('91990100MA6C5XXXX'))).toEqual({ kind: 'region', region: '990100' });
    expect(checkUscc(code('91519900MA6C5XXXX'))).toEqual({ kind: 'region', region: '519900' });
    expect(checkUscc(code('91510012MA6C5XXXX'))).toEqual({ kind: 'region', region: '510012' });
  });

  it('never takes a personal ID number for an employer code, even one that passes the USCC check', () => {
    // 18 digits with a right ID check character that is also the right USCC one: a region code of the right shape too.
    let found: string | undefined;
    for (let seq = 0; seq < 1000 && found === undefined; seq++) {
      const first17 = `51510219800101${String(seq).padStart(3, '0')}`;
      if (usccCheckChar(first17) === idCheckChar(first17)) found = first17 + idCheckChar(first17);
    }
    expect(found).toBeDefined();
    expect(isIdNumber(found!)).toBe(true);
    expect(checkUscc(found!)).toEqual({ kind: 'personal_id' });
    // An ID number that fails the USCC check is said to be one too, before the check character.
    expect(checkUscc('11010519491231002X')).toEqual({ kind: 'personal_id' });
  });

  it('buckets codes stably across the 256 buckets', () => {
    expect(usccBucket('91350100M000100Y43')).toBe(usccBucket('91350100M000100Y43'));
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) seen.add(usccBucket(`91510100${String(i).padStart(9, '0')}X`));
    expect(seen.size).toBeGreaterThan(240);
  });
});

describe('region codes', () => {
  it('rolls a county up to its city', () => {
    expect(cityOfRegion('510104')).toEqual({ ok: true, city: '510100' });
    expect(cityOfRegion('513433')).toEqual({ ok: true, city: '513400' });
  });
  it('refuses codes outside Sichuan or its 21 cities', () => {
    expect(cityOfRegion('440104')).toEqual({ ok: false, reason: '440104 is not in Sichuan (codes start with 51)' });
    expect(cityOfRegion('510299')).toEqual({ ok: false, reason: "510299: 510200 is not one of Sichuan's 21 cities and prefectures" });
    expect(cityOfRegion('51010')).toEqual({ ok: false, reason: 'must be 6 digits, got "51010"' });
  });
  it('tells the shape of a division code anywhere in China from other digits', () => {
    for (const ok of ['510104', '110000', '513433', '429004', '659001', '820000']) expect(isDivisionCodeAt(ok), ok).toBe(true);
    expect(isDivisionCodeAt('x510104', 1)).toBe(true);
    expect(divisionCodeProblem('990104')).toBe('99 is not a province-level code');
    expect(divisionCodeProblem('518104')).toBe('81 is not a prefecture-level place (00–70, or 90)');
    expect(divisionCodeProblem('510004')).toBe('a province-level code ends in 0000');
    expect(divisionCodeProblem('51A104')).toBe('not 6 digits');
    expect(isDivisionCodeAt('201008')).toBe(false);
  });
});

describe('industry codes (GB/T 4754-2017)', () => {
  it('accepts sections and their divisions', () => {
    expect(checkIndustry('C')).toBeUndefined();
    expect(checkIndustry('C39')).toBeUndefined();
    expect(checkIndustry('T97')).toBeUndefined();
  });
  it('names the section a misfiled division belongs to', () => {
    expect(checkIndustry('C51')).toBe('division 51 belongs to section F, not C');
    expect(checkIndustry('U')).toBe('section U does not exist (A–T)');
    expect(checkIndustry('c39')).toMatch(/must be a section letter/);
  });
});

describe('personal data detection', () => {
  // A made-up number with a valid MOD 11-2 check character.
  const id = '11010519491231002X';
  it('recognises an ID number with a valid check character, alone or inside text', () => {
    expect(isIdNumber(id)).toBe(true);
    expect(isIdNumber('110105194912310021')).toBe(false);
    expect(findPii(id)).toBe('id_number');
    expect(findPii(`张三${id}有限公司`)).toBe('id_number');
  });
  it('recognises mobile and landline numbers', () => {
    expect(findPii('联系人 13800138000')).toBe('phone');
    expect(findPii('+86 138-0013-8000')).toBe('phone');
    expect(findPii('028-85123456')).toBe('phone');
  });
  it('leaves company codes, amounts and names alone', () => {
    expect(findPii('91350100M000100Y43')).toBeUndefined();
    expect(findPii('123456789012.50')).toBeUndefined();
    expect(findPii('四川省成都市锦江区某某科技有限公司')).toBeUndefined();
  });
});
