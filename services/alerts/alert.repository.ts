import { sql } from 'kysely';
import type { AlertStatus } from '../domain/alert.js';
import type { Database } from '../db/database.js';
import { periodDate } from '../domain/period.js';
import { maskPii } from '../domain/pii.js';
import { ALL_CITIES, type Scope } from '../domain/access.js';
import { toState } from './alert.row.js';
import { acknowledge, AlertTransitionError, DISPOSITIONS, resolveByOfficial, type AlertState, type Disposition, type Step } from './lifecycle.js';

/** The officials' and operators' side of alerts: listing, one alert with its history, acknowledging and resolving; which run to raise alerts from. */

/** Who asked for an official action, for the audit log (actor already masked). */
export interface ActionAudit {
  actor: string;
  accountId: number | null;
  ip: string | null;
  via: 'session' | 'token' | 'cli' | 'form';
}

/** The longest comment an official's action keeps. */
export const MAX_COMMENT = 4_000;

export class AlertNotFoundError extends AlertTransitionError {
  override name = 'AlertNotFoundError';
}

export interface AlertFilter {
  city?: string;
  /** This level and more severe (1 = Ⅰ). */
  maxLevel?: number;
  status?: AlertStatus | 'active';
  limit?: number;
}

export class AlertRepository {
  constructor(private readonly database: Database) {}

  async list(f: AlertFilter = {}) {
    let q = this.database.db
      .selectFrom('alert')
      .select([
        'alert_id', 'subject_type', 'subject', 'kind', 'city_code', 'name', 'status', 'level', 'peak_level', 'model_only',
        'first_period', 'last_period', 'opened_at', 'acknowledged_by', 'resolved_by', 'disposition', 'reopen_count', 'updated_at',
      ])
      .orderBy('level')
      .orderBy('updated_at', 'desc')
      .orderBy('alert_id')
      .limit(f.limit ?? 100);
    if (f.city !== undefined) q = q.where('city_code', '=', f.city);
    if (f.maxLevel !== undefined) q = q.where('level', '<=', f.maxLevel);
    if (f.status === 'active') q = q.where('status', 'in', ['open', 'acknowledged']);
    else if (f.status !== undefined) q = q.where('status', '=', f.status);
    return q.execute();
  }

  async show(id: number) {
    const alert = await this.database.db.selectFrom('alert').selectAll().where('alert_id', '=', id).executeTakeFirst();
    if (!alert) return undefined;
    const history = await this.database.db.selectFrom('alert_event').selectAll().where('alert_id', '=', id).orderBy('event_id').execute();
    const notifications = await this.database.db
      .selectFrom('notification')
      .select(['notification_id', 'kind', 'status', 'created_at', 'sent_at', 'attempts'])
      .where(sql<boolean>`${id}::bigint = ANY(alert_ids)`)
      .orderBy('notification_id')
      .execute();
    return { alert, history, notifications };
  }

  /** Employers with an open or acknowledged alert (data cross-checks aside), counted per city at each employer's most serious level. */
  async openEmployersByCityLevel(): Promise<{ city_code: string; level: number; n: number }[]> {
    const r = await sql<{ city_code: string; level: number; n: number }>`
      SELECT city_code, level, count(*)::int AS n
        FROM (SELECT city_code, subject, min(level) AS level FROM alert
               WHERE status IN ('open', 'acknowledged') AND subject_type = 'employer' AND kind <> 'crosscheck'
               GROUP BY city_code, subject) AS per_employer
       GROUP BY city_code, level`.execute(this.database.db);
    return r.rows;
  }

  /** The latest finished scoring run of a month ('YYYY-MM'), if any: the one `ews alerts raise --period` raises alerts from. */
  async latestFinishedRun(period: string): Promise<number | undefined> {
    const run = await this.database.db
      .selectFrom('score_run')
      .select('run_id')
      .where('period', '=', periodDate(period))
      .where('status', '=', 'done')
      .orderBy('run_id', 'desc')
      .executeTakeFirst();
    return run?.run_id;
  }

