import { describe, expect, it } from 'vitest';
import { defaultThresholds as t } from '../../../config/thresholds.schema.js';
import { sliceBatch } from '../series.slice.js';
import { buildBatch, noIntakes, periodsFrom, repeat, rulesOf, track } from './fixture.testkit.js';
import type { Flow, HcRow } from './fixture.testkit.js';
import { evaluateRules } from './rules.js';

const P12 = periodsFrom('2025-06', 12);

describe('arrears (社保欠缴)', () => {
  const withArrears = (arrears: readonly number[]) =>
    buildBatch(P12, [{ si: track(100, [...repeat(12 - arrears.length, { hired: 3, separated: 3 }), ...arrears.map((a) => ({ hired: 3, separated: 3, arrears: a }))]) }]);

  it('fires at 2+ months owed that have not come down for 2 months', () => {
    const hits = evaluateRules(withArrears([0, 1, 2]), 0, noIntakes, t);
    expect(rulesOf(hits)).toEqual(['arrears']);
    expect(hits[0]).toMatchObject({
      kind: 'distress',
      window: { from: '2026-03', to: '2026-05' },
      numbers: { arrearsMonths: 2, arrearsMonthsBefore: 0, threshold: 2, steadyMonths: 2 },
      summary: '社会保险费累计欠缴 2 个月，连续 2 个月未减少（阈值 2 个月）',
    });
    expect(rulesOf(evaluateRules(withArrears([3, 3, 3]), 0, noIntakes, t))).toEqual(['arrears']);
  });

  it('does not fire when arrears come down or stay under 2 months', () => {
    expect(evaluateRules(withArrears([2, 3, 2]), 0, noIntakes, t)).toEqual([]);
    expect(evaluateRules(withArrears([1, 1, 1]), 0, noIntakes, t)).toEqual([]);
  });
});

describe('plannedLayoffs (monitored enterprises)', () => {
  const planned = (jobsBegin: number, plannedLayoffs: number) =>
    buildBatch(P12, [
      {
        si: track(jobsBegin, repeat(12, { hired: 0, separated: 0 })),
        hc: [...Array<null>(11).fill(null), { jobsBegin, jobsEnd: jobsBegin, plannedLayoffs }],
      },
    ]);

  it('fires at the statutory size: 20+, or 10% under 200 jobs', () => {
    const big = evaluateRules(planned(500, 25), 0, noIntakes, t);
    expect(rulesOf(big)).toEqual(['plannedLayoffs']);
    expect(big[0]).toMatchObject({ kind: 'distress', window: { from: '2026-05', to: '2026-06' }, numbers: { plannedLayoffs: 25, jobsBegin: 500, threshold: 20 } });
    expect(rulesOf(evaluateRules(planned(100, 10), 0, noIntakes, t))).toEqual(['plannedLayoffs']);
  });

  it('does not fire below it', () => {
    expect(evaluateRules(planned(500, 19), 0, noIntakes, t)).toEqual([]);
    expect(evaluateRules(planned(100, 9), 0, noIntakes, t)).toEqual([]);
  });
});

describe('uiClaimsSurge', () => {
  const claims = (last: readonly number[]) => {
    const flows: Flow[] = [...repeat(14 - last.length, { hired: 30, separated: 30, uiClaims: 2 }), ...last.map((c) => ({ hired: 30, separated: 30, uiClaims: c }))];
    return buildBatch(periodsFrom('2025-04', 14), [{ si: track(1000, flows) }]);
  };

  it('fires when former staff claim 30+ in 2 months, well above their usual', () => {
    const hits = evaluateRules(claims([5, 40]), 0, noIntakes, t);
    expect(rulesOf(hits)).toEqual(['uiClaimsSurge']);
    expect(hits[0]).toMatchObject({
      kind: 'distress',
      window: { from: '2026-04', to: '2026-05' },
      numbers: { claims: 45, baseline: 4, excess: 41, threshold: 30, months: 2 },
    });
  });

  it('reports a surge once, in the month it starts', () => {
    const batch = claims([5, 40, 10]);
    expect(rulesOf(evaluateRules(sliceBatch(batch, 12), 0, noIntakes, t))).toEqual(['uiClaimsSurge']);
    expect(evaluateRules(batch, 0, noIntakes, t)).toEqual([]);
  });

  it('does not fire below 30, nor when claims are not reported', () => {
    expect(evaluateRules(claims([10, 15]), 0, noIntakes, t)).toEqual([]);
    const unreported = buildBatch(periodsFrom('2025-04', 14), [{ si: track(1000, repeat(14, { hired: 30, separated: 30 })) }]);
    expect(evaluateRules(unreported, 0, noIntakes, t)).toEqual([]);
  });

  it('needs twice the usual for an employer whose former staff always claim', () => {
    const flows: Flow[] = [...repeat(12, { hired: 300, separated: 300, uiClaims: 20 }), { hired: 300, separated: 300, uiClaims: 30 }, { hired: 300, separated: 300, uiClaims: 30 }];
    expect(evaluateRules(buildBatch(periodsFrom('2025-04', 14), [{ si: track(10_000, flows) }]), 0, noIntakes, t)).toEqual([]);
  });
});

