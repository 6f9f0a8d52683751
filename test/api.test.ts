import { sql } from 'kysely';
import { randomBytes } from 'node:crypto';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../config/config.schema.js';
import { startApiServer, type ApiDeps, type ApiServer, type ApiServerOptions } from '../services/api/server.js';
import { openDatabase, type Database } from '../services/db/database.js';
import { QUEUE_NAMES } from '../workers/jobs.catalog.js';
import { redisConnection } from '../workers/redis.js';
import { openQueues, type QueueSet } from '../workers/worker.js';
import { createTestDatabase } from './harness/db.js';
import { databaseUrl, redisUrl } from './harness/env.js';
import { captureLogger } from './harness/log.js';
import { addAccount, authOf, login, PASSWORD, postLogin, type Session } from './harness/api-login.js';
import { SESSION_COOKIE } from '../services/api/auth.js';

const connection = redisConnection(redisUrl());
const prefix = `ews-test-${randomBytes(4).toString('hex')}`;
const captured = captureLogger();
const log = captured.log;

let database: Database;
let queues: QueueSet;
let config: Config;
let api: ApiServer;
const servers: ApiServer[] = [];
const extraDatabases: Database[] = [];

async function start(deps: Partial<ApiDeps> = {}, options: ApiServerOptions = {}): Promise<ApiServer> {
  const server = await startApiServer({ config, database, queues: Object.values(queues.queues), log, ...deps }, { port: 0, host: '127.0.0.1', ...options });
  servers.push(server);
  return server;
}

function url(server: ApiServer, path: string): string {
  return `http://127.0.0.1:${server.port}${path}`;
}

interface Readiness {
  status: string;
  checks: Record<string, boolean>;
  errors?: Record<string, string>;
}

async function readyz(server: ApiServer): Promise<{ status: number; body: Readiness; ms: number }> {
  const t0 = Date.now();
  const res = await fetch(url(server, '/readyz'));
  return { status: res.status, body: (await res.json()) as Readiness, ms: Date.now() - t0 };
}

beforeAll(async () => {
  database = await createTestDatabase();
  queues = openQueues(connection, prefix);
  config = configSchema.parse({});
  api = await start();
});

afterAll(async () => {
  for (const s of servers) await s.close();
  for (const d of extraDatabases) await d.close();
  for (const q of Object.values(queues.queues)) await q.obliterate({ force: true });
  await queues.close();
  await database.close();
});

