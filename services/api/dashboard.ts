import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { Router } from 'express';

/**
 * /admin/queues: the bull-board dashboard, only for ops and province
 * accounts (a session or a bearer token; server.ts checks before any request
 * reaches it).
 */

export const DASHBOARD_PATH = '/admin/queues';

/** The bull-board router; the caller (server.ts) puts the login in front of it. */
export function queueDashboard(queues: readonly Queue[]): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'layoff-ews queues' } },
  });
  return serverAdapter.getRouter() as Router;
}
