import { describe, expect, it } from 'vitest';
import { CITIES } from '../../config/cities.js';
import { DISTRICTS, RETIRED_DISTRICTS } from '../../config/districts.js';
import { DIVISION_NAMES, SECTION_NAMES } from '../../config/industries.js';
import { SECTION_DIVISIONS, SECTIONS } from './industry.js';
import { districtName, industryLabel, industryName, regionLabel } from './names.js';
import { cityOfRegion, divisionCodeProblem } from './region.js';

describe('district names (GB/T 2260)', () => {
  it('names county-level units and the 21 cities and prefectures', () => {
    expect(districtName('510105')).toBe('青羊区');
    expect(districtName('510185')).toBe('简阳市');
    expect(districtName('513402')).toBe('会理市');
    expect(districtName('513437')).toBe('雷波县');
    expect(districtName('510100')).toBe('成都市');
    expect(districtName('513400')).toBe('凉山彝族自治州');
  });

  it('names a withdrawn county code after the unit that took over its territory', () => {
    expect(districtName('511422')).toBe('彭山区');
    expect(districtName('512081')).toBe('简阳市');
    expect(districtName('513425')).toBe('会理市');
  });

  it('knows nothing outside Sichuan and no made-up codes', () => {
    expect(districtName('110105')).toBeUndefined();
    expect(districtName('510423')).toBeUndefined();
    expect(districtName('5101')).toBeUndefined();
    expect(districtName('')).toBeUndefined();
  });

  it('holds Sichuan’s 183 county-level units, each once, each under one of the 21 cities', () => {
    expect(DISTRICTS).toHaveLength(183);
    expect(new Set(DISTRICTS.map((d) => d.code)).size).toBe(183);
    for (const d of DISTRICTS) {
      expect(divisionCodeProblem(d.code), d.code).toBeUndefined();
      expect(cityOfRegion(d.code), d.code).toMatchObject({ ok: true });
      expect(d.name, d.code).toMatch(/^\p{Script=Han}+(区|县|市)$/u);
    }
    const perCity = new Map(CITIES.map((c) => [c.code, DISTRICTS.filter((d) => `${d.code.slice(0, 4)}00` === c.code).length]));
    expect(perCity.get('510100')).toBe(20);
    expect(perCity.get('513300')).toBe(18);
    expect([...perCity.values()].every((n) => n > 0)).toBe(true);
  });

  it('lists withdrawn codes apart from those in force, each with a successor in force', () => {
    const inForce = new Set(DISTRICTS.map((d) => d.code));
    for (const r of RETIRED_DISTRICTS) {
      expect(inForce.has(r.code), r.code).toBe(false);
      expect(inForce.has(r.successor), r.successor).toBe(true);
    }
  });

  it('labels with the name, or the code when there is none', () => {
    expect(regionLabel('510105')).toBe('青羊区');
    expect(regionLabel('510100')).toBe('成都市');
    expect(regionLabel('999999')).toBe('999999');
  });
});

describe('industry names (GB/T 4754-2017)', () => {
  it('names the sections and the divisions', () => {
    expect(industryName('C')).toBe('制造业');
    expect(industryName('C18')).toBe('纺织服装、服饰业');
    expect(industryName('C39')).toBe('计算机、通信和其他电子设备制造业');
    expect(industryName('A05')).toBe('农、林、牧、渔专业及辅助性活动');
    expect(industryName('S96')).toBe('基层群众自治组织及其他组织');
    expect(industryName('T97')).toBe('国际组织');
  });

  it('has a name for each of the 20 sections and 97 divisions, and no more', () => {
    expect(Object.keys(SECTION_NAMES).sort()).toEqual([...SECTIONS].sort());
    expect(Object.keys(DIVISION_NAMES)).toHaveLength(97);
    for (const section of SECTIONS) {
      const [from, to] = SECTION_DIVISIONS[section] as readonly [number, number];
      for (let d = from; d <= to; d++) expect(industryName(`${section}${String(d).padStart(2, '0')}`), `${section}${d}`).toBeTruthy();
    }
  });

  it('knows no division under the wrong section, and no malformed code', () => {
    expect(industryName('A18')).toBeUndefined();
    expect(industryName('U')).toBeUndefined();
    expect(industryName('c18')).toBeUndefined();
    expect(industryName('C1')).toBeUndefined();
    expect(industryName('')).toBeUndefined();
  });

  it('labels with the name, or the code when there is none', () => {
    expect(industryLabel('C18')).toBe('纺织服装、服饰业');
    expect(industryLabel('F')).toBe('批发和零售业');
    expect(industryLabel('Z99')).toBe('Z99');
  });
});
