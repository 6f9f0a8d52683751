import { CITIES } from '../../config/cities.js';
import { bandLevel, type CityRiskBands } from '../../config/city-risk.schema.js';
import type { CityAggregate, CityRiskRow } from './risk.repository.js';
import { type Level } from '../domain/level.js';
import type { CitySignal } from '../domain/explanation.js';
import type { CityKeyGroups } from './keygroups.js';

/**
 * A city's (and each city × industry section's) systemic unemployment risk
 * from four signals, each against its configured bands, the worst winning:
 * job losses (expected: Σ probability × jobs a layoff would take, plus
 * the excess separations of layoffs observed this month),
 * new UI claims against the same month of earlier years, and the surveyed
 * unemployment rate. A city whose feeds are missing or partial is marked
 * "data missing" and gets no level: never "no risk".
 */

export interface CityInputs {
  aggregates: readonly CityAggregate[];
  regional: ReadonlyMap<string, { registered: number; claims: number; surveyed: number | null; earlierClaims: readonly number[] }>;
  loadedFeeds: ReadonlySet<string>;
  siRows: ReadonlyMap<string, { now: number; before: number }>;
}

export function computeCityRisk(inputs: CityInputs, bands: CityRiskBands): CityRiskRow[] {
  const rows: CityRiskRow[] = [];
  for (const city of CITIES) {
    const missing: string[] = [];
    if (!inputs.loadedFeeds.has('social_insurance')) missing.push('social_insurance');
    else {
      const si = inputs.siRows.get(city.code);
      if (!si || si.now === 0) missing.push('social_insurance');
      else if (si.before > 0 && si.now < bands.partialFeedShare * si.before) missing.push(`social_insurance (partial: ${si.now} of ${si.before} employers)`);
    }
    const regional = inputs.regional.get(city.code);
    if (!regional) missing.push('regional');
    if (!inputs.loadedFeeds.has('headcount')) missing.push('headcount');
    const dataMissing = missing.some((m) => !m.startsWith('headcount'));

    const earlier = regional?.earlierClaims ?? [];
    const claimsRatio = regional && earlier.length > 0 ? regional.claims / Math.max(1, earlier.reduce((a, b) => a + b, 0) / earlier.length) : null;

    for (const agg of inputs.aggregates.filter((a) => a.city_code === city.code)) {
      const whole = agg.section === '*';
      const losses = agg.expected + agg.job_losses;
      const signals: CitySignal[] = [
        { name: 'job_losses', value: round(losses), level: bandLevel(losses, whole ? bands.jobLosses : bands.sectionJobLosses) },
        ...(whole
          ? [
              { name: 'ui_claims_ratio' as const, value: claimsRatio === null ? null : round(claimsRatio), level: bandLevel(claimsRatio, bands.claimsRatio) },
              { name: 'surveyed_rate' as const, value: regional?.surveyed ?? null, level: bandLevel(regional?.surveyed ?? null, bands.surveyedRate) },
            ]
          : []),
      ];
      const levels = signals.map((s) => s.level).filter((l): l is Level => l !== null);
      const level = dataMissing ? null : levels.length > 0 ? (Math.min(...levels) as Level) : null;
      rows.push({
        cityCode: city.code,
        industrySection: agg.section,
        level,
        dataMissing,
        missingFeeds: missing,
        employers: agg.employers,
        expectedJobLosses: round(agg.expected) ?? 0,
        observedLayoffs: agg.layoffs,
        observedJobLosses: agg.job_losses,
        uiNewClaims: whole ? (regional?.claims ?? null) : null,
        uiClaimsRatio: whole ? (claimsRatio === null ? null : round(claimsRatio)) : null,
        registeredUnemployed: whole ? (regional?.registered ?? null) : null,
        surveyedRate: whole ? (regional?.surveyed ?? null) : null,
        explanation: { signals, missing },
        separated: agg.separated,
        separatedMigrant: agg.separated_migrant,
        separatedGraduate: agg.separated_graduate,
        migrantReporters: agg.migrant_reporters,
        graduateReporters: agg.graduate_reporters,
        jobsAtStake: agg.jobs_at_stake,
        jobsAtStakeMigrant: round(agg.jobs_at_stake_migrant),
        jobsAtStakeGraduate: round(agg.jobs_at_stake_graduate),
      });
    }
    if (!inputs.aggregates.some((a) => a.city_code === city.code && a.section === '*')) {
      // No employer scored at all: certainly not "no risk".
      rows.push({
        cityCode: city.code, industrySection: '*', level: null, dataMissing: true, missingFeeds: missing.length > 0 ? missing : ['social_insurance'],
        employers: 0, expectedJobLosses: 0, observedLayoffs: 0, observedJobLosses: 0, uiNewClaims: regional?.claims ?? null,
        uiClaimsRatio: claimsRatio === null ? null : round(claimsRatio), registeredUnemployed: regional?.registered ?? null,
        surveyedRate: regional?.surveyed ?? null, explanation: { signals: [], missing: missing.length > 0 ? missing : ['social_insurance'] },
        ...NO_KEY_GROUPS,
      });
    }
  }
  return rows;
}

/** A city with no employer scored: nothing known of its separations, no jobs at stake. */
const NO_KEY_GROUPS: CityKeyGroups = {
  separated: null, separatedMigrant: null, separatedGraduate: null, migrantReporters: 0, graduateReporters: 0, jobsAtStake: 0, jobsAtStakeMigrant: 0, jobsAtStakeGraduate: 0,
};

function round(v: number | null): number | null {
  return v === null ? null : Math.round(v * 100) / 100;
}
