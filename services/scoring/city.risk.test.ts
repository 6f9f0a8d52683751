import { describe, expect, it } from 'vitest';
import { cityRiskSchema } from '../../config/city-risk.schema.js';
import { computeCityRisk, type CityInputs } from './city.risk.js';

const bands = cityRiskSchema.parse({});

/** The key-group sums of an aggregate (migrants and graduates null: no employer reported them). */
const keyGroups = (separated: number, migrant: number | null, graduate: number | null) => ({
  separated, separated_migrant: migrant, separated_graduate: graduate,
  migrant_reporters: migrant === null ? 0 : 80, graduate_reporters: graduate === null ? 0 : 75,
  jobs_at_stake: 120, jobs_at_stake_migrant: migrant === null ? 0 : 41.337, jobs_at_stake_graduate: graduate === null ? 0 : 6.5,
});
const full = (over: Partial<CityInputs> = {}): CityInputs => ({
  aggregates: [
    { city_code: '510100', section: '*', employers: 1000, expected: 120, layoffs: 2, job_losses: 60, ...keyGroups(900, 300, 40) },
    { city_code: '510100', section: 'C', employers: 300, expected: 100, layoffs: 2, job_losses: 60, ...keyGroups(400, 200, 10) },
    { city_code: '510400', section: '*', employers: 200, expected: 10, layoffs: 0, job_losses: 0, ...keyGroups(90, null, null) },
  ],
  regional: new Map([
    ['510100', { registered: 80000, claims: 6000, surveyed: 5.2, earlierClaims: [2000, 2000] }],
    ['510400', { registered: 9000, claims: 500, surveyed: null, earlierClaims: [500] }],
  ]),
  loadedFeeds: new Set(['social_insurance', 'headcount', 'regional']),
  siRows: new Map([['510100', { now: 1000, before: 1010 }], ['510400', { now: 200, before: 205 }]]),
  ...over,
});

describe('city risk', () => {
  it('takes the worst of job losses, claims against earlier years, and the surveyed rate', () => {
    const rows = computeCityRisk(full(), bands);
    const chengdu = rows.find((r) => r.cityCode === '510100' && r.industrySection === '*');
    // claims 6000 vs 2000 the same month in earlier years: ratio 3 → Ⅰ; job losses 180 → Ⅳ.
    expect(chengdu).toMatchObject({ level: 1, dataMissing: false, uiClaimsRatio: 3, expectedJobLosses: 120, observedJobLosses: 60 });
    const section = rows.find((r) => r.cityCode === '510100' && r.industrySection === 'C');
    expect(section?.level).toBe(3);
    expect(rows.find((r) => r.cityCode === '510400')?.level).toBeNull();
  });

  it('marks a city with missing or partial feeds "data missing", never "no risk"', () => {
    const rows = computeCityRisk(full({ siRows: new Map([['510100', { now: 300, before: 1010 }], ['510400', { now: 200, before: 205 }]]), regional: new Map() }), bands);
    const chengdu = rows.find((r) => r.cityCode === '510100' && r.industrySection === '*');
    expect(chengdu).toMatchObject({ level: null, dataMissing: true, missingFeeds: ['social_insurance (partial: 300 of 1010 employers)', 'regional'] });
    // Cities with no employer scored at all are listed too.
    const aba = rows.find((r) => r.cityCode === '513200');
    expect(aba).toMatchObject({ dataMissing: true, employers: 0, level: null });
    expect(rows.filter((r) => r.industrySection === '*')).toHaveLength(21);
  });

  it('carries the key groups of each city and section, and none for a city with no employer scored', () => {
    const rows = computeCityRisk(full(), bands);
    expect(rows.find((r) => r.cityCode === '510100' && r.industrySection === '*')).toMatchObject({
      separated: 900, separatedMigrant: 300, separatedGraduate: 40, migrantReporters: 80, graduateReporters: 75, jobsAtStake: 120, jobsAtStakeMigrant: 41.34, jobsAtStakeGraduate: 6.5,
    });
    expect(rows.find((r) => r.cityCode === '510400' && r.industrySection === '*')).toMatchObject({ separated: 90, separatedMigrant: null, migrantReporters: 0, jobsAtStakeMigrant: 0 });
    expect(rows.find((r) => r.cityCode === '513200')).toMatchObject({ separated: null, separatedMigrant: null, separatedGraduate: null, jobsAtStake: 0 });
  });

  it('refuses bands that do not decrease', () => {
    expect(() => cityRiskSchema.parse({ jobLosses: [100, 300, 800, 1500] })).toThrow('jobLosses: the four bands (Ⅰ, Ⅱ, Ⅲ, Ⅳ) must strictly decrease');
  });
});
