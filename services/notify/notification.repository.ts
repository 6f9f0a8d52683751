import { sql } from 'kysely';
import type { NotificationStatus } from '../../sql/schema.js';
import type { Database } from '../db/database.js';
import type { NotificationPayload } from './notification.types.js';

/**
 * Every query of the outbox (the `notification` table) on the sending side:
 * claiming a row, recording how its send went, what is still unsent, and
 * the lists ops read. The rows themselves are written by the alert stage,
 * in the transaction that raises the alerts.
 */

export interface ClaimedNotification {
  recipient: string;
  message_id: string;
  payload: NotificationPayload;
  kind: string;
  attempts: number;
}

export interface NotificationFilter {
  status?: NotificationStatus;
  limit: number;
}

export class NotificationRepository {
  constructor(private readonly database: Database) {}

  /**
   * pending → sending (attempts + 1), or a `sending` row whose lease ran
   * out: committed before any byte goes out. Undefined when the row is not
   * there to claim.
   */
  async claim(notificationId: number, leaseMs: number): Promise<ClaimedNotification | undefined> {
    const claimed = await sql<ClaimedNotification>`
      UPDATE notification
         SET status = 'sending', attempts = attempts + 1, sending_at = now()
       WHERE notification_id = ${notificationId}
         AND (status = 'pending' OR (status = 'sending' AND sending_at < now() - make_interval(secs => ${leaseMs / 1000})))
       RETURNING recipient, message_id, payload, kind, attempts`.execute(this.database.db);
    return claimed.rows[0];
  }

  /** The row's status, or undefined when there is no such notification. */
  async status(notificationId: number): Promise<NotificationStatus | undefined> {
    const row = await this.database.db.selectFrom('notification').select(['status']).where('notification_id', '=', notificationId).executeTakeFirst();
    return row?.status;
  }

  /** sending → failed (for good, for this recipient). */
  async markFailed(notificationId: number, reason: string): Promise<void> {
    await this.leaveSending(notificationId, 'failed', reason);
  }

  /** sending → pending: to be tried again. */
  async release(notificationId: number, reason: string): Promise<void> {
    await this.leaveSending(notificationId, 'pending', reason);
  }

  /** A claimed row that was not sent, with why (a row no longer `sending` is left as it is). */
  private async leaveSending(notificationId: number, status: 'failed' | 'pending', reason: string): Promise<void> {
    await this.database.db
      .updateTable('notification')
      .set({ status, last_error: reason })
      .where('notification_id', '=', notificationId)
      .where('status', '=', 'sending')
      .execute();
  }

  /** → sent, with the server's reply. */
  async markSent(notificationId: number, response: string): Promise<void> {
    await this.database.db
      .updateTable('notification')
      .set({ status: 'sent', sent_at: new Date(), smtp_response: response.slice(0, 500), last_error: null })
      .where('notification_id', '=', notificationId)
      .execute();
  }

  /** Everything waiting (pending, or sending past its lease), oldest first. */
  async unsent(leaseMs: number, limit: number): Promise<number[]> {
    const rows = await sql<{ notification_id: number }>`
      SELECT notification_id FROM notification
       WHERE status = 'pending' OR (status = 'sending' AND sending_at < now() - make_interval(secs => ${leaseMs / 1000}))
       ORDER BY notification_id
       LIMIT ${limit}`.execute(this.database.db);
    return rows.rows.map((r) => Number(r.notification_id));
  }

  /** The kind of each notification given (ids not found are left out). */
  async kinds(ids: readonly number[]): Promise<Map<number, string>> {
    const kinds = new Map<number, string>();
    for (let i = 0; i < ids.length; i += 1000) {
      const rows = await this.database.db.selectFrom('notification').select(['notification_id', 'kind']).where('notification_id', 'in', ids.slice(i, i + 1000)).execute();
      for (const r of rows) kinds.set(r.notification_id, r.kind);
    }
    return kinds;
  }

  /** The outbox for ops, newest first (`ews notify list`). */
  async list(f: NotificationFilter) {
    let q = this.database.db
      .selectFrom('notification')
      .select(['notification_id', 'kind', 'city_code', 'recipient', 'status', 'attempts', 'last_error', 'created_at', 'sent_at', 'run_id'])
      .orderBy('notification_id', 'desc')
      .limit(f.limit);
    if (f.status !== undefined) q = q.where('status', '=', f.status);
    return q.execute();
  }
}
