import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { z } from 'zod';
import { configSchema, SOURCE_NAME, type Config } from './config.schema.js';

/**
 * Configuration is read once, here and nowhere else: an optional JSON file
 * (EWS_CONFIG, or ./ews.config.json when present) overlaid by environment
 * variables, validated as a whole so that start-up lists every bad value at
 * once, then frozen.
 */

export interface EnvOption {
  readonly env: string;
  readonly path: readonly string[];
  readonly kind: 'string' | 'int';
}

export const ENV_OPTIONS: readonly EnvOption[] = [
  { env: 'EWS_ENV', path: ['env'], kind: 'string' },
  { env: 'DATABASE_URL', path: ['database', 'url'], kind: 'string' },
  { env: 'DB_POOL_SIZE', path: ['database', 'poolSize'], kind: 'int' },
  { env: 'EMBEDDED_PG_PORT', path: ['database', 'embeddedPort'], kind: 'int' },
  { env: 'EWS_DATA_DIR', path: ['dataDir'], kind: 'string' },
  { env: 'REDIS_URL', path: ['redis', 'url'], kind: 'string' },
  { env: 'QUEUE_PREFIX', path: ['redis', 'queuePrefix'], kind: 'string' },
  { env: 'LOG_LEVEL', path: ['log', 'level'], kind: 'string' },
  { env: 'LOG_FORMAT', path: ['log', 'format'], kind: 'string' },
  { env: 'FEED_HTTP_TIMEOUT_MS', path: ['feeds', 'httpTimeoutMs'], kind: 'int' },
  { env: 'FEED_HTTP_RETRIES', path: ['feeds', 'httpRetries'], kind: 'int' },
  { env: 'FEED_RETRY_BASE_MS', path: ['feeds', 'retryBaseMs'], kind: 'int' },
  { env: 'INGEST_ATTEMPTS', path: ['feeds', 'ingestAttempts'], kind: 'int' },
  { env: 'MODEL_DIR', path: ['scoring', 'modelDir'], kind: 'string' },
  { env: 'MODEL_THREADS', path: ['scoring', 'modelThreads'], kind: 'int' },
  { env: 'SCORE_SHARDS', path: ['scoring', 'shards'], kind: 'int' },
  { env: 'SCORE_THREADS', path: ['scoring', 'threads'], kind: 'int' },
  { env: 'SMTP_URL', path: ['notify', 'smtpUrl'], kind: 'string' },
  { env: 'NOTIFY_FROM', path: ['notify', 'from'], kind: 'string' },
  { env: 'OUTBOX_DIR', path: ['notify', 'outboxDir'], kind: 'string' },
  { env: 'CONSOLE_URL', path: ['notify', 'consoleUrl'], kind: 'string' },
  { env: 'NOTIFY_ATTEMPTS', path: ['notify', 'attempts'], kind: 'int' },
  { env: 'NOTIFY_RETRY_BASE_MS', path: ['notify', 'retryBaseMs'], kind: 'int' },
  { env: 'NOTIFY_SEND_LEASE_MS', path: ['notify', 'sendLeaseMs'], kind: 'int' },
  { env: 'NOTIFY_SWEEP_MS', path: ['notify', 'sweepMs'], kind: 'int' },
  { env: 'ALERT_RESOLVE_QUIET_MONTHS', path: ['alerts', 'resolveAfterQuietMonths'], kind: 'int' },
  { env: 'ALERT_REMINDER_HOURS', path: ['alerts', 'reminderHours'], kind: 'int' },
  { env: 'ALERT_ESCALATE_DAYS', path: ['alerts', 'escalateAfterDays'], kind: 'int' },
  { env: 'PORT', path: ['api', 'port'], kind: 'int' },
  { env: 'SESSION_IDLE_MINUTES', path: ['api', 'sessionIdleMinutes'], kind: 'int' },
  { env: 'SESSION_MAX_HOURS', path: ['api', 'sessionMaxHours'], kind: 'int' },
  { env: 'LOGIN_MAX_FAILURES', path: ['api', 'loginMaxFailures'], kind: 'int' },
  { env: 'LOCKOUT_MINUTES', path: ['api', 'lockoutMinutes'], kind: 'int' },
  { env: 'LOGIN_RATE_PER_MINUTE', path: ['api', 'loginRatePerMinute'], kind: 'int' },
  { env: 'COOKIE_SECURE', path: ['api', 'secureCookies'], kind: 'string' },
  { env: 'TRUST_PROXY', path: ['api', 'trustProxy'], kind: 'string' },
  { env: 'ADMIN_USER', path: ['api', 'adminUser'], kind: 'string' },
  { env: 'ADMIN_PASSWORD', path: ['api', 'adminPassword'], kind: 'string' },
  { env: 'NIGHTLY_CRON', path: ['nightly', 'cron'], kind: 'string' },
  { env: 'NIGHTLY_TZ', path: ['nightly', 'timezone'], kind: 'string' },
  { env: 'POLL_CRON', path: ['nightly', 'pollCron'], kind: 'string' },
  { env: 'NIGHT_STALL_MS', path: ['nightly', 'stallMs'], kind: 'int' },
  { env: 'TRAIN_CRON', path: ['training', 'cron'], kind: 'string' },
  { env: 'TRAIN_EPOCHS', path: ['training', 'epochs'], kind: 'int' },
  { env: 'TRAIN_KIND', path: ['training', 'kind'], kind: 'string' },
  { env: 'TRAIN_HOLDOUT_MONTHS', path: ['training', 'holdoutMonths'], kind: 'int' },
  { env: 'SHUTDOWN_GRACE_MS', path: ['shutdownGraceMs'], kind: 'int' },
];

