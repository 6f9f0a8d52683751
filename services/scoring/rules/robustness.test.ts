import { describe, expect, it } from 'vitest';
import { defaultThresholds as t } from '../../../config/thresholds.schema.js';
import { sliceBatch } from '../series.slice.js';
import type { SeriesBatch } from '../series.js';
import { employerView } from './employer.view.js';
import { allNumbers, buildBatch, contextWith, filing, noIntakes, periodsFrom, repeat, rulesOf, track } from './fixture.testkit.js';
import type { SiRow } from './fixture.testkit.js';
import { evaluateRules } from './rules.js';
import { analyseHistory } from './separations.baseline.js';

/** Every figure the engine derives for an employer, so none can hide a NaN. */
function everyFigure(batch: SeriesBatch, i: number): number[] {
  const h = analyseHistory(employerView(batch, i), noIntakes, t);
  return h.baseline.flatMap((b) => [b.caused, b.workforce, b.levelRate, b.level, b.seasonal, b.allowance, b.expected, b.band, b.excess, b.historyMonths]);
}

const finite = (xs: readonly number[]): boolean => xs.every((x) => Number.isFinite(x));

describe('bad and thin input', () => {
  it('an employer with one month of history: nothing fires, nothing is NaN', () => {
    const batch = buildBatch(periodsFrom('2026-05', 1), [{ si: [{ insured: 900, hired: 0, separated: 400, uiClaims: 80, arrears: 5 }] }]);
    expect(evaluateRules(batch, 0, noIntakes, t)).toEqual([]);
    expect(finite(everyFigure(batch, 0))).toBe(true);
  });

  it('gaps: months without a row are skipped, not read as zero separations', () => {
    const si: (SiRow | null)[] = track(300, repeat(12, { hired: 9, separated: 9 })).map((r, m) => (m % 3 === 1 ? null : r));
    const batch = buildBatch(periodsFrom('2025-06', 12), [{ si }]);
    expect(evaluateRules(batch, 0, noIntakes, t)).toEqual([]);
    expect(finite(everyFigure(batch, 0))).toBe(true);
    const spike = buildBatch(periodsFrom('2025-06', 12), [{ si: [...si.slice(0, 11), { insured: 250, hired: 9, separated: 59 }] }]);
    const hits = evaluateRules(spike, 0, noIntakes, t);
    expect(rulesOf(hits)).toEqual(['unreported', 'law41']);
    // Seven months with rows before it, two of them festival months (left out of the level).
    expect(hits[1]?.numbers).toMatchObject({ workforce: 300, expected: 9, excess: 50, historyMonths: 5 });
  });

  it('one employer\'s months never leak into the next one\'s rules (the view\'s arrays are reused)', () => {
    const periods = periodsFrom('2025-06', 12);
    const busy = { si: [...track(900, repeat(11, { hired: 30, separated: 30 })), { insured: 500, hired: 0, separated: 430, uiClaims: 90, arrears: 4 }], hc: Array.from({ length: 12 }, () => ({ jobsBegin: 900, jobsEnd: 880, jobsLost: 20, plannedLayoffs: 300 })) };
    const si: (SiRow | null)[] = track(300, repeat(12, { hired: 9, separated: 9 })).map((r, m) => (m % 3 === 1 ? null : r));
    const gappy = { si: [...si.slice(0, 11), { insured: 250, hired: 9, separated: 59 }] };
    const alone = evaluateRules(buildBatch(periods, [gappy]), 0, noIntakes, t);
    const both = buildBatch(periods, [busy, gappy]);
    expect(evaluateRules(both, 0, noIntakes, t).length).toBeGreaterThan(alone.length);
    expect(evaluateRules(both, 1, noIntakes, t)).toEqual(alone);
    expect(evaluateRules(both, 0, noIntakes, t)).toEqual(evaluateRules(buildBatch(periods, [busy]), 0, noIntakes, t));
  });

  it('zero staff all along: nothing fires, nothing is NaN', () => {
    const batch = buildBatch(periodsFrom('2025-06', 12), [{ si: repeat(12, { hired: 0, separated: 0 }).map(() => ({ insured: 0, wage: 0 })) }]);
    expect(evaluateRules(batch, 0, noIntakes, t)).toEqual([]);
    expect(finite(everyFigure(batch, 0))).toBe(true);
  });

  it('all optional columns -1: rules that need them stay quiet, the rest still work', () => {
    const batch = buildBatch(periodsFrom('2025-06', 12), [{ si: track(300, [...repeat(11, { hired: 9, separated: 9 }), { hired: 9, separated: 60 }]) }]);
    for (const column of [batch.uiClaims, batch.separatedTransfer, batch.separatedNatural, batch.separatedMigrant, batch.separatedGraduate, batch.furloughed]) expect([...column].every((x) => x === -1)).toBe(true);
    const hits = evaluateRules(batch, 0, noIntakes, t);
    expect(rulesOf(hits)).toEqual(['unreported', 'law41']);
    expect(finite(allNumbers(hits))).toBe(true);
  });

  it('an employer index out of range, an empty batch, malformed periods and dates: no throw', () => {
    const batch = buildBatch(periodsFrom('2025-06', 12), [{ si: track(300, repeat(12, { hired: 9, separated: 9 })) }]);
    expect(evaluateRules(batch, 5, noIntakes, t)).toEqual([]);
    expect(evaluateRules(batch, -1, noIntakes, t)).toEqual([]);
    expect(evaluateRules(buildBatch([], []), 0, noIntakes, t)).toEqual([]);
    const odd = buildBatch(
      Array.from({ length: 12 }, (_, i) => `month ${i}`),
      [{ si: track(300, [...repeat(11, { hired: 9, separated: 9 }), { hired: 9, separated: 60 }]), filings: [filing('not a date', '2026-02-30', 50, 300)] }],
    );
    const hits = evaluateRules(odd, 0, noIntakes, t);
    // Without readable periods no filing can be placed in time, so no 未报告 finding.
    expect(rulesOf(hits)).toEqual(['law41']);
    expect(hits[0]?.period).toBe('month 11');
    expect(finite(allNumbers(hits))).toBe(true);
  });

  it('random garbage (negative counts, separations above staff, NaN wages, huge numbers): never a throw, never a NaN', () => {
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const pick = (): number => {
      const u = rnd();
      if (u < 0.1) return -1;
      if (u < 0.15) return -5;
      if (u < 0.2) return 2_000_000_000;
      if (u < 0.3) return 0;
      return Math.floor(rnd() * 2000);
    };
    const periods = periodsFrom('2024-06', 25);
    const employers = Array.from({ length: 200 }, () => ({
      si: periods.map(() =>
        rnd() < 0.2
          ? null
          : {
              insured: pick(), hired: pick(), separated: pick(), arrears: pick(), wage: rnd() < 0.1 ? Number.NaN : rnd() < 0.1 ? Infinity : pick() * 4000,
              uiClaims: pick(), transfer: pick(), natural: pick(), migrant: pick(), graduate: pick(),
            },
      ),
      hc: periods.map(() => (rnd() < 0.5 ? null : { jobsBegin: pick(), jobsEnd: pick(), plannedLayoffs: pick(), furloughed: pick() })),
      filings: rnd() < 0.3 ? [filing('2025-12-01', '2026-01-15', 30, 300), filing('2026-13-01', 'x', 1, 1)] : [],
    }));
    const batch = buildBatch(periods, employers);
    const ctx = contextWith([{ uscc: 'X', cityCode: '510400', industryCode: 'C39', period: '2026-06', insured: 500, hired: 500 }]);
    let hits = 0;
    for (const m of [1, 12, 24]) {
      const slice = sliceBatch(batch, m);
      for (let i = 0; i < slice.size; i++) {
        const found = evaluateRules(slice, i, ctx, t);
        hits += found.length;
        expect(finite(allNumbers(found))).toBe(true);
        expect(finite(everyFigure(slice, i))).toBe(true);
        for (const h of found) expect(h.summary).not.toMatch(/NaN|Infinity|undefined/);
      }
    }
    expect(hits).toBeGreaterThan(0);
  });
});
