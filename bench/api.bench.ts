/**
 * npm run bench:api -- [--alerts 100000] [--months 36] [--sessions 50] [--seconds 60] [--warmup 5] [--seed 1] [--rebuild]
 *
 * The officials' API under load: N alerts over M months (bench/api.seed.ts,
 * in a database `ews_bench_api` kept between runs and rebuilt only when its
 * parameters change or with --rebuild), accounts made through
 * AuthService.addUser (province, five city officials, a viewer), and the api
 * role started as production starts it, `node bin/ews.js serve --role api`,
 * in a process of its own, so that its RSS is its own (sampled every 250 ms
 * from /proc/<pid>/status).
 *
 * S sessions log in through the console's form (the login CSRF
 * double-submit cookie, scrypt: not timed), read their CSRF token from
 * /api/v1/me, then, closed loop with no think time, for the warm-up and then
 * for the timed seconds: alert lists with filters, sorts and pages (some
 * deep, some searching a name or a code), alert details, CSV exports
 * narrowed to hundreds to a few thousand rows and read to the end, the
 * province overview and city pages, and acknowledgements of open alerts in
 * the session's scope (a 409 for an alert another session acknowledged first
 * is expected and counted apart, not as an error). City officials' sessions
 * read and act on their own city only; a row of another city in their
 * answers counts as an error. What an earlier run acknowledged is undone
 * before the next.
 *
 * --think-ms N pauses each session N ms on average (exponentially
 * distributed) between an answer and its next request; 0, the default, is
 * a closed loop with no pause: the load is then as high as the machine can
 * answer, and the latencies measure its capacity.
 * --only list,detail,… restricts the mix to those kinds (to measure one alone).
 * --cpu-prof <dir> writes a V8 CPU profile of the API process there.
 * --profile samples pg_stat_activity every 20 ms during the timed run and
 * prints the statements the API's connections were running most often.
 *
 * Prints latency per kind of request, then, last, one JSON line:
 * {"requests", "rps", "p50_ms", "p95_ms", "p99_ms", "errors", "peak_rss_mib"}
 * (peak_rss_mib: the API process's VmHWM, logins included).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { CITIES } from '../config/cities.js';
import { loadConfig } from '../config/config.load.js';
import { AuthService } from '../services/access/auth.service.js';
import { authPolicy } from '../services/api/auth.js';
import { openDatabase, withDatabaseName } from '../services/db/database.js';
import { migrate } from '../services/db/migrate.js';
import { addMonths, periodOf } from '../services/domain/period.js';
import { cityWeights } from '../services/synth/city.profile.js';
import { Rng } from '../services/synth/random.js';
import { BENCH_DOMAIN, resetBenchActions, seedDatabase, seedReady } from './api.seed.js';
import { wholeNumber } from './args.js';
import { benchServer } from './server.js';

const DB_NAME = 'ews_bench_api';
const PASSWORD = 'bench-api-Pa55word!';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The API opens the queues (for /metrics and /readyz) under this prefix; their keys are removed at the end. */
const QUEUE_PREFIX = 'ews-bench-api';

type Role = 'province' | 'city' | 'viewer';
interface Account {
  email: string;
  role: Role;
  city: string | null;
  sessions: number;
}

/** 50 sessions: the province office, five city offices (成都 the busiest), read-only viewers; scaled for other --sessions. */
const ACCOUNTS: readonly Account[] = [
  { email: `province@${BENCH_DOMAIN}`, role: 'province', city: null, sessions: 14 },
  { email: `cd-officer@${BENCH_DOMAIN}`, role: 'city', city: '510100', sessions: 10 },
  { email: `my-officer@${BENCH_DOMAIN}`, role: 'city', city: '510700', sessions: 5 },
  { email: `dy-officer@${BENCH_DOMAIN}`, role: 'city', city: '510600', sessions: 5 },
  { email: `nc-officer@${BENCH_DOMAIN}`, role: 'city', city: '511300', sessions: 4 },
  { email: `ls-officer@${BENCH_DOMAIN}`, role: 'city', city: '513400', sessions: 4 },
  { email: `viewer@${BENCH_DOMAIN}`, role: 'viewer', city: null, sessions: 8 },
];