/**
 * Variables the loader still reads only to refuse them ("is gone: …", with
 * what to use instead); the docs do not list them as settings. Each is
 * checked to be refused by config/config.test.ts.
 */
export const REFUSED_ENV: readonly string[] = ['ADMIN_USER', 'ADMIN_PASSWORD'];

/** Variables handled outside ENV_OPTIONS; listed so the docs test can see them. */
export const SPECIAL_ENV = ['EWS_CONFIG', 'FEED_SOURCES', 'FEED_TOKEN_<NAME>', 'NODE_ENV'] as const;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;
type Raw = Record<string, unknown>;

export interface LoadOptions {
  env?: Env;
  /** Explicit config file; otherwise EWS_CONFIG, then ./ews.config.json if it exists. */
  file?: string;
  cwd?: string;
}

export function loadConfig(options: LoadOptions = {}): Readonly<Config> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const problems: string[] = [];
  const raw: Raw = readConfigFile(options.file ?? env['EWS_CONFIG'], cwd, problems);
  // Where each value came from, so an error names the variable a person set.
  const origin = new Map<string, string>();

  if (env['EWS_ENV'] === undefined && env['NODE_ENV'] !== undefined && ['development', 'test', 'production'].includes(env['NODE_ENV'])) {
    setPath(raw, ['env'], env['NODE_ENV']);
    origin.set('env', 'NODE_ENV');
  }
  for (const opt of ENV_OPTIONS) {
    const value = env[opt.env];
    if (value === undefined || value === '') continue;
    origin.set(opt.path.join('.'), opt.env);
    if (opt.kind === 'int') {
      if (!/^-?\d+$/.test(value.trim())) {
        problems.push(`${opt.env}: must be a whole number, got "${value}"`);
        continue;
      }
      setPath(raw, opt.path, Number(value.trim()));
    } else {
      setPath(raw, opt.path, value);
    }
  }

  const fromEnv = parseSourcesEnv(env, problems);
  if (fromEnv) {
    setPath(raw, ['feeds', 'sources'], fromEnv);
    fromEnv.forEach((_s, i) => origin.set(`feeds.sources.${i}`, 'FEED_SOURCES'));
  }
  applyTokens(raw, env);

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) problems.push(...parsed.error.issues.map((issue) => describeIssue(issue, origin)));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return deepFreeze(parsed.data);
}

function readConfigFile(file: string | undefined, cwd: string, problems: string[]): Raw {
  const path = file !== undefined && file !== '' ? resolve(cwd, file) : resolve(cwd, 'ews.config.json');
  const explicit = file !== undefined && file !== '';
  if (!existsSync(path)) {
    if (explicit) problems.push(`EWS_CONFIG: file ${path} does not exist`);
    return {};
  }
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`${path}: must hold a JSON object`);
      return {};
    }
    return value as Raw;
  } catch (err) {
    problems.push(`${path}: not valid JSON (${(err as Error).message.split('\n')[0]})`);
    return {};
  }
}

/** FEED_SOURCES="exchange=https://host/employment/,local=file:///srv/feeds/" (the name= part is optional). */
function parseSourcesEnv(env: Env, problems: string[]): Raw[] | undefined {
  const value = env['FEED_SOURCES'];
  if (value === undefined || value.trim() === '') return undefined;
  const sources: Raw[] = [];
  value.split(',').map((s) => s.trim()).filter((s) => s !== '').forEach((item, i) => {
    const eq = item.indexOf('=');
    const hasName = eq > 0 && !item.slice(0, eq).includes(':');
    const name = hasName ? item.slice(0, eq) : `source-${i + 1}`;
    const url = hasName ? item.slice(eq + 1) : item;
    if (!SOURCE_NAME.test(name)) problems.push(`FEED_SOURCES: source name "${name}" must be lower-case letters, digits, - or _`);
    sources.push({ name, url });
  });
  return sources;
}

/** FEED_TOKEN_<NAME> carries the bearer token of the source NAME (upper case, - as _). */
function applyTokens(raw: Raw, env: Env): void {
  const sources = getPath(raw, ['feeds', 'sources']);
  if (!Array.isArray(sources)) return;
  for (const source of sources as unknown[]) {
    if (typeof source !== 'object' || source === null) continue;
    const s = source as Raw;
    if (typeof s['name'] !== 'string') continue;
    const token = env[tokenEnvName(s['name'])];
    if (token !== undefined && token !== '') s['token'] = token;
  }
}

export function tokenEnvName(sourceName: string): string {
  return `FEED_TOKEN_${sourceName.toUpperCase().replace(/-/g, '_')}`;
}

/** The bearer token for a source given on the command line rather than in FEED_SOURCES. */
export function tokenFor(sourceName: string, env: Env = process.env): string | undefined {
  const token = env[tokenEnvName(sourceName)];
  return token === undefined || token === '' ? undefined : token;
}

function describeIssue(issue: z.core.$ZodIssue, origin: Map<string, string>): string {
  const path = issue.path.map(String).join('.');
  let name = origin.get(path);
  if (name === undefined) {
    for (const [p, env] of origin) if (path.startsWith(`${p}.`)) name = env;
  }
  const where = name !== undefined ? `${name} (${path})` : path === '' ? 'config' : path;
  return `${where}: ${issue.message}`;
}

function setPath(obj: Raw, path: readonly string[], value: unknown): void {
  let cur = obj;
  path.slice(0, -1).forEach((key) => {
    const next = cur[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[key] = {};
    cur = cur[key] as Raw;
  });
  cur[path[path.length - 1] as string] = value;
}

function getPath(obj: Raw, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Raw)[key];
  }
  return cur;
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
