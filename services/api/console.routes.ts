import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { z } from 'zod';
import type { Config } from '../../config/config.schema.js';
import type { AuthService } from '../access/auth.service.js';
import { AlertNotFoundError, MAX_COMMENT } from '../alerts/alert.repository.js';
import { AlertTransitionError } from '../alerts/lifecycle.js';
import type { ConsoleService } from '../console/console.service.js';
import { alertPage, FLASHES, type AlertPageOptions } from '../console/pages/alert.page.js';
import { alertsPage } from '../console/pages/alerts.page.js';
import { auditPage } from '../console/pages/audit.page.js';
import { cityPage } from '../console/pages/city.page.js';
import { html, type Html } from '../console/pages/html.js';
import { page, type Assets, type Viewer } from '../console/pages/layout.js';
import { opsPage } from '../console/pages/ops.page.js';
import { overviewPage } from '../console/pages/overview.page.js';
import { can, narrow, ROLE_NAMES, scopeOf, type Capability, type Principal } from '../domain/access.js';
import type { Logger } from '../log.js';
import { callerOf, checkCsrf, clearCookie, LOGIN_CSRF_COOKIE, loginLimiter, readCookie, requireCaller, sameSecret, SESSION_COOKIE, setCookie } from './auth.js';
import { HttpError, issueLines, route } from './http.js';
import { acknowledgeSchema, alertListQuerySchema, alertQueryOf, resolveSchema } from './v1.js';

/**
 * The console's pages: server-rendered Chinese HTML, usable on a phone, with
 * ECharts for the charts. Login and logout live here; every other page needs
 * a session and reads through the same ConsoleService (and so the same
 * scope) as /api/v1.
 */

export interface ConsoleDeps {
  config: Config;
  console: ConsoleService;
  auth: AuthService;
  bodies: RequestHandler[];
  secure: boolean;
  log: Logger;
}

/** Security headers of every console page: no framing, no sniffing, scripts only from this server. */
export function pageHeaders(res: Response): void {
  res.set('Content-Security-Policy', "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'");
  res.set('X-Frame-Options', 'DENY');
  res.set('X-Content-Type-Options', 'nosniff');
  res.set('Referrer-Policy', 'same-origin');
  res.set('Cache-Control', 'no-store');
}

export function sendPage(res: Response, status: number, page: Html): void {
  pageHeaders(res);
  res.status(status).type('html').send(`<!doctype html>\n${page.text}`);
}

export function sendErrorPage(res: Response, status: number, message: string): void {
  sendPage(res, status, bare(`${status}`, html`<main class="narrow"><h1>${TITLES[status] ?? '出错了'}</h1><p>${message}</p><p><a href="/">返回首页</a></p></main>`));
}

const TITLES: Record<number, string> = { 400: '请求有误', 401: '请先登录', 403: '无权访问', 404: '未找到', 409: '状态冲突', 413: '内容过长', 429: '尝试过于频繁' };

/** A page without the signed-in navigation (login, errors). */
export function bare(title: string, body: Html): Html {
  return html`<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · 规模裁员预警</title><link rel="stylesheet" href="${staticFiles().urls.css}"></head><body>${body}</body></html>`;
}

interface StaticFile {
  body: Buffer;
  gzip: Buffer;
  type: string;
  /** A digest of the content, for the URL. */
  version: string;
}

let loaded: { urls: Assets; files: Map<string, StaticFile> } | undefined;

/**
 * The console's static files, read once: its stylesheet and script
 * (services/console/static/) and ECharts from node_modules. Each URL carries
 * a digest of the content, so they are cached for a year and a new release
 * is a new URL.
 */