describe('distressSignals (hiring freeze, wage drop, furlough)', () => {
  const firm = (last2: readonly Flow[], furloughed?: number) => {
    const flows: Flow[] = [...repeat(12 - last2.length, { hired: 10, separated: 10 }), ...last2];
    const hc: (HcRow | null)[] = [...Array<null>(11).fill(null), { jobsBegin: 300, jobsEnd: 300, ...(furloughed !== undefined ? { furloughed } : {}) }];
    return buildBatch(P12, [{ si: track(300, flows), hc }]);
  };

  it('fires when two of them co-occur', () => {
    const hits = evaluateRules(firm([{ hired: 0, separated: 5 }, { hired: 0, separated: 5, wagePerHead: 4300 }]), 0, noIntakes, t);
    expect(rulesOf(hits)).toEqual(['distressSignals']);
    expect(hits[0]?.numbers).toEqual({
      signals: 2, hiringFreeze: 1, hired: 0, normalHires: 10, wageDrop: 1, wagePerHead: 4300, wageMedian: 5000, furlough: 0, furloughed: 0, jobs: 300,
    });
    expect(hits[0]?.summary).toBe('连续 2 个月基本停止增员（本月增员 0 人，常态 10 人）；人均缴费基数较近 6 个月中位数下降 14%');
    const furlough = evaluateRules(firm([{ hired: 10, separated: 10 }, { hired: 10, separated: 10, wagePerHead: 4300 }], 45), 0, noIntakes, t);
    expect(rulesOf(furlough)).toEqual(['distressSignals']);
    expect(furlough[0]?.numbers).toMatchObject({ signals: 2, wageDrop: 1, furlough: 1, furloughed: 45 });
  });

  it('stays quiet on one signal alone', () => {
    expect(evaluateRules(firm([{ hired: 0, separated: 5 }, { hired: 0, separated: 5 }]), 0, noIntakes, t)).toEqual([]);
    expect(evaluateRules(firm([{ hired: 10, separated: 10 }, { hired: 10, separated: 10, wagePerHead: 4000 }]), 0, noIntakes, t)).toEqual([]);
    expect(evaluateRules(firm([{ hired: 10, separated: 10 }, { hired: 10, separated: 10 }], 60), 0, noIntakes, t)).toEqual([]);
  });
});

describe('crosscheck (社保 × 用工监测)', () => {
  const monitored = (insured: number, jobsEnd: number) =>
    buildBatch(P12, [{ si: track(insured, repeat(12, { hired: 0, separated: 0 })), hc: [...Array<null>(11).fill(null), { jobsBegin: jobsEnd, jobsEnd }] }]);

  it('fires when insured and jobs_end disagree by more than max(10, 15%)', () => {
    const hits = evaluateRules(monitored(500, 400), 0, noIntakes, t);
    expect(rulesOf(hits)).toEqual(['crosscheck']);
    expect(hits[0]).toMatchObject({ kind: 'crosscheck', numbers: { insured: 500, jobsEnd: 400, gap: 100, threshold: 75 } });
    expect(rulesOf(evaluateRules(monitored(40, 25), 0, noIntakes, t))).toEqual(['crosscheck']);
  });

  it('does not fire within it', () => {
    expect(evaluateRules(monitored(500, 450), 0, noIntakes, t)).toEqual([]);
    expect(evaluateRules(monitored(40, 31), 0, noIntakes, t)).toEqual([]);
  });
});