  /**
   * `scope`: the caller's cities; an alert outside them is not found.
   * `audit`: who asked, from where; the audit log's entry is written in the
   * same transaction as the change, so neither exists without the other.
   */
  async acknowledge(id: number, by: string, comment: string | null, scope: Scope = ALL_CITIES, audit?: ActionAudit) {
    return this.transition(id, by, comment, null, scope, audit, (state, who, now, c) => acknowledge(state, who, now, c));
  }

  async resolve(id: number, by: string, disposition: string, comment: string | null, scope: Scope = ALL_CITIES, audit?: ActionAudit) {
    if (!(DISPOSITIONS as readonly string[]).includes(disposition)) {
      throw new AlertTransitionError(`--disposition must be one of ${DISPOSITIONS.join(' / ')}, got "${disposition}"`);
    }
    return this.transition(id, by, comment, disposition, scope, audit, (state, who, now, c) => resolveByOfficial(state, who, now, disposition as Disposition, c));
  }

  /** One official action: the row locked, the lifecycle applied, the row, its history and the audit entry written in one transaction. */
  private async transition(
    id: number,
    givenBy: string,
    given: string | null,
    disposition: string | null,
    scope: Scope,
    audit: ActionAudit | undefined,
    apply: (state: AlertState, by: string, now: Date, comment: string | null) => Step,
  ) {
    // An official's note may quote a phone number or an ID number, and `--by` may be an address: kept masked, like everything else stored.
    const comment = given === null || given.trim() === '' ? null : maskPii(given);
    const by = maskPii(givenBy);
    if (by.trim() === '' || by.length > 100 || /[\r\n]/.test(by)) throw new AlertTransitionError('--by must name who did it (1–100 characters, one line)');
    if (comment !== null && comment.length > MAX_COMMENT) throw new AlertTransitionError(`the comment has ${comment.length} characters: at most ${MAX_COMMENT} are kept`);
    return this.database.db.transaction().execute(async (trx) => {
      let q = trx.selectFrom('alert').selectAll().where('alert_id', '=', id);
      if (!scope.all) q = q.where('city_code', 'in', scope.cities.length === 0 ? [''] : [...scope.cities]);
      const row = await q.forUpdate().executeTakeFirst();
      if (!row) throw new AlertNotFoundError(`no alert ${id} (see \`ews alerts list\`)`);
      const now = new Date();
      const step = apply(toState(row), by, now, comment);
      const s = step.next;
      await trx
        .updateTable('alert')
        .set({
          status: s.status,
          acknowledged_at: s.acknowledgedAt,
          acknowledged_by: s.acknowledgedBy,
          resolved_at: s.resolvedAt,
          resolved_by: s.resolvedBy,
          disposition: s.disposition,
          comment: s.comment,
          updated_at: now,
        })
        .where('alert_id', '=', id)
        .execute();
      for (const e of step.events) {
        await trx
          .insertInto('alert_event')
          .values({
            alert_id: id, run_id: null, period: null, action: e.action, from_status: e.fromStatus, to_status: e.toStatus,
            from_level: e.fromLevel, to_level: e.toLevel, actor: by, disposition, comment, evidence: null,
          })
          .execute();
      }
      if (audit !== undefined) {
        await trx
          .insertInto('audit_log')
          .values({
            actor: audit.actor,
            account_id: audit.accountId,
            action: disposition === null ? 'alert.acknowledge' : 'alert.resolve',
            target: `alert:${id}`,
            city_code: row.city_code.trim(),
            ip: audit.ip,
            detail: JSON.stringify({ disposition, comment, via: audit.via }),
          })
          .execute();
      }
      return { alertId: id, status: s.status, by, disposition: s.disposition, cityCode: row.city_code.trim(), level: row.level };
    });
  }
}
