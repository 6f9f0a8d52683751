import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Queue } from 'bullmq';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Config } from '../../config/config.schema.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../log.js';
import { DASHBOARD_PATH, queueDashboard } from './dashboard.js';
import { oneLineReason } from './guard.js';
import { createApiMetrics } from './metrics.js';
import { readinessChecks, readinessTransitions, runReadiness } from './readiness.js';

/**
 * The API process: liveness (/healthz), readiness (/readyz), Prometheus
 * metrics (/metrics) and the authenticated queue dashboard (/admin/queues).
 * It borrows the database and the queues; closing it closes neither.
 */

/**
 * The queues the API reports on (/metrics, under each queue's own name),
 * reaches Redis through (/readyz: the first one) and shows (/admin/queues):
 * plain BullMQ queues, opened and closed by the caller.
 */
export type ApiQueues = readonly Queue[];

export interface ApiDeps {
  config: Config;
  database: Database;
  queues: ApiQueues;
  /** Extra readiness checks supplied by the caller, e.g. { model: async () => true } ; a check that returns false or throws makes /readyz 503. */
  checks?: Record<string, () => Promise<boolean>>;
  log: Logger;
}

export interface ApiServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface ApiServerOptions {
  /** 0 = a free port; default config.api.port. */
  port?: number;
  /** Default 0.0.0.0. */
  host?: string;
  /** Deadline of each readiness check (default 2 s). */
  checkTimeoutMs?: number;
  /** Deadline of each metric's collector (default 5 s). */
  collectTimeoutMs?: number;
}

export async function startApiServer(deps: ApiDeps, options: ApiServerOptions = {}): Promise<ApiServer> {
  const log = deps.log.child({ component: 'api' });
  const checks = readinessChecks(deps.database, deps.queues, deps.checks);
  const checkTimeoutMs = options.checkTimeoutMs ?? 2_000;
  const noteReadiness = readinessTransitions(log);
  const metrics = createApiMetrics({ database: deps.database, queues: deps.queues, log: deps.log, timeoutMs: options.collectTimeoutMs, nightStallMs: deps.config.nightly.stallMs });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/healthz', (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });

  app.get('/readyz', async (_req: Request, res: Response) => {
    const report = await runReadiness(checks, checkTimeoutMs);
    noteReadiness(report);
    res.set('Cache-Control', 'no-store').status(report.status === 'ready' ? 200 : 503).json(report);
  });

  app.get('/metrics', async (_req: Request, res: Response) => {
    const text = await metrics.scrape();
    res.set('Cache-Control', 'no-store').type(metrics.contentType).send(text);
  });

  app.use(DASHBOARD_PATH, ...queueDashboard(deps.queues, { user: deps.config.api.adminUser, password: deps.config.api.adminPassword }));

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not found' });
  });

  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const status = clientErrorStatus(err);
    if (status !== undefined) {
      res.status(status).json({ error: 'bad request' });
      return;
    }
    // The path only: a query string or a body could carry anything.
    log.error({ method: req.method, path: req.path, reason: oneLineReason(err), stack: err instanceof Error ? err.stack : undefined }, 'request failed');
    res.status(500).json({ error: 'internal error' });
  });

  const server = await listen(app, options.port ?? deps.config.api.port, options.host ?? '0.0.0.0');
  const port = (server.address() as AddressInfo).port;
  log.debug({ port }, 'API server started');

  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Idle keep-alive connections would hold close() open until they time out.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function listen(app: express.Express, port: number, host: string): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const server = app.listen(port, host);
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(server);
    };
    server.once('error', onError);
    server.once('listening', onListening);
  });
}

/** A client error raised by middleware (e.g. malformed JSON), which carries its own 4xx status. */
function clientErrorStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { status, statusCode, expose } = err as { status?: unknown; statusCode?: unknown; expose?: unknown };
  const code = typeof status === 'number' ? status : typeof statusCode === 'number' ? statusCode : undefined;
  return code !== undefined && code >= 400 && code < 500 && expose === true ? code : undefined;
}
