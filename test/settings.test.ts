import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ENV_OPTIONS, loadConfig, REFUSED_ENV, SPECIAL_ENV } from '../config/config.load.js';
import { AlertRepository } from '../services/alerts/alert.repository.js';
import { processRun } from '../services/alerts/alert.service.js';
import { startApiServer } from '../services/api/server.js';
import { connectDatabase } from '../services/db/connect.js';
import type { Database } from '../services/db/database.js';
import { nightShards } from '../services/nightly/nightly.service.js';
import { sendOutbox } from '../services/notify/deliver.js';
import { NotificationRepository } from '../services/notify/notification.repository.js';
import { computeCityRisk } from '../services/scoring/city.risk.js';
import { CliContext } from '../workers/cli/context.js';
import { openModel } from '../workers/cli/scoring.commands.js';
import { trainSettings } from '../workers/cli/train.command.js';
import { redisConnection } from '../workers/redis.js';
import { serve } from '../workers/serve.js';
import { trainHandlers } from '../workers/train.processors.js';
import { openQueues, startWorkers } from '../workers/worker.js';
import { seedRun } from './harness/alerts.js';
import { createTestDatabase } from './harness/db.js';
import { databaseUrl, redisUrl } from './harness/env.js';
import { captureLogger } from './harness/log.js';
import { obliterateQueues } from './harness/queues.js';
import { startSmtpSink, type SmtpSink } from './harness/smtp.js';
import { jobResult, until } from './harness/wait.js';
import { freePort } from './harness/ports.js';

/**
 * Every setting the README documents does something, and a test shows it:
 * SETTING_TESTS names, for each row of the README's configuration tables,
 * the test (file and name) that sets it and checks the effect. A row
 * without an entry, an entry for a setting the README no longer has, or a
 * test name that is not in its file fails here; so does an environment
 * variable the loader reads that the table does not list. The effects not
 * shown elsewhere are tested further down in this file.
 */

interface SettingTest {
  readonly file: string;
  readonly test: string;
}

const HERE = 'test/settings.test.ts';
const CLI = 'test/cli.test.ts';
const CONFIG = 'config/config.test.ts';
const NOTIFY_QUEUE = 'test/notify-queue.test.ts';
const INGEST_QUEUE = 'test/ingest-queue.test.ts';
const CONSOLE_API = 'test/console-api.test.ts';

