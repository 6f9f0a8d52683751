import { describe, expect, it } from 'vitest';
import { defaultThresholds as t, thresholdsSchema } from '../../../config/thresholds.schema.js';
import { sliceBatch } from '../series.slice.js';
import type { NewEmployerIntake } from '../series.js';
import { buildBatch, contextWith, filing, noIntakes, periodsFrom, repeat, rulesOf, track } from './fixture.testkit.js';
import type { Flow } from './fixture.testkit.js';
import { evaluateRules } from './rules.js';
import type { RuleHit } from './rule.types.js';

const hit = (hits: readonly RuleHit[], rule: string): RuleHit => {
  const h = hits.find((x) => x.rule === rule);
  if (!h) throw new Error(`no ${rule} hit among ${rulesOf(hits).join(', ')}`);
  return h;
};

/** 24 months ending 2026-05: a steady year and more, then the month scored. */
const PERIODS = periodsFrom('2024-06', 24);
const LAST = '2026-05';

function plant(last: Flow, extra: { filings?: ReturnType<typeof filing>[]; industryCode?: string } = {}) {
  return buildBatch(PERIODS, [{ si: track(10_000, [...repeat(23, { hired: 300, separated: 300 }), last]), ...extra }]);
}

describe('a 10,000-person plant', () => {
  it('separating a steady 3% a month fires nothing', () => {
    expect(evaluateRules(plant({ hired: 300, separated: 300 }), 0, noIntakes, t)).toEqual([]);
  });

  it('separating 600 in one month is a statutory layoff, a 200 and a 300-of-600 tier, and unreported', () => {
    const hits = evaluateRules(plant({ hired: 300, separated: 600 }), 0, noIntakes, t);
    expect(rulesOf(hits)).toEqual(['cut300of600', 'concentrated200', 'unreported', 'law41']);
    const law = hit(hits, 'law41');
    expect(law).toMatchObject({ kind: 'layoff', period: LAST, window: { from: LAST, to: LAST }, source: '劳动合同法第四十一条' });
    expect(law.numbers).toEqual({
      separated: 600,
      transferReported: 0,
      natural: 0,
      employerCaused: 600,
      expected: 300,
      baselineLevel: 300,
      seasonalFactor: 1,
      festivalAllowance: 0,
      excess: 300,
      workforce: 10_000,
      threshold: 82,
      noiseBand: 82,
      historyMonths: 12,
      months: 1,
      filed: 0,
    });
    expect(law.summary).toBe('本月减员 600 人，较自身基线多 300 人（阈值 82 人）');
    expect(hit(hits, 'unreported')).toMatchObject({ kind: 'unreported', numbers: { excess: 300, workforce: 10_000, filingsOnRecord: 0 } });
    expect(hit(hits, 'cut300of600').numbers).toMatchObject({ excess: 300, workforce: 10_000, threshold: 300 });
    expect(hit(hits, 'concentrated200').numbers).toMatchObject({ excess: 300, threshold: 200 });
  });

  it('reports a 1,300-person transfer reported as separated_transfer as nothing', () => {
    expect(evaluateRules(plant({ hired: 300, separated: 1600, transfer: 1300 }), 0, noIntakes, t)).toEqual([]);
  });

  const intake = (over: Partial<NewEmployerIntake> = {}): NewEmployerIntake => ({
    uscc: '91510400MA62NEWCO8',
    cityCode: '510400',
    industryCode: 'C39',
    period: LAST,
    insured: 1300,
    hired: 1300,
    ...over,
  });

  it('does not call a block that reappears under a new code in the same city a layoff (攀枝花 2023-03)', () => {
    const batch = plant({ hired: 300, separated: 1600 });
    for (const ctx of [contextWith([intake()]), contextWith([intake({ period: '2026-06' })]), contextWith([intake({ insured: 1000, hired: 1010 })])]) {
      const hits = evaluateRules(batch, 0, ctx, t);
      expect(rulesOf(hits)).toEqual(['transferMatched']);
      expect(hits.every((h) => h.kind === 'crosscheck')).toBe(true);
    }
    const note = hit(evaluateRules(batch, 0, contextWith([intake()]), t), 'transferMatched');
    expect(note.numbers).toEqual({ excess: 1300, intakeInsured: 1300, intakeHired: 1300, tolerance: 0.25 });
    expect(note.summary).toContain('91510400MA62NEWCO8');
  });

  it('does not take a new code for a transfer when the former staff claim unemployment insurance', () => {
    const flows = (lastClaims: number) => track(10_000, [...repeat(23, { hired: 300, separated: 300, uiClaims: 8 }), { hired: 300, separated: 1600, uiClaims: lastClaims }]);
    const claimed = buildBatch(PERIODS, [{ si: flows(400) }]);
    expect(rulesOf(evaluateRules(claimed, 0, contextWith([intake()]), t))).toEqual(['cut300of600', 'concentrated200', 'unreported', 'law41', 'uiClaimsSurge']);
    // Claims at their usual level: the block moved.
    const usual = buildBatch(PERIODS, [{ si: flows(10) }]);
    expect(rulesOf(evaluateRules(usual, 0, contextWith([intake()]), t))).toEqual(['transferMatched']);
  });

  it('calls the same block a layoff when no new code takes it up', () => {
    const batch = plant({ hired: 300, separated: 1600 });
    const others = [
      intake({ cityCode: '510100' }), // another city
      intake({ industryCode: 'F51' }), // another line of business
      intake({ insured: 900, hired: 900 }), // 31% off
      intake({ period: '2026-04' }), // the month before
    ];
    const hits = evaluateRules(batch, 0, contextWith(others), t);
    expect(rulesOf(hits)).toEqual(['cut300of600', 'concentrated200', 'unreported', 'law41']);
    expect(hit(hits, 'law41').numbers).toMatchObject({ separated: 1600, employerCaused: 1600, expected: 300, excess: 1300 });
  });

  it('treats a filing 35 days ahead as reported, and one 11 days ahead as reported with short notice', () => {
    const reported = evaluateRules(plant({ hired: 300, separated: 600 }, { filings: [filing('2026-03-27', '2026-05-01', 300, 10_000)] }), 0, noIntakes, t);
    expect(rulesOf(reported)).toEqual(['cut300of600', 'concentrated200', 'law41']);
    expect(hit(reported, 'law41').numbers).toMatchObject({ filed: 1, noticeDays: 35, shortNotice: 0, plannedCount: 300 });
    expect(hit(reported, 'law41').summary).toBe('本月减员 600 人，较自身基线多 300 人（阈值 82 人）；已于实施前 35 天报告裁员方案');

    const short = evaluateRules(plant({ hired: 300, separated: 600 }, { filings: [filing('2026-04-20', '2026-05-01', 300, 10_000)] }), 0, noIntakes, t);
    expect(rulesOf(short)).toEqual(['cut300of600', 'concentrated200', 'law41']);
    expect(hit(short, 'law41').numbers).toMatchObject({ filed: 1, noticeDays: 11, shortNotice: 1 });
  });

  it('does not count a filing received after the layoff month, or one for a layoff months away', () => {
    for (const late of [filing('2026-06-02', '2026-07-05', 300, 10_000), filing('2025-10-01', '2025-11-01', 300, 10_000)]) {
      const hits = evaluateRules(plant({ hired: 300, separated: 600 }, { filings: [late] }), 0, noIntakes, t);
      expect(rulesOf(hits)).toContain('unreported');
      expect(hit(hits, 'law41').numbers['filed']).toBe(0);
    }
  });
});

