import { describe, expect, it } from 'vitest';
import { defaultThresholds as t } from '../../../config/thresholds.schema.js';
import { sliceBatch } from '../series.slice.js';
import { employerView } from './employer.view.js';
import { buildBatch, noIntakes, periodsFrom, repeat, rulesOf, track } from './fixture.testkit.js';
import type { Flow } from './fixture.testkit.js';
import { evaluateRules } from './rules.js';
import { analyseHistory, medianDeviation } from './separations.baseline.js';

/**
 * A labour-intensive electronics plant of 1,000: 3% churn, and every Spring
 * Festival migrant workers leave in January and February (70 and 85
 * separations, about 10% of staff above churn) and come back in March.
 */
function festivalYear(migrant: boolean): Flow[] {
  const m = (n: number): Partial<Flow> => (migrant ? { migrant: n } : {});
  const normal: Flow = { hired: 30, separated: 30, ...m(15) };
  return [
    { hired: 30, separated: 70, ...m(55) }, // January
    { hired: 30, separated: 85, ...m(70) }, // February
    { hired: 125, separated: 30, ...m(15) }, // March: they come back
    ...repeat(9, normal),
  ];
}

/** Months from `first` ('YYYY-MM' in June) through the February of the last year. */
function plant(first: string, years: number, migrant: boolean, lastFebruary?: Flow) {
  const normal: Flow = { hired: 30, separated: 30, ...(migrant ? { migrant: 15 } : {}) };
  const flows: Flow[] = [...repeat(7, normal)]; // June–December before the first festival
  for (let y = 0; y < years; y++) flows.push(...festivalYear(migrant));
  flows.push(festivalYear(migrant)[0] as Flow, lastFebruary ?? (festivalYear(migrant)[1] as Flow));
  return buildBatch(periodsFrom(first, flows.length), [{ si: track(1000, flows), industryCode: 'C39' }]);
}

/** law41 hits in every month of the batch, as each month was scored in turn. */
function layoffMonths(batch: ReturnType<typeof plant>): string[] {
  const out: string[] = [];
  for (let m = 0; m < batch.months; m++) {
    if (evaluateRules(sliceBatch(batch, m), 0, noIntakes, t).some((h) => h.kind === 'layoff')) out.push(batch.periods[m] ?? '');
  }
  return out;
}

describe('Spring Festival', () => {
  it('with 3 years of history, February does not fire: the season budget is learned', () => {
    const batch = plant('2022-06', 3, false);
    expect(batch.periods.at(-1)).toBe('2026-02');
    expect(evaluateRules(batch, 0, noIntakes, t)).toEqual([]);
    expect(layoffMonths(batch)).toEqual([]);
    const feb = analyseHistory(employerView(batch, 0), noIntakes, t).baseline.at(-1);
    // Each earlier season left 40 + 56.2 + 2.85 = 99.05 above the level (9.9% of 1,000); January used 40 of it.
    expect(feb).toMatchObject({ seasonYears: 3, seasonal: 1, workforce: 960 });
    expect(feb?.level).toBeCloseTo(28.8, 6);
    expect(feb?.allowance).toBeCloseTo(59.05, 6);
    expect(feb?.expected).toBeCloseTo(87.85, 6);
  });

  it('still fires for a real layoff on top of the festival', () => {
    const batch = plant('2022-06', 3, false, { hired: 30, separated: 320 });
    expect(rulesOf(evaluateRules(batch, 0, noIntakes, t))).toEqual(['concentrated200', 'unreported', 'law41']);
  });

  it('learns the season even when the festival moves from February to January', () => {
    const moved: Flow[] = [{ hired: 30, separated: 125 }, { hired: 30, separated: 30 }, { hired: 125, separated: 30 }, ...repeat(9, { hired: 30, separated: 30 })];
    const flows: Flow[] = [...repeat(7, { hired: 30, separated: 30 }), ...festivalYear(false), ...festivalYear(false), moved[0] as Flow];
    const batch = buildBatch(periodsFrom('2022-06', flows.length), [{ si: track(1000, flows) }]);
    expect(batch.periods.at(-1)).toBe('2025-01');
    expect(layoffMonths(batch)).toEqual([]);
  });

  // Without an earlier season the spike cannot be told from a layoff by its own history. What we chose:
  // the festival months (1–3) share a season budget — the migrant separations above their usual level,
  // up to 15% of staff for the season, when separated_migrant is reported; otherwise 10% of staff.
  it('without earlier years, January and February do not fire (a season budget of 10% of staff)', () => {
    const batch = plant('2025-06', 0, false);
    expect(batch.periods.at(-1)).toBe('2026-02');
    expect(layoffMonths(batch)).toEqual([]);
    const feb = analyseHistory(employerView(batch, 0), noIntakes, t).baseline.at(-1);
    expect(feb).toMatchObject({ basis: 'history', seasonYears: 0, workforce: 960 });
    expect(feb?.allowance).toBeCloseTo(100 - 40, 6);
    expect(feb?.expected).toBeCloseTo(28.8 + 60, 6);
  });

  it('without earlier years but with separated_migrant, the allowance is the migrant surplus', () => {
    const batch = plant('2025-06', 0, true);
    expect(layoffMonths(batch)).toEqual([]);
    const feb = analyseHistory(employerView(batch, 0), noIntakes, t).baseline.at(-1);
    expect(feb?.allowance).toBeCloseTo(70 - 0.015 * 960, 6);
  });

  it('without earlier years, a February layoff at a firm with no migrant departures still fires', () => {
    const flows: Flow[] = [...repeat(9, { hired: 10, separated: 10, migrant: 0 }), { hired: 10, separated: 60, migrant: 0 }];
    const batch = buildBatch(periodsFrom('2025-05', 10), [{ si: track(500, flows), industryCode: 'I65' }]);
    expect(batch.periods.at(-1)).toBe('2026-02');
    expect(rulesOf(evaluateRules(batch, 0, noIntakes, t))).toEqual(['unreported', 'law41']);
  });

  it('does not flood: 40 festival plants of different sizes, scored every month for a year, raise nothing', () => {
    const employers = Array.from({ length: 40 }, (_, i) => {
      const size = 200 + 150 * i;
      const k = size / 1000;
      const flows: Flow[] = [
        ...repeat(7, { hired: Math.round(30 * k), separated: Math.round(30 * k) }),
        { hired: Math.round(30 * k), separated: Math.round(70 * k) },
        { hired: Math.round(30 * k), separated: Math.round(85 * k) },
        { hired: Math.round(125 * k), separated: Math.round(30 * k) },
        ...repeat(3, { hired: Math.round(30 * k), separated: Math.round(30 * k) }),
      ];
      return { si: track(size, flows) };
    });
    const batch = buildBatch(periodsFrom('2025-06', 13), employers);
    let hits = 0;
    for (let m = 0; m < batch.months; m++) {
      const slice = sliceBatch(batch, m);
      for (let i = 0; i < batch.size; i++) hits += evaluateRules(slice, i, noIntakes, t).length;
    }
    expect(hits).toBe(0);
  });
});

