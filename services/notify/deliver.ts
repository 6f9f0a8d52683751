import type { Database } from '../db/database.js';
import type { Logger } from '../log.js';
import { NotificationRepository } from './notification.repository.js';
import { renderEmail } from './render/index.js';
import type { NotifyConfig } from '../../config/notify.schema.js';
import { classifySendError, openTransport, type MailTransport } from './transport.js';

/**
 * Sends one notification from the outbox, exactly once as far as this side
 * can make it:
 *
 * 1. claim: pending → sending (attempts + 1), committed before any byte goes
 *    out. A row already `sending` is claimed again only after the lease
 *    (longer than any SMTP exchange), so two workers never send it at once;
 * 2. render from the payload frozen in the outbox and send, with the
 *    notification's deterministic Message-ID;
 * 3. record: sending → sent with the server's reply, or → failed (5xx:
 *    permanent for this recipient, surfaced to ops), or back → pending
 *    (4xx, connection trouble: retried with backoff).
 *
 * Step 3 after an accepted send is retried (a database restart takes
 * seconds) until the lease is nearly over, so a blip between the relay's 250 and
 * our commit does not send the e-mail again. The one window left is a
 * process killed after the relay has the message and before that commit:
 * the row stays `sending`, and after the lease it is sent again with the
 * same Message-ID, which receiving systems use to drop the duplicate. No
 * protocol closes that window short of the relay taking part in our
 * transaction; every other crash or retry sends nothing twice and loses
 * nothing.
 */

export interface DeliverDeps {
  database: Database;
  transport: MailTransport;
  log: Logger;
  /** A `sending` row older than this is presumed abandoned by a crashed sender. */
  leaseMs: number;
}

export type DeliveryOutcome =
  | { status: 'sent'; notificationId: number; response: string }
  | { status: 'failed'; notificationId: number; reason: string }
  | { status: 'skipped'; notificationId: number; reason: string };

export class TransientDeliveryError extends Error {
  override name = 'TransientDeliveryError';
}

export class PermanentDeliveryError extends Error {
  override name = 'PermanentDeliveryError';
}

export async function deliverNotification(deps: DeliverDeps, notificationId: number): Promise<DeliveryOutcome> {
  const { database, transport, log } = deps;
  const outbox = new NotificationRepository(database);
  const claimedAt = Date.now();
  const row = await outbox.claim(notificationId, deps.leaseMs);
  if (!row) {
    const status = await outbox.status(notificationId);
    if (status === undefined) throw new PermanentDeliveryError(`no notification ${notificationId}`);
    if (status === 'sending') throw new TransientDeliveryError(`notification ${notificationId} is being sent by another worker`);
    return { status: 'skipped', notificationId, reason: `already ${status}` };
  }

  let response: string;
  try {
    const email = renderEmail(row.payload);
    response = await transport.send({
      messageId: row.message_id,
      to: row.recipient,
      subject: email.subject,
      html: email.html,
      text: email.text,
      attachments: email.attachments,
      headers: { 'X-EWS-Notification': String(notificationId), 'X-EWS-Kind': row.kind, 'Auto-Submitted': 'auto-generated' },
    });
  } catch (err) {
    const reason = describe(err);
    if (classifySendError(err) === 'permanent') {
      await outbox.markFailed(notificationId, reason);
      // The address stays in the outbox table for ops; the log gets the id and the code.
      log.error({ notificationId, kind: row.kind, code: smtpCode(err) }, 'notification failed permanently');
      return { status: 'failed', notificationId, reason };
    }
    await outbox.release(notificationId, reason);
    log.warn({ notificationId, kind: row.kind, attempt: row.attempts, code: smtpCode(err) }, 'notification send failed, will retry');
    throw new TransientDeliveryError(reason);
  }
  await recordSent(outbox, notificationId, response, deps, row.message_id, claimedAt);
  log.debug({ notificationId, kind: row.kind, attempt: row.attempts }, 'notification sent');
  return { status: 'sent', notificationId, response };
}

/**
 * sending → sent after the relay accepted: retried with backoff while the
 * database is unreachable, until shortly before the lease taken at the
 * claim runs out (after it, another sender may claim the row and send it
 * again: better that than an e-mail recorded nowhere).
 */
async function recordSent(outbox: NotificationRepository, notificationId: number, response: string, deps: DeliverDeps, messageId: string, claimedAt: number): Promise<void> {
  const deadline = claimedAt + deps.leaseMs - Math.max(1_000, deps.leaseMs / 10);
  for (let attempt = 1, delay = 200; ; attempt++, delay = Math.min(delay * 2, 5_000)) {
    try {
      await outbox.markSent(notificationId, response);
      if (attempt > 1) deps.log.info({ notificationId, attempt }, 'notification recorded as sent after the database came back');
      return;
    } catch (err) {
      // This process is shutting down (its pool is closed): no point waiting; the lease will resend it.
      const closing = /after calling end on the pool/.test((err as Error).message);
      if (closing || Date.now() + delay > deadline) {
        deps.log.error(
          { notificationId, messageId, attempts: attempt },
          `the relay accepted notification ${notificationId} but it could not be recorded as sent: it will be sent again (same Message-ID) after the lease: ${(err as Error).message}`,
        );
        throw err;
      }
      if (attempt === 1) deps.log.warn({ notificationId }, `sent, but recording it failed; retrying: ${(err as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** Everything waiting in the outbox (pending, or sending past its lease), oldest first. */
export async function unsentNotifications(database: Database, leaseMs: number, limit = 10_000): Promise<number[]> {
  return new NotificationRepository(database).unsent(leaseMs, limit);
}

/**
 * The inline path (`ews notify send`, the demo): every unsent notification,
 * a few at a time; transient failures stay pending for the next pass.
 */
export async function deliverPending(deps: DeliverDeps, options: { concurrency?: number } = {}): Promise<{ sent: number; failed: number; deferred: number }> {
  const ids = await unsentNotifications(deps.database, deps.leaseMs);
  const totals = { sent: 0, failed: 0, deferred: 0 };
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < ids.length) {
      const id = ids[next++] as number;
      try {
        const out = await deliverNotification(deps, id);
        if (out.status === 'sent') totals.sent++;
        else if (out.status === 'failed') totals.failed++;
      } catch (err) {
        if (err instanceof TransientDeliveryError) totals.deferred++;
        else throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, lane));
  return totals;
}

/** Opens the configured transport, sends everything waiting, closes it: the inline paths (`ews score`, `ews nightly`, `ews notify send`). */
export async function sendOutbox(database: Database, notify: NotifyConfig, log: Logger): Promise<{ sent: number; failed: number; deferred: number }> {
  const transport = openTransport(notify);
  try {
    return await deliverPending({ database, transport, log, leaseMs: notify.sendLeaseMs });
  } finally {
    transport.close();
  }
}

function smtpCode(err: unknown): string | number | undefined {
  const e = err as { responseCode?: number; code?: string };
  return e.responseCode ?? e.code;
}

function describe(err: unknown): string {
  const e = err as { responseCode?: number; code?: string; message?: string };
  return `${e.responseCode !== undefined ? `SMTP ${e.responseCode}: ` : e.code !== undefined ? `${e.code}: ` : ''}${(e.message ?? String(err)).slice(0, 500)}`;
}