describe('small employers (the 10% branch)', () => {
  const small = (size: number, lastSeparated: number) =>
    buildBatch(periodsFrom('2025-06', 12), [{ si: track(size, [...repeat(11, { hired: 0, separated: 0 }), { hired: 0, separated: lastSeparated }]) }]);

  it('fires law41 when a 15-person firm that lost nobody in a year loses 4 (27%), not 3: the noise band of a small count', () => {
    const hits = evaluateRules(small(15, 4), 0, noIntakes, t);
    expect(rulesOf(hits)).toEqual(['unreported', 'law41']);
    expect(hit(hits, 'law41').numbers).toMatchObject({ excess: 4, expected: 0, workforce: 15, threshold: 3.21, noiseBand: 3.21 });
    expect(hit(hits, 'law41').summary).toBe('本月减员 4 人，较自身基线多 4 人（阈值 4 人，职工 15 人的 10%）');
    expect(evaluateRules(small(15, 3), 0, noIntakes, t)).toEqual([]);
  });

  it('at noise z = 3, fires at 3 (20%, and the 3-person floor)', () => {
    const z3 = thresholdsSchema.parse({ baseline: { noiseSigmas: 3 } });
    const hits = evaluateRules(small(15, 3), 0, noIntakes, z3);
    expect(rulesOf(hits)).toEqual(['unreported', 'law41']);
    expect(hit(hits, 'law41').numbers).toMatchObject({ excess: 3, expected: 0, workforce: 15, threshold: 3, noiseBand: 1.33 });
    expect(hit(hits, 'law41').summary).toBe('本月减员 3 人，较自身基线多 3 人（阈值 3 人，职工 15 人的 10%）');
  });

  it('with the floor at 2 (and z = 3), fires when the 15-person firm loses 2 (13%) but not 1 (7%)', () => {
    const floor2 = thresholdsSchema.parse({ law41: { smallFloor: 2 }, baseline: { noiseSigmas: 3 } });
    expect(rulesOf(evaluateRules(small(15, 2), 0, noIntakes, floor2))).toEqual(['unreported', 'law41']);
    expect(hit(evaluateRules(small(15, 2), 0, noIntakes, floor2), 'law41').numbers).toMatchObject({ excess: 2, threshold: 2 });
    expect(evaluateRules(small(15, 1), 0, noIntakes, floor2)).toEqual([]);
  });

  it('does not fire by default when the 15-person firm loses 2, nor when a 5-person firm loses 1 (20%)', () => {
    expect(evaluateRules(small(15, 2), 0, noIntakes, t)).toEqual([]);
    expect(evaluateRules(small(5, 1), 0, noIntakes, t)).toEqual([]);
  });

  it('needs more than chance: a 20-person firm that loses about one a month does not fire at 3', () => {
    const flows = [...Array.from({ length: 11 }, (_, i) => ({ hired: i % 2, separated: i % 2 })), { hired: 0, separated: 3 }];
    const batch = buildBatch(periodsFrom('2025-06', 12), [{ si: track(20, flows) }]);
    expect(evaluateRules(batch, 0, noIntakes, t)).toEqual([]);
  });
});