describe('construction and tourism cycles', () => {
  it('a tourism employer in 阿坝 whose October–November separations repeat every year fires only in its first season', () => {
    const year: Flow[] = [
      ...repeat(3, { hired: 4, separated: 4 }), // January–March
      { hired: 44, separated: 4 }, // April: the season opens
      { hired: 40, separated: 4 },
      ...repeat(4, { hired: 4, separated: 4 }), // June–September
      { hired: 4, separated: 44 }, // October: the season closes
      { hired: 4, separated: 40 },
      { hired: 4, separated: 4 },
    ];
    const flows = [...year, ...year, ...year];
    const batch = buildBatch(periodsFrom('2023-01', flows.length), [{ si: track(200, flows), industryCode: 'H61', cityCode: '513200' }]);
    const fired: string[] = [];
    for (let m = 0; m < batch.months; m++) {
      if (evaluateRules(sliceBatch(batch, m), 0, noIntakes, t).some((h) => h.kind === 'layoff')) fired.push(batch.periods[m] ?? '');
    }
    // The first season, with no earlier year to learn from, fires; from the second year on it is a season.
    expect(fired).toEqual(['2023-10', '2023-11']);
  });
});

describe('festival months come from the thresholds in hand', () => {
  it('a second thresholds object with other festival months is not answered from the first', () => {
    // The same plant, scored with the default festival (no alarm), then with
    // no festival months at all: February's departures are then a layoff.
    const batch = plant('2022-06', 3, false);
    const noFestival = { ...t, baseline: { ...t.baseline, springFestival: { ...t.baseline.springFestival, months: [] } } };
    expect(evaluateRules(batch, 0, noIntakes, t)).toEqual([]);
    const withoutSeason = analyseHistory(employerView(batch, 0), noIntakes, noFestival).baseline.at(-1);
    expect(withoutSeason?.allowance).toBe(0);
    // And back: the default thresholds again give the learned season budget.
    expect(analyseHistory(employerView(batch, 0), noIntakes, t).baseline.at(-1)?.allowance).toBeCloseTo(59.05, 6);
  });
});

describe('medianDeviation', () => {
  it('equals the median of |x − mid| sorted afresh, for odd and even counts, ties and values at the median', () => {
    let seed = 11;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const naiveMedian = (xs: number[]): number => {
      const s = [...xs].sort((a, b) => a - b);
      const h = s.length >> 1;
      return s.length === 0 ? 0 : s.length % 2 === 1 ? (s[h] as number) : ((s[h - 1] as number) + (s[h] as number)) / 2;
    };
    for (let trial = 0; trial < 500; trial++) {
      const n = 1 + (trial % 12);
      // Coarse values so that ties (and values equal to the median) are common.
      const xs = Array.from({ length: n }, () => Math.floor(rand() * 5) / 20);
      const sorted = Float64Array.from([...xs].sort((a, b) => a - b));
      const mid = naiveMedian(xs);
      expect(medianDeviation(sorted, n, mid), `values ${xs.join(', ')}`).toBe(naiveMedian(xs.map((x) => Math.abs(x - mid))));
    }
    expect(medianDeviation(new Float64Array(4), 0, 0)).toBe(0);
  });
});
