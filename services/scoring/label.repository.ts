import type { Database } from '../db/database.js';
import type { LabelOverride } from './training.js';
import { periodDate, periodOf } from '../domain/period.js';

/**
 * Officials' word on past alerts, as training labels: an employer alert
 * resolved 核实为规模裁员 (a layoff verified) or 误报 (a false alarm)
 * decides the label of the months its horizon covers (training.ts).
 */
export class LabelRepository {
  constructor(private readonly database: Database) {}

  async overrides(): Promise<LabelOverride[]> {
    const rows = await this.database.db
      .selectFrom('alert')
      .select(['subject', 'first_period', 'last_period', 'disposition'])
      .where('subject_type', '=', 'employer')
      .where('disposition', 'in', [VERIFIED, FALSE_ALARM])
      .orderBy('alert_id')
      .execute();
    return rows.map((r) => ({ uscc: r.subject, from: periodOf(r.first_period), to: periodOf(r.last_period), layoff: r.disposition === VERIFIED }));
  }

  /**
   * What a model trained on the data through `through` ('YYYY-MM') saw:
   * the batches loaded for those months and the officials' labels. A
   * restatement of a month trained on is a new batch, and a disposition
   * recorded or changed moves the labels' count or last change, so the
   * fingerprint changes and the monthly retraining does not skip it.
   */
  async fingerprint(through: string): Promise<string> {
    const batches = await this.database.db
      .selectFrom('batch')
      .select((eb) => [eb.fn.countAll<string>().as('n'), eb.fn.max('batch_id').as('last')])
      .where('status', '=', 'loaded')
      .where('period', '<=', periodDate(through))
      .executeTakeFirst();
    const labels = await this.database.db
      .selectFrom('alert')
      .select((eb) => [eb.fn.countAll<string>().as('n'), eb.fn.max('alert_id').as('last'), eb.fn.max('updated_at').as('changed')])
      .where('subject_type', '=', 'employer')
      .where('disposition', 'in', [VERIFIED, FALSE_ALARM])
      .executeTakeFirst();
    const changed = labels?.changed instanceof Date ? labels.changed.toISOString() : String(labels?.changed ?? '-');
    return `batches ${String(batches?.n ?? 0)}/${String(batches?.last ?? 0)}; labels ${String(labels?.n ?? 0)}/${String(labels?.last ?? 0)}/${changed}`;
  }
}

const VERIFIED = '核实为规模裁员';
const FALSE_ALARM = '误报';
