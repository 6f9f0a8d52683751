import { CITY_BY_CODE } from '../../config/cities.js';

/**
 * Who may do what in the console and the API. Four roles: province (all
 * cities, read and act), city (one city code: only that city's employers,
 * alerts and figures), ops (queues, runs, feed health; no employer detail)
 * and viewer (all cities, read-only). The policy is these pure functions; the
 * repositories take the caller's scope and read only inside it.
 */

export const ROLES = ['province', 'city', 'ops', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_NAMES: Readonly<Record<Role, string>> = {
  province: '省级',
  city: '市州',
  ops: '运维',
  viewer: '只读',
};

/** The caller of a request, from a session or an API token. */
export interface Principal {
  readonly accountId: number;
  readonly email: string;
  readonly role: Role;
  /** Set for the city role only. */
  readonly cityCode: string | null;
  readonly via: 'session' | 'token';
}

/**
 * The cities whose data a caller may read: every city, or a list (one city
 * for a city official). Repositories filter on it where the data is read.
 */
export type Scope = { readonly all: true } | { readonly all: false; readonly cities: readonly string[] };

export const ALL_CITIES: Scope = Object.freeze({ all: true });

export type Capability =
  | 'alerts:read' // the alert list and detail, employers' figures
  | 'alerts:act' // acknowledge, resolve
  | 'alerts:export' // the CSV export
  | 'cities:read' // systemic risk by month, key groups, feed freshness
  | 'runs:read' // nightly runs and their stages, feed health
  | 'queues' // the queue dashboard
  | 'audit:read'; // the audit log

const GRANTS: Readonly<Record<Role, ReadonlySet<Capability>>> = {
  province: new Set<Capability>(['alerts:read', 'alerts:act', 'alerts:export', 'cities:read', 'runs:read', 'queues', 'audit:read']),
  city: new Set<Capability>(['alerts:read', 'alerts:act', 'alerts:export', 'cities:read']),
  ops: new Set<Capability>(['cities:read', 'runs:read', 'queues']),
  viewer: new Set<Capability>(['alerts:read', 'alerts:export', 'cities:read', 'runs:read']),
};

export function can(who: Pick<Principal, 'role'>, capability: Capability): boolean {
  return GRANTS[who.role].has(capability);
}

export function scopeOf(who: Pick<Principal, 'role' | 'cityCode'>): Scope {
  if (who.role === 'city') return { all: false, cities: who.cityCode === null ? [] : [who.cityCode] };
  return ALL_CITIES;
}

export function inScope(scope: Scope, cityCode: string): boolean {
  return scope.all || scope.cities.includes(cityCode.trim());
}

/** The cities of a scope, narrowed by a requested city (which may fall outside it: then none). */
export function narrow(scope: Scope, city: string | undefined): Scope {
  if (city === undefined) return scope;
  return { all: false, cities: inScope(scope, city) ? [city] : [] };
}

/** Why an account's settings are wrong, or undefined. */
export function checkAccount(role: string, cityCode: string | undefined | null): string | undefined {
  if (!(ROLES as readonly string[]).includes(role)) return `role must be one of ${ROLES.join(' / ')}, got "${role}"`;
  if (role === 'city') {
    if (cityCode == null || cityCode === '') return 'a city account needs --city <code>, one of the 21 city codes (e.g. 510100 成都市)';
    if (!CITY_BY_CODE.has(cityCode)) return `--city ${cityCode} is not one of Sichuan's 21 cities and prefectures (e.g. 510100 成都市; see config/cities.ts)`;
  } else if (cityCode != null && cityCode !== '') {
    return `--city is only for the city role; ${role === "ops" ? "an ops account watches operations for" : `a ${role} account sees`} all cities`;
  }
  return undefined;
}

const EMAIL = /^[^\s@<>()[\]\\,;:"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** Why an e-mail address cannot name an account, or undefined. */
export function checkEmail(email: string): string | undefined {
  if (email.length > 254 || !EMAIL.test(email)) return `"${email.slice(0, 80)}" is not an e-mail address (name@domain)`;
  return undefined;
}

export const MIN_PASSWORD = 12;
export const MAX_PASSWORD = 200;

/** Why a password is too weak, or undefined. */
export function checkPassword(password: string): string | undefined {
  if (password.length < MIN_PASSWORD) return `the password must have at least ${MIN_PASSWORD} characters`;
  if (password.length > MAX_PASSWORD) return `the password must have at most ${MAX_PASSWORD} characters`;
  if (new Set(password).size < 6) return 'the password must use at least 6 different characters';
  if (/^(password|admin|changeme|123456|qwerty)/i.test(password)) return 'the password must not start with a common word';
  return undefined;
}

/**
 * An account's e-mail as pages, the audit log and alert histories show it:
 * the first two characters of the mailbox and the domain (zh***@cd.gov.cn),
 * enough for colleagues to tell who acted, not an address to write to.
 */
export function maskedEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  const local = email.slice(0, at);
  return `${[...local].slice(0, Math.min(2, local.length - 1 || 1)).join('')}***@${email.slice(at + 1).toLowerCase()}`;
}
