import { describe, expect, it } from 'vitest';
import { monthRange } from '../domain/period.js';
import { PACK_FORMAT } from './series.pack.js';
import { MAX_STALE_MONTHS, packPlan, packRefused, type Fingerprint, type PackPlanQuery, type PackState } from './series.pack.plan.js';

const q: PackPlanQuery = { period: '2026-06', months: 6, bucketFrom: 0, bucketTo: 63 };
const window = monthRange('2026-01', '2026-06');

/** Every month of the window loaded once, batch ids from 1; `changes` replaces some months' batches. */
function fingerprint(months: readonly string[], changes: Fingerprint = {}): Fingerprint {
  const out: Fingerprint = {};
  months.forEach((p, i) => (out[p] = `headcount:${100 + i};social_insurance:${i + 1}`));
  return { ...out, ...changes };
}

/** The pack the run of 2026-05 left over all 64 buckets: its window 2025-12 … 2026-05. */
const lastNight = (over: Partial<PackState> = {}): PackState => ({ months: 6, format: PACK_FORMAT, fingerprint: fingerprint(monthRange('2025-12', '2026-05')), buckets: 64, ...over });

describe('packPlan', () => {
  it('uses the pack when every shared month is unchanged, reading only the scored month from the facts', () => {
    // The pack's months are this window's, one earlier: give both the same batches for the months they share.
    const now = fingerprint(window);
    const pack = lastNight({ fingerprint: { ...now, '2025-12': 'social_insurance:0' } });
    delete pack.fingerprint['2026-06'];
    expect(packPlan(q, window, now, [pack])).toEqual({ usable: true, packMonths: 6, stale: ['2026-06'] });
  });

  it('reads a restated month from the facts too, and the scored month always', () => {
    const now = fingerprint(window);
    const pack = lastNight({ fingerprint: { ...now, '2026-03': 'headcount:102;social_insurance:3' } });
    now['2026-03'] = 'headcount:102;social_insurance:3,40';
    expect(packPlan(q, window, now, [pack])).toEqual({ usable: true, packMonths: 6, stale: ['2026-03', '2026-06'] });
    // A month loaded late (empty when the pack was written) counts as changed as well.
    const late = lastNight({ fingerprint: { ...now, '2026-05': '' } });
    expect(packPlan(q, window, now, [late])).toEqual({ usable: true, packMonths: 6, stale: ['2026-05', '2026-06'] });
  });

  it('reads the facts whole when more than MAX_STALE_MONTHS months changed', () => {
    const long: PackPlanQuery = { ...q, months: 12 };
    const months = monthRange('2025-07', '2026-06');
    const now = fingerprint(months);
    const changed = (k: number): PackState => {
      const old: Fingerprint = { ...now };
      for (const p of months.slice(0, k)) old[p] = 'social_insurance:0';
      return lastNight({ months: 12, fingerprint: old });
    };
    // k restated months and the scored one.
    expect(packPlan(long, months, now, [changed(MAX_STALE_MONTHS - 1)])).toMatchObject({ usable: true, stale: [...months.slice(0, MAX_STALE_MONTHS - 1), '2026-06'] });
    expect(packPlan(long, months, now, [changed(MAX_STALE_MONTHS)])).toEqual({ usable: false, why: `${MAX_STALE_MONTHS + 1} months changed since the pack of 2026-05` });
  });

  it('reads the facts when the pack holds a window of another length', () => {
    const now = fingerprint(window);
    expect(packPlan(q, window, now, [lastNight({ months: 13, fingerprint: now })])).toEqual({ usable: false, why: 'the pack of 2026-05 holds 13 months, not 6' });
  });

  it('reads the facts when the pack was written in another layout (before graduates were packed)', () => {
    const now = fingerprint(window);
    expect(packPlan(q, window, now, [lastNight({ format: 1, fingerprint: now })])).toEqual({ usable: false, why: `the pack of 2026-05 is in layout 1, not ${PACK_FORMAT}` });
  });

  it('reads the facts when there is no pack state, or one that does not cover the shard from one run', () => {
    const now = fingerprint(window);
    expect(packPlan(q, window, now, [])).toEqual({ usable: false, why: 'no pack of 2026-05' });
    const partial = packPlan(q, window, now, [lastNight({ fingerprint: now, buckets: 63 })]);
    expect(partial).toEqual({ usable: false, why: "the pack of 2026-05 does not cover the shard's buckets from one run" });
    const twoRuns = packPlan(q, window, now, [lastNight({ fingerprint: now, buckets: 32 }), lastNight({ fingerprint: { ...now, '2026-01': 'x' }, buckets: 32 })]);
    expect(twoRuns).toEqual(partial);
  });

  it('never looks at a pack for one city or when the facts are asked for', () => {
    const now = fingerprint(window);
    const pack = lastNight({ fingerprint: now });
    expect(packRefused(q)).toBeNull();
    expect(packRefused({ ...q, city: '5101' })).toBe('one city is scored');
    expect(packPlan({ ...q, city: '5101' }, window, now, [pack])).toEqual({ usable: false, why: 'one city is scored' });
    expect(packPlan({ ...q, fromFacts: true }, window, now, [pack])).toEqual({ usable: false, why: 'asked to read the facts' });
  });
});