type Op = 'list' | 'list_deep' | 'list_search' | 'detail' | 'export' | 'overview' | 'city' | 'ack';
const OPS: readonly Op[] = ['list', 'list_deep', 'list_search', 'detail', 'export', 'overview', 'city', 'ack'];
const MIX: Record<Role, Record<Op, number>> = {
  province: { list: 36, list_deep: 6, list_search: 4, detail: 25, export: 5, overview: 5, city: 7, ack: 12 },
  city: { list: 34, list_deep: 5, list_search: 4, detail: 27, export: 5, overview: 4, city: 7, ack: 14 },
  viewer: { list: 40, list_deep: 6, list_search: 4, detail: 30, export: 8, overview: 6, city: 6, ack: 0 },
};

interface AlertRef {
  id: number;
  city: string;
  active: boolean;
  name: string;
  subject: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      alerts: { type: 'string', default: '100000' },
      months: { type: 'string', default: '36' },
      sessions: { type: 'string', default: '50' },
      seconds: { type: 'string', default: '60' },
      warmup: { type: 'string', default: '5' },
      seed: { type: 'string', default: '1' },
      rebuild: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      only: { type: 'string' },
      'think-ms': { type: 'string', default: '0' },
    },
  });
  const alerts = wholeNumber('alerts', values.alerts, 1_000, 2_000_000);
  const months = wholeNumber('months', values.months, 6, 60);
  const sessionCount = wholeNumber('sessions', values.sessions, 1, 500);
  const seconds = wholeNumber('seconds', values.seconds, 1, 3_600);
  const warmup = wholeNumber('warmup', values.warmup, 0, 600);
  const seed = wholeNumber('seed', values.seed, 0, 1_000_000);
  const thinkMs = wholeNumber('think-ms', values['think-ms'], 0, 60_000);
  const only = values.only?.split(',').map((x) => x.trim());
  for (const op of only ?? []) if (!(OPS as readonly string[]).includes(op)) throw new Error(`--only takes kinds among ${OPS.join(', ')}, got "${op}"`);
  if (only !== undefined) for (const role of Object.keys(MIX) as Role[]) for (const op of OPS) if (!only.includes(op)) MIX[role][op] = 0;
  const config = loadConfig();
  const say = (s: string): void => void process.stderr.write(`${s}\n`);

  // The month the latest night scored: the night of month P runs on the 3rd of P+1.
  const last = addMonths(periodOf(new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10)), -1);
  const params = { alerts, months, last, seed };
  const server = await benchServer(config);
  let child: ChildProcess | undefined;
  try {
    if (values.rebuild || !(await seedReady(server.url, DB_NAME, params))) {
      say(`seeding ${alerts} alerts over ${months} months to ${last} into ${DB_NAME} …`);
      const t0 = performance.now();
      await seedDatabase(server.url, DB_NAME, params, say);
      say(`seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } else say(`reusing ${DB_NAME} (${alerts} alerts over ${months} months to ${last})`);
    const dbUrl = withDatabaseName(server.url, DB_NAME);
    const database = openDatabase(dbUrl, 2);
    let refs: AlertRef[];
    let open: Map<string, number[]>;
    try {
      await migrate(database.pool); // a kept database may predate the latest migrations
      const undone = await resetBenchActions(database);
      if (undone > 0) say(`undid ${undone} acknowledgements of the last run`);
      const auth = new AuthService(database, authPolicy(config));
      for (const a of ACCOUNTS) {
        if ((await auth.accounts.byEmail(a.email)) === undefined) await auth.addUser({ email: a.email, role: a.role, cityCode: a.city, password: PASSWORD }, 'bench:api');
      }
      const rows = await database.pool.query<{ alert_id: number; city_code: string; status: string; name: string; subject: string }>(
        'SELECT alert_id, city_code, status, name, subject FROM alert ORDER BY alert_id',
      );
      refs = rows.rows.map((r) => ({ id: r.alert_id, city: r.city_code.trim(), active: r.status !== 'resolved', name: r.name, subject: r.subject }));
      // Open alerts per city, as the list shows them to an official: most severe first, newest first.
      const o = await database.pool.query<{ city_code: string; ids: number[] }>(
        `SELECT city_code, array_agg(alert_id ORDER BY level, opened_at DESC, alert_id) AS ids FROM alert WHERE status = 'open' GROUP BY city_code`,
      );
      open = new Map(o.rows.map((r) => [r.city_code.trim(), r.ids.map(Number)]));
    } finally {
      await database.close();
    }
    say(`${refs.length} alerts, ${[...open.values()].reduce((n, ids) => n + ids.length, 0)} open`);

    // ── the API process ─────────────────────────────────────────────────
    const port = await freePort();
    const poolSize = config.database.poolSize;
    const nodeArgs = values['cpu-prof'] === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`];
    child = spawn(process.execPath, [...nodeArgs, `${ROOT}bin/ews.js`, 'serve', '--role', 'api'], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: dbUrl,
        DB_POOL_SIZE: String(poolSize),
        PORT: String(port),
        REDIS_URL: config.redis.url,
        QUEUE_PREFIX: QUEUE_PREFIX,
        EWS_ENV: 'production',
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        // One client address logs in every session at once: the per-address limit (20 a minute) would refuse most.
        LOGIN_RATE_PER_MINUTE: '10000',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const serverLog: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the API did not start in 60 s: ${serverLog.join('').slice(-2000)}`)), 60_000);
      child?.stderr?.on('data', (b: Buffer) => {
        const text = b.toString('utf8');
        serverLog.push(text);
        if (serverLog.length > 200) serverLog.splice(0, 100);
        if (text.includes('API on port')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child?.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the API exited (${code}) before it started: ${serverLog.join('').slice(-2000)}`));
      });
    });
    const pid = child.pid as number;
    say(`API (pid ${pid}, DB pool ${poolSize}) on 127.0.0.1:${port}`);
    const client = new Client(port, sessionCount + 4);

    // ── sessions ────────────────────────────────────────────────────────
    const plan = planSessions(sessionCount);
    const t0login = performance.now();
    const sessions: Session[] = [];
    for (let i = 0; i < plan.length; i += 10) {
      sessions.push(...(await Promise.all(plan.slice(i, i + 10).map((a, j) => login(client, a, i + j)))));
    }
    say(`${sessions.length} sessions logged in (${sessions.map((s) => s.account.role).filter((r) => r === 'city').length} city officials) in ${((performance.now() - t0login) / 1000).toFixed(1)} s`);
    const rssAfterLogin = rss(pid);

    // ── the load ────────────────────────────────────────────────────────
    const world = new World(refs, open, months, last);
    if (warmup > 0) {
      say(`warming up for ${warmup} s …`);
      await runLoad(client, sessions, world, warmup * 1000, new Stats(), thinkMs);
    }
    const stats = new Stats();
    let peakSampled = 0;
    const sampler = setInterval(() => {
      peakSampled = Math.max(peakSampled, rss(pid).rss);
    }, 250);
    const profiler = values.profile ? startProfiler(dbUrl) : undefined;
    const backends = await backendPids(dbUrl);
    const pgCpu0 = backends.reduce((n, p) => n + cpuSeconds(p), 0);
    const self0 = process.cpuUsage();
    const cpu0 = cpuSeconds(pid);
    say(`running ${sessions.length} sessions for ${seconds} s${thinkMs > 0 ? `, each pausing ${thinkMs} ms on average between requests` : ', each sending its next request as soon as the last is answered'} …`);
    const t0 = performance.now();
    await runLoad(client, sessions, world, seconds * 1000, stats, thinkMs);
    const elapsed = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    const cpu = cpuSeconds(pid) - cpu0;
    const pgCpu = backends.reduce((n, p) => n + cpuSeconds(p), 0) - pgCpu0;
    const self = process.cpuUsage(self0);
    const selfCpu = (self.user + self.system) / 1e6;
    const profile = await profiler?.stop();
    const mem = rss(pid);
    peakSampled = Math.max(peakSampled, mem.rss);

    // ── report ──────────────────────────────────────────────────────────
    const all = stats.all();
    say('');
    say('kind          requests    p50 ms    p95 ms    p99 ms    max ms   notes');
    for (const op of OPS) {
      const s = stats.of(op);
      if (s.length === 0) continue;
      const notes = op === 'ack' ? `${stats.acked} acknowledged, ${stats.conflicts} already acknowledged (409)` : op === 'export' ? `${Math.round(stats.csvRows / Math.max(1, s.length))} rows, ${(stats.csvBytes / Math.max(1, s.length) / 1024).toFixed(0)} KiB per export` : op.startsWith('list') ? `${Math.round((stats.listTotals.get(op) ?? 0) / Math.max(1, s.length))} matching on average` : '';
      say(`${op.padEnd(12)} ${String(s.length).padStart(9)} ${fmt(pct(s, 0.5))} ${fmt(pct(s, 0.95))} ${fmt(pct(s, 0.99))} ${fmt(s[s.length - 1] ?? 0)}   ${notes}`);
    }
    say(`all          ${String(all.length).padStart(9)} ${fmt(pct(all, 0.5))} ${fmt(pct(all, 0.95))} ${fmt(pct(all, 0.99))} ${fmt(all[all.length - 1] ?? 0)}`);
    say('');
    say(`${all.length} requests in ${elapsed.toFixed(1)} s: ${(all.length / elapsed).toFixed(1)} requests/s`);
    const perRequest = (x: number): string => `${((x / Math.max(1, all.length)) * 1000).toFixed(1)} ms a request`;
    say(`CPU: API process ${cpu.toFixed(1)} s (${perRequest(cpu)}), its ${backends.length} PostgreSQL backends ${pgCpu.toFixed(1)} s (${perRequest(pgCpu)}; parallel workers not counted), this load generator ${selfCpu.toFixed(1)} s (${perRequest(selfCpu)}); ${os.availableParallelism()} cores, load average ${os.loadavg()[0]?.toFixed(1)}`);
    say(`API RSS: ${(rssAfterLogin.rss / 1024).toFixed(0)} MiB after login, at most ${(peakSampled / 1024).toFixed(0)} MiB sampled during the run, VmHWM ${(mem.hwm / 1024).toFixed(0)} MiB (whole life, logins included)`);
    if (profile !== undefined) {
      say('');
      say(`PostgreSQL, ${profile.samples} samples of the API's connections (${(profile.busy / Math.max(1, profile.samples)).toFixed(1)} active on average):`);
      for (const [q, n] of profile.top) say(`${String(n).padStart(7)}  ${q}`);
    }
    if (stats.errors > 0) {
      say(`${stats.errors} errors:`);
      for (const [k, n] of stats.errorKinds) say(`  ${n} × ${k}`);
      const logged = serverLog.join('').trim();
      if (logged !== '') say(`the API's log (warnings and errors), last lines:\n${logged.split('\n').slice(-10).join('\n')}`);
    }
    const out = {
      requests: all.length,
      rps: Math.round((all.length / elapsed) * 10) / 10,
      p50_ms: round1(pct(all, 0.5)),
      p95_ms: round1(pct(all, 0.95)),
      p99_ms: round1(pct(all, 0.99)),
      errors: stats.errors,
      peak_rss_mib: Math.round(Math.max(mem.hwm, peakSampled) / 1024),
    };
    client.close();
    await stopChild(child);
    child = undefined;
    console.log(JSON.stringify(out));
  } finally {
    if (child !== undefined) await stopChild(child);
    await dropQueueKeys(config.redis.url).catch(() => undefined);
    await server.stop();
  }
}

