import { createHash, timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';

/**
 * /admin/queues: the bull-board dashboard, only ever behind HTTP Basic
 * authentication. Without a configured password it is not built at all and
 * every request to it is answered 503. Credentials are compared in constant
 * time (both sides hashed first, so the lengths always match) and are never
 * logged.
 */

export const DASHBOARD_PATH = '/admin/queues';
export const REALM = 'layoff-ews';

export interface DashboardCredentials {
  user: string;
  password: string | undefined;
}

/** The middleware chain mounted at DASHBOARD_PATH. */
export function queueDashboard(queues: readonly Queue[], credentials: DashboardCredentials): RequestHandler[] {
  const { password } = credentials;
  if (password === undefined) {
    return [
      (_req: Request, res: Response) => {
        res.status(503).json({ error: 'the queue dashboard is disabled: set ADMIN_PASSWORD' });
      },
    ];
  }
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'layoff-ews queues' } },
  });
  const board = serverAdapter.getRouter() as Router;
  return [basicAuth(credentials.user, password), board];
}

/** HTTP Basic authentication against one user; 401 with a challenge otherwise. */
export function basicAuth(user: string, password: string): RequestHandler {
  const expectedUser = digest(user);
  const expectedPassword = digest(password);
  return (req: Request, res: Response, next: NextFunction) => {
    const given = parseBasic(req.headers.authorization);
    // Both comparisons always run, so the timing does not tell which part was wrong.
    const userOk = timingSafeEqual(digest(given?.user ?? ''), expectedUser);
    const passwordOk = timingSafeEqual(digest(given?.password ?? ''), expectedPassword);
    if (given !== undefined && userOk && passwordOk) {
      next();
      return;
    }
    res.set('WWW-Authenticate', `Basic realm="${REALM}"`);
    res.set('Cache-Control', 'no-store');
    res.status(401).json({ error: 'authentication required' });
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The user and password of a `Basic` Authorization header, or undefined. */
export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  if (header === undefined) return undefined;
  const m = /^Basic[ \t]+([A-Za-z0-9+/=._~-]+)[ \t]*$/i.exec(header);
  if (m === null || m[1] === undefined) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