describe('health and readiness', () => {
  it('/healthz answers 200 ok', async () => {
    const res = await fetch(url(api, '/healthz'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 when PostgreSQL and Redis answer', async () => {
    const { status, body } = await readyz(api);
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'ready', checks: { postgres: true, redis: true } });
  });

  it.each([
    ['a database that does not exist', () => databaseUrl(`ews_missing_${randomBytes(4).toString('hex')}`), /does not exist/],
    ['a closed port', () => 'postgres://ews:not-the-password@127.0.0.1:1/ews', /ECONNREFUSED/],
  ])('/readyz answers 503 naming postgres for %s, at once', async (_what, target, reason) => {
    const broken = openDatabase(target(), 1);
    extraDatabases.push(broken);
    const server = await start({ database: broken });
    const { status, body, ms } = await readyz(server);
    expect(status).toBe(503);
    expect(body.status).toBe('not ready');
    expect(body.checks).toEqual({ postgres: false, redis: true });
    expect(Object.keys(body.errors ?? {})).toEqual(['postgres']);
    expect(body.errors?.['postgres']).toMatch(reason);
    expect(body.errors?.['postgres']).not.toMatch(/\n|not-the-password|postgres:\/\//);
    // It failed on the error, not on the deadline.
    expect(ms).toBeLessThan(2_000);

    // The metrics that need PostgreSQL are skipped with a warning; the scrape is still served.
    const res = await fetch(url(server, '/metrics'));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^ews_queue_jobs\{queue="notify",state="waiting"\} \d+$/m);
    expect(text).not.toMatch(/^ews_emails\{/m);
    expect(text).not.toMatch(/^ews_employers_scored /m);
    expect(captured.lines.some((l) => l.includes('"metric":"ews_emails"') && l.includes('metric skipped'))).toBe(true);
  });

  it('an extra check that returns false or throws makes /readyz 503', async () => {
    const server = await start({
      checks: {
        model: () => Promise.resolve(false),
        smtp: () => Promise.reject(new Error('connect ECONNREFUSED smtp://mailer:hunter2@10.0.0.9:25\nsecond line')),
        disk: () => Promise.resolve(true),
      },
    });
    const { status, body } = await readyz(server);
    expect(status).toBe(503);
    expect(body.checks).toEqual({ postgres: true, redis: true, model: false, smtp: false, disk: true });
    expect(body.errors).toEqual({
      model: 'the check reported not ready',
      smtp: 'connect ECONNREFUSED smtp://***@10.0.0.9:25',
    });
  });

  it('a check that hangs fails at its deadline instead of hanging the probe', async () => {
    const server = await start({ checks: { stuck: () => new Promise<boolean>(() => undefined) } }, { checkTimeoutMs: 150 });
    const { status, body } = await readyz(server);
    expect(status).toBe(503);
    expect(body.checks['stuck']).toBe(false);
    expect(body.errors).toEqual({ stuck: 'no answer within 150 ms' });
  });

  it('refuses an extra check that takes a built-in name', async () => {
    await expect(start({ checks: { postgres: () => Promise.resolve(true) } })).rejects.toThrow(/built in/);
  });
});

describe('/metrics', () => {
  it('reports queues, feeds, scoring, alerts and e-mails from the shared stores', async () => {
    // Before any scoring run: no sample rather than a misleading 0.
    const before = await (await fetch(url(api, '/metrics'))).text();
    expect(before).toMatch(/^# TYPE ews_employers_scored gauge$/m);
    expect(before).not.toMatch(/^ews_employers_scored /m);
    expect(before).not.toMatch(/^ews_score_run_timestamp_seconds /m);
    expect(before).toMatch(/^ews_emails\{status="sent"\} 0$/m);

    // One waiting notify job, and one completed poll job (taken and finished by hand).
    await queues.queues.notify.add('notify', { notificationId: 1 });
    await queues.queues.poll.add('poll-source', { source: 'local' });
    const worker = new Worker('poll', null, { connection, prefix, autorun: false });
    try {
      const job = await worker.getNextJob('api-test');
      expect(job).toBeDefined();
      await job!.moveToCompleted({ ok: true }, 'api-test', false);
    } finally {
      await worker.close();
    }

    const { db } = database;
    const batch = (feed: 'social_insurance' | 'headcount', period: string, status: 'loaded' | 'rejected', n: number) => ({
      source: 'local', source_url: 'file:///feeds', file: `${feed}-${period}-${n}.csv`, feed, period,
      sha256: String(n).repeat(64).slice(0, 64), declared_rows: 1, encoding: 'utf-8' as const, order_key: n, status,
    });
    await db.insertInto('batch').values([
      batch('social_insurance', '2025-05-01', 'loaded', 1),
      batch('social_insurance', '2025-06-01', 'loaded', 2),
      batch('social_insurance', '2025-07-01', 'rejected', 3),
      batch('headcount', '2025-04-01', 'loaded', 4),
    ]).execute();
    const finishedAt = new Date('2025-07-10T02:30:00Z');
    const run = await db.insertInto('score_run').values({ period: '2025-06-01', status: 'done', finished_at: finishedAt, employers: 1234, shards: 16 }).returning('run_id').executeTakeFirstOrThrow();
    await db.insertInto('score_run').values({ period: '2025-07-01', status: 'running', employers: 99 }).execute();
    const city = (period: string, city_code: string, data_missing: boolean) => ({
      period, city_code, industry_section: '*', level: null, data_missing, missing_feeds: data_missing ? ['regional'] : [], employers: 10, expected_job_losses: 0,
      observed_layoffs: 0, observed_job_losses: 0, explanation: {}, run_id: run.run_id,
    });
    await db.insertInto('city_risk').values([city('2025-05-01', '510100', true), city('2025-06-01', '510100', false), city('2025-06-01', '513300', true)]).execute();
    const alert = (subject: string, city_code: string, status: 'open' | 'resolved', level: number) => ({
      subject_type: 'employer' as const, subject, kind: 'layoff' as const, city_code, name: '某公司', status, level, peak_level: level,
      first_period: '2025-06-01', last_period: '2025-06-01', last_run_id: run.run_id, evidence: {},
    });
    await db.insertInto('alert').values([alert('91510100MA0000001X', '510100', 'open', 2), alert('91510100MA0000002X', '510100', 'open', 2), alert('91510300MA0000003X', '510300', 'resolved', 1)]).execute();
    await db.insertInto('notification').values({
      dedupe_key: 'immediate/1/510100/dept@city.example', kind: 'immediate', run_id: run.run_id, city_code: '510100', recipient: 'dept@city.example',
      message_id: '<n1@layoff-ews>', payload: {}, alert_ids: [1], raised_at: finishedAt,
    }).execute();
    // Nights: one done after two re-drives, one unfinished and idle for an hour (stalled), one unfinished and busy.
    await sql`INSERT INTO night (night_key, night_date, reason, stage, redrives, progress_at) VALUES
      ('2025-07-08', '2025-07-08', 'schedule', 'done', 2, now() - interval '2 days'),
      ('2025-07-09', '2025-07-09', 'schedule', 'score', 1, now() - interval '1 hour'),
      ('2025-07-10', '2025-07-10', 'schedule', 'ingest', 0, now())`.execute(db);

    const res = await fetch(url(api, '/metrics'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const value = (series: string): number | undefined => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };

    for (const q of QUEUE_NAMES) expect(text).toContain(`ews_queue_jobs{queue="${q}",state="prioritized"}`);
    expect(value('ews_queue_jobs{queue="notify",state="waiting"}')).toBe(1);
    expect(value('ews_queue_jobs{queue="poll",state="completed"}')).toBe(1);
    expect(value('ews_job_duration_seconds{queue="poll",stat="max"}')).toBeGreaterThanOrEqual(0);
    expect(value('ews_job_duration_seconds{queue="poll",stat="avg"}')).toBeGreaterThanOrEqual(0);
    expect(value('ews_job_duration_seconds{queue="poll",stat="p95"}')).toBeGreaterThanOrEqual(0);
    expect(text).not.toContain('ews_job_duration_seconds{queue="notify"');

    expect(value('ews_feed_latest_period_timestamp_seconds{feed="social_insurance"}')).toBe(Date.UTC(2025, 5, 1) / 1000);
    expect(value('ews_feed_latest_period_timestamp_seconds{feed="headcount"}')).toBe(Date.UTC(2025, 3, 1) / 1000);
    expect(text).not.toContain('ews_feed_latest_period_timestamp_seconds{feed="regional"}');
    expect(value('ews_feed_batches{feed="social_insurance",status="loaded"}')).toBe(2);
    expect(value('ews_feed_batches{feed="social_insurance",status="rejected"}')).toBe(1);
    expect(value('ews_feed_batches{feed="regional",status="loaded"}')).toBe(0);

    expect(value('ews_city_data_missing{city="510100"}')).toBe(0);
    expect(value('ews_city_data_missing{city="513300"}')).toBe(1);
    expect(value('ews_employers_scored')).toBe(1234);
    expect(value('ews_score_run_timestamp_seconds')).toBe(finishedAt.getTime() / 1000);

    expect(value('ews_alerts{city="510100",level="2",status="open"}')).toBe(2);
    expect(text).not.toContain('status="resolved"');
    expect(value('ews_emails{status="pending"}')).toBe(1);
    expect(value('ews_emails{status="failed"}')).toBe(0);
    expect(value('ews_night_redrives_total')).toBe(3);
    expect(value('ews_nights_stalled')).toBe(1);
    expect(value('ews_nights_unfinished')).toBe(2);

    expect(text).toMatch(/^ews_process_\w+/m);
  });

  it('serves concurrent scrapes', async () => {
    const texts = await Promise.all([1, 2, 3].map(async () => (await fetch(url(api, '/metrics'))).text()));
    for (const t of texts) expect(t).toMatch(/^ews_emails\{status="pending"\} 1$/m);
  });
});

describe('/admin/queues', () => {
  const ROLES = {
    ops: { email: 'ops.oncall@hrss.example', role: 'ops' },
    province: { email: 'sheng.ting@hrss.example', role: 'province' },
    city: { email: 'chengdu.officer@cd.example', role: 'city', city: '510100' },
    viewer: { email: 'auditor@hrss.example', role: 'viewer' },
  } as const;
  type Who = keyof typeof ROLES;
  const tokens = {} as Record<Who, string>;
  const sessions = {} as Record<Who, Session>;

  beforeAll(async () => {
    const auth = authOf(config, database);
    for (const who of Object.keys(ROLES) as Who[]) {
      tokens[who] = (await addAccount(auth, ROLES[who])).token;
      sessions[who] = await login(url(api, ''), ROLES[who].email);
    }
  });

  const as = (who: Who, via: 'token' | 'session'): Record<string, string> => (via === 'token' ? { authorization: `Bearer ${tokens[who]}` } : { cookie: sessions[who].cookie });

  it('sends an anonymous browser to the login page, and from there back to the dashboard', async () => {
    for (const path of ['/admin/queues', '/admin/queues/queue/notify?status=failed']) {
      const res = await fetch(url(api, path), { redirect: 'manual', headers: { accept: 'text/html' } });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
    // A forged or expired session cookie is no session.
    const forged = await fetch(url(api, '/admin/queues'), { redirect: 'manual', headers: { cookie: `${SESSION_COOKIE}=${randomBytes(32).toString('base64url')}` } });
    expect(forged.status).toBe(303);
    // The login form sends the official on to the dashboard.
    const back = await postLogin(url(api, ''), ROLES.ops.email, PASSWORD, { next: '/admin/queues' });
    expect(back.status).toBe(303);
    expect(back.res.headers.get('location')).toBe('/admin/queues');
  });

  it('answers the dashboard\'s API without a session with 401 JSON', async () => {
    for (const [method, path] of [['GET', '/admin/queues/api/queues'], ['PUT', '/admin/queues/api/queues/notify/pause'], ['GET', '/admin/queues']] as const) {
      const headers: Record<string, string> = path.endsWith('/admin/queues') ? { authorization: 'Bearer ews_forged' } : {};
      const res = await fetch(url(api, path), { method, headers, redirect: 'manual' });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(Object.keys((await res.json()) as object)).toEqual(['error']);
    }
    // The old HTTP Basic credentials open nothing.
    const basic = await fetch(url(api, '/admin/queues/api/queues'), { headers: { authorization: `Basic ${Buffer.from('ops:a-long-enough-secret-42').toString('base64')}` } });
    expect(basic.status).toBe(401);
  });

  it.each([
    ['ops', 'session'],
    ['ops', 'token'],
    ['province', 'session'],
    ['province', 'token'],
  ] as const)('serves the dashboard to %s accounts (by %s), with every queue', async (who, via) => {
    const res = await fetch(url(api, '/admin/queues'), { headers: as(who, via) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toMatch(/<html/i);
    const list = await fetch(url(api, '/admin/queues/api/queues'), { headers: as(who, via) });
    expect(list.status).toBe(200);
    const body = (await list.json()) as { queues: { name: string }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual([...QUEUE_NAMES].sort());
  });

  it.each([
    ['city', 'session'],
    ['city', 'token'],
    ['viewer', 'session'],
    ['viewer', 'token'],
  ] as const)('refuses %s accounts (by %s) with 403', async (who, via) => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const res = await fetch(url(api, path), { headers: { ...as(who, via), accept: 'application/json' }, redirect: 'manual' });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: string }).error).toMatch(/may not open the queue dashboard/);
    }
  });

  it("takes the dashboard's own buttons from a session only when they come from this site (Origin), from a token always", async () => {
    const retry = `/admin/queues/api/queues/${QUEUE_NAMES[0]}/retry/failed`;
    const foreign = await fetch(url(api, retry), { method: 'PUT', headers: { ...as('ops', 'session'), accept: 'application/json' } });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: string }).error).toMatch(/must come from this site/);
    const elsewhere = await fetch(url(api, retry), { method: 'PUT', headers: { ...as('ops', 'session'), origin: 'https://evil.example', accept: 'application/json' } });
    expect(elsewhere.status).toBe(403);
    const own = await fetch(url(api, retry), { method: 'PUT', headers: { ...as('ops', 'session'), origin: url(api, '') } });
    expect(own.status).toBe(200);
    await own.arrayBuffer();
    const machine = await fetch(url(api, retry), { method: 'PUT', headers: as('ops', 'token') });
    expect(machine.status).toBe(200);
    await machine.arrayBuffer();
  });

  it('never logs passwords, tokens or session secrets', () => {
    const all = captured.lines.join('\n');
    expect(all).not.toContain(PASSWORD);
    for (const who of Object.keys(ROLES) as Who[]) {
      expect(all).not.toContain(tokens[who]);
      expect(all).not.toContain(sessions[who].secret);
    }
    expect(all).not.toContain('hunter2');
  });
});

describe('the rest', () => {
  it('answers an unknown API path with 404 JSON, and sends an anonymous browser at an unknown page to the login first', async () => {
    for (const path of ['/api/no/such/thing', '/api/v1/no/such/thing']) {
      const res = await fetch(url(api, path));
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: 'no such API route (see /api/openapi.json)' });
    }
    expect((await fetch(url(api, '/healthz'), { method: 'POST' })).status).toBe(404);
    const page = await fetch(url(api, '/no/such/thing'), { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?next=%2Fno%2Fsuch%2Fthing');
  });

  it('close() ends kept-alive connections and leaves the database and queues open', async () => {
    const server = await startApiServer({ config, database, queues: Object.values(queues.queues), log }, { port: 0, host: '127.0.0.1' });
    expect((await fetch(url(server, '/healthz'))).status).toBe(200); // leaves a keep-alive connection
    await server.close();
    await expect(fetch(url(server, '/healthz'))).rejects.toThrow();
    await server.close(); // a second close is harmless
    const { status } = await readyz(api);
    expect(status).toBe(200);
  });
});