const T = {
  configFile: { file: CONFIG, test: 'EWS_CONFIG names the file read (relative to the working directory); its values apply, and the environment wins over them' },
  production: { file: CONFIG, test: 'EWS_ENV (or NODE_ENV when EWS_ENV is unset) sets the environment; production needs no dashboard password' },
  productionRedis: { file: 'test/resilience.test.ts', test: 'is refused in production when it may evict keys, and reported at start when it persists nothing' },
  movedStage: { file: CONFIG, test: 'a config file that still sets attempts or backoff of the poll, ingest or notify stage is refused, naming the setting to use' },
  database: { file: HERE, test: 'DATABASE_URL and DB_POOL_SIZE: the process uses that database, with at most that many connections; more queries wait for one' },
  embedded: { file: HERE, test: 'EWS_DATA_DIR and EMBEDDED_PG_PORT: with no DATABASE_URL, the embedded PostgreSQL keeps its data under EWS_DATA_DIR/pg and listens on that port' },
  registry: { file: 'test/train-registry.test.ts', test: 'registers a judged version, never touches the shipped model, does not promote a tie, and scoring records the version it used' },
  redis: { file: CLI, test: 'REDIS_URL and QUEUE_PREFIX: ews queues reports the queues of that Redis database under that prefix' },
  log: { file: CLI, test: 'LOG_LEVEL and LOG_FORMAT: log lines below the level are not written; json is one JSON object a line, pretty is for people' },
  feeds: { file: CLI, test: 'FEED_SOURCES, FEED_TOKEN_<NAME>, FEED_HTTP_TIMEOUT_MS and FEED_HTTP_RETRIES: the named source is read with its token, timed out and retried as set' },
  ingestJobs: {
    file: INGEST_QUEUE,
    test: "INGEST_ATTEMPTS and FEED_RETRY_BASE_MS: the night's ingest-batch jobs get the same attempts and backoff as poll-source's, and a batch that never lands fails after that many; the night's own step takes nightly.stages.nightly's",
  },
  ingestPoll: { file: INGEST_QUEUE, test: 'a batch whose file has not landed fails after its attempts; the next poll retries it and it loads' },
  modelDir: { file: 'test/score.test.ts', test: 'refuses a corrupt artifact with a clear reason and scores with rules only, saying so' },
  threads: { file: HERE, test: 'MODEL_THREADS and SCORE_THREADS: the CLI starts that many inference and scoring threads' },
  shards: { file: HERE, test: 'SCORE_SHARDS: a night is scored in that many bucket-range shards, which cover every bucket once' },
  mail: { file: HERE, test: 'SMTP_URL, NOTIFY_FROM and CONSOLE_URL: e-mails go to that relay, from that address, linking to that console' },
  outbox: { file: 'test/alerts.test.ts', test: 'writes each e-mail once as <Message-ID>.eml under the outbox, through the same delivery code' },
  notifyJobs: {
    file: NOTIFY_QUEUE,
    test: 'NOTIFY_ATTEMPTS and NOTIFY_RETRY_BASE_MS: every notify job gets those attempts and that backoff; a relay failing every try fails each e-mail after exactly that many sends',
  },
  lease: { file: HERE, test: 'NOTIFY_SEND_LEASE_MS: an e-mail claimed by a sender that went quiet is sent by another only once the lease has run out' },
  quiet: { file: HERE, test: 'ALERT_RESOLVE_QUIET_MONTHS: an alert resolves after that many months without a signal, not before' },
  followUps: { file: HERE, test: 'ALERT_REMINDER_HOURS and ALERT_ESCALATE_DAYS: an unacknowledged Ⅱ alert is re-sent after that many hours and escalated to the province after that many days' },
  api: { file: HERE, test: 'PORT: the API listens on that port, with the console, /api/v1 and the queue dashboard behind one login' },
  sessionIdle: { file: CONSOLE_API, test: 'SESSION_IDLE_MINUTES: a session unused for longer than that many minutes is refused (401, log in again); one used within them lives on' },
  sessionMax: { file: CONSOLE_API, test: 'SESSION_MAX_HOURS: the session cookie lasts that many hours and the session ends then, however busy' },
  lockout: {
    file: CONSOLE_API,
    test: 'LOGIN_MAX_FAILURES and LOCKOUT_MINUTES: that many wrong passwords in a row lock the account (423) for that many minutes, even to the right password; a reset lifts the lock',
  },
  loginRate: { file: CONSOLE_API, test: 'LOGIN_RATE_PER_MINUTE: past that many login attempts a minute from one address the login answers 429' },
  trustProxy: { file: CONSOLE_API, test: 'TRUST_PROXY: behind a trusted proxy each forwarded client has its own login limit and is audited by its own address; otherwise X-Forwarded-For is ignored' },
  cookieSecure: { file: CONSOLE_API, test: 'COOKIE_SECURE: the session cookie is Secure when always, or when auto and CONSOLE_URL is https; never otherwise' },
  ackHours: { file: CONSOLE_API, test: 'alerts.ackHoursUrgent and alerts.ackHoursLevel3: the province overview counts an acknowledgement in time only within those hours' },
  schedules: {
    file: HERE,
    test: 'NIGHTLY_CRON, NIGHTLY_TZ, POLL_CRON, TRAIN_CRON and NOTIFY_SWEEP_MS: the scheduler fires the night, the catch-up poll, the retraining and the outbox sweep on those schedules',
  },
  stall: { file: 'test/night-watch.test.ts', test: 're-drives a night whose jobs were all lost from Redis mid-score: every employer scored once, every e-mail sent once' },
  training: { file: HERE, test: 'TRAIN_EPOCHS, TRAIN_KIND, TRAIN_HOLDOUT_MONTHS, training.seed and training.negatives: ews train runs with them unless a flag says otherwise' },
  trainJob: { file: HERE, test: 'training.attempts: the monthly retrain adds its train job with that many attempts' },
  grace: {
    file: NOTIFY_QUEUE,
    test: 'nightly.stages.notify.concurrency and SHUTDOWN_GRACE_MS: a worker sends that many e-mails at once, and on shutdown waits that long for sends in flight',
  },
  thresholds: { file: 'services/scoring/rules/levels.test.ts', test: '规模: a layoff or closure below the minimum jobs at stake is listed at Ⅳ, never Ⅲ or above' },
  cityRisk: { file: HERE, test: "scoring.cityRisk: a city's level follows the bands of the config file" },
  recipients: { file: 'test/alerts.test.ts', test: 'Ⅰ/Ⅱ go at once, one e-mail per recipient and city, with the chart inline; Ⅲ/Ⅳ in one digest; nothing twice' },
} satisfies Record<string, SettingTest>;

