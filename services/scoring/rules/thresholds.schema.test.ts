import { describe, expect, it } from 'vitest';
import { defaultThresholds, thresholdsSchema } from '../../../config/thresholds.schema.js';

/** The messages of a rejected configuration, as "path: message". */
function problems(input: unknown): string[] {
  const r = thresholdsSchema.safeParse(input);
  if (r.success) return [];
  return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('thresholds schema', () => {
  it('has a default for everything', () => {
    expect(defaultThresholds.law41).toEqual({ minExcess: 20, smallWorkforceBelow: 200, smallShare: 0.1, smallFloor: 3, twoMonths: true, closureMinWorkforce: 3, corroboratedClosureMinWorkforce: 1, closureMonths: 3, closureShare: 0.8 });
    expect(defaultThresholds.cut300of600).toEqual({ minExcess: 300, minWorkforce: 600 });
    expect(defaultThresholds.levels.I).toEqual({ rules: ['closure600', 'cut300of600'], probability: null, minJobs: 500, layoffJobs: 500, ruleJobs: 0, minExpectedJobs: 0 });
    expect(defaultThresholds.scale).toEqual({ minJobs: 10 });
    expect(defaultThresholds.levels.II.probability).toBe(0.8);
    expect(Object.isFrozen(defaultThresholds.levels.I.rules)).toBe(true);
  });

  it('keeps the other defaults of a level when one field is overridden', () => {
    const t = thresholdsSchema.parse({ levels: { II: { probability: 0.85 } } });
    expect(t.levels.II).toEqual({ rules: ['concentrated200', 'unreported'], probability: 0.85, minJobs: 100, layoffJobs: null, ruleJobs: 20, minExpectedJobs: 80 });
  });

  it('rejects unknown keys', () => {
    expect(problems({ law41: { minExcesss: 20 } })).toEqual(['law41: Unrecognized key: "minExcesss"']);
  });

  it('rejects probability cut-offs that do not fall strictly from Ⅰ to Ⅳ', () => {
    expect(problems({ levels: { III: { probability: 0.8 } } })).toEqual([
      'levels.III.probability: levels.III.probability (0.8) is not below levels.II.probability (0.8): probability cut-offs must fall strictly from Ⅰ to Ⅳ (Ⅱ > Ⅲ)',
    ]);
    expect(problems({ levels: { I: { probability: 0.7 } } })).toEqual([
      'levels.II.probability: levels.II.probability (0.8) is not below levels.I.probability (0.7): probability cut-offs must fall strictly from Ⅰ to Ⅳ (Ⅰ > Ⅱ)',
    ]);
  });

  it("rejects a 300-person tier whose minimum employer size is below its cut", () => {
    expect(problems({ cut300of600: { minWorkforce: 200 } })).toEqual([
      'cut300of600.minWorkforce: cut300of600.minWorkforce (200) is below its cut cut300of600.minExcess (300): an employer cannot cut more people than it has; raise minWorkforce to at least 300',
    ]);
  });

  it('rejects a share outside (0, 1]', () => {
    expect(problems({ cumulative12: { share: 10 } })).toEqual(['cumulative12.share: must be a share in (0, 1]: write 10% as 0.1']);
    expect(problems({ transfer: { tolerance: 0 } })).toEqual(['transfer.tolerance: must be a share in (0, 1]: write 10% as 0.1']);
  });

  it('rejects a baseline window shorter than 3 months', () => {
    expect(problems({ baseline: { windowMonths: 2, minHistoryMonths: 2 } })).toEqual([
      'baseline.windowMonths: baseline.windowMonths is 2: a median of fewer than 3 months is not robust; use 3 or more (default 12)',
    ]);
  });

  it('rejects tiers that contradict the statutory line or each other', () => {
    expect(problems({ concentrated200: { minExcess: 10 }, cut300of600: { minExcess: 5, minWorkforce: 600 } })).toEqual([
      'concentrated200.minExcess: concentrated200.minExcess (10) is below law41.minExcess (20): a Ⅱ-level tier cannot be smaller than the statutory line; raise it',
      'cut300of600.minExcess: cut300of600.minExcess (5) is below concentrated200.minExcess (10): the Ⅰ-level cut would be smaller than the Ⅱ-level one; raise it or lower concentrated200',
    ]);
    expect(problems({ law41: { smallFloor: 25 } })).toEqual([
      'law41.smallFloor: law41.smallFloor (25) exceeds law41.minExcess (20): the 10% branch for small employers would be stricter than the 20-person line; lower smallFloor',
    ]);
    expect(problems({ law41: { closureMinWorkforce: 2, corroboratedClosureMinWorkforce: 3 } })).toEqual([
      'law41.corroboratedClosureMinWorkforce: law41.corroboratedClosureMinWorkforce (3) exceeds law41.closureMinWorkforce (2): corroboration is asked of employers too small for a closure on its own; set it to closureMinWorkforce or lower',
    ]);
  });

  it('rejects a data-quality rule or a rule listed twice in the levels', () => {
    expect(problems({ levels: { IV: { rules: ['arrears', 'crosscheck', 'law41'] } } })).toEqual([
      'levels.IV.rules.1: levels.IV.rules lists crosscheck, a data-quality finding: crosscheck findings never raise a layoff level; remove it',
      'levels.IV.rules.2: rule law41 is listed in both levels.III and levels.IV; list each rule in one level',
    ]);
  });

  it('rejects levels that need more jobs at stake for a lower level', () => {
    expect(problems({ levels: { III: { minJobs: 200 } } })).toEqual([
      'levels.II.minJobs: levels.II.minJobs (100) is below levels.III.minJobs (200): a higher level must not need fewer jobs at stake than a lower one',
    ]);
  });
});
