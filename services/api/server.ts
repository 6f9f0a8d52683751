import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Queue } from 'bullmq';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Config } from '../../config/config.schema.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../log.js';
import { ConsoleService } from '../console/console.service.js';
import { callerOf, createAuth, identify, requireCapability, secureCookies } from './auth.js';
import { consoleRouter, sendErrorPage } from './console.routes.js';
import { DASHBOARD_PATH, queueDashboard } from './dashboard.js';
import { HttpError } from './http.js';
import { openApiDocument } from './openapi.js';
import { v1Router } from './v1.js';
import { oneLineReason } from './guard.js';
import { createApiMetrics } from './metrics.js';
import { readinessChecks, readinessTransitions, runReadiness } from './readiness.js';

/**
 * The API process: liveness (/healthz), readiness (/readyz), Prometheus
 * metrics (/metrics), the officials' API (/api/v1, /api/openapi.json), the
 * console's pages (console.routes.ts) and the queue dashboard
 * (/admin/queues), the last three behind one login (auth.ts).
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
  app.set('trust proxy', trustProxySetting(deps.config.api.trustProxy));

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

  const auth = createAuth(deps.config, deps.database);
  const consoleService = new ConsoleService(deps.database, deps.config);
  const bodies = [express.json({ limit: BODY_LIMIT }), express.urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: 100 })];
  app.use(identify(auth));

  app.get('/api/openapi.json', (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store').json(openApiDocument(deps.config.notify.consoleUrl));
  });
  app.use('/api', (_req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store');
    res.set('X-Content-Type-Options', 'nosniff');
    next();
  });
  app.use('/api/v1', ...bodies, v1Router({ console: consoleService, auth }));
  app.use('/api', (_req: Request, res: Response) => {
    res.status(404).json({ error: 'no such API route (see /api/openapi.json)' });
  });

  // The queue dashboard: ops and province, behind the console's login.
  app.use(DASHBOARD_PATH, (req: Request, res: Response, next: NextFunction) => {
    if (callerOf(res) === undefined && req.headers.authorization === undefined && req.method === 'GET' && !req.path.startsWith('/api/')) {
      res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
      return;
    }
    requireCapability(res, 'queues');
    // bull-board's own buttons (retry, clean, pause) post without our CSRF token: from a session, the request must come from this origin.
    if (!['GET', 'HEAD', 'OPTIONS'].includes(req.method) && callerOf(res)?.sessionToken !== undefined && !sameOrigin(req)) {
      throw new HttpError(403, 'a change to the queues from a session must come from this site (Origin header missing or foreign)');
    }
    next();
  }, queueDashboard(deps.queues));

  app.use(consoleRouter({ config: deps.config, console: consoleService, auth, bodies, secure: secureCookies(deps.config), log }));

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not found' });
  });

  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const wantsHtml = !req.path.startsWith('/api/') && req.accepts(['json', 'html']) === 'html';
    if (err instanceof HttpError) {
      if (wantsHtml) sendErrorPage(res, err.status, err.message);
      else res.status(err.status).json(err.details === undefined ? { error: err.message } : { error: err.message, details: err.details });
      return;
    }
    const status = clientErrorStatus(err);
    if (status !== undefined) {
      const message = clientErrorMessage(err, status);
      if (wantsHtml) sendErrorPage(res, status, message);
      else res.status(status).json({ error: message });
      return;
    }
    // The path only: a query string or a body could carry anything.
    log.error({ method: req.method, path: req.path, reason: oneLineReason(err), stack: err instanceof Error ? err.stack : undefined }, 'request failed');
    if (wantsHtml) sendErrorPage(res, 500, '服务器内部错误 (internal error)');
    else res.status(500).json({ error: 'internal error' });
  });

  const pruner = setInterval(() => {
    auth.pruneSessions().catch((e: unknown) => log.warn({ reason: oneLineReason(e) }, 'could not prune sessions'));
  }, 10 * 60_000);
  pruner.unref();

  const server = await listen(app, options.port ?? deps.config.api.port, options.host ?? '0.0.0.0');
  const port = (server.address() as AddressInfo).port;
  log.debug({ port }, 'API server started');

  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      clearInterval(pruner);
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

const BODY_LIMIT = '256kb';

/** Express's 'trust proxy' from TRUST_PROXY: false, a hop count, or a list of addresses and subnets. */
export function trustProxySetting(value: string): boolean | number | string[] {
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',').map((v) => v.trim()).filter((v) => v !== '');
}

/** The request's Origin (or, without one, its Referer) names the host it was sent to. */
function sameOrigin(req: Request): boolean {
  const source = req.get('origin') ?? req.get('referer');
  const host = req.get('host');
  if (source === undefined || host === undefined) return false;
  try {
    return new URL(source).host === host;
  } catch {
    return false;
  }
}

/** What a person can do about a client error raised by middleware (a body too large, malformed JSON). */
function clientErrorMessage(err: unknown, status: number): string {
  const type = (err as { type?: unknown }).type;
  if (status === 413 || type === 'entity.too.large') return `the request body is larger than the limit of ${BODY_LIMIT.replace('kb', ' KB')}`;
  if (type === 'entity.parse.failed') return 'the request body is not valid JSON';
  if (type === 'parameters.too.many') return 'the form has too many fields';
  if (type === 'charset.unsupported' || type === 'encoding.unsupported') return 'the request body must be UTF-8';
  return 'bad request';
}

/** A client error raised by middleware (e.g. malformed JSON), which carries its own 4xx status. */
function clientErrorStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { status, statusCode, expose } = err as { status?: unknown; statusCode?: unknown; expose?: unknown };
  const code = typeof status === 'number' ? status : typeof statusCode === 'number' ? statusCode : undefined;
  return code !== undefined && code >= 400 && code < 500 && expose === true ? code : undefined;
}
