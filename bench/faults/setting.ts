import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { CITIES } from '../../config/cities.js';
import { ENV_OPTIONS } from '../../config/config.load.js';
import { configSchema } from '../../config/config.schema.js';
import { openDatabase } from '../../services/db/database.js';
import { migrate } from '../../services/db/migrate.js';
import { BatchRepository } from '../../services/feeds/batch.repository.js';
import { ingestBatch, pendingEntries } from '../../services/feeds/ingest.service.js';
import type { ManifestEntry } from '../../services/feeds/manifest.js';
import { openSource } from '../../services/feeds/source.js';
import { generateProvince, type GenerateSummary } from '../../services/synth/province.generate.js';
import { serveSource, type HttpSource } from '../../test/harness/http-source.js';
import { captureLogger } from '../../test/harness/log.js';
import { startSmtpSink, type SmtpSink } from '../../test/harness/smtp.js';
import { removeDir, removeOnExit, startPgCluster, type PgCluster } from './processes.js';

/**
 * What every night of the matrix shares, set up once: a synthetic province
 * (the project's generator), a PostgreSQL cluster of our own with a template
 * database holding every batch but those of the last NIGHT_MONTHS months
 * (which the night itself polls and ingests, so there is an ingest to
 * interrupt), the feed served over HTTP by a server in this process that can
 * misbehave, the project's SMTP test server in this process, and the worker
 * settings (short locks, backoffs and lease, so recovery is quick).
 */

export const NIGHT_MONTHS = 3;
export const NIGHT_DATE = '2026-11-03';
export const LAST_PERIOD = '2026-10';
export const QUEUE_PREFIX = 'ews-faults';
const TEMPLATE = 'ews_faults_template';
const BIN = fileURLToPath(new URL('../../bin/ews.js', import.meta.url));

/** The settings the roles run with (README's variables), chosen so that a crash is noticed and recovered from in seconds. */
export const SETTINGS = {
  jobLockMs: 3_000,
  sendLeaseMs: 10_000,
  feedTimeoutMs: 2_000,
  feedRetries: 2,
  stages: {
    poll: { attempts: 3, backoffMs: 300 },
    ingest: { attempts: 5, backoffMs: 300 },
    nightly: { attempts: 4, backoffMs: 300 },
    score: { attempts: 4, backoffMs: 300 },
    alerts: { attempts: 5, backoffMs: 300 },
    // 0.5 + 1 + 2 + … s: the retries outlast the lease, so a send abandoned by a dead worker is taken up again.
    notify: { attempts: 7, backoffMs: 500 },
  },
} as const;

/** Settings a version of the service may or may not have (looked up in ENV_OPTIONS), and their short values here. */
const OPTIONAL_ENV: Record<string, string> = {
  NOTIFY_SEND_LEASE_MS: String(SETTINGS.sendLeaseMs),
  NIGHT_STALL_MS: '10000',
};

/**
 * The config file as this version of the service accepts it: keys its
 * schema refuses (settings moved or removed while the service changes) are
 * left out, and listed.
 */