/** The keys the API's queues left in Redis under the benchmark's prefix. */
async function dropQueueKeys(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    for await (const keys of redis.scanStream({ match: `${QUEUE_PREFIX}:*`, count: 500 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) await redis.del(...keys);
    }
  } finally {
    redis.disconnect();
  }
}

// ── HTTP ────────────────────────────────────────────────────────────────

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

class Client {
  private readonly agent: http.Agent;
  constructor(
    private readonly port: number,
    sockets: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  }

  request(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: this.port, method, path, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.setTimeout(120_000, () => req.destroy(new Error('no answer in 120 s')));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function cookieOf(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  for (const line of headers['set-cookie'] ?? []) {
    const m = new RegExp(`^${name}=([^;]*)`).exec(line);
    if (m?.[1] !== undefined && m[1] !== '') return decodeURIComponent(m[1]);
  }
  return undefined;
}

interface Session {
  index: number;
  account: Account;
  cookie: string;
  csrf: string;
  rng: Rng;
}

function planSessions(n: number): Account[] {
  const total = ACCOUNTS.reduce((s, a) => s + a.sessions, 0);
  const out: Account[] = [];
  ACCOUNTS.forEach((a, i) => {
    const k = Math.max(1, Math.round((a.sessions * n) / total));
    for (let j = 0; j < k; j++) out.push(a);
    if (i === ACCOUNTS.length - 1) while (out.length < n) out.push(ACCOUNTS[0] as Account);
  });
  return out.slice(0, n);
}

/** The console's login form: GET /login sets the double-submit cookie and the form's token; POST it back; then /api/v1/me for the session's CSRF token. */
async function login(client: Client, account: Account, index: number): Promise<Session> {
  const page = await client.request('GET', '/login');
  const csrfCookie = cookieOf(page.headers, 'ews_login_csrf');
  const field = /name="_csrf" value="([^"]+)"/.exec(page.body.toString('utf8'))?.[1];
  if (page.status !== 200 || csrfCookie === undefined || field === undefined) throw new Error(`GET /login: ${page.status}, no CSRF cookie or field`);
  const form = new URLSearchParams({ _csrf: field, next: '/', email: account.email, password: PASSWORD }).toString();
  const posted = await client.request('POST', '/login', { 'content-type': 'application/x-www-form-urlencoded', cookie: `ews_login_csrf=${encodeURIComponent(csrfCookie)}` }, form);
  const token = cookieOf(posted.headers, 'ews_session');
  if (posted.status !== 303 || token === undefined) throw new Error(`POST /login as ${account.email}: ${posted.status} ${posted.body.toString('utf8').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 200)}`);
  const cookie = `ews_session=${encodeURIComponent(token)}`;
  const me = await client.request('GET', '/api/v1/me', { cookie, accept: 'application/json' });
  const body = JSON.parse(me.body.toString('utf8')) as { csrfToken?: string; role?: string; cityCode?: string | null };
  if (me.status !== 200 || body.csrfToken === undefined || body.role !== account.role) throw new Error(`GET /api/v1/me as ${account.email}: ${me.status}`);
  return { index, account, cookie, csrf: body.csrfToken, rng: new Rng(index + 1, 'bench-api-session') };
}

