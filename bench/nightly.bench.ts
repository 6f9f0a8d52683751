/**
 * npm run bench:nightly -- --employers 1000000
 *
 * A full night at province scale through the queues: N employers with 36
 * months of history already loaded (bench/history.ts, kept in
 * `ews_bench_score` — the scoring benchmark's, or --history <db> — and
 * cloned per run), one new month arriving in all four
 * feeds (written from the last month's rows as a file:// source), one worker
 * process with the default worker settings (`ews serve --role worker`), an
 * SMTP sink. The night is started as the scheduler would start it and timed
 * from its first job to its last e-mail. Prints the wall time of each stage
 * (first job started → last job finished), the whole night, peak RSS per
 * process and queue throughput. Last line: one JSON object.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Queue, type Job } from 'bullmq';
import { QUEUE_NAMES } from '../workers/jobs.catalog.js';
import { sql } from 'kysely';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { CITIES } from '../config/cities.js';
import { loadConfig } from '../config/config.load.js';
import { benchServer } from './server.js';
import { openDatabase, withDatabaseName, type Database } from '../services/db/database.js';
import { migrate } from '../services/db/migrate.js';
import { startSmtpSink } from '../test/harness/smtp.js';
import { redisConnection } from '../workers/redis.js';
import { ensureHistory } from './history.js';
import { periodDate } from '../services/domain/period.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NEW_PERIOD = '2026-11';
const DATE = '2026-12-03';
const STAGES: [string, string][] = [
  ['nightly', 'nightly'],
  ['ingest', 'ingest-batch'],
  ['nightly', 'night-score'],
  ['score', 'score-shard'],
  ['score', 'score-cities'],
  ['alerts', 'raise-alerts'],
  ['notify', 'notify'],
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { employers: { type: 'string', default: '1000000' }, rebuild: { type: 'boolean', default: false }, history: { type: 'string', default: 'ews_bench_score' } },
  });
  const history = values.history;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(history)) throw new Error(`--history must be a database name (lower-case letters, digits, _), got "${history}"`);
  const employers = Number(values.employers);
  if (!Number.isInteger(employers) || employers < 1000 || employers > 5_000_000) throw new Error(`--employers must be a whole number from 1000 to 5000000, got "${values.employers}"`);
  const config = loadConfig();
  const say = (s: string): void => void process.stderr.write(`${s}\n`);

  const server = await benchServer(config);
  const serverUrl = server.url;
  const stopEmbedded = (): Promise<void> => server.stop();
  const sink = await startSmtpSink({ parse: false });
  const prefix = `ews-bench-night-${randomBytes(3).toString('hex')}`;
  const connection = redisConnection(config.redis.url);
  const queues = Object.fromEntries(QUEUE_NAMES.map((q) => [q, new Queue(q, { connection, prefix })])) as Record<string, Queue>;
  for (const q of Object.values(queues)) q.on('error', () => undefined);
  let database: Database | undefined;
  try {
    if (await ensureHistory(serverUrl, history, employers, 36, { rebuild: values.rebuild, say })) say('history built');
    const admin = new pg.Client({ connectionString: withDatabaseName(serverUrl, 'postgres') });
    await admin.connect();
    await admin.query('DROP DATABASE IF EXISTS ews_bench_nightly WITH (FORCE)');
    say('cloning the history …');
    // A template may have no other sessions (a just-closed pool's backends may still be exiting).
    for (let attempt = 0; ; attempt++) {
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [history]);
      try {
        await admin.query(`CREATE DATABASE ews_bench_nightly TEMPLATE ${pg.escapeIdentifier(history)}`);
        break;
      } catch (err) {
        if (attempt >= 20 || !/being accessed by other users/.test((err as Error).message)) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    await admin.end();
    const url = withDatabaseName(serverUrl, 'ews_bench_nightly');
    database = openDatabase(url, 4);
    await migrate(database.pool);

    const feeds = resolve(config.dataDir, 'bench', `nightly-${employers}`, 'feeds');
    say(`writing ${NEW_PERIOD} in all four feeds to ${feeds} …`);
    await writeNewMonth(database, feeds);

    say('starting a worker process (ews serve --role worker) …');
    const worker = spawn(process.execPath, [resolve(ROOT, 'bin/ews.js'), 'serve', '--role', 'worker'], {
      env: {
        PATH: process.env['PATH'] ?? '',
        DATABASE_URL: url,
        REDIS_URL: config.redis.url,
        QUEUE_PREFIX: prefix,
        FEED_SOURCES: `bench=file://${feeds}/`,
        SMTP_URL: sink.url,
        EWS_DATA_DIR: resolve(config.dataDir, 'bench', 'worker'),
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    let workerPeak = 0;
    const sampler = setInterval(() => (workerPeak = Math.max(workerPeak, vmHwm(worker.pid))), 500);

    const t0 = Date.now();
    await queues['nightly']!.add('nightly', { date: DATE, reason: 'schedule' }, { jobId: `nightly.${DATE}` });
    const db = database;
    await until(async () => (await db.db.selectFrom('alert_run').select('run_id').execute()).length > 0);
    await until(async () => (await db.db.selectFrom('notification').select('status').where('status', '<>', 'sent').execute()).length === 0);
    const wall = (Date.now() - t0) / 1000;
    workerPeak = Math.max(workerPeak, vmHwm(worker.pid));
    clearInterval(sampler);
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));

    const stages: Record<string, number> = {};
    let first = Infinity;
    let last = 0;
    let jobs = 0;
    for (const [queue, name] of STAGES) {
      const done = (await queues[queue]!.getJobs(['completed'], 0, 100_000)).filter((j: Job) => j.name === name);
      if (done.length === 0) continue;
      const start = Math.min(...done.map((j) => j.processedOn ?? Infinity));
      const end = Math.max(...done.map((j) => j.finishedOn ?? 0));
      stages[name] = Math.round((end - start) / 10) / 100;
      first = Math.min(first, start);
      last = Math.max(last, end);
      jobs += done.length;
    }
    const nightS = Math.round((last - first) / 10) / 100;
    const scored = await sql<{ employers: number; period: string }>`SELECT employers, to_char(period, 'YYYY-MM') AS period FROM score_run ORDER BY run_id DESC LIMIT 1`.execute(database.db);
    const loaded = await sql<{ n: number }>`SELECT count(*)::int AS n FROM batch WHERE period = ${periodDate(NEW_PERIOD)}::date AND status = 'loaded'`.execute(database.db);
    const out = {
      employers: scored.rows[0]?.employers ?? 0,
      night_s: nightS,
      stages,
      peak_rss_mib: { worker: Math.round(workerPeak / 1024), driver: Math.round(process.resourceUsage().maxRSS / 1024) },
    };
    say('');
    say(`night of ${DATE}: ${loaded.rows[0]?.n ?? 0} batches of ${NEW_PERIOD} loaded, ${out.employers} employers scored for ${scored.rows[0]?.period ?? '?'}, ${sink.received.length} e-mails`);
    for (const [name, s] of Object.entries(stages)) say(`  ${name.padEnd(14)} ${s.toFixed(2).padStart(8)} s`);
    say(`  ${'whole night'.padEnd(14)} ${nightS.toFixed(2).padStart(8)} s (${wall.toFixed(1)} s from enqueue to the last e-mail recorded); ${jobs} jobs, ${(jobs / nightS).toFixed(1)} jobs/s`);
    say(`  peak RSS: worker ${out.peak_rss_mib.worker} MiB, driver ${out.peak_rss_mib.driver} MiB (target: night < 600 s, every process < 2048 MiB)`);
    console.log(JSON.stringify(out));
  } finally {
    for (const q of Object.values(queues)) {
      await q.obliterate({ force: true }).catch(() => undefined);
      await q.close();
    }
    await database?.close();
    await sink.close();
    await stopEmbedded();
  }
}

/** The last month's rows as the next month, in the four feeds' file formats, with a manifest. */
async function writeNewMonth(database: Database, dir: string): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const last = `2026-10-01`;
  const client = await database.pool.connect();
  const entries: Record<string, unknown>[] = [];
  const add = (file: string, feed: string, rows: number): void => {
    const sha256 = createHash('sha256').update(readFileSync(resolve(dir, file))).digest('hex');
    entries.push({ file, feed, period: NEW_PERIOD, sha256, rows, encoding: 'utf-8' });
  };
  try {
    const copy = async (query: string, file: string, gzip: boolean): Promise<number> => {
      const stream = client.query(copyTo(`COPY (${query}) TO STDOUT WITH (FORMAT csv, HEADER)`));
      if (gzip) await pipeline(stream, createGzip({ level: 1 }), createWriteStream(resolve(dir, file)));
      else await pipeline(stream, createWriteStream(resolve(dir, file)));
      return Number(String((stream as unknown as { rowCount?: number }).rowCount ?? 0));
    };
    const si = await copy(
      `SELECT uscc, name, region_code, industry_code, '${NEW_PERIOD}' AS period, insured, hired, separated, arrears_months, wage_base_total,
              ui_claims, separated_transfer, separated_natural, separated_migrant, separated_graduate
         FROM social_insurance WHERE period = '${last}'`,
      `social_insurance-${NEW_PERIOD}.csv.gz`,
      true,
    );
    add(`social_insurance-${NEW_PERIOD}.csv.gz`, 'social_insurance', si);
    const hc = await copy(
      `SELECT uscc, '${NEW_PERIOD}' AS period, jobs_begin, jobs_end, jobs_lost, loss_reason, planned_layoffs, furloughed, dispatched FROM headcount WHERE period = '${last}'`,
      `headcount-${NEW_PERIOD}.csv`,
      false,
    );
    add(`headcount-${NEW_PERIOD}.csv`, 'headcount', hc);
  } finally {
    client.release();
  }
  const regional = CITIES.map((c, i) =>
    JSON.stringify({ region_code: c.code, period: NEW_PERIOD, registered_unemployed: 8000 + i * 300, ui_new_claims: 900 + i * 20, urban_new_jobs: 5000 + i * 100, surveyed_unemployment_rate: 5.1 }),
  );
  writeFileSync(resolve(dir, `regional-${NEW_PERIOD}.jsonl`), `${regional.join('\n')}\n`);
  add(`regional-${NEW_PERIOD}.jsonl`, 'regional', regional.length);
  writeFileSync(resolve(dir, `layoff_filings-${NEW_PERIOD}.csv`), 'filing_id,uscc,filed_on,effective_on,planned_count,staff_total,reason\n');
  add(`layoff_filings-${NEW_PERIOD}.csv`, 'layoff_filings', 0);
  writeFileSync(resolve(dir, 'manifest.json'), JSON.stringify({ generated_at: '2026-12-03T01:00:00+08:00', batches: entries }, null, 2));
}

/** Peak resident set of a process so far (VmHWM), in KiB; 0 when it is gone. */
function vmHwm(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function until(check: () => Promise<boolean>, ms = 3_600_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('the night did not finish within an hour');
    await new Promise((r) => setTimeout(r, 250));
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:nightly: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