function staticFiles(): { urls: Assets; files: Map<string, StaticFile> } {
  if (loaded !== undefined) return loaded;
  const dir = fileURLToPath(new URL('../console/static/', import.meta.url));
  // The package exports no path to its minified build: found beside the file `require('echarts')` loads (dist/echarts.js).
  const echarts = join(dirname(createRequire(import.meta.url).resolve('echarts')), 'echarts.min.js');
  const sources: [string, string, string][] = [
    ['console.css', join(dir, 'console.css'), 'text/css; charset=utf-8'],
    ['console.js', join(dir, 'console.js'), 'text/javascript; charset=utf-8'],
    ['echarts.min.js', echarts, 'text/javascript; charset=utf-8'],
  ];
  const files = new Map<string, StaticFile>();
  for (const [name, path, type] of sources) {
    const body = readFileSync(path);
    files.set(name, { body, gzip: gzipSync(body, { level: 9 }), type, version: createHash('sha256').update(body).digest('hex').slice(0, 12) });
  }
  const url = (name: string): string => `/static/${name}?v=${files.get(name)?.version ?? '0'}`;
  loaded = { urls: { css: url('console.css'), js: url('console.js'), echarts: url('echarts.min.js') }, files };
  return loaded;
}

function serveStatic(req: Request, res: Response, next: NextFunction): void {
  const file = staticFiles().files.get(String(req.params.name ?? ''));
  if (file === undefined) {
    next();
    return;
  }
  res.set('Content-Type', file.type);
  res.set('Cache-Control', 'public, max-age=31536000, immutable');
  res.set('X-Content-Type-Options', 'nosniff');
  res.set('Vary', 'Accept-Encoding');
  if (req.acceptsEncodings('gzip') === 'gzip') {
    res.set('Content-Encoding', 'gzip');
    res.send(file.gzip);
  } else res.send(file.body);
}

/** What a role may not do, in the words of the 403 page. */
const MAY_NOT: Record<Capability, string> = {
  'alerts:read': '查看预警和企业信息',
  'alerts:act': '确认或处置预警',
  'alerts:export': '导出预警',
  'cities:read': '查看市州数据',
  'runs:read': '查看数据与运行状态',
  queues: '打开任务队列面板',
  'audit:read': '查看审计日志',
};

/** The caller if their role may; 401 (no session) or 403 (in Chinese) otherwise. */
function need(res: Response, capability: Capability): Principal {
  const { principal } = requireCaller(res);
  if (!can(principal, capability)) throw new HttpError(403, `${ROLE_NAMES[principal.role]}账号无权${MAY_NOT[capability]}。`);
  return principal;
}

function viewerOf(res: Response): Viewer {
  const caller = requireCaller(res);
  return caller.csrfToken === undefined ? { principal: caller.principal } : { principal: caller.principal, csrfToken: caller.csrfToken };
}

/** The same words whether the alert does not exist or belongs to another city: nothing of it is shown. */
const NO_ALERT = '未找到该预警，或您无权查看。如果是邮件中的链接，请确认登录的是收件市州的账号。';

/** An alert id from the path, or undefined for anything but a plain positive whole number. */
function alertId(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^[1-9]\d{0,14}$/.test(value)) return undefined;
  return Number(value);
}

/** The page's filters as the API parses them: empty fields (an unset select) are left out. */
function filledQuery(q: Request['query']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(q)) {
    if (v === '' || v === undefined || (Array.isArray(v) && v.every((x) => x === ''))) continue;
    out[k] = v;
  }
  return out;
}

/** A form's fields checked by the API's schema, with what went wrong in Chinese. */
function formFields<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const fields = (body ?? {}) as Record<string, unknown>;
  const comment = fields.comment;
  if (typeof comment === 'string' && comment.length > MAX_COMMENT) {
    throw new HttpError(400, `说明最多 ${MAX_COMMENT} 字，本次提交了 ${comment.length.toLocaleString('en-US')} 字。请返回上一页精简后重新提交。`);
  }
  const r = schema.safeParse(fields);
  if (!r.success) throw new HttpError(400, `表单内容有误：${issueLines(r.error).join('；')}`);
  return r.data;
}

function pick<T extends string>(value: unknown, allowed: Readonly<Record<T, unknown>>): T | undefined {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(allowed, value) ? (value as T) : undefined;
}

