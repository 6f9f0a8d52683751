import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Config } from '../../config/config.schema.js';
import { AuthService } from '../access/auth.service.js';
import type { Database } from '../db/database.js';
import { can, ROLE_NAMES, type Capability, type Principal } from '../domain/access.js';
import { HttpError } from './http.js';

/**
 * Who a request comes from, for the API, the console and the queue
 * dashboard alike: `Authorization: Bearer <token>` (machines; no cookie, so
 * no CSRF), or the session cookie (people; every POST must echo the
 * session's CSRF token, as the `_csrf` form field or the `X-CSRF-Token`
 * header). A bearer header that does not name a live token is refused, never
 * replaced by a cookie.
 */

export const SESSION_COOKIE = 'ews_session';
/** Before login there is no session: the login form's CSRF token is a double-submit cookie. */
export const LOGIN_CSRF_COOKIE = 'ews_login_csrf';

export interface Caller {
  principal: Principal;
  /** Set for session callers. */
  csrfToken?: string;
  sessionToken?: string;
}

export function authPolicy(config: Config) {
  return {
    idleMs: config.api.sessionIdleMinutes * 60_000,
    maxMs: config.api.sessionMaxHours * 3_600_000,
    maxFailures: config.api.loginMaxFailures,
    lockMs: config.api.lockoutMinutes * 60_000,
  };
}

export function createAuth(config: Config, database: Database): AuthService {
  return new AuthService(database, authPolicy(config));
}

export function secureCookies(config: Config): boolean {
  const mode = config.api.secureCookies;
  return mode === 'always' || (mode === 'auto' && config.notify.consoleUrl.startsWith('https://'));
}

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export function setCookie(res: Response, name: string, value: string, options: { secure: boolean; maxAgeSeconds?: number; httpOnly?: boolean }): void {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', 'SameSite=Lax'];
  if (options.httpOnly !== false) parts.push('HttpOnly');
  if (options.secure) parts.push('Secure');
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`);
  res.append('Set-Cookie', parts.join('; '));
}

export function clearCookie(res: Response, name: string, secure: boolean): void {
  setCookie(res, name, '', { secure, maxAgeSeconds: 0 });
}

export function sameSecret(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined || a.length === 0) return false;
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}


/** The caller of a request (undefined: anonymous), kept in res.locals.caller. */
export function identify(auth: AuthService): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    void (async () => {
      const header = req.headers.authorization;
      if (header !== undefined) {
        const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
        const principal = m?.[1] === undefined ? undefined : await auth.bearer(m[1]);
        if (principal === undefined) throw new HttpError(401, 'the bearer token is not valid: it may be revoked, mistyped or its account disabled (ews tokens list)');
        res.locals.caller = { principal } satisfies Caller;
        return;
      }
      const cookie = readCookie(req, SESSION_COOKIE);
      if (cookie !== undefined && cookie !== '') {
        const session = await auth.session(cookie);
        if (session !== undefined) res.locals.caller = { principal: session.principal, csrfToken: session.csrfToken, sessionToken: cookie } satisfies Caller;
        else res.locals.sessionExpired = true;
      }
    })().then(() => next(), next);
  };
}

export function callerOf(res: Response): Caller | undefined {
  return res.locals.caller as Caller | undefined;
}

/** The caller, or 401. */
export function requireCaller(res: Response): Caller {
  const caller = callerOf(res);
  if (caller === undefined) {
    throw new HttpError(401, res.locals.sessionExpired === true ? 'your session has expired: log in again' : 'log in first (a session cookie from /login, or Authorization: Bearer <token>)');
  }
  return caller;
}

/** The caller if their role has the capability; 401 or 403 otherwise. */
export function requireCapability(res: Response, capability: Capability): Principal {
  const { principal } = requireCaller(res);
  if (!can(principal, capability)) throw new HttpError(403, `the ${principal.role} role (${ROLE_NAMES[principal.role]}) may not ${WHAT[capability]}`);
  return principal;
}

const WHAT: Record<Capability, string> = {
  'alerts:read': 'read alerts or employers',
  'alerts:act': 'acknowledge or resolve alerts',
  'alerts:export': 'export alerts',
  'cities:read': 'read city figures',
  'runs:read': 'read runs and feeds',
  queues: 'open the queue dashboard',
  'audit:read': 'read the audit log',
};

/** Unsafe methods from a session must carry its CSRF token (header or `_csrf` field); bearer callers need none. */
export function checkCsrf(req: Request, res: Response): void {
  const caller = callerOf(res);
  if (caller === undefined || caller.csrfToken === undefined) return;
  const given = (req.get('x-csrf-token') ?? (req.body as Record<string, unknown> | undefined)?._csrf);
  if (typeof given !== 'string' || !sameSecret(given, caller.csrfToken)) {
    throw new HttpError(403, 'the form or request is missing its CSRF token or it does not match your session: reload the page and try again');
  }
}

/** At most `perMinute` login attempts per client address per minute (in this process). */
export function loginLimiter(perMinute: number, clock: () => number = Date.now) {
  const seen = new Map<string, number[]>();
  return {
    /** True when this attempt may go ahead (and counts it). */
    allow(key: string): boolean {
      const now = clock();
      const recent = (seen.get(key) ?? []).filter((t) => now - t < 60_000);
      if (recent.length >= perMinute) {
        seen.set(key, recent);
        return false;
      }
      recent.push(now);
      seen.set(key, recent);
      if (seen.size > 10_000) {
        for (const [k, ts] of seen) if (ts.every((t) => now - t >= 60_000)) seen.delete(k);
      }
      return true;
    },
  };
}
