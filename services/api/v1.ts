import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { CITIES, CITY_BY_CODE } from '../../config/cities.js';
import { AlertNotFoundError, MAX_COMMENT } from '../alerts/alert.repository.js';
import { AlertTransitionError, DISPOSITIONS } from '../alerts/lifecycle.js';
import type { AuthService } from '../access/auth.service.js';
import { maskedEmail, narrow, scopeOf, type Principal } from '../domain/access.js';
import { isPeriod } from '../domain/period.js';
import { cityName } from '../domain/region.js';
import { checkUscc } from '../domain/uscc.js';
import { maskPiiDeep } from '../domain/pii.js';
import type { ConsoleService } from '../console/console.service.js';
import { ALERT_SORTS, type AlertQuery } from '../console/console.repository.js';
import { checkCsrf, requireCaller, requireCapability } from './auth.js';
import { CSV_BOM, csvLine } from './csv.js';
import { HttpError, notFound, parse, route } from './http.js';
import { slots } from './slots.js';

/**
 * /api/v1: alerts (list, detail, acknowledge, resolve, CSV export),
 * employers, cities, runs, the audit log and the caller. Every request is
 * validated against the schemas below (which /api/openapi.json publishes);
 * every read passes the caller's scope to the repositories.
 */

const list = <T extends z.ZodType>(item: T) =>
  z.preprocess((v: unknown): unknown[] | undefined => {
    if (v === undefined || v === '') return undefined;
    const given: unknown[] = Array.isArray(v) ? (v as unknown[]) : [v];
    const parts = given.flatMap((x): unknown[] => (typeof x === 'string' ? x.split(',').map((p) => p.trim()) : [x]));
    return parts.filter((x) => x !== '');
  }, z.array(item).max(30).optional());

