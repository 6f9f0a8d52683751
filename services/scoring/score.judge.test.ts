import { describe, expect, it } from 'vitest';
import { defaultThresholds as t } from '../../config/thresholds.schema.js';
import { buildBatch, noIntakes, periodsFrom, repeat, track } from './rules/fixture.testkit.js';
import { judgeEmployer } from './score.service.js';

const periods = periodsFrom('2024-11', 24);
const steady = (staff: number): ReturnType<typeof track> => track(staff, repeat(24, { hired: 1, separated: 1 }));

describe('judgeEmployer: what the model says ahead of a layoff', () => {
  it('jobs at stake are at least the 规模 minimum when the model sees a layoff coming, and never more than the staff', () => {
    const batch = buildBatch(periods, [{ si: steady(50) }, { si: steady(400) }, { si: steady(8) }]);
    const mid = judgeEmployer(batch, 0, noIntakes, t, 0.6);
    expect(mid).toMatchObject({ jobsAtStake: 10, level: 3, ruleLevel: null });
    expect(mid.reasons[0]).toBe('模型裁员概率 0.60（≥ 0.5），涉及岗位 10 个，预计减员 6 人');
    // A fifth of a larger workforce.
    expect(judgeEmployer(batch, 1, noIntakes, t, 0.6)).toMatchObject({ jobsAtStake: 80, level: 3 });
    // Eight staff cannot lose ten: a watch, not a warning.
    expect(judgeEmployer(batch, 2, noIntakes, t, 0.9)).toMatchObject({ jobsAtStake: 8, level: 4 });
  });

  it('below the lowest level the model names no jobs at stake, and rules only (no model) say nothing about a quiet employer', () => {
    const batch = buildBatch(periods, [{ si: steady(50) }]);
    expect(judgeEmployer(batch, 0, noIntakes, t, 0.1)).toMatchObject({ jobsAtStake: 0, level: null });
    expect(judgeEmployer(batch, 0, noIntakes, t, null)).toMatchObject({ jobsAtStake: 0, level: null, ruleLevel: null });
  });
});
