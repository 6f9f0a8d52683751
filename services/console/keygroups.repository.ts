import type { Database } from '../db/database.js';
import { isPeriod, periodDate, periodOf } from '../domain/period.js';

/**
 * Key groups (重点群体) for the console: of the separations and of the jobs
 * at stake, how many are migrant workers (农民工) and graduates (高校毕业生),
 * per city and month (an employer's months come with the rest of its
 * social-insurance figures: ConsoleRepository.employerMonths). Counts are NULL where not
 * reported, never 0 (sql/009_key_groups.sql).
 */

export interface CityKeyGroupMonth {
  /** 'YYYY-MM' */
  period: string;
  cityCode: string;
  /** null in months scored before key groups were stored. */
  separated: number | null;
  /** Summed over the employers that reported it; null when none did. */
  separatedMigrant: number | null;
  separatedGraduate: number | null;
  /** Employers that reported separated_migrant (separated_graduate) that month: how far the sums reach. */
  migrantReporters: number | null;
  graduateReporters: number | null;
  /** Jobs at stake at the city's employers at a warning level. */
  jobsAtStake: number | null;
  /** Estimates: each employer's jobs at stake × its migrant (graduate) share of separations over the months it reported (see services/scoring/keygroups.ts). */
  jobsAtStakeMigrant: number | null;
  jobsAtStakeGraduate: number | null;
}

/** A request the console passed on unchecked: a month not 'YYYY-MM', a range the wrong way round. */
export class KeyGroupQueryError extends RangeError {
  override name = 'KeyGroupQueryError';
}

export class KeyGroupRepository {
  constructor(private readonly database: Database) {}

  /**
   * Per city and month, the whole city (industry_section '*'), oldest month
   * first. city_risk holds one row per city and month, the latest closed
   * run's: closing a run replaces the month's rows (RiskRepository.writeCities).
   */
  async cityMonths(cityCodes: readonly string[] | 'all', from: string, to: string): Promise<CityKeyGroupMonth[]> {
    range(from, to);
    if (cityCodes !== 'all' && cityCodes.length === 0) return [];
    let q = this.database.db
      .selectFrom('city_risk')
      .select([
        'period', 'city_code', 'separated', 'separated_migrant', 'separated_graduate', 'migrant_reporters', 'graduate_reporters',
        'jobs_at_stake', 'jobs_at_stake_migrant', 'jobs_at_stake_graduate',
      ])
      .where('industry_section', '=', '*')
      .where('period', '>=', periodDate(from))
      .where('period', '<=', periodDate(to));
    if (cityCodes !== 'all') q = q.where('city_code', 'in', [...cityCodes]);
    const rows = await q.orderBy('period').orderBy('city_code').execute();
    return rows.map((r) => ({
      period: periodOf(r.period),
      cityCode: r.city_code,
      separated: r.separated,
      separatedMigrant: r.separated_migrant,
      separatedGraduate: r.separated_graduate,
      migrantReporters: r.migrant_reporters,
      graduateReporters: r.graduate_reporters,
      jobsAtStake: r.jobs_at_stake,
      jobsAtStakeMigrant: r.jobs_at_stake_migrant,
      jobsAtStakeGraduate: r.jobs_at_stake_graduate,
    }));
  }
}

function range(from: string, to: string): void {
  if (!isPeriod(from) || !isPeriod(to)) throw new KeyGroupQueryError(`months must be YYYY-MM, got "${String(from).slice(0, 20)}" and "${String(to).slice(0, 20)}"`);
  if (from > to) throw new KeyGroupQueryError(`${from} is after ${to}`);
}