function fitToSchema(wanted: Record<string, unknown>): { config: Record<string, unknown>; dropped: string[] } {
  const config = structuredClone(wanted);
  const dropped: string[] = [];
  for (let round = 0; round < 50; round++) {
    const parsed = configSchema.safeParse(config);
    if (parsed.success) return { config, dropped };
    let removed = false;
    for (const issue of parsed.error.issues) {
      const path = issue.path.map(String);
      // Remove the deepest key of the path that exists.
      for (let depth = path.length; depth > 0 && !removed; depth--) {
        const parent = path.slice(0, depth - 1).reduce<unknown>((o, k) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined), config);
        const key = path[depth - 1] as string;
        if (typeof parent === 'object' && parent !== null && key in parent) {
          delete (parent as Record<string, unknown>)[key];
          dropped.push(path.slice(0, depth).join('.'));
          removed = true;
        }
      }
    }
    if (!removed) throw new Error(`the harness's config file is refused: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  throw new Error('the harness could not fit its config file to the schema');
}

export interface Setting {
  readonly dir: string;
  readonly pg: PgCluster;
  readonly http: HttpSource;
  readonly sink: SmtpSink;
  readonly summary: GenerateSummary;
  readonly employers: number;
  /** The batches the night ingests, in manifest order. */
  readonly nightEntries: readonly ManifestEntry[];
  readonly bin: string;
  readonly configFile: string;
  /** A sweep interval setting, if the service has one (found in ENV_OPTIONS); undefined: the sweep runs every 10 minutes, hard-coded. */
  readonly sweepSetting: { env: string; value: string } | undefined;
  /** Optional settings this version of the service has, as set (OPTIONAL_ENV). */
  readonly optional: Readonly<Record<string, string>>;
  /** The service's own watch for a stalled night (NIGHT_STALL_MS), when it has one: a night idle for less is not yet stuck. */
  readonly stallMs?: number;
  /** A fresh database for one night, cloned from the template. */
  cloneDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  /** The environment of one role process. */
  roleEnv(databaseUrl: string, redisUrl: string, dataDir: string): Record<string, string>;
  close(): Promise<void>;
}

export async function prepareSetting(options: { employers: number; seed?: number; say: (s: string) => void }): Promise<Setting> {
  const { say } = options;
  const dir = mkdtempSync('/var/tmp/ews-faults-');
  // The postgres user must pass through (initdb, its socket); nothing in here is secret.
  chmodSync(dir, 0o755);
  removeOnExit(dir);
  let pgc: PgCluster | undefined;
  let http: HttpSource | undefined;
  let sink: SmtpSink | undefined;
  try {
    const t = Date.now();
    const summary = await generateProvince({ outDir: join(dir, 'province'), employers: options.employers, months: 26, seed: options.seed ?? 7, lastPeriod: LAST_PERIOD });
    say(`province: ${summary.employers} employers × ${summary.months} months, ${summary.batches} batches (${((Date.now() - t) / 1000).toFixed(1)} s)`);

    pgc = await startPgCluster(join(dir, 'pg'));
    const admin = new pg.Client({ connectionString: pgc.url('postgres') });
    await admin.connect();
    const version = Number((await admin.query<{ v: string }>('SHOW server_version_num')).rows[0]?.v ?? '0');
    await admin.query(`CREATE DATABASE ${TEMPLATE}`);
    await admin.end();

    const t2 = Date.now();
    const database = openDatabase(pgc.url(TEMPLATE), 4);
    let nightEntries: ManifestEntry[];
    try {
      await migrate(database.pool);
      const deps = { batches: new BatchRepository(database), log: captureLogger().log };
      const source = openSource({ name: 'history', url: `file://${summary.sourceDir}/` }, { timeoutMs: 30_000, retries: 0, retryBaseMs: 10, spoolDir: join(dir, 'spool') });
      const all = (await pendingEntries(deps, source)).pending;
      const months = [...new Set(all.map((e) => e.period))].sort();
      const firstNight = months[months.length - NIGHT_MONTHS] as string;
      nightEntries = all.filter((e) => e.period >= firstNight);
      for (const entry of all.filter((e) => e.period < firstNight)) {
        const out = await ingestBatch(deps, source, entry);
        if (out.status === 'rejected') say(`  template: ${entry.file} rejected (${out.reason ?? ''})`);
      }
      await database.pool.query('VACUUM ANALYZE');
    } finally {
      await database.close();
    }
    say(`template database: ${months(summary) - NIGHT_MONTHS} months loaded; the night ingests ${nightEntries.length} batches (${((Date.now() - t2) / 1000).toFixed(1)} s)`);

    const admin2 = new pg.Client({ connectionString: pgc.url('postgres') });
    await admin2.connect();
    await admin2.query('CHECKPOINT');
    await admin2.end();

    http = await serveSource(summary.sourceDir);
    sink = await startSmtpSink({ parse: false });

    const configFile = join(dir, 'ews.config.json');
    const { config: fitted, dropped } = fitToSchema({
      nightly: { jobLockMs: SETTINGS.jobLockMs, stages: SETTINGS.stages },
      notify: {
        sendLeaseMs: SETTINGS.sendLeaseMs,
        cities: Object.fromEntries(CITIES.map((c) => [c.code, [{ email: `dept-${c.code}@city.example` }]])),
        province: [{ email: 'office@province.example', levels: [1, 2] }],
      },
    });
    if (dropped.length > 0) say(`config file: left out what this version of the service refuses (${dropped.join(', ')}); the environment sets it`);
    writeFileSync(configFile, JSON.stringify(fitted, null, 2));

    const sweep = ENV_OPTIONS.find((o) => /SWEEP/i.test(o.env));
    const sweepSetting = sweep === undefined ? undefined : { env: sweep.env, value: /CRON/i.test(sweep.env) ? '*/5 * * * * *' : /_S$/i.test(sweep.env) ? '5' : '5000' };
    // Optional settings a version of the service may have: set short when it does.
    const optional = Object.fromEntries(
      Object.entries(OPTIONAL_ENV).filter(([env]) => ENV_OPTIONS.some((o) => o.env === env)),
    );
    const stall = optional['NIGHT_STALL_MS'];
    const stallMs = stall !== undefined ? Number(stall) : undefined;

    const cluster = pgc;
    const httpSource = http;
    const smtp = sink;
    return {
      dir,
      pg: cluster,
      http: httpSource,
      sink: smtp,
      summary,
      employers: options.employers,
      nightEntries,
      bin: BIN,
      configFile,
      sweepSetting,
      optional,
      ...(stallMs !== undefined ? { stallMs } : {}),
      async cloneDatabase(name) {
        const c = new pg.Client({ connectionString: cluster.url('postgres') });
        await c.connect();
        try {
          await c.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}${version >= 150000 ? ' STRATEGY FILE_COPY' : ''}`);
        } finally {
          await c.end();
        }
        return cluster.url(name);
      },
      async dropDatabase(name) {
        const c = new pg.Client({ connectionString: cluster.url('postgres') });
        c.on('error', () => undefined);
        await c.connect();
        try {
          await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        } finally {
          await c.end();
        }
      },
      roleEnv(databaseUrl, redisUrl, dataDir) {
        return {
          PATH: process.env['PATH'] ?? '/usr/bin:/bin',
          HOME: process.env['HOME'] ?? dir,
          EWS_CONFIG: configFile,
          DATABASE_URL: databaseUrl,
          DB_POOL_SIZE: '6',
          REDIS_URL: redisUrl,
          QUEUE_PREFIX,
          SMTP_URL: smtp.url,
          FEED_SOURCES: `exchange=${httpSource.url}`,
          FEED_HTTP_TIMEOUT_MS: String(SETTINGS.feedTimeoutMs),
          FEED_HTTP_RETRIES: String(SETTINGS.feedRetries),
          FEED_RETRY_BASE_MS: '300',
          INGEST_ATTEMPTS: String(SETTINGS.stages.ingest.attempts),
          NOTIFY_ATTEMPTS: String(SETTINGS.stages.notify.attempts),
          NOTIFY_RETRY_BASE_MS: String(SETTINGS.stages.notify.backoffMs),
          SCORE_SHARDS: '16',
          SCORE_THREADS: '1',
          MODEL_THREADS: '1',
          EWS_DATA_DIR: dataDir,
          LOG_LEVEL: 'warn',
          LOG_FORMAT: 'json',
          // Nothing fires on its own during the run: the harness starts each night.
          NIGHTLY_CRON: '0 0 1 1 *',
          POLL_CRON: '0 0 1 1 *',
          TRAIN_CRON: '0 0 1 1 *',
          SHUTDOWN_GRACE_MS: '2000',
          ...optional,
          ...(sweepSetting !== undefined ? { [sweepSetting.env]: sweepSetting.value } : {}),
        };
      },
      async close() {
        await smtp.close().catch(() => undefined);
        await httpSource.close().catch(() => undefined);
        await cluster.stop().catch(() => undefined);
        removeDir(dir);
      },
    };
  } catch (err) {
    await sink?.close().catch(() => undefined);
    await http?.close().catch(() => undefined);
    await pgc?.stop().catch(() => undefined);
    removeDir(dir);
    throw err;
  }
}

function months(summary: GenerateSummary): number {
  return summary.months;
}