// ── what the sessions ask for ────────────────────────────────────────────

class World {
  readonly byCity = new Map<string, AlertRef[]>();
  readonly activeByCity = new Map<string, AlertRef[]>();
  readonly active: AlertRef[];
  private readonly weights = cityWeights();

  constructor(
    readonly all: readonly AlertRef[],
    /** Open alerts per city, most severe first; an id leaves when it is acknowledged (or found acknowledged). */
    readonly open: Map<string, number[]>,
    readonly months: number,
    readonly last: string,
  ) {
    for (const a of all) {
      let list = this.byCity.get(a.city);
      if (list === undefined) this.byCity.set(a.city, (list = []));
      list.push(a);
      if (a.active) {
        let act = this.activeByCity.get(a.city);
        if (act === undefined) this.activeByCity.set(a.city, (act = []));
        act.push(a);
      }
    }
    this.active = all.filter((a) => a.active);
  }

  /** A city drawn as alerts are spread (成都 most often). */
  city(rng: Rng): string {
    let u = rng.next();
    for (let i = 0; i < CITIES.length; i++) {
      u -= this.weights[i] as number;
      if (u < 0) return (CITIES[i] as (typeof CITIES)[number]).code;
    }
    return '510100';
  }

  alertsIn(s: Session, activeOnly: boolean): readonly AlertRef[] {
    if (s.account.city !== null) return (activeOnly ? this.activeByCity : this.byCity).get(s.account.city) ?? [];
    return activeOnly ? this.active : this.all;
  }

