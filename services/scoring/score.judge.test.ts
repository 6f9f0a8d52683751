import { describe, expect, it } from 'vitest';
import { defaultThresholds as t } from '../../config/thresholds.schema.js';
import { buildBatch, noIntakes, periodsFrom, repeat, track } from './rules/fixture.testkit.js';
import { FEATURES_PER_STEP, STEP_FEATURES, type FeatureReference } from './features.js';
import { explain, judgeEmployer, judgeRow, modelDrivers, DRIVER_STEPS } from './judgement.js';

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

describe('the explanation an official reads (pure)', () => {
  const F = FEATURES_PER_STEP;
  const reference: FeatureReference = { mean: new Array<number>(F).fill(0), sd: new Array<number>(F).fill(1) };

  it('drivers: the features that stand out most in the last three months, against the reference, signed so that higher is worse', () => {
    // Two windows of three steps each.
    const x = new Float32Array(2 * DRIVER_STEPS * F);
    const set = (r: number, s: number, name: (typeof STEP_FEATURES)[number], v: number): void => {
      x[(r * DRIVER_STEPS + s) * F + STEP_FEATURES.indexOf(name)] = v;
    };
    set(0, 0, 'arrears', 2.5);
    set(0, 2, 'arrears', 4); // the worst of the three months counts
    set(0, 1, 'ui_claim_rate', 3);
    set(0, 2, 'hire_rate', -6); // fewer hires is worse: sign −1
    set(0, 2, 'furlough_rate', 1.9); // under 2 standard deviations: not a driver
    set(0, 1, 'planned_layoff_rate', 2.2);
    set(1, 0, 'arrears', 9); // another employer's window is not read
    expect(modelDrivers(x, reference, 0)).toEqual([
      { feature: 'hire_rate', value: -6, z: 6 },
      { feature: 'arrears', value: 4, z: 4 },
      { feature: 'ui_claim_rate', value: 3, z: 3 },
    ]);
    expect(modelDrivers(new Float32Array(2 * DRIVER_STEPS * F), reference, 0)).toEqual([]);
  });

  it('explain: reasons, every finding with its evidence, the model with its version and drivers; rules only: no model part', () => {
    const batch = buildBatch(periods, [{ si: steady(50) }]);
    const j = judgeEmployer(batch, 0, noIntakes, t, 0.6);
    const drivers = [{ feature: 'arrears', value: 4, z: 4 }];
    const e = explain(j.hits, 0.61234, j.reasons, drivers, 'v7');
    expect(e).toEqual({ reasons: j.reasons, rules: [], model: { version: 'v7', probability: 0.6123, drivers } });
    expect(explain(j.hits, null, j.reasons, [], null).model).toBeNull();
  });

  it('judgeRow: the stored row of an employer, its level counted and its drivers only when there is a level', () => {
    const batch = buildBatch(periods, [{ si: steady(50) }, { si: steady(50) }]);
    const x = new Float32Array(2 * DRIVER_STEPS * F);
    x[(1 * DRIVER_STEPS + 2) * F + STEP_FEATURES.indexOf('arrears')] = 5;
    x[(0 * DRIVER_STEPS + 2) * F + STEP_FEATURES.indexOf('arrears')] = 5;
    const warned = judgeRow(batch, 1, noIntakes, t, 0.6, x, reference, 'v7');
    expect(warned).toMatchObject({ uscc: batch.uscc[1], workforce: 50, level: 3, ruleLevel: null, probability: 0.6, jobsAtStake: 10, rules: [], kinds: [] });
    expect(warned.explanation.model).toEqual({ version: 'v7', probability: 0.6, drivers: [{ feature: 'arrears', value: 5, z: 5 }] });
    const quiet = judgeRow(batch, 0, noIntakes, t, 0.1, x, reference, 'v7');
    expect(quiet).toMatchObject({ level: null, probability: 0.1 });
    expect(quiet.explanation.model?.drivers).toEqual([]);
  });
});