/** Each setting the README documents → the tests that show its effect. */
export const SETTING_TESTS: Readonly<Record<string, readonly SettingTest[]>> = {
  EWS_CONFIG: [T.configFile],
  EWS_ENV: [T.production, T.productionRedis],
  NODE_ENV: [T.production],
  DATABASE_URL: [T.database],
  DB_POOL_SIZE: [T.database],
  EMBEDDED_PG_PORT: [T.embedded],
  EWS_DATA_DIR: [T.embedded, T.registry],
  REDIS_URL: [T.redis],
  QUEUE_PREFIX: [T.redis],
  LOG_LEVEL: [T.log],
  LOG_FORMAT: [T.log],
  FEED_SOURCES: [T.feeds],
  'FEED_TOKEN_<NAME>': [T.feeds],
  FEED_HTTP_TIMEOUT_MS: [T.feeds],
  FEED_HTTP_RETRIES: [T.feeds],
  FEED_RETRY_BASE_MS: [T.ingestJobs, T.feeds],
  INGEST_ATTEMPTS: [T.ingestJobs, T.ingestPoll],
  MODEL_DIR: [T.modelDir],
  MODEL_THREADS: [T.threads],
  SCORE_SHARDS: [T.shards],
  SCORE_THREADS: [T.threads],
  SMTP_URL: [T.mail],
  OUTBOX_DIR: [T.outbox],
  NOTIFY_FROM: [T.mail],
  CONSOLE_URL: [T.mail, T.cookieSecure],
  NOTIFY_ATTEMPTS: [T.notifyJobs, T.movedStage],
  NOTIFY_RETRY_BASE_MS: [T.notifyJobs, T.movedStage],
  NOTIFY_SEND_LEASE_MS: [T.lease],
  NOTIFY_SWEEP_MS: [T.schedules],
  ALERT_RESOLVE_QUIET_MONTHS: [T.quiet],
  ALERT_REMINDER_HOURS: [T.followUps],
  ALERT_ESCALATE_DAYS: [T.followUps],
  PORT: [T.api],
  SESSION_IDLE_MINUTES: [T.sessionIdle],
  SESSION_MAX_HOURS: [T.sessionMax],
  LOGIN_MAX_FAILURES: [T.lockout],
  LOCKOUT_MINUTES: [T.lockout],
  LOGIN_RATE_PER_MINUTE: [T.loginRate],
  COOKIE_SECURE: [T.cookieSecure],
  TRUST_PROXY: [T.trustProxy],
  NIGHTLY_CRON: [T.schedules],
  NIGHTLY_TZ: [T.schedules],
  POLL_CRON: [T.schedules],
  NIGHT_STALL_MS: [T.stall],
  TRAIN_CRON: [T.schedules],
  TRAIN_EPOCHS: [T.training],
  TRAIN_KIND: [T.training],
  TRAIN_HOLDOUT_MONTHS: [T.training],
  SHUTDOWN_GRACE_MS: [T.grace],
  'nightly.stages.<stage>.concurrency': [T.grace],
  'nightly.stages.<stage>.attempts': [T.ingestJobs, T.movedStage],
  'nightly.stages.<stage>.backoffMs': [T.ingestJobs, T.movedStage],
  'training.negatives': [T.training],
  'training.seed': [T.training],
  'training.attempts': [T.trainJob],
  'scoring.thresholds': [T.thresholds],
  'scoring.cityRisk': [T.cityRisk],
  'alerts.ackHoursUrgent': [T.ackHours],
  'alerts.ackHoursLevel3': [T.ackHours],
  'notify.cities': [T.recipients],
  'notify.province': [T.recipients],
};