/** Where to go after login: a path on this server only. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || /[\r\n]/.test(next) || next.length > 500) return '/';
  return next;
}

export function consoleRouter(deps: ConsoleDeps): Router {
  const r = express.Router();
  const limiter = loginLimiter(deps.config.api.loginRatePerMinute);

  r.get('/static/:name', serveStatic);
  // Browsers ask for it on their own; without a session it would be sent to the login page.
  r.get('/favicon.ico', (_req: Request, res: Response) => {
    res.set('Cache-Control', 'public, max-age=86400').status(204).end();
  });

  function loginPage(req: Request, res: Response, status: number, next: string, message?: string, email = ''): void {
    // The browser's token is kept while it lasts: a second login page (another tab, or the redirect of a
    // request the browser makes by itself, like /favicon.ico) must not void the form already on screen.
    const held = readCookie(req, LOGIN_CSRF_COOKIE);
    const token = held !== undefined && /^[A-Za-z0-9_-]{32}$/.test(held) ? held : randomBytes(24).toString('base64url');
    setCookie(res, LOGIN_CSRF_COOKIE, token, { secure: deps.secure, maxAgeSeconds: 3600 });
    sendPage(
      res,
      status,
      bare(
        '登录',
        html`<main class="narrow login"><h1>规模裁员和失业风险预警</h1><p class="sub">四川省人力资源和社会保障厅</p>
${message === undefined ? '' : html`<p class="error" role="alert">${message}</p>`}
<form method="post" action="/login">
<input type="hidden" name="_csrf" value="${token}"><input type="hidden" name="next" value="${next}">
<label>邮箱<input type="email" name="email" value="${email}" autocomplete="username" required maxlength="254"></label>
<label>密码<input type="password" name="password" autocomplete="current-password" required maxlength="200"></label>
<button type="submit">登录</button></form></main>`,
      ),
    );
  }

  r.get('/login', (req: Request, res: Response) => {
    const next = safeNext(req.query.next);
    if (callerOf(res) !== undefined) {
      res.redirect(303, next);
      return;
    }
    loginPage(req, res, 200, next, res.locals.sessionExpired === true ? '会话已过期，请重新登录。' : undefined);
  });

  r.post('/login', ...deps.bodies, route(async (req: Request, res: Response) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const next = safeNext(body.next);
    const email = typeof body.email === 'string' ? body.email.trim().slice(0, 254) : '';
    if (!sameSecret(typeof body._csrf === 'string' ? body._csrf : undefined, readCookie(req, LOGIN_CSRF_COOKIE))) {
      loginPage(req, res, 403, next, '表单已失效（缺少或不匹配的 CSRF 令牌），请重新提交。', email);
      return;
    }
    if (!limiter.allow(req.ip ?? 'unknown')) {
      res.set('Retry-After', '60');
      loginPage(req, res, 429, next, '登录尝试过于频繁，请一分钟后再试。', email);
      return;
    }
    const password = typeof body.password === 'string' ? body.password : '';
    if (email === '' || password === '') {
      loginPage(req, res, 400, next, '请输入邮箱和密码。', email);
      return;
    }
    const result = await deps.auth.login(email, password, req.ip ?? null);
    if (!result.ok) {
      const message =
        result.reason === 'locked'
          ? `密码错误次数过多，账号已锁定至 ${formatTime(result.lockedUntil)}。请稍后再试或联系管理员重置。`
          : result.reason === 'disabled'
            ? '该账号已停用，请联系管理员。'
            : '邮箱或密码不正确。';
      loginPage(req, res, result.reason === 'locked' ? 423 : 401, next, message, email);
      return;
    }
    clearCookie(res, LOGIN_CSRF_COOKIE, deps.secure);
    setCookie(res, SESSION_COOKIE, result.sessionToken, { secure: deps.secure, maxAgeSeconds: Math.floor(deps.config.api.sessionMaxHours * 3600) });
    res.redirect(303, next);
  }));

  r.post('/logout', ...deps.bodies, route(async (req: Request, res: Response) => {
    const caller = callerOf(res);
    if (caller?.sessionToken !== undefined) {
      const given = (req.body as Record<string, unknown> | undefined)?._csrf;
      if (!sameSecret(typeof given === 'string' ? given : undefined, caller.csrfToken)) {
        sendErrorPage(res, 403, '表单已失效（缺少或不匹配的 CSRF 令牌），请刷新页面后重试。');
        return;
      }
      await deps.auth.logout(caller.sessionToken, caller.principal, req.ip ?? null);
    }
    clearCookie(res, SESSION_COOKIE, deps.secure);
    res.redirect(303, '/login');
  }));

  // Every page below needs a session (or a token); without one, the login page, then back here.
  r.use((req: Request, res: Response, next: NextFunction) => {
    if (callerOf(res) === undefined && (req.method === 'GET' || req.method === 'HEAD') && !req.path.startsWith('/static/')) {
      res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
      return;
    }
    next();
  });

  const assets = staticFiles().urls;


  /** Runs an official's action on an alert, then back to its page with what happened (303, so a reload does not post again). */
  async function act(res: Response, id: number, done: keyof typeof FLASHES.done, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (err instanceof AlertNotFoundError) throw new HttpError(404, NO_ALERT);
      if (err instanceof AlertTransitionError) {
        res.redirect(303, `/alerts/${id}?error=conflict#act`);
        return;
      }
      throw err;
    }
    res.redirect(303, `/alerts/${id}?done=${done}`);
  }

  function csrf(req: Request, res: Response): void {
    try {
      checkCsrf(req, res);
    } catch (err) {
      if (err instanceof HttpError) throw new HttpError(403, '表单已失效（缺少或不匹配的 CSRF 令牌），请刷新页面后重新提交。');
      throw err;
    }
  }

  r.get('/', route(async (_req: Request, res: Response) => {
    const who = need(res, 'cities:read');
    if (who.role === 'city') {
      // A city official's overview is their city.
      res.redirect(303, who.cityCode === null ? '/alerts' : `/cities/${who.cityCode}`);
      return;
    }
    sendPage(res, 200, overviewPage(assets, viewerOf(res), await deps.console.overview(scopeOf(who))));
  }));

  r.get('/cities/:code', route(async (req: Request, res: Response) => {
    const who = need(res, 'cities:read');
    const code = String(req.params.code ?? '');
    const scope = narrow(scopeOf(who), code);
    const city = /^\d{6}$/.test(code) ? await deps.console.city(scope, code) : undefined;
    if (city === undefined) throw new HttpError(404, '未找到该市州，或您无权查看。');
    const [overview, alerts] = await Promise.all([
      deps.console.overview(scope),
      can(who, 'alerts:read') ? deps.console.listAlerts(scope, { cities: [code], statuses: ['open', 'acknowledged'], sort: 'level' }, 1, 20) : Promise.resolve(null),
    ]);
    sendPage(res, 200, cityPage(assets, viewerOf(res), city, overview.cities.find((c) => c.cityCode === code), alerts));
  }));

  r.get('/alerts', route(async (req: Request, res: Response) => {
    const who = need(res, 'alerts:read');
    const parsed = alertListQuerySchema.safeParse(filledQuery(req.query));
    if (!parsed.success) throw new HttpError(400, `筛选条件有误：${issueLines(parsed.error).join('；')}`);
    const q = parsed.data;
    const list = await deps.console.listAlerts(scopeOf(who), alertQueryOf(q), q.page, q.pageSize);
    sendPage(res, 200, alertsPage(assets, viewerOf(res), q, list));
  }));

  r.get('/alerts/:id', route(async (req: Request, res: Response) => {
    const who = need(res, 'alerts:read');
    const id = alertId(req.params.id);
    const detail = id === undefined ? undefined : await deps.console.alertDetail(scopeOf(who), id);
    if (id === undefined || detail === undefined) throw new HttpError(404, NO_ALERT);
    const scope = scopeOf(who);
    const same = detail.alert.subjectType === 'employer' ? await deps.console.listAlerts(scope, { q: detail.alert.subject }, 1, 20) : undefined;
    const opts: AlertPageOptions = { allHistory: req.query.history === 'all', related: same?.items.filter((a) => a.id !== id && a.subject === detail.alert.subject) ?? [] };
    const done = pick(req.query.done, FLASHES.done);
    const error = pick(req.query.error, FLASHES.error);
    if (done !== undefined) opts.done = done;
    if (error !== undefined) opts.error = error;
    sendPage(res, 200, alertPage(assets, viewerOf(res), detail, opts));
  }));

  r.post('/alerts/:id/acknowledge', ...deps.bodies, route(async (req: Request, res: Response) => {
    const who = need(res, 'alerts:act');
    csrf(req, res);
    const id = alertId(req.params.id);
    if (id === undefined) throw new HttpError(404, NO_ALERT);
    const body = formFields(acknowledgeSchema, req.body);
    const comment = body.comment == null || body.comment.trim() === '' ? null : body.comment;
    await act(res, id, 'acknowledged', async () => {
      await deps.console.acknowledge(who, scopeOf(who), id, comment, req.ip ?? null, 'form');
    });
  }));

  r.post('/alerts/:id/resolve', ...deps.bodies, route(async (req: Request, res: Response) => {
    const who = need(res, 'alerts:act');
    csrf(req, res);
    const id = alertId(req.params.id);
    if (id === undefined) throw new HttpError(404, NO_ALERT);
    const body = formFields(resolveSchema, req.body);
    const comment = body.comment == null || body.comment.trim() === '' ? null : body.comment;
    if (body.disposition === '其他' && comment === null) {
      res.redirect(303, `/alerts/${id}?error=comment-required#act`);
      return;
    }
    await act(res, id, 'resolved', async () => {
      await deps.console.resolve(who, scopeOf(who), id, body.disposition, comment, req.ip ?? null, 'form');
    });
  }));

  r.get('/ops', route(async (req: Request, res: Response) => {
    need(res, 'runs:read');
    const asked = Number(req.query.limit);
    const limit = Number.isInteger(asked) && asked >= 1 && asked <= 200 ? asked : 30;
    sendPage(res, 200, opsPage(assets, viewerOf(res), await deps.console.runs(limit), limit));
  }));

  r.get('/audit', route(async (req: Request, res: Response) => {
    need(res, 'audit:read');
    const PAGE = 50;
    const before = typeof req.query.before === 'string' && /^[1-9]\d{0,15}$/.test(req.query.before) ? Number(req.query.before) : undefined;
    const action = typeof req.query.action === 'string' && req.query.action !== '' ? req.query.action.slice(0, 40) : undefined;
    const rows = await deps.auth.accounts.auditLog({ limit: PAGE + 1, before, action });
    sendPage(res, 200, auditPage(assets, viewerOf(res), rows.slice(0, PAGE), { action, before, more: rows.length > PAGE }));
  }));

  // A page that does not exist, for a signed-in browser: the 404 page, not the API's JSON.
  r.use((req: Request, res: Response, next: NextFunction) => {
    if (callerOf(res) !== undefined && (req.method === 'GET' || req.method === 'HEAD') && req.accepts(['json', 'html']) === 'html') {
      next(new HttpError(404, '没有这个页面。'));
      return;
    }
    next();
  });

  // Errors of the pages above, for a signed-in browser: the same page frame (navigation, account), with the message.
  r.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    const caller = callerOf(res);
    if (!(err instanceof HttpError) || res.headersSent || caller === undefined || req.accepts(['json', 'html']) !== 'html') {
      next(err);
      return;
    }
    const title = TITLES[err.status] ?? '出错了';
    const home = viewerHome(caller.principal);
    sendPage(res, err.status, page(assets, viewerOf(res), { title, active: 'none', body: html`<section class="narrow error-page"><h1>${title}</h1><p>${err.message}</p><p><a href="${home}">返回首页</a></p></section>` }));
  });

  return r;
}

function viewerHome(p: Principal): string {
  return p.role === 'city' && p.cityCode !== null ? `/cities/${p.cityCode}` : '/';
}

function formatTime(d: Date | undefined): string {
  if (d === undefined) return '稍后';
  return d.toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false });
}