  count(city: string | null): number {
    return city === null ? this.all.length : (this.byCity.get(city)?.length ?? 0);
  }

  takeOpen(city: string, rng: Rng): number | undefined {
    const ids = this.open.get(city);
    if (ids === undefined || ids.length === 0) return undefined;
    return ids[rng.int(Math.min(20, ids.length))];
  }

  drop(city: string, id: number): void {
    const ids = this.open.get(city);
    const i = ids?.indexOf(id) ?? -1;
    if (ids !== undefined && i >= 0) ids.splice(i, 1);
  }
}

function pickOp(role: Role, rng: Rng): Op {
  const mix = MIX[role];
  const total = OPS.reduce((n, op) => n + mix[op], 0);
  // A role with none of the kinds asked for (--only ack: viewers may not act) reads details.
  if (total === 0) return 'detail';
  let u = rng.next() * total;
  for (const op of OPS) {
    u -= mix[op];
    if (u < 0) return op;
  }
  return 'list';
}

function pickOf<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)] as T;
}

/** A list's filters as an official sets them: city, status, level, kind, months, sort. */
function listFilters(s: Session, w: World, rng: Rng): URLSearchParams {
  const q = new URLSearchParams();
  const own = s.account.city;
  if (own !== null) {
    if (rng.chance(0.5)) q.set('city', own);
  } else if (rng.chance(0.45)) q.set('city', w.city(rng));
  const st = rng.next();
  if (st < 0.25) q.set('status', 'active');
  else if (st < 0.45) q.set('status', 'open');
  else if (st < 0.55) q.set('status', 'acknowledged');
  else if (st < 0.65) q.set('status', 'resolved');
  else if (st < 0.68) q.set('status', 'pending');
  const lv = rng.next();
  if (lv < 0.2) q.set('level', '1,2');
  else if (lv < 0.3) q.set('level', '3');
  else if (lv < 0.38) q.set('level', '4');
  else if (lv < 0.45) q.set('level', '1');
  if (rng.chance(0.12)) q.set('kind', pickOf(rng, ['layoff', 'unreported', 'crosscheck']));
  if (rng.chance(0.35)) {
    const to = addMonths(w.last, -rng.int(6));
    q.set('to', to);
    q.set('from', addMonths(to, -rng.int(12)));
  }
  if (rng.chance(0.3)) q.set('sort', pickOf(rng, ['level', 'level', 'opened', 'last_period', 'first_period', 'name', 'city', 'id']));
  if (rng.chance(0.15)) q.set('order', pickOf(rng, ['asc', 'desc']));
  return q;
}

