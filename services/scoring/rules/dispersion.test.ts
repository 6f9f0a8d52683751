import { describe, expect, it } from 'vitest';
import { defaultThresholds as t } from '../../../config/thresholds.schema.js';
import { peerDispersion, sizeBandIndex, withPeers } from './dispersion.js';
import { buildBatch, noIntakes, periodsFrom, repeat, track } from './fixture.testkit.js';
import type { Flow } from './fixture.testkit.js';
import { analyseHistory, noiseBand } from './separations.baseline.js';
import { employerView } from './employer.view.js';
import { evaluateRules } from './rules.js';

const periods = periodsFrom('2024-11', 24);

/**
 * A 2,000-person plant that usually loses 40 a month and, every few months,
 * a lump of 30-odd more (a contract ends, a team leaves): the median month
 * is 40 and the median deviation 0, so only the dispersion shows the lumps.
 */
function lumpy(last: number): Flow[] {
  const sep = [40, 40, 40, 75, 40, 40, 40, 40, 78, 40, 40, 40, 40, 72, 40, 40, 40, 40, 76, 40, 40, 40, 40];
  return [...sep.map((s) => ({ hired: s, separated: s })), { hired: 40, separated: last }];
}

describe('dispersion', () => {
  it('size bands: ≤5, 6–99, 100–999, 1000+', () => {
    expect([5, 6, 99, 100, 999, 1000].map(sizeBandIndex)).toEqual([0, 1, 1, 2, 2, 3]);
  });

  it('the band is the quasi-Poisson tail: φ = 1 is the Poisson band, a larger φ widens it', () => {
    expect(noiseBand(40, 0, t, 1)).toBe(noiseBand(40, 0, t));
    expect(noiseBand(40, 0, t, 4)).toBeGreaterThan(1.8 * noiseBand(40, 0, t));
    expect(noiseBand(40, 0, t, Number.NaN)).toBe(noiseBand(40, 0, t));
  });

  it("learns an employer's own over-dispersed churn: its ordinary high month is no layoff, a real one still is", () => {
    const ordinaryHigh = buildBatch(periods, [{ si: track(2000, lumpy(85)) }]);
    const history = analyseHistory(employerView(ordinaryHigh, 0), noIntakes, t);
    const last = history.baseline[23];
    expect(last?.dispersion).toBeGreaterThan(2);
    expect(evaluateRules(ordinaryHigh, 0, noIntakes, t).filter((h) => h.kind === 'layoff')).toEqual([]);
    // The Poisson tail (φ held at 1) calls the same ordinary month a statutory layoff.
    const poisson = { ...t, baseline: { ...t.baseline, maxDispersion: 1 } };
    expect(evaluateRules(ordinaryHigh, 0, noIntakes, poisson).map((h) => h.rule)).toContain('law41');
    const layoff = buildBatch(periods, [{ si: track(2000, lumpy(400)) }]);
    expect(evaluateRules(layoff, 0, noIntakes, t).map((h) => h.rule)).toContain('law41');
  });

  it("a short history leans on its peers' dispersion, a long one on its own", () => {
    const steady = (n: number): (Flow | null)[] => [...Array.from({ length: 24 - n }, () => null), ...repeat(n, { hired: 40, separated: 40 })];
    const peers = Array.from({ length: 12 }, () => ({ si: track(2000, lumpy(40)), industryCode: 'C13' }));
    const batch = buildBatch(periods, [{ si: track(2000, steady(4)), industryCode: 'C13' }, { si: track(2000, steady(24)), industryCode: 'C13' }, ...peers]);
    const ctx = withPeers(noIntakes, batch, t);
    const peer = ctx.peers?.of('C', 2000) ?? 0;
    expect(peer).toBeGreaterThan(2);
    const short = analyseHistory(employerView(batch, 0), ctx, t).baseline[23]?.dispersion ?? 0;
    const long = analyseHistory(employerView(batch, 1), ctx, t).baseline[23]?.dispersion ?? 0;
    expect(short).toBeGreaterThan(long);
    expect(long).toBeLessThan(peer / 2);
    expect(short).toBeGreaterThan(1.5);
  });

  it('peers of a cell that saw too little fall back to the pooled value; nothing at all is Poisson', () => {
    const none = peerDispersion(buildBatch(periods, []));
    expect(none.of('C', 50)).toBe(1);
    const one = peerDispersion(buildBatch(periods, [{ si: track(2000, lumpy(40)), industryCode: 'C13' }]));
    expect(one.of('F', 3)).toBe(one.of('C', 2000));
  });
});
