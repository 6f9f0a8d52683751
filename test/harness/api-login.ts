import type { Config } from '../../config/config.schema.js';
import { AuthService } from '../../services/access/auth.service.js';
import { authPolicy, LOGIN_CSRF_COOKIE, SESSION_COOKIE } from '../../services/api/auth.js';
import type { Database } from '../../services/db/database.js';

/**
 * Accounts, tokens and console sessions for tests that call the API or the
 * queue dashboard as a given role: accounts and tokens through the same
 * AuthService the CLI uses, sessions through the real login form (its CSRF
 * cookie, the POST, the session cookie it sets).
 */

export const PASSWORD = 'Tea-kettle-42-Jinjiang';

export interface TestAccount {
  email: string;
  role: 'province' | 'city' | 'ops' | 'viewer';
  city?: string;
}

export function authOf(config: Config, database: Database): AuthService {
  return new AuthService(database, authPolicy(config));
}

/** The account (with PASSWORD) and a live API token for it. */
export async function addAccount(auth: AuthService, a: TestAccount, password = PASSWORD): Promise<{ accountId: number; token: string; tokenId: number }> {
  const row = await auth.addUser({ email: a.email, role: a.role, cityCode: a.city ?? null, password }, 'test');
  const { token, tokenId } = await auth.createToken(a.email, 'test', 'test');
  return { accountId: row.account_id, token, tokenId };
}

/** The value of one cookie among a response's Set-Cookie headers, and the whole header. */
export function setCookie(res: Response, name: string): { value: string; header: string } | undefined {
  for (const header of res.headers.getSetCookie()) {
    const pair = header.split(';')[0] ?? '';
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return { value: decodeURIComponent(pair.slice(eq + 1)), header };
  }
  return undefined;
}

export interface LoginAttempt {
  status: number;
  /** `ews_session=…` for a Cookie header, when the login succeeded. */
  cookie?: string;
  res: Response;
  text: string;
}

/** The login form as a browser fills it: GET /login for the form's CSRF cookie, then POST it with the e-mail and password. */
export async function postLogin(base: string, email: string, password: string, extra: { next?: string; csrf?: string | null; headers?: Record<string, string> } = {}): Promise<LoginAttempt> {
  const form = await fetch(`${base}/login`, { redirect: 'manual' });
  await form.arrayBuffer();
  const csrf = setCookie(form, LOGIN_CSRF_COOKIE)?.value;
  if (csrf === undefined) throw new Error(`GET /login set no ${LOGIN_CSRF_COOKIE} cookie (status ${form.status})`);
  const body = new URLSearchParams({ email, password, next: extra.next ?? '/' });
  if (extra.csrf !== null) body.set('_csrf', extra.csrf ?? csrf);
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `${LOGIN_CSRF_COOKIE}=${csrf}`, ...extra.headers },
    body,
  });
  const text = await res.text();
  const session = setCookie(res, SESSION_COOKIE);
  return { status: res.status, res, text, ...(session !== undefined && session.value !== '' ? { cookie: `${SESSION_COOKIE}=${session.value}` } : {}) };
}

export interface Session {
  /** For the Cookie header. */
  cookie: string;
  /** The session's CSRF token, as /api/v1/me gives it. */
  csrf: string;
  /** The secret in the cookie. */
  secret: string;
}

/** A logged-in session: the cookie and its CSRF token. */
export async function login(base: string, email: string, password = PASSWORD): Promise<Session> {
  const attempt = await postLogin(base, email, password);
  if (attempt.status !== 303 || attempt.cookie === undefined) throw new Error(`login of ${email} answered ${attempt.status}`);
  const me = await fetch(`${base}/api/v1/me`, { headers: { cookie: attempt.cookie } });
  const body = (await me.json()) as { csrfToken?: string };
  if (body.csrfToken === undefined) throw new Error(`/api/v1/me gave no CSRF token to the session of ${email}`);
  return { cookie: attempt.cookie, csrf: body.csrfToken, secret: attempt.cookie.slice(SESSION_COOKIE.length + 1) };
}
