import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CITIES } from '../config/cities.js';
import { loadConfig } from '../config/config.load.js';
import { configSchema, type Config } from '../config/config.schema.js';
import type { Database } from '../services/db/database.js';
import { deliverNotification, deliverPending } from '../services/notify/deliver.js';
import { openTransport, type MailTransport } from '../services/notify/transport.js';
import { notifyHandlers } from '../workers/notify.processors.js';
import { raiseAlertsJobId } from '../workers/jobs.catalog.js';
import { redisConnection } from '../workers/redis.js';
import { serve } from '../workers/serve.js';
import { openQueues, startWorkers, type QueueSet } from '../workers/worker.js';
import { seedRun } from './harness/alerts.js';
import { createTestDatabase } from './harness/db.js';
import { databaseUrl, redisUrl } from './harness/env.js';
import { captureLogger } from './harness/log.js';
import { startSmtpSink, type SmtpSink } from './harness/smtp.js';
import { jobResult, until } from './harness/wait.js';
import { obliterateQueues } from './harness/queues.js';

const BIN = fileURLToPath(new URL('../bin/ews.js', import.meta.url));
const connection = redisConnection(redisUrl());
const prefix = `ews-test-${randomBytes(4).toString('hex')}`;
const log = captureLogger().log;
let database: Database & { name: string };
let sink: SmtpSink;
let config: Config;
let transport: MailTransport;
let queues: QueueSet;

beforeAll(async () => {
  database = await createTestDatabase();
  sink = await startSmtpSink();
  config = configSchema.parse({
    notify: {
      smtpUrl: sink.url,
      retryBaseMs: 20,
      cities: Object.fromEntries(CITIES.map((c) => [c.code, [{ email: `dept-${c.code}@city.example` }]])),
      province: [{ email: 'office@province.example', levels: [1, 2] }],
    },
  });
  transport = openTransport(config.notify, { socketTimeoutMs: 5_000 });
  queues = openQueues(connection, prefix);
});

afterAll(async () => {
  for (const q of Object.values(queues.queues)) await q.obliterate({ force: true });
  await queues.close();
  transport.close();
  await sink.close();
  await database.close();
});

describe('the BullMQ path', () => {
  it('raise-alerts queues one notify job per e-mail; the worker sends each once, through a temporary SMTP failure', async () => {
    const deliverDeps = { database, transport, log, leaseMs: 60_000 };
    const handlers = notifyHandlers({ database, alerts: config.alerts, notify: config.notify, log }, deliverDeps, queues.queues.notify, { attempts: 5, baseMs: 20 });
    const workers = startWorkers(handlers, { connection, prefix, log, queues: ['alerts', 'notify'], concurrency: { notify: 2 } });
    try {
      sink.faults = { tempFailData: 1 };
      const run = await seedRun(database, '2026-10', [{ serial: 1, level: 1 }, { serial: 2, level: 3, city: '510700' }]);
      const job = await queues.queues.alerts.add('raise-alerts', { runId: run }, { jobId: raiseAlertsJobId(run) });
      // A duplicate enqueue of the same run is a no-op.
      await queues.queues.alerts.add('raise-alerts', { runId: run }, { jobId: raiseAlertsJobId(run) });
      const result = await jobResult<{ notifications: number; enqueued: number }>(queues.queues.alerts, job.id!);
      expect(result.enqueued).toBe(result.notifications);
      const mails = await sink.waitFor(result.notifications);
      expect(new Set(mails.map((m) => m.messageId)).size).toBe(result.notifications);
      // The worker records 'sent' just after the server's 250.
      await until(async () => (await database.db.selectFrom('notification').select('status').where('status', '<>', 'sent').execute()).length === 0);
      const rows = await database.db.selectFrom('notification').select(['status', 'attempts']).execute();
      expect(rows.every((r) => r.status === 'sent')).toBe(true);
      expect(rows.reduce((n, r) => n + r.attempts, 0)).toBe(rows.length + 1); // the one 451 cost one more attempt
    } finally {
      await workers.close();
    }
  });
});