describe('a layoff straddling a month end', () => {
  it('fires law41 over the two months when neither month reaches the line alone', () => {
    const batch = buildBatch(periodsFrom('2025-05', 13), [
      { si: track(300, [...repeat(11, { hired: 9, separated: 9 }), { hired: 9, separated: 25 }, { hired: 9, separated: 25 }]) },
    ]);
    const hits = evaluateRules(batch, 0, noIntakes, t);
    expect(rulesOf(hits)).toEqual(['unreported', 'law41']);
    const law = hit(hits, 'law41');
    expect(law.window).toEqual({ from: '2026-04', to: '2026-05' });
    // Month two's level has risen a little: month one (21, not a layoff on its own) is in its history.
    expect(law.numbers).toMatchObject({ months: 2, separated: 50, workforce: 300, expected: 19.2, excess: 30.8, threshold: 23.8, noiseBand: 23.8 });
    expect(law.summary).toBe('近两月减员 50 人，较自身基线多 31 人（阈值 24 人）');
  });
});

describe('cumulative12 (威海: 10% within 12 months)', () => {
  // The creeping excess of this firm is within the default noise band of a year's separations (z = 4.5); the rule's own logic is shown at z = 3.
  const z3 = thresholdsSchema.parse({ baseline: { noiseSigmas: 3 } });

  it('fires in the month a creeping run-down of a 300-person firm crosses 10%, and only then', () => {
    const flows = [...repeat(20, { hired: 9, separated: 9 }), ...repeat(5, { hired: 9, separated: 17 })];
    const batch = buildBatch(periodsFrom('2024-05', 25), [{ si: track(300, flows) }]);
    const fired = Array.from({ length: 25 }, (_, m) => rulesOf(evaluateRules(sliceBatch(batch, m), 0, noIntakes, z3)));
    expect(fired.slice(0, 23).flat()).toEqual([]);
    expect(fired[23]).toEqual(['cumulative12']);
    expect(fired[24]).toEqual([]);
    const cum = hit(evaluateRules(sliceBatch(batch, 23), 0, noIntakes, z3), 'cumulative12');
    expect(cum.window).toEqual({ from: '2025-05', to: '2026-04' });
    expect(cum.numbers).toEqual({ cumulativeExcess: 33.44, excess: 33.44, expected: 106.56, workforce: 300, insured: 268, netDecline: 32, threshold: 33.44, months: 12 });
  });

  it('does not fire when separations rise but hires replace them (the workforce does not shrink)', () => {
    const flows = [...repeat(20, { hired: 9, separated: 9 }), ...repeat(5, { hired: 17, separated: 17 })];
    const batch = buildBatch(periodsFrom('2024-05', 25), [{ si: track(300, flows) }]);
    for (let m = 0; m < batch.months; m++) expect(evaluateRules(sliceBatch(batch, m), 0, noIntakes, t)).toEqual([]);
  });
});