async function runLoad(client: Client, sessions: readonly Session[], w: World, ms: number, stats: Stats, thinkMs: number): Promise<void> {
  const end = performance.now() + ms;
  await Promise.all(
    sessions.map(async (s) => {
      while (performance.now() < end) {
        await step(client, s, w, stats);
        // An official reading the page before the next click: exponentially distributed, so sessions do not march in step.
        if (thinkMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(end - performance.now(), -Math.log(1 - s.rng.next()) * thinkMs)));
      }
    }),
  );
}

async function step(client: Client, s: Session, w: World, stats: Stats): Promise<void> {
  const rng = s.rng;
  let op = pickOp(s.account.role, rng);
  const own = s.account.city;
  let path: string;
  let ackCity: string | undefined;
  let ackId: number | undefined;
  if (op === 'ack') {
    ackCity = own ?? w.city(rng);
    ackId = w.takeOpen(ackCity, rng);
    if (ackId === undefined) op = 'detail';
  }
  switch (op) {
    case 'list': {
      const q = listFilters(s, w, rng);
      const page = rng.chance(0.75) ? 1 : 2 + rng.int(4);
      if (page > 1) q.set('page', String(page));
      const size = rng.next();
      if (size < 0.15) q.set('pageSize', '20');
      else if (size > 0.85) q.set('pageSize', '100');
      path = `/api/v1/alerts?${q.toString()}`;
      break;
    }
    case 'list_deep': {
      // Paging far into a long list: everything in scope, or one city's resolved alerts.
      const q = new URLSearchParams();
      let total = w.count(own);
      if (own === null && rng.chance(0.4)) {
        const c = w.city(rng);
        q.set('city', c);
        total = w.count(c);
      }
      if (rng.chance(0.3)) {
        q.set('status', 'resolved');
        total = Math.round(total * 0.8);
      }
      if (rng.chance(0.3)) q.set('sort', pickOf(rng, ['level', 'opened', 'name']));
      const pages = Math.max(1, Math.floor(total / 50));
      q.set('page', String(Math.max(1, Math.round(pages * (0.3 + 0.7 * rng.next())))));
      path = `/api/v1/alerts?${q.toString()}`;
      break;
    }
    case 'list_search': {
      const a = pickOf(rng, w.alertsIn(s, false));
      const q = new URLSearchParams();
      const u = rng.next();
      // Part of a name (its 字号, the two characters after the place), a whole code, or a code's first characters.
      const name = [...a.name.replace(/(股份|有限|责任|公司|分公司|（.*?）)+$/u, '')];
      const at = rng.int(Math.max(1, name.length - 2));
      const text = u < 0.6 ? name.slice(at, at + 2 + rng.int(3)).join('') : u < 0.8 ? a.subject : a.subject.slice(0, 10);
      q.set('q', text);
      if (rng.chance(0.3)) q.set('status', 'active');
      path = `/api/v1/alerts?${q.toString()}`;
      break;
    }
    case 'detail': {
      const pool = w.alertsIn(s, rng.chance(0.6));
      path = `/api/v1/alerts/${pickOf(rng, pool.length > 0 ? pool : w.alertsIn(s, false)).id}`;
      break;
    }
    case 'export': {
      // One city, a window of months sized to some hundreds to a few thousand alerts, sometimes one level.
      const city = own ?? w.city(rng);
      const perMonth = Math.max(1, w.count(city) / w.months);
      const target = 300 + rng.int(2700);
      const span = Math.max(1, Math.min(w.months, Math.round(target / perMonth / 1.6)));
      const to = addMonths(w.last, -rng.int(Math.max(1, w.months - span + 1)));
      const q = new URLSearchParams({ city, from: addMonths(to, -(span - 1)), to });
      if (rng.chance(0.2)) q.set('level', '3,4');
      path = `/api/v1/alerts.csv?${q.toString()}`;
      break;
    }
    case 'overview':
      path = '/api/v1/cities';
      break;
    case 'city':
      path = `/api/v1/cities/${own ?? w.city(rng)}`;
      break;
    case 'ack':
      path = `/api/v1/alerts/${ackId}/acknowledge`;
      break;
  }

  const headers: Record<string, string> = { cookie: s.cookie, accept: op === 'export' ? 'text/csv' : 'application/json' };
  let body: string | undefined;
  if (op === 'ack') {
    headers['x-csrf-token'] = s.csrf;
    headers['content-type'] = 'application/json';
    body = JSON.stringify(rng.chance(0.3) ? { comment: '已电话联系企业，正在核实减员情况' } : {});
  }
  const t0 = performance.now();
  let reply: Reply;
  try {
    reply = await client.request(op === 'ack' ? 'POST' : 'GET', path, headers, body);
  } catch (err) {
    stats.record(op, performance.now() - t0);
    stats.error(`${op}: ${(err as Error).message}`);
    return;
  }
  const ms = performance.now() - t0;
  stats.record(op, ms);

  if (op === 'ack' && ackCity !== undefined && ackId !== undefined) {
    if (reply.status === 200) {
      stats.acked++;
      w.drop(ackCity, ackId);
      return;
    }
    if (reply.status === 409) {
      stats.conflicts++;
      w.drop(ackCity, ackId);
      return;
    }
  }
  if (reply.status !== 200) {
    stats.error(`${op} ${reply.status}: ${reply.body.toString('utf8').slice(0, 160)}`);
    return;
  }
  if (op === 'export') {
    const text = reply.body.toString('utf8');
    if (!text.startsWith('\uFEFF编号,')) stats.error('export: no BOM and header');
    // Records start with the alert's id and its city code (a comment may span lines, inside quotes).
    const records = text.match(/^\d+,\d{6},/gm) ?? [];
    stats.csvRows += records.length;
    stats.csvBytes += reply.body.length;
    if (own !== null && records.some((r) => !r.endsWith(`,${own},`))) stats.error("export: an alert of another city in a city official's export");
    return;
  }
  if (op.startsWith('list')) {
    const r = JSON.parse(reply.body.toString('utf8')) as { items?: { cityCode: string }[]; total?: number };
    if (!Array.isArray(r.items) || typeof r.total !== 'number') stats.error(`${op}: no items or total`);
    else {
      stats.listTotals.set(op, (stats.listTotals.get(op) ?? 0) + r.total);
      if (own !== null && r.items.some((i) => i.cityCode !== own)) stats.error(`${op}: an alert of another city in a city official's list`);
    }
  }
}