describe('a sender killed mid-send', () => {
  it('leaves the e-mail undelivered and claimed; after the lease it is sent exactly once', async () => {
    const run = await seedRun(database, '2026-11', [{ serial: 7, level: 2, city: '510300' }]);
    const { processRun } = await import('../services/alerts/alert.service.js');
    const { notifications } = await processRun({ database, alerts: config.alerts, notify: config.notify, log }, run);
    expect(notifications.length).toBeGreaterThan(1);
    const [target, ...others] = notifications;
    for (const id of others) await deliverNotification({ database, transport, log, leaseMs: 60_000 }, id);
    const before = sink.received.length;

    // A real process sends the last one; the server swallows its DATA and never answers; the process is killed.
    sink.faults = { hangData: 1 };
    const child = spawn(process.execPath, [BIN, 'notify', 'send'], {
      env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: databaseUrl(database.name), SMTP_URL: sink.url, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    await Promise.race([sink.nextHang(), exited.then(() => Promise.reject(new Error(`the sender exited before sending: ${stderr}`)))]);
    child.kill('SIGKILL');
    await exited;
    const mid = await database.db.selectFrom('notification').select(['status', 'attempts']).where('notification_id', '=', target!).executeTakeFirstOrThrow();
    expect(mid).toEqual({ status: 'sending', attempts: 1 });
    expect(sink.received.length).toBe(before);

    // Within the lease nobody else touches it; after it, it is sent once.
    expect(await deliverPending({ database, transport, log, leaseMs: 60_000 })).toEqual({ sent: 0, failed: 0, deferred: 0 });
    expect(await deliverPending({ database, transport, log, leaseMs: 1 })).toEqual({ sent: 1, failed: 0, deferred: 0 });
    const after = await database.db.selectFrom('notification').select(['status', 'attempts', 'message_id']).where('notification_id', '=', target!).executeTakeFirstOrThrow();
    expect(after).toMatchObject({ status: 'sent', attempts: 2 });
    expect(sink.received.filter((m) => m.messageId === after.message_id)).toHaveLength(1);
  });
});

/**
 * A worker process as `ews serve --role worker` starts it, configured as a
 * deployment is: the environment, and a config file for what only it sets.
 */
async function workerProcess(env: Record<string, string>, file: object = {}) {
  const cwd = mkdtempSync(join(tmpdir(), 'ews-notify-cfg-'));
  writeFileSync(join(cwd, 'ews.config.json'), JSON.stringify(file));
  const queuePrefix = `ews-test-${randomBytes(4).toString('hex')}`;
  const cfg = loadConfig({
    env: {
      DATABASE_URL: databaseUrl(database.name), REDIS_URL: redisUrl(), QUEUE_PREFIX: queuePrefix, SMTP_URL: sink.url,
      EWS_DATA_DIR: join(cwd, 'data'), MODEL_THREADS: '1', SCORE_THREADS: '0', DB_POOL_SIZE: '4', ...env,
    },
    cwd,
  });
  const captured = captureLogger();
  const service = await serve(cfg, captured.log, new Set(['worker']));
  const alerts = new Queue('alerts', { connection, prefix: queuePrefix });
  const notify = new Queue('notify', { connection, prefix: queuePrefix });
  return {
    service,
    lines: captured.lines,
    notify,
    /** raise-alerts for a seeded run, as the night's flow adds it; resolves with the notifications it queued. */
    async raise(runId: number): Promise<number[]> {
      const before = await database.db.selectFrom('notification').select('notification_id').where('run_id', '=', runId).execute();
      expect(before).toEqual([]);
      await alerts.add('raise-alerts', { runId }, { jobId: raiseAlertsJobId(runId) });
      const result = await jobResult<{ notifications: number; enqueued: number }>(alerts, raiseAlertsJobId(runId));
      expect(result.enqueued).toBe(result.notifications);
      return (await database.db.selectFrom('notification').select('notification_id').where('run_id', '=', runId).execute()).map((r) => r.notification_id);
    },
    async close(): Promise<void> {
      await service.stop();
      await alerts.close();
      await notify.close();
      await obliterateQueues(connection, queuePrefix);
    },
  };
}

describe('settings of the notify stage, in a worker process', () => {
  it('NOTIFY_ATTEMPTS and NOTIFY_RETRY_BASE_MS: every notify job gets those attempts and that backoff; a relay failing every try fails each e-mail after exactly that many sends', async () => {
    const worker = await workerProcess({ NOTIFY_ATTEMPTS: '3', NOTIFY_RETRY_BASE_MS: '150' });
    try {
      sink.faults = { tempFailData: 10_000 };
      const ids = await worker.raise(await seedRun(database, '2027-01', [{ serial: 41, level: 1 }]));
      expect(ids.length).toBeGreaterThan(1);
      await until(async () => (await worker.notify.getJobCounts('failed')).failed === ids.length);
      for (const job of await worker.notify.getFailed()) {
        expect(job.opts).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delay: 150 } });
        expect(job.attemptsMade).toBe(3);
        // Two waits, 150 and 300 ms, between the three sends.
        expect(job.finishedOn! - job.timestamp).toBeGreaterThanOrEqual(450);
      }
      // Three sends each, none delivered: the rows wait for the sweep.
      const rows = await database.db.selectFrom('notification').select(['status', 'attempts']).where('notification_id', 'in', ids).execute();
      expect(rows).toEqual(ids.map(() => ({ status: 'pending', attempts: 3 })));
    } finally {
      sink.faults = {};
      await worker.close();
    }
  });

  it('nightly.stages.notify.concurrency and SHUTDOWN_GRACE_MS: a worker sends that many e-mails at once, and on shutdown waits that long for sends in flight', async () => {
    const worker = await workerProcess({ SHUTDOWN_GRACE_MS: '300' }, { nightly: { stages: { notify: { concurrency: 2 } } } });
    let stopped = false;
    try {
      // A slow relay: each message is answered 1.5 s after its DATA.
      sink.faults = { acceptDelayMs: 1_500 };
      const ids = await worker.raise(await seedRun(database, '2027-02', [{ serial: 51, level: 1 }, { serial: 52, level: 1, city: '510700' }]));
      expect(ids.length).toBeGreaterThan(2);
      const claims = async (): Promise<number> =>
        (await database.db.selectFrom('notification').select('attempts').where('notification_id', 'in', ids).execute()).reduce((n, r) => n + r.attempts, 0);
      await until(async () => (await claims()) === 2);
      const t0 = Date.now();
      await worker.service.stop();
      stopped = true;
      // The grace period ran out before the sends in flight were answered, and the log says so.
      const line = worker.lines.map((l) => JSON.parse(l) as { time: number; msg: string; graceMs?: number }).find((l) => l.msg === 'shutdown: jobs still running after the grace period are handed back');
      expect(line?.graceMs).toBe(300);
      expect(line!.time - t0).toBeGreaterThanOrEqual(300);
      expect(line!.time - t0).toBeLessThan(1_500);
      // Handed back, not waited for: the workers were closed right after the grace period, long before the relay's
      // answer 1.5 s after each DATA (before the fix BullMQ's forced close returned the graceful one, which waited).
      const closed = worker.lines.map((l) => JSON.parse(l) as { time: number; msg: string; handedBack?: boolean }).find((l) => l.msg === 'shutdown: workers closed');
      expect(closed?.handedBack).toBe(true);
      expect(closed!.time - line!.time).toBeLessThan(700);
      // Two at once, and no more taken up once shutdown began.
      expect(await claims()).toBe(2);
    } finally {
      sink.faults = {};
      if (!stopped) await worker.service.stop();
      await worker.close().catch(() => undefined);
    }
  });
});
