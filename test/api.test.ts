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

const connection = redisConnection(redisUrl());
const prefix = `ews-test-${randomBytes(4).toString('hex')}`;
const PASSWORD = 'a-long-enough-secret-42';
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

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
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
  config = configSchema.parse({ api: { adminPassword: PASSWORD } });
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
  it('refuses a request without credentials with a Basic challenge', async () => {
    const res = await fetch(url(api, '/admin/queues'));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="layoff-ews"');
    const api2 = await fetch(url(api, '/admin/queues/api/queues'));
    expect(api2.status).toBe(401);
  });

  it('refuses wrong credentials', async () => {
    for (const auth of [basic('ops', 'wrong-password'), basic('root', PASSWORD), basic('ops', `${PASSWORD}x`), 'Bearer abc', 'Basic !!!']) {
      const res = await fetch(url(api, '/admin/queues'), { headers: { authorization: auth } });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="layoff-ews"');
    }
  });

  it('serves the dashboard with the right credentials, with every queue', async () => {
    const headers = { authorization: basic('ops', PASSWORD) };
    const res = await fetch(url(api, '/admin/queues'), { headers });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toMatch(/<html/i);

    const list = await fetch(url(api, '/admin/queues/api/queues'), { headers });
    expect(list.status).toBe(200);
    const body = (await list.json()) as { queues: { name: string }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual([...QUEUE_NAMES].sort());
  });

  it('is disabled (503) when no password is configured', async () => {
    const server = await start({ config: configSchema.parse({}) });
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const res = await fetch(url(server, path), { headers: { authorization: basic('ops', PASSWORD) } });
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: 'the queue dashboard is disabled: set ADMIN_PASSWORD' });
    }
  });

  it('never logs the password or the Authorization header', () => {
    const all = captured.lines.join('\n');
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(Buffer.from(`ops:${PASSWORD}`).toString('base64'));
    expect(all).not.toContain('hunter2');
  });
});

describe('the rest', () => {
  it('answers an unknown path with 404 JSON', async () => {
    const res = await fetch(url(api, '/no/such/thing'));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not found' });
    expect((await fetch(url(api, '/healthz'), { method: 'POST' })).status).toBe(404);
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
