import { sql } from 'kysely';
import type { Database } from '../db/database.js';

/**
 * Every query /metrics and /readyz run against PostgreSQL: small tables only
 * (batch, score_run, city_risk, alert, notification), through their indexes
 * or whole-table aggregates of a few thousand rows; the big fact tables are
 * never touched.
 */

export interface BatchCountRow {
  feed: string;
  status: string;
  n: number;
  /** The latest month of a batch with this feed and status ('YYYY-MM-DD'). */
  latest: string | null;
}

export interface LatestRunRow {
  employers: number | null;
  finished_at: Date | null;
}

export class MetricsRepository {
  constructor(private readonly database: Database) {}

  /** PostgreSQL answers SELECT 1. */
  async ping(): Promise<boolean> {
    const result = await this.database.pool.query<{ one: number }>('SELECT 1 AS one');
    return result.rows[0]?.one === 1;
  }

  /** Feed batches per feed and status, with the latest month of each. */
  async batchCounts(): Promise<BatchCountRow[]> {
    return this.database.db
      .selectFrom('batch')
      .select((eb) => ['feed', 'status', eb.fn.countAll<number>().as('n'), eb.fn.max('period').as('latest')])
      .groupBy(['feed', 'status'])
      .execute();
  }

  /** The latest finished scoring run. */
  async latestFinishedRun(): Promise<LatestRunRow | undefined> {
    return this.database.db
      .selectFrom('score_run')
      .select(['employers', 'finished_at'])
      .where('status', '=', 'done')
      .orderBy('finished_at', (ob) => ob.desc().nullsLast())
      .orderBy('run_id', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  /** Per city, whether it lacked feed data in the latest period scored. */
  async cityDataMissing(): Promise<{ city_code: string; data_missing: boolean }[]> {
    return this.database.db
      .selectFrom('city_risk')
      .select(['city_code', 'data_missing'])
      .where('industry_section', '=', '*')
      .where('period', '=', (eb) => eb.selectFrom('city_risk as latest').select((e) => e.fn.max('latest.period').as('period')))
      .execute();
  }

  /** Alerts with one of the statuses given, per city, level and status. */
  async alertCounts(statuses: readonly ('pending' | 'open' | 'acknowledged' | 'resolved')[]): Promise<{ city_code: string; level: number; status: string; n: number }[]> {
    return this.database.db
      .selectFrom('alert')
      .select((eb) => ['city_code', 'level', 'status', eb.fn.countAll<number>().as('n')])
      .where('status', 'in', statuses)
      .groupBy(['city_code', 'level', 'status'])
      .execute();
  }

  /** Nights the watch re-drove (ever), and those not done now, in all and idle longer than `stallMs`. */
  async nightTotals(stallMs: number): Promise<{ redrives: number; stalled: number; unfinished: number }> {
    const rows = await sql<{ redrives: number; stalled: number; unfinished: number }>`
      SELECT coalesce(sum(redrives), 0)::int AS redrives,
             count(*) FILTER (WHERE n.stage <> 'done' AND p.last_progress < now() - make_interval(secs => ${stallMs / 1000}))::int AS stalled,
             count(*) FILTER (WHERE n.stage <> 'done')::int AS unfinished
        FROM night n JOIN night_progress p USING (night_key)`.execute(this.database.db);
    return rows.rows[0] ?? { redrives: 0, stalled: 0, unfinished: 0 };
  }

  /** Notification e-mails per status. */
  async emailCounts(): Promise<{ status: string; n: number }[]> {
    return this.database.db
      .selectFrom('notification')
      .select((eb) => ['status', eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
  }
}