// ── figures ─────────────────────────────────────────────────────────────

class Stats {
  private readonly samples = new Map<Op, number[]>();
  errors = 0;
  readonly errorKinds = new Map<string, number>();
  acked = 0;
  conflicts = 0;
  csvRows = 0;
  csvBytes = 0;
  listTotals = new Map<Op, number>();

  record(op: Op, ms: number): void {
    let s = this.samples.get(op);
    if (s === undefined) this.samples.set(op, (s = []));
    s.push(ms);
  }

  error(what: string): void {
    this.errors++;
    const key = what.replace(/\d{3,}/g, 'N').slice(0, 200);
    this.errorKinds.set(key, (this.errorKinds.get(key) ?? 0) + 1);
  }

  of(op: Op): number[] {
    return [...(this.samples.get(op) ?? [])].sort((a, b) => a - b);
  }

  all(): number[] {
    return [...this.samples.values()].flat().sort((a, b) => a - b);
  }
}

function pct(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const fmt = (x: number): string => x.toFixed(1).padStart(9);

/** VmRSS and VmHWM of a process, in KiB. */
function rss(pid: number): { rss: number; hwm: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rss: field('VmRSS'), hwm: field('VmHWM') };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

/** User + system CPU seconds of a process. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** The API's PostgreSQL backends (its pool, filled by the warm-up). */
async function backendPids(dbUrl: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const r = await client.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'layoff-ews'`);
    return r.rows.map((x) => x.pid);
  } finally {
    await client.end();
  }
}

/** What the API's database connections are doing, sampled from pg_stat_activity (statement text folded to its first 160 characters). */
function startProfiler(dbUrl: string) {
  const client = new pg.Client({ connectionString: dbUrl, application_name: 'bench-api-profiler' });
  const counts = new Map<string, number>();
  let samples = 0;
  let busy = 0;
  let stopped = false;
  const done = (async () => {
    await client.connect();
    while (!stopped) {
      const r = await client.query<{ query: string; wait: string | null }>(
        `SELECT query, wait_event_type || ':' || wait_event AS wait FROM pg_stat_activity
          WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid() AND application_name = 'layoff-ews'`,
      );
      samples++;
      busy += r.rows.length;
      for (const row of r.rows) {
        const key = `${row.wait === null ? '' : `[${row.wait}] `}${row.query.replace(/\s+/g, ' ').trim().slice(0, 160)}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await client.end();
  })();
  return {
    async stop() {
      stopped = true;
      await done;
      return { samples, busy, top: [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15) };
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:api: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