describe('closure600 (杭州 一级)', () => {
  const flows = repeat(12, { hired: 21, separated: 21 });

  it('fires when a 700-person employer drops to 0', () => {
    const batch = buildBatch(periodsFrom('2025-06', 13), [{ si: track(700, [...flows, { hired: 0, separated: 700 }]) }]);
    const hits = evaluateRules(batch, 0, noIntakes, t);
    // A closure ends contracts under Art. 44, so there is no 未报告 finding.
    expect(rulesOf(hits)).toEqual(['closure600', 'cut300of600', 'concentrated200', 'law41']);
    expect(hit(hits, 'closure600').numbers).toEqual({ peakInsured: 700, insured: 0, jobsLost: 700, excess: 700, threshold: 600, months: 1 });
    expect(hit(hits, 'law41').numbers).toMatchObject({ excess: 679, expected: 21 });
  });

  it('fires when a 700-person employer stops reporting for two months, and notes a one-month gap', () => {
    const silent = (missing: number) =>
      buildBatch(periodsFrom('2025-06', 14), [{ si: [...track(700, repeat(14 - missing, { hired: 21, separated: 21 })), ...Array<null>(missing).fill(null)] }]);
    const two = evaluateRules(silent(2), 0, noIntakes, t);
    expect(rulesOf(two)).toEqual(['closure600']);
    expect(two[0]?.numbers).toEqual({ lastInsured: 700, jobsLost: 700, excess: 700, silentMonths: 2, threshold: 600 });
    const one = evaluateRules(silent(1), 0, noIntakes, t);
    expect(rulesOf(one)).toEqual(['reportGap']);
    expect(one[0]?.kind).toBe('crosscheck');
    expect(evaluateRules(silent(3), 0, noIntakes, t)).toEqual([]);
  });

  it('does not fire for a 500-person employer closing', () => {
    const batch = buildBatch(periodsFrom('2025-06', 13), [{ si: track(500, [...repeat(12, { hired: 15, separated: 15 }), { hired: 0, separated: 500 }]) }]);
    expect(rulesOf(evaluateRules(batch, 0, noIntakes, t))).toEqual(['concentrated200', 'law41']);
  });
});

