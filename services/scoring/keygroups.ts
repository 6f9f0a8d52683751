import { at, type SeriesBatch } from './series.js';

/**
 * Key groups (重点群体) among an employer's separations and jobs at stake:
 * migrant workers (农民工, separated_migrant) and graduates within two
 * years (高校毕业生, separated_graduate). Both are optional columns of the
 * social-insurance feed, so "not reported" (null) is kept apart from 0
 * everywhere. Pure: scoreShard stores these with each employer's row and
 * the close of the run sums them per city.
 */
export interface KeyGroups {
  /** Separations of the month scored; null when the employer has no social-insurance row that month. */
  separated: number | null;
  /** Of them migrant workers; null when not reported that month. */
  separatedMigrant: number | null;
  /** Of them graduates; null when not reported that month. */
  separatedGraduate: number | null;
  /**
   * An estimate, not a count: the jobs at stake × the employer's migrant
   * share of its separations over the months of the window in which it
   * reported the split (Σ migrant / Σ separated over those months; 0 when
   * they had no separations). Null when it reported the split in none.
   */
  jobsAtStakeMigrant: number | null;
  /** The same for graduates. */
  jobsAtStakeGraduate: number | null;
}

/** The same for a city (or a city × section) in a month: its employers' figures summed (RiskRepository.cityAggregates). */
export interface CityKeyGroups {
  /** Separations of the employers with a social-insurance row; null when none had one. */
  separated: number | null;
  /** Summed over the employers that reported the split; null when none did. */
  separatedMigrant: number | null;
  separatedGraduate: number | null;
  /** Employers that reported the split this month: how far the two sums above reach. */
  migrantReporters: number;
  graduateReporters: number;
  /** Jobs at stake at the employers at a warning level (Ⅰ–Ⅳ). */
  jobsAtStake: number;
  /**
   * The employers' estimates (KeyGroups) summed over the same employers that
   * have one; 0 when none is at a warning level, null when some are but none
   * has an estimate (unknown, not 0).
   */
  jobsAtStakeMigrant: number | null;
  jobsAtStakeGraduate: number | null;
}

export function keyGroups(b: SeriesBatch, i: number, jobsAtStake: number): KeyGroups {
  const k = at(b, i, b.months - 1);
  const present = b.si[k] === 1;
  return {
    separated: present ? (b.separated[k] as number) : null,
    separatedMigrant: present ? reported(b.separatedMigrant[k]) : null,
    separatedGraduate: present ? reported(b.separatedGraduate[k]) : null,
    jobsAtStakeMigrant: atStake(b, i, b.separatedMigrant, jobsAtStake),
    jobsAtStakeGraduate: atStake(b, i, b.separatedGraduate, jobsAtStake),
  };
}

function reported(v: number | undefined): number | null {
  return v === undefined || v < 0 ? null : v;
}

function atStake(b: SeriesBatch, i: number, part: Int32Array, jobsAtStake: number): number | null {
  let months = 0;
  let of = 0;
  let all = 0;
  for (let m = 0; m < b.months; m++) {
    const k = at(b, i, m);
    const p = part[k] as number;
    if (b.si[k] !== 1 || p < 0) continue;
    months++;
    const separated = b.separated[k] as number;
    of += Math.min(p, separated);
    all += separated;
  }
  if (months === 0) return null;
  if (jobsAtStake <= 0) return 0;
  // Months with the split reported but no separations in them: the share is 0/0, unknown.
  if (all <= 0) return null;
  return Math.round(((jobsAtStake * of) / all) * 100) / 100;
}
