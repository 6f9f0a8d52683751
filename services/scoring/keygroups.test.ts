import { describe, expect, it } from 'vitest';
import { keyGroups } from './keygroups.js';
import { buildBatch, periodsFrom, type SiRow } from './rules/fixture.testkit.js';

const periods = periodsFrom('2026-01', 6);
const row = (separated: number, split: { migrant?: number; graduate?: number } = {}): SiRow => ({ insured: 200, hired: 0, separated, ...split });

describe('key groups of an employer', () => {
  it('counts this month’s migrant and graduate separations, and apportions the jobs at stake by its share over the months it reported', () => {
    const b = buildBatch(periods, [{ si: [row(10, { migrant: 5, graduate: 0 }), row(10, { migrant: 5, graduate: 2 }), row(10), row(10), row(10, { migrant: 2, graduate: 0 }), row(30, { migrant: 18, graduate: 3 })] }]);
    // Migrant share over the four months reported: (5 + 5 + 2 + 18) / (10 + 10 + 10 + 30) = 0.5; graduates 5 / 60.
    expect(keyGroups(b, 0, 60)).toEqual({ separated: 30, separatedMigrant: 18, separatedGraduate: 3, jobsAtStakeMigrant: 30, jobsAtStakeGraduate: 5 });
    expect(keyGroups(b, 0, 7).jobsAtStakeGraduate).toBe(0.58);
  });

  it('says "not reported" (null) apart from 0', () => {
    const never = buildBatch(periods, [{ si: [row(10), row(10), row(10), row(10), row(10), row(12)] }]);
    expect(keyGroups(never, 0, 40)).toEqual({ separated: 12, separatedMigrant: null, separatedGraduate: null, jobsAtStakeMigrant: null, jobsAtStakeGraduate: null });
    // Reported before, not this month: the month's figure is unknown, the share still stands.
    const earlier = buildBatch(periods, [{ si: [row(10, { migrant: 4 }), row(10), row(10), row(10), row(10), row(12)] }]);
    expect(keyGroups(earlier, 0, 40)).toMatchObject({ separatedMigrant: null, jobsAtStakeMigrant: 16 });
  });

  it('estimates 0 when nothing is at stake, and does not know (null) when the months reported had no separations to take a share of', () => {
    const calm = buildBatch(periods, [{ si: [row(0, { migrant: 0, graduate: 0 }), row(0, { migrant: 0, graduate: 0 }), row(0), row(0), row(0), row(0, { migrant: 0 })] }]);
    expect(keyGroups(calm, 0, 25)).toEqual({ separated: 0, separatedMigrant: 0, separatedGraduate: null, jobsAtStakeMigrant: null, jobsAtStakeGraduate: null });
    expect(keyGroups(calm, 0, 0)).toEqual({ separated: 0, separatedMigrant: 0, separatedGraduate: null, jobsAtStakeMigrant: 0, jobsAtStakeGraduate: 0 });
    const busy = buildBatch(periods, [{ si: [row(10, { migrant: 9 }), row(10), row(10), row(10), row(10), row(10)] }]);
    expect(keyGroups(busy, 0, 0).jobsAtStakeMigrant).toBe(0);
  });

  it('knows no separations in a month the employer has no row (a closure still listed)', () => {
    const closed = buildBatch(periods, [{ si: [row(10, { migrant: 5 }), row(10, { migrant: 5 }), row(10, { migrant: 5 }), row(170, { migrant: 85 }), null, null] }]);
    expect(keyGroups(closed, 0, 180)).toEqual({ separated: null, separatedMigrant: null, separatedGraduate: null, jobsAtStakeMigrant: 90, jobsAtStakeGraduate: null });
  });
});
