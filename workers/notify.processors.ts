import { UnrecoverableError, type Queue } from 'bullmq';
import { processRun, type AlertDeps } from '../services/alerts/alert.service.js';
import { deliverNotification, PermanentDeliveryError, unsentNotifications, type DeliverDeps } from '../services/notify/deliver.js';
import { NightRepository } from '../services/nightly/night.repository.js';
import { NotificationRepository } from '../services/notify/notification.repository.js';
import { jobOptions, notifyJobId } from './jobs.catalog.js';
import type { Handlers } from './worker.js';

/**
 * raise-alerts turns a finished scoring run into alert changes and outbox
 * rows (one transaction) and enqueues one notify job per new row; notify
 * sends one row; notify-sweep enqueues whatever the outbox still holds (a
 * crash between the commit and the enqueue, or attempts exhausted during a
 * long SMTP outage). Job ids are deterministic: a duplicate enqueue is a
 * no-op, and the outbox row's own state is what prevents a second send.
 */
const PRIORITY: Record<string, number> = { immediate: 1, escalation: 2, reminder: 3, digest: 5, summary: 8 };

export function notifyHandlers(
  alertDeps: AlertDeps,
  deliverDeps: DeliverDeps,
  notifyQueue: Queue,
  /** Every notify job added here: NOTIFY_ATTEMPTS sends (notify.attempts), the first retry after NOTIFY_RETRY_BASE_MS (notify.retryBaseMs), doubling. */
  retry: { attempts: number; baseMs: number },
): Pick<Handlers, 'raise-alerts' | 'notify' | 'notify-sweep'> {
  const outbox = new NotificationRepository(deliverDeps.database);
  const enqueue = async (ids: readonly number[]): Promise<{ enqueued: number; retried: number }> => {
    let enqueued = 0;
    let retried = 0;
    const kinds = await outbox.kinds(ids);
    for (const id of ids) {
      const jobId = notifyJobId(id);
      const existing = await notifyQueue.getJob(jobId);
      if (existing === undefined) {
        // Ⅰ/Ⅱ first: a night's large digests must not hold up the e-mails due within hours.
        const priority = PRIORITY[kinds.get(id) ?? 'digest'] ?? 5;
        await notifyQueue.add('notify', { notificationId: id }, { ...jobOptions(retry.attempts, retry.baseMs), jobId, priority });
        enqueued++;
      } else {
        const state = await existing.getState();
        if (state === 'failed' || state === 'completed') {
          // Attempts ran out (or the job finished while the row went back to pending): one more round.
          await existing.retry(state);
          retried++;
        }
      }
    }
    return { enqueued, retried };
  };

  return {
    'raise-alerts': async ({ runId }) => {
      const result = await processRun(alertDeps, runId);
      const queued = await enqueue(result.notifications);
      // The night that opened this run (if a night did) is done: its e-mails are in the outbox and queued.
      await new NightRepository(alertDeps.database).finished(runId);
      return { ...result, notifications: result.notifications.length, ...queued };
    },
    notify: async ({ notificationId }) => {
      try {
        const out = await deliverNotification(deliverDeps, notificationId);
        // A 5xx for this recipient: recorded on the row and shown to ops as a failed job, never retried.
        if (out.status === 'failed') throw new UnrecoverableError(`notification ${notificationId} failed: ${out.reason}`);
        return out;
      } catch (err) {
        if (err instanceof PermanentDeliveryError) throw new UnrecoverableError(err.message);
        throw err;
      }
    },
    'notify-sweep': async () => {
      const ids = await unsentNotifications(deliverDeps.database, deliverDeps.leaseMs);
      return { unsent: ids.length, ...(await enqueue(ids)) };
    },
  };
}