describe('closures of small employers', () => {
  const closing = (size: number, last: readonly Flow[]) =>
    buildBatch(periodsFrom('2025-06', 12 + last.length), [{ si: track(size, [...repeat(12, { hired: 0, separated: 0 }), ...last]) }]);

  it('fires law41 when a 3-person firm falls to zero, below the noise band, and only in that month', () => {
    const batch = closing(3, [{ hired: 0, separated: 3 }, { hired: 0, separated: 0 }]);
    const hits = evaluateRules(sliceBatch(batch, 12), 0, noIntakes, t);
    // A closure ends contracts under Art. 44, so there is no 未报告 finding.
    expect(rulesOf(hits)).toEqual(['law41']);
    expect(hit(hits, 'law41').numbers).toMatchObject({ closure: 1, separated: 3, workforce: 3, months: 1 });
    expect(hit(hits, 'law41').summary).toBe('本月职工 3 人全部减员，参保人数降至 0（疑似关停），较自身基线多 3 人');
    expect(rulesOf(evaluateRules(batch, 0, noIntakes, t))).not.toContain('law41');
  });

  it('takes a run-down to zero over up to three months as one closure', () => {
    const hits = evaluateRules(closing(6, [{ hired: 0, separated: 2 }, { hired: 0, separated: 2 }, { hired: 0, separated: 2 }]), 0, noIntakes, t);
    expect(hit(hits, 'law41').window).toEqual({ from: '2026-06', to: '2026-08' });
    expect(hit(hits, 'law41').numbers).toMatchObject({ closure: 1, separated: 6, workforce: 6, months: 3 });
  });

  it('does not call a 2-person firm reaching zero a closure without corroboration (ordinary turnover does that)', () => {
    expect(rulesOf(evaluateRules(closing(2, [{ hired: 0, separated: 2 }]), 0, noIntakes, t))).not.toContain('law41');
    // Claims reported as zero are no corroboration either.
    expect(rulesOf(evaluateRules(closing(2, [{ hired: 0, separated: 2, uiClaims: 0 }]), 0, noIntakes, t))).not.toContain('law41');
    const two = thresholdsSchema.parse({ law41: { closureMinWorkforce: 2 } });
    expect(rulesOf(evaluateRules(closing(2, [{ hired: 0, separated: 2 }]), 0, noIntakes, two))).toContain('law41');
  });

  it('calls a 1- or 2-person firm reaching zero a closure when former staff claim unemployment insurance or contributions are in arrears', () => {
    const claimed = evaluateRules(closing(2, [{ hired: 0, separated: 2, uiClaims: 2 }]), 0, noIntakes, t);
    expect(hit(claimed, 'law41').numbers).toMatchObject({ closure: 1, workforce: 2, arrearsMonths: 0, uiClaims: 2 });
    expect(hit(claimed, 'law41').summary).toBe('本月职工 2 人全部减员，参保人数降至 0（疑似关停，前职工申领失业保险 2 人），较自身基线多 2 人');
    // Arrears in the run-down's first month corroborate the month it ends.
    const owing = evaluateRules(closing(2, [{ hired: 0, separated: 1, arrears: 2 }, { hired: 0, separated: 1, arrears: 3 }]), 0, noIntakes, t);
    expect(hit(owing, 'law41').window).toEqual({ from: '2026-06', to: '2026-07' });
    expect(hit(owing, 'law41').numbers).toMatchObject({ closure: 1, workforce: 2, arrearsMonths: 3, uiClaims: 0 });
    expect(rulesOf(evaluateRules(closing(1, [{ hired: 0, separated: 1, arrears: 1 }]), 0, noIntakes, t))).toContain('law41');
    // Down to the configured size only.
    const twoUp = thresholdsSchema.parse({ law41: { corroboratedClosureMinWorkforce: 2 } });
    expect(rulesOf(evaluateRules(closing(1, [{ hired: 0, separated: 1, arrears: 1 }]), 0, noIntakes, twoUp))).not.toContain('law41');
  });

  it('does not count arrears from before the run-down began', () => {
    const batch = buildBatch(periodsFrom('2025-06', 14), [
      { si: track(2, [...repeat(11, { hired: 0, separated: 0 }), { hired: 0, separated: 0, arrears: 1 }, { hired: 0, separated: 0 }, { hired: 0, separated: 2 }]) },
    ]);
    expect(rulesOf(evaluateRules(batch, 0, noIntakes, t))).not.toContain('law41');
  });

  it('does not call staff reported as transferred a closure', () => {
    const batch = buildBatch(periodsFrom('2025-06', 13), [{ si: track(5, [...repeat(12, { hired: 0, separated: 0 }), { hired: 0, separated: 5, transfer: 5 }]) }]);
    expect(evaluateRules(batch, 0, noIntakes, t)).toEqual([]);
  });
});

describe('the first month an employer appears', () => {
  it('never fires a layoff rule', () => {
    const si = [...Array<null>(11).fill(null), { insured: 400, hired: 450, separated: 50 }];
    expect(evaluateRules(buildBatch(periodsFrom('2025-06', 12), [{ si }]), 0, noIntakes, t)).toEqual([]);
  });
});
