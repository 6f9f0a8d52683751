import { describe, expect, it } from 'vitest';
import { defaultThresholds as t } from '../../../config/thresholds.schema.js';
import { employerLevel, LEVEL_NAMES } from './levels.js';
import type { RuleHit, RuleId } from './rule.types.js';
import { makeHit } from './rule.types.js';

const hit = (rule: RuleId, numbers: Record<string, number> = {}): RuleHit =>
  makeHit(rule, '2026-05', { from: '2026-05', to: '2026-05' }, numbers, { threshold: '', source: '', summary: '' });

describe('employerLevel', () => {
  it('names the four levels', () => {
    expect(LEVEL_NAMES).toEqual({ 1: 'Ⅰ级（红色）', 2: 'Ⅱ级（橙色）', 3: 'Ⅲ级（黄色）', 4: 'Ⅳ级（蓝色）' });
  });

  it('Ⅰ: a closure of 600+, a 300-of-600 cut, or 500+ jobs at stake with a layoff hit', () => {
    expect(employerLevel([hit('closure600', { jobsLost: 700 })], 0.1, 700, t)).toEqual({
      level: 1,
      reasons: ['600 人以上单位关停（700 人）', '涉及岗位 700 个（≥ 500）且有裁员'],
    });
    expect(employerLevel([hit('cut300of600', { excess: 320 }), hit('law41', { excess: 320 })], null, 320, t)).toEqual({
      level: 1,
      reasons: ['600 人以上单位一次裁员 320 人', '模型不可用，仅按规则判定'],
    });
    expect(employerLevel([hit('law41', { excess: 510 })], null, 510, t).level).toBe(1);
  });

  it('an unreported layoff of a dozen people is Ⅲ, not Ⅱ (ruleJobs)', () => {
    expect(employerLevel([hit('unreported', { excess: 12 }), hit('law41', { excess: 12 })], null, 12, t).level).toBe(3);
    expect(employerLevel([hit('unreported', { excess: 20 }), hit('law41', { excess: 20 })], null, 20, t).level).toBe(2);
  });

  it('the model alone does not reach Ⅰ', () => {
    expect(employerLevel([], 0.99, 5000, t).level).toBe(2);
  });

  it('Ⅱ: 200 in one go, an unreported statutory layoff, or probability 0.8 with 100+ jobs at stake', () => {
    expect(employerLevel([hit('concentrated200', { excess: 250 }), hit('law41', { excess: 250 })], 0.2, 250, t).level).toBe(2);
    expect(employerLevel([hit('unreported', { excess: 30 }), hit('law41', { excess: 30 })], 0.2, 30, t)).toEqual({
      level: 2,
      reasons: ['未报告经济性裁员（30 人）'],
    });
    expect(employerLevel([], 0.85, 120, t)).toEqual({ level: 2, reasons: ['模型裁员概率 0.85（≥ 0.8），涉及岗位 120 个，预计减员 102 人'] });
    expect(employerLevel([], 0.85, 99, t).level).toBe(3);
  });

  it('Ⅲ: any law41 or cumulative12 hit, or probability 0.5 with the 规模 minimum (10) of jobs at stake and 5 expected losses', () => {
    expect(employerLevel([hit('law41', { excess: 25 })], null, 25, t)).toEqual({ level: 3, reasons: ['达到法定裁员规模（超出基线 25 人）', '模型不可用，仅按规则判定'] });
    expect(employerLevel([hit('cumulative12', { cumulativeExcess: 33 })], 0.1, 33, t).level).toBe(3);
    expect(employerLevel([], 0.55, 10, t).level).toBe(3);
    expect(employerLevel([], 0.55, 9, t).level).toBe(4);
    // 0.45 is below Ⅲ's probability whatever the jobs; 0.5 × 10 = 5 expected losses just reaches it.
    expect(employerLevel([], 0.45, 400, t).level).toBe(4);
    expect(employerLevel([], 0.5, 10, t).level).toBe(3);
  });

  it('Ⅳ: distress hits, or probability 0.3', () => {
    for (const rule of ['uiClaimsSurge', 'arrears', 'plannedLayoffs', 'distressSignals'] as const) expect(employerLevel([hit(rule)], null, 0, t).level).toBe(4);
    expect(employerLevel([], 0.3, 10, t).level).toBe(4);
    expect(employerLevel([], 0.29, 1000, t)).toEqual({ level: null, reasons: [] });
  });

  it('levels follow expected job losses: the model needs probability × jobs at stake, not probability alone', () => {
    // 0.3 × 5 = 1.5 expected losses: below Ⅳ's 2.
    expect(employerLevel([], 0.3, 5, t).level).toBe(null);
    expect(employerLevel([], 0.4, 5, t).level).toBe(4);
    // 0.95 × 100 = 95 ≥ 80 reaches Ⅱ; 0.81 × 98 = 79.4 does not.
    expect(employerLevel([], 0.95, 100, t).level).toBe(2);
    expect(employerLevel([], 0.81, 98, t).level).toBe(3);
  });

  it('规模: a layoff or closure below the minimum jobs at stake is listed at Ⅳ, never Ⅲ or above', () => {
    const closure = [hit('law41', { excess: 5, closure: 1 })];
    expect(employerLevel(closure, null, 5, t)).toEqual({
      level: 4,
      reasons: ['达到法定裁员规模（超出基线 5 人）', '模型不可用，仅按规则判定', '涉及岗位 5 个，低于规模下限 10 个，列为Ⅳ级关注'],
    });
    expect(employerLevel([hit('unreported', { excess: 9 }), hit('law41', { excess: 9 })], 0.9, 9, t).level).toBe(4);
    expect(employerLevel(closure, null, 10, t).level).toBe(3);
    // The minimum is configuration: 0 follows the letter of Art. 41 alone.
    const letter = { ...t, scale: { minJobs: 0 } };
    expect(employerLevel(closure, null, 5, letter).level).toBe(3);
  });

  it('crosscheck findings never raise a level', () => {
    expect(employerLevel([hit('crosscheck'), hit('transferMatched', { excess: 1300 }), hit('reportGap')], null, 1300, t)).toEqual({ level: null, reasons: [] });
  });

  it('with no model, rules only; with nothing at all, no level', () => {
    expect(employerLevel([], null, 0, t)).toEqual({ level: null, reasons: [] });
    expect(employerLevel([], Number.NaN, 100, t)).toEqual({ level: null, reasons: [] });
  });
});