const ROOT = new URL('../', import.meta.url);

/** The settings the README's Configuration section documents: every name in backquotes in the first cell of its tables' rows. */
function documentedSettings(): string[] {
  const readme = readFileSync(new URL('README.md', ROOT), 'utf8');
  const start = readme.indexOf('\n## Configuration\n');
  const end = readme.indexOf('\n## ', start + 1);
  expect(start).toBeGreaterThan(0);
  const names: string[] = [];
  for (const line of readme.slice(start, end === -1 ? undefined : end).split('\n')) {
    if (!line.startsWith('| `')) continue;
    const first = line.split('|')[1] ?? '';
    for (const m of first.matchAll(/`([^`]+)`/g)) names.push(m[1] as string);
  }
  return names;
}


/** Whether a test file declares a test of exactly this name (as a string literal, in any quotes). */
function declares(text: string, name: string): boolean {
  const quoted = [`'${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`, `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`, `\`${name}\``];
  return quoted.some((q) => new RegExp(`\\bit(?:\\.\\w+(?:\\([^)]*\\))?)?\\(\\s*${q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`).test(text));
}

describe('every documented setting has a test that shows its effect', () => {
  it('every row of the README\'s configuration tables names a test, and each named test exists in its file', () => {
    const documented = documentedSettings();
    expect(documented.length).toBeGreaterThan(40);
    expect(documented.filter((name) => SETTING_TESTS[name] === undefined), 'settings the README documents without an entry in SETTING_TESTS').toEqual([]);
    expect(Object.keys(SETTING_TESTS).filter((name) => !documented.includes(name)), 'entries of SETTING_TESTS the README does not document').toEqual([]);
    const missing: string[] = [];
    for (const [setting, tests] of Object.entries(SETTING_TESTS)) {
      expect(tests.length, setting).toBeGreaterThan(0);
      for (const t of tests) {
        const path = new URL(t.file, ROOT);
        if (!existsSync(path) || !declares(readFileSync(path, 'utf8'), t.test)) missing.push(`${setting}: ${t.file} › ${t.test}`);
      }
    }
    expect(missing, 'tests named in SETTING_TESTS that are not in their file').toEqual([]);
  });

  it('every environment variable the configuration reads is a row of the README\'s table, but those it reads only to refuse', () => {
    const documented = documentedSettings();
    const refused: readonly string[] = REFUSED_ENV;
    expect([...ENV_OPTIONS.map((o) => o.env), ...SPECIAL_ENV].filter((name) => !documented.includes(name) && !refused.includes(name))).toEqual([]);
    expect(refused.filter((name) => documented.includes(name)), 'refused variables the README still lists as settings').toEqual([]);
  });

  it('the check itself tells a declared test from a name that is only mentioned', () => {
    const text = "it('a real test', () => {});\n// 'a comment'\nit.runIf(x)(\"another\", () => {});";
    expect(declares(text, 'a real test')).toBe(true);
    expect(declares(text, 'another')).toBe(true);
    expect(declares(text, 'a comment')).toBe(false);
    expect(declares(text, 'a real')).toBe(false);
  });
});

// ---------------------------------------------------------------------------
// The effects not shown elsewhere.

let database: Database & { name: string };
const log = captureLogger().log;
const scratch = mkdtempSync(join(tmpdir(), 'ews-settings-'));
const connection = redisConnection(redisUrl());

/** The configuration as a deployment gives it: these variables, and a config file when given. */
function configured(env: Record<string, string>, file?: object) {
  const cwd = mkdtempSync(join(scratch, 'cfg-'));
  if (file !== undefined) writeFileSync(join(cwd, 'ews.config.json'), JSON.stringify(file));
  return loadConfig({ env: { EWS_DATA_DIR: join(cwd, 'data'), ...env }, cwd });
}

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('the database', () => {
  it('DATABASE_URL and DB_POOL_SIZE: the process uses that database, with at most that many connections; more queries wait for one', async () => {
    const config = configured({ DATABASE_URL: databaseUrl(database.name), DB_POOL_SIZE: '2' });
    const db = await connectDatabase(config, log);
    try {
      expect((await db.pool.query<{ name: string }>('SELECT current_database() AS name')).rows).toEqual([{ name: database.name }]);
      const sleeping = (): Promise<number> =>
        database.pool
          .query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(0.4)%' AND pid <> pg_backend_pid()")
          .then((r) => r.rows[0]?.n ?? 0);
      const four = Promise.all([1, 2, 3, 4].map(() => db.pool.query('SELECT pg_sleep(0.4)')));
      await until(async () => (await sleeping()) === 2);
      expect(db.pool.totalCount).toBe(2);
      expect(db.pool.waitingCount).toBe(2);
      await four;
    } finally {
      await db.close();
    }
  });

  it('EWS_DATA_DIR and EMBEDDED_PG_PORT: with no DATABASE_URL, the embedded PostgreSQL keeps its data under EWS_DATA_DIR/pg and listens on that port', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ews-settings-pg-'));
    // Open to the server's own user when the tests run as root (docs: embedded PostgreSQL as root).
    chmodSync(dataDir, 0o755);
    const port = await freePort();
    const config = configured({ EWS_DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(port) });
    expect(config.database.url).toBeUndefined();
    const db = await connectDatabase(config, log);
    try {
      const { rows } = await db.pool.query<{ port: number; dir: string }>("SELECT inet_server_port() AS port, current_setting('data_directory') AS dir");
      expect(rows).toEqual([{ port, dir: join(dataDir, 'pg') }]);
      expect(existsSync(join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);
    } finally {
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('scoring', () => {
  it('SCORE_SHARDS: a night is scored in that many bucket-range shards, which cover every bucket once', () => {
    for (const [value, n] of [[undefined, 64], ['5', 5], ['256', 256]] as const) {
      const shards = nightShards(configured(value !== undefined ? { SCORE_SHARDS: value } : {}));
      expect(shards).toHaveLength(n);
      const buckets = shards.flatMap((s) => Array.from({ length: s.bucketTo - s.bucketFrom + 1 }, (_, i) => s.bucketFrom + i));
      expect(buckets).toEqual(Array.from({ length: 256 }, (_, i) => i));
    }
  });

  it('MODEL_THREADS and SCORE_THREADS: the CLI starts that many inference and scoring threads', async () => {
    // Both unlike their defaults (2 and 2).
    const ctx = new CliContext(configured({ DATABASE_URL: databaseUrl(database.name), MODEL_THREADS: '1', SCORE_THREADS: '1', LOG_LEVEL: 'silent' }));
    try {
      const setup = await openModel(ctx);
      expect(setup.model).not.toBeNull();
      expect(setup.threads).toEqual({ model: 1, scoring: 1 });
    } finally {
      await ctx.close();
    }
  });

  it("scoring.cityRisk: a city's level follows the bands of the config file", () => {
    // Chengdu files three times the claims of the same month in earlier years.
    const inputs = {
      aggregates: [{
        city_code: '510100', section: '*', employers: 1000, expected: 10, layoffs: 0, job_losses: 0, separated: 300, separated_migrant: null, separated_graduate: null,
        migrant_reporters: 0, graduate_reporters: 0, jobs_at_stake: 0, jobs_at_stake_migrant: 0, jobs_at_stake_graduate: 0,
      }],
      regional: new Map([['510100', { registered: 80000, claims: 6000, surveyed: null, earlierClaims: [2000, 2000] }]]),
      loadedFeeds: new Set(['social_insurance', 'headcount', 'regional']),
      siRows: new Map([['510100', { now: 1000, before: 1000 }]]),
    };
    const level = (file?: object): number | null =>
      computeCityRisk(inputs, configured({}, file).scoring.cityRisk).find((r) => r.cityCode === '510100' && r.industrySection === '*')?.level ?? null;
    expect(level()).toBe(1);
    expect(level({ scoring: { cityRisk: { claimsRatio: [6, 5, 4, 2.5] } } })).toBe(4);
    expect(level({ scoring: { cityRisk: { claimsRatio: [8, 7, 6, 5] } } })).toBeNull();
  });
});

describe('retraining', () => {
  it('TRAIN_EPOCHS, TRAIN_KIND, TRAIN_HOLDOUT_MONTHS, training.seed and training.negatives: ews train runs with them unless a flag says otherwise', () => {
    expect(trainSettings(configured({}).training, {})).toEqual({ epochs: 12, kind: 'tcn', holdoutMonths: 3, seed: 1, negatives: 0.25 });
    const set = configured({ TRAIN_EPOCHS: '4', TRAIN_KIND: 'gru', TRAIN_HOLDOUT_MONTHS: '2' }, { training: { seed: 9, negatives: 0.5 } }).training;
    expect(trainSettings(set, {})).toEqual({ epochs: 4, kind: 'gru', holdoutMonths: 2, seed: 9, negatives: 0.5 });
    expect(trainSettings(set, { epochs: '1', kind: 'logistic', holdoutMonths: '1', seed: '3', negatives: '1' })).toEqual({ epochs: 1, kind: 'logistic', holdoutMonths: 1, seed: 3, negatives: 1 });
  });

  it('training.attempts: the monthly retrain adds its train job with that many attempts', async () => {
    await database.db
      .insertInto('batch')
      .values({ source: 'test', source_url: 'file:///settings/', file: 'si-2026-10.csv', feed: 'social_insurance', period: '2026-10-01', sha256: 'e'.repeat(64), declared_rows: 0, encoding: 'utf-8', order_key: 1, status: 'loaded' })
      .execute();
    const prefix = `ews-settings-${randomBytes(4).toString('hex')}`;
    const config = configured({ DATABASE_URL: databaseUrl(database.name) }, { training: { attempts: 7 } });
    const queues = openQueues(connection, prefix);
    const handlers = trainHandlers({ config, database, log, queues });
    // Only the retrain step: the train job it adds stays queued.
    const workers = startWorkers({ retrain: handlers.retrain }, { connection, prefix, log, queues: ['train'] });
    try {
      await queues.queues.train.add('retrain', { reason: 'manual' }, { jobId: 'fired' });
      expect(await jobResult(queues.queues.train, 'fired')).toEqual({ queued: true, jobId: 'train.2026-10' });
      expect((await queues.queues.train.getJob('train.2026-10'))?.opts.attempts).toBe(7);
    } finally {
      await workers.close();
      await handlers.close();
      await queues.close();
      await obliterateQueues(connection, prefix);
    }
  });
});

describe('alerts and e-mail', () => {
  // Each test on a database of its own: alerts, outbox and runs from nothing.
  let db: Database & { name: string };
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink.close();
  });
  beforeEach(async () => {
    db = await createTestDatabase();
    sink.received.length = 0;
    sink.faults = {};
  });
  afterEach(async () => {
    await db.close();
  });

  const alertStatus = async (): Promise<string | undefined> => (await new AlertRepository(db).list())[0]?.status;

  it('ALERT_RESOLVE_QUIET_MONTHS: an alert resolves after that many months without a signal, not before', async () => {
    const config = configured({ ALERT_RESOLVE_QUIET_MONTHS: '2' });
    const deps = { database: db, alerts: config.alerts, notify: config.notify, log };
    await processRun(deps, await seedRun(db, '2026-06', [{ serial: 1, level: 3 }]));
    await processRun(deps, await seedRun(db, '2026-07', []));
    expect(await alertStatus()).toBe('open');
    await processRun(deps, await seedRun(db, '2026-08', []));
    expect(await alertStatus()).toBe('resolved');
  });

  it('ALERT_REMINDER_HOURS and ALERT_ESCALATE_DAYS: an unacknowledged Ⅱ alert is re-sent after that many hours and escalated to the province after that many days', async () => {
    const config = configured({ ALERT_REMINDER_HOURS: '6', ALERT_ESCALATE_DAYS: '1' });
    const deps = { database: db, alerts: config.alerts, notify: config.notify, log };
    const t0 = new Date('2026-11-03T01:00:00Z');
    const at = (hours: number): Date => new Date(t0.getTime() + hours * 3_600_000);
    const followUps = async (hours: number): Promise<string[]> => {
      const run = await seedRun(db, '2026-10', [{ serial: 1, level: 2 }]);
      await processRun(deps, run, { now: at(hours) });
      const rows = await db.db.selectFrom('notification').select('kind').where('run_id', '=', run).execute();
      return rows.map((r) => r.kind).filter((k) => k === 'reminder' || k === 'escalation').sort();
    };
    await processRun(deps, await seedRun(db, '2026-10', [{ serial: 1, level: 2 }]), { now: t0 });
    expect(await followUps(5)).toEqual([]);
    expect(await followUps(6)).toEqual(['reminder']);
    expect(await followUps(11)).toEqual([]);
    expect(await followUps(24)).toEqual(['escalation', 'reminder']);
  });

  it('SMTP_URL, NOTIFY_FROM and CONSOLE_URL: e-mails go to that relay, from that address, linking to that console', async () => {
    const config = configured({ SMTP_URL: sink.url, NOTIFY_FROM: 'warnings@hrss.example', CONSOLE_URL: 'https://console.hrss.example/ews/' });
    await processRun({ database: db, alerts: config.alerts, notify: config.notify, log }, await seedRun(db, '2026-10', [{ serial: 1, level: 1 }]));
    const rows = await db.db.selectFrom('notification').select(['message_id', 'kind']).execute();
    expect(await sendOutbox(db, config.notify, log)).toEqual({ sent: rows.length, failed: 0, deferred: 0 });
    const mails = await sink.waitFor(rows.length);
    expect(mails.map((m) => m.envelopeFrom)).toEqual(rows.map(() => 'warnings@hrss.example'));
    expect(mails.every((m) => m.raw.toString('utf8').includes('<warnings@hrss.example>'))).toBe(true);
    const [alert] = await new AlertRepository(db).list();
    const urgent = mails.find((m) => m.messageId === rows.find((r) => r.kind === 'immediate')?.message_id);
    expect(urgent?.text).toContain(`https://console.hrss.example/ews/alerts/${alert!.alert_id}`);
  });

  it('NOTIFY_SEND_LEASE_MS: an e-mail claimed by a sender that went quiet is sent by another only once the lease has run out', async () => {
    const config = configured({ SMTP_URL: sink.url, NOTIFY_SEND_LEASE_MS: '1500' });
    await processRun({ database: db, alerts: config.alerts, notify: config.notify, log }, await seedRun(db, '2026-10', [{ serial: 1, level: 1 }]));
    const ids = (await db.db.selectFrom('notification').select('notification_id').orderBy('notification_id').execute()).map((r) => r.notification_id);
    const [abandoned] = ids;
    // A sender claims it and is never heard of again.
    expect(await new NotificationRepository(db).claim(abandoned!, config.notify.sendLeaseMs)).toBeDefined();
    const claimedAt = Date.now();
    expect(await sendOutbox(db, config.notify, log)).toEqual({ sent: ids.length - 1, failed: 0, deferred: 0 });
    let sentAt = 0;
    await until(async () => {
      const out = await sendOutbox(db, config.notify, log);
      sentAt = Date.now();
      return out.sent === 1;
    }, 10_000);
    expect(sentAt - claimedAt).toBeGreaterThanOrEqual(1500);
    const row = await db.db.selectFrom('notification').select(['status', 'attempts']).where('notification_id', '=', abandoned!).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'sent', attempts: 2 });
  });
});

describe('the service processes', () => {
  it('PORT: the API listens on that port, with the console, /api/v1 and the queue dashboard behind one login', async () => {
    const port = await freePort();
    const config = configured({ PORT: String(port) });
    const queues = openQueues(connection, `ews-settings-${randomBytes(4).toString('hex')}`);
    const api = await startApiServer({ config, database, queues: Object.values(queues.queues), log }, { host: '127.0.0.1' });
    try {
      expect(api.port).toBe(port);
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/login`)).status).toBe(200);
      expect((await fetch(`${base}/api/v1/alerts`)).status).toBe(401);
      const dashboard = await fetch(`${base}/admin/queues`, { redirect: 'manual' });
      expect(dashboard.status).toBe(303);
      expect(dashboard.headers.get('location')).toBe('/login?next=%2Fadmin%2Fqueues');
    } finally {
      await api.close();
      await queues.close();
    }
  });

  it('NIGHTLY_CRON, NIGHTLY_TZ, POLL_CRON, TRAIN_CRON and NOTIFY_SWEEP_MS: the scheduler fires the night, the catch-up poll, the retraining and the outbox sweep on those schedules', async () => {
    const prefix = `ews-settings-${randomBytes(4).toString('hex')}`;
    const config = configured({
      DATABASE_URL: databaseUrl(database.name), REDIS_URL: redisUrl(), QUEUE_PREFIX: prefix, LOG_LEVEL: 'silent',
      // Kathmandu is UTC+05:45: 02:30 there is 20:45 UTC the day before.
      NIGHTLY_CRON: '30 2 * * *', NIGHTLY_TZ: 'Asia/Kathmandu', POLL_CRON: '*/20 * * * *', TRAIN_CRON: '0 5 6 * *', NOTIFY_SWEEP_MS: '90000',
    });
    const service = await serve(config, log, new Set(['scheduler']));
    const nightly = new Queue('nightly', { connection, prefix });
    const notify = new Queue('notify', { connection, prefix });
    const train = new Queue('train', { connection, prefix });
    try {
      const night = await nightly.getJobScheduler('nightly');
      expect(night).toMatchObject({ pattern: '30 2 * * *', tz: 'Asia/Kathmandu' });
      const next = new Date(night!.next!);
      expect([next.getUTCHours(), next.getUTCMinutes()]).toEqual([20, 45]);
      expect(await nightly.getJobScheduler('catch-up')).toMatchObject({ pattern: '*/20 * * * *', tz: 'Asia/Kathmandu' });
      expect(await train.getJobScheduler('retrain')).toMatchObject({ pattern: '0 5 6 * *', tz: 'Asia/Kathmandu' });
      expect(await notify.getJobScheduler('notify-sweep')).toMatchObject({ every: 90000 });
    } finally {
      await service.stop();
      for (const q of [nightly, notify, train]) await q.close();
      await obliterateQueues(connection, prefix);
    }
  });
});