const cityCode = z.string().refine((c) => CITY_BY_CODE.has(c), { message: 'must be one of the 21 city codes, e.g. 510100' });
const month = z.string().refine(isPeriod, { message: 'must be a month YYYY-MM, e.g. 2026-10' });
const intIn = (min: number, max: number, dflt?: number) =>
  z.preprocess(
    (v) => (v === undefined || v === '' ? dflt : typeof v === 'string' && /^\d{1,9}$/.test(v) ? Number(v) : v),
    z.number({ message: `must be a whole number from ${min} to ${max}` }).int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`),
  );

const ordered = (r: { from?: string; to?: string }) => r.from === undefined || r.to === undefined || r.from <= r.to;

export const alertFilterSchema = z
  .object({
    city: list(cityCode).describe('city codes (comma-separated or repeated)'),
    level: list(z.enum(['1', '2', '3', '4'], { message: 'must be 1, 2, 3 or 4 (Ⅰ most severe)' })).describe('levels 1–4'),
    kind: list(z.enum(['layoff', 'unreported', 'crosscheck', 'systemic'], { message: 'must be layoff, unreported, crosscheck or systemic' })),
    status: list(z.enum(['pending', 'open', 'acknowledged', 'resolved', 'active'], { message: 'must be pending, open, acknowledged, resolved or active (open and acknowledged)' })),
    from: month.optional().describe('alerts with a signal in or after this month'),
    to: month.optional().describe('alerts with a signal in or before this month'),
    q: z.string().max(100, 'must be at most 100 characters').optional().describe("part of the employer's name or code"),
    sort: z.enum(ALERT_SORTS, { message: `must be one of ${ALERT_SORTS.join(', ')}` }).optional(),
    order: z.enum(['asc', 'desc'], { message: 'must be asc or desc' }).optional(),
  })
  .strict();

export const alertListQuerySchema = alertFilterSchema
  .extend({
    page: intIn(1, 1_000_000, 1),
    pageSize: intIn(1, 200, 50),
  })
  .strict();

/** The filters as routes check them: also from ≤ to (the shapes above stay plain objects for the OpenAPI document). */
export const checkedFilter = alertFilterSchema.refine(ordered, { message: 'from must not be after to', path: ['from'] });
export const checkedListQuery = alertListQuerySchema.refine(ordered, { message: 'from must not be after to', path: ['from'] });

const idParam = z.object({ id: intIn(1, Number.MAX_SAFE_INTEGER) });

const comment = z.string().max(MAX_COMMENT, `must be at most ${MAX_COMMENT} characters`).nullish();

export const acknowledgeSchema = z.object({ comment, _csrf: z.string().optional() }).strict();
export const resolveSchema = z
  .object({
    disposition: z.enum(DISPOSITIONS, { message: `must be one of ${DISPOSITIONS.join(' / ')}` }),
    comment,
    _csrf: z.string().optional(),
  })
  .strict();

const rangeQuery = z.object({ from: month.optional(), to: month.optional() }).strict().refine(ordered, { message: 'from must not be after to', path: ['from'] });
const auditQuery = z.object({ before: intIn(1, Number.MAX_SAFE_INTEGER).optional(), limit: intIn(1, 500, 100), action: z.string().max(40).optional() }).strict();

export function alertQueryOf(f: z.infer<typeof alertFilterSchema>): AlertQuery {
  const statuses = f.status?.flatMap((s) => (s === 'active' ? (['open', 'acknowledged'] as const) : [s]));
  return {
    cities: f.city,
    levels: f.level?.map(Number),
    kinds: f.kind,
    statuses,
    from: f.from,
    to: f.to,
    q: f.q,
    sort: f.sort,
    order: f.order,
  };
}

export interface V1Deps {
  console: ConsoleService;
  auth: AuthService;
}

const CSV_CITIES = { cityCodes: CITIES.map((c) => c.code), cityNames: CITIES.map((c) => c.name) };

const CSV_HEADER = ['编号', '市州代码', '市州', '对象类型', '统一社会信用代码/市州代码', '名称', '类别', '级别', '状态', '首次月份', '最近月份', '开启时间', '确认时间', '确认人', '处置时间', '处置结果', '说明'];

export function v1Router(deps: V1Deps): Router {
  const r = express.Router();
  const exportSlots = slots(MAX_EXPORTS, MAX_EXPORTS * 8);

  r.get('/me', route((_req, res) => {
    const { principal } = requireCaller(res);
    res.json(me(principal, requireCaller(res).csrfToken));
  }));

  r.get('/alerts', route(async (req, res) => {
    const who = requireCapability(res, 'alerts:read');
    const q = parse(checkedListQuery, req.query, 'query');
    res.json(await deps.console.listAlerts(scopeOf(who), alertQueryOf(q), q.page, q.pageSize));
  }));

  r.get('/alerts.csv', route(async (req, res) => {
    const who = requireCapability(res, 'alerts:export');
    const f = parse(checkedFilter, req.query, 'query');
    const scope = scopeOf(who);
    if (!(await exportSlots.take(EXPORT_QUEUE_MS))) {
      res.set('Retry-After', '10');
      throw new HttpError(429, `${MAX_EXPORTS} exports are running on this server and more are waiting: try again in a few seconds`);
    }
    res.once('close', () => exportSlots.give());
    await audit(deps, who, req, 'alerts.export', null, { filters: f });
    res.status(200);
    res.set('Content-Type', 'text/csv; charset=utf-8');
    res.set('Content-Disposition', `attachment; filename="alerts-${new Date().toISOString().slice(0, 10)}.csv"`);
    res.set('Cache-Control', 'no-store');
    res.write(CSV_BOM + csvLine(CSV_HEADER));
    let buffer = '';
    try {
      for await (const line of deps.console.repo.streamAlertCsvLines(scope, alertQueryOf(f), CSV_CITIES)) {
        buffer += line;
        if (buffer.length >= 64_000) {
          const ok = res.write(buffer);
          buffer = '';
          // A client that hangs up never drains: wait for either, or its cursor and connection stay held for good.
          if (!ok) await drainedOrClosed(res);
        }
        if (res.destroyed) return;
      }
      res.end(buffer);
    } catch (err) {
      // Headers are sent: the only honest signal left is a broken response.
      res.destroy(err instanceof Error ? err : new Error('export failed'));
      throw err;
    }
  }));

  r.get('/alerts/:id', route(async (req, res) => {
    const who = requireCapability(res, 'alerts:read');
    const { id } = parse(idParam, req.params, 'alert id');
    const detail = await deps.console.alertDetail(scopeOf(who), id);
    if (detail === undefined) throw notFound(`no alert ${id}`);
    res.json(detail);
  }));

  r.post('/alerts/:id/acknowledge', route(async (req, res) => {
    const who = requireCapability(res, 'alerts:act');
    checkCsrf(req, res);
    const { id } = parse(idParam, req.params, 'alert id');
    const body = parse(acknowledgeSchema, req.body ?? {}, 'body');
    const result = await act(() => deps.console.acknowledge(who, scopeOf(who), id, body.comment ?? null, req.ip ?? null), id);
    res.json(result);
  }));

  r.post('/alerts/:id/resolve', route(async (req, res) => {
    const who = requireCapability(res, 'alerts:act');
    checkCsrf(req, res);
    const { id } = parse(idParam, req.params, 'alert id');
    const body = parse(resolveSchema, req.body ?? {}, 'body');
    const result = await act(() => deps.console.resolve(who, scopeOf(who), id, body.disposition, body.comment ?? null, req.ip ?? null), id);
    res.json(result);
  }));

  r.get('/employers/:uscc', route(async (req, res) => {
    const who = requireCapability(res, 'alerts:read');
    const uscc = String(req.params.uscc ?? '');
    if (checkUscc(uscc) !== undefined) throw new HttpError(400, 'invalid employer: the code must be an 18-character 统一社会信用代码');
    const range = parse(rangeQuery, req.query, 'query');
    const e = await deps.console.employer(scopeOf(who), uscc, range.from, range.to);
    if (e === undefined) throw notFound(`no employer ${uscc}`);
    res.json(e);
  }));

  r.get('/cities', route(async (_req, res) => {
    const who = requireCapability(res, 'cities:read');
    res.json(await deps.console.overview(scopeOf(who)));
  }));

  r.get('/cities/:code', route(async (req, res) => {
    const who = requireCapability(res, 'cities:read');
    const code = String(req.params.code ?? '');
    const range = parse(rangeQuery, req.query, 'query');
    const city = await deps.console.city(narrow(scopeOf(who), code), code, range.from, range.to);
    if (city === undefined) throw notFound(`no city ${code.slice(0, 12)}`);
    res.json(city);
  }));

  r.get('/runs', route(async (req, res) => {
    requireCapability(res, 'runs:read');
    const { limit } = parse(z.object({ limit: intIn(1, 200, 30) }).strict(), req.query, 'query');
    res.json(await deps.console.runs(limit));
  }));

  r.get('/audit', route(async (req, res) => {
    requireCapability(res, 'audit:read');
    const q = parse(auditQuery, req.query, 'query');
    const rows = await deps.auth.accounts.auditLog({ limit: q.limit, before: q.before, action: q.action });
    res.json({ items: rows.map((a) => ({ id: a.audit_id, at: a.at, actor: a.actor, action: a.action, target: a.target, cityCode: a.city_code, ip: a.ip, detail: a.detail })) });
  }));

  r.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'no such API route (see /api/openapi.json)' });
  });
  return r;
}

export function me(p: Principal, csrfToken?: string) {
  return { email: maskedEmail(p.email), role: p.role, cityCode: p.cityCode, cityName: p.cityCode === null ? null : cityName(p.cityCode), via: p.via, ...(csrfToken === undefined ? {} : { csrfToken }) };
}

/** A client that stops reading this long is cut off: an export must not hold its database connection for ever. */
export const EXPORT_STALL_MS = 30_000;
/** Exports one API process streams at once (each holds a database connection while it runs); more wait their turn… */
export const MAX_EXPORTS = 4;
/** …up to this long (and at most MAX_EXPORTS × 8 of them), then get a 429. */
export const EXPORT_QUEUE_MS = 10_000;

function drainedOrClosed(res: Response): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(() => {
      res.destroy(new Error(`the client read nothing for ${EXPORT_STALL_MS / 1000} s`));
      done();
    }, EXPORT_STALL_MS);
    res.once('drain', done);
    res.once('close', done);
  });
}

async function act<T>(fn: () => Promise<T>, id: number): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AlertNotFoundError) throw notFound(`no alert ${id}`);
    if (err instanceof AlertTransitionError) throw new HttpError(409, err.message);
    throw err;
  }
}

async function audit(deps: V1Deps, who: Principal, req: Request, action: string, target: string | null, detail: unknown, cityCode?: string | null): Promise<void> {
  await deps.auth.accounts.audit({ actor: maskedEmail(who.email), accountId: who.accountId, action, target, cityCode: cityCode ?? who.cityCode, ip: req.ip ?? null, detail: maskPiiDeep({ ...(detail as object), via: who.via }) });
}
