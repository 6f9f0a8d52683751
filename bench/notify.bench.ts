/**
 * npm run bench:notify -- --alerts 20000
 *
 * One night with N employer alerts across the 21 cities (Ⅰ 2 %, Ⅱ 8 %,
 * Ⅲ 40 %, Ⅳ 50 %; every Ⅰ/Ⅱ employer with 24 months of history, so its
 * e-mail carries charts): the scoring run is written through the scoring
 * stage's repository, then the real path runs — the raise-alerts job (alert
 * changes + outbox in one transaction), one notify job per e-mail on BullMQ,
 * rendered (HTML, text, PNG charts) and sent over SMTP to a local sink (a
 * real SMTP server in this process). Prints e-mails and alerts per second,
 * peak RSS and the p95 time from the end of the scoring run to the delivery
 * of the Ⅰ/Ⅱ e-mails. Last line: one JSON object.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { QueueEvents } from 'bullmq';
import { sql } from 'kysely';
import pg from 'pg';
import { CITIES } from '../config/cities.js';
import { loadConfig } from '../config/config.load.js';
import { benchServer } from './server.js';
import { configSchema } from '../config/config.schema.js';
import { openDatabase, withDatabaseName } from '../services/db/database.js';
import { migrate } from '../services/db/migrate.js';
import { usccBucket, usccCheckChar } from '../services/domain/uscc.js';
import { createLogger } from '../services/log.js';
import { openTransport } from '../services/notify/transport.js';
import { RiskRepository, type EmployerRiskRow } from '../services/scoring/risk.repository.js';
import { startSmtpSink } from '../test/harness/smtp.js';
import { raiseAlertsJobId } from '../workers/jobs.catalog.js';
import { notifyHandlers } from '../workers/notify.processors.js';
import { redisConnection } from '../workers/redis.js';
import { openQueues, startWorkers } from '../workers/worker.js';
import { periodDate } from '../services/domain/period.js';

const PERIOD = '2026-10';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { alerts: { type: 'string', default: '20000' }, concurrency: { type: 'string', default: '4' } } });
  const alerts = Number(values.alerts);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(alerts) || alerts < 1 || alerts > 1_000_000) throw new Error(`--alerts must be a whole number from 1 to 1000000, got "${values.alerts}"`);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new Error(`--concurrency must be a whole number from 1 to 64, got "${values.concurrency}"`);
  const base = loadConfig();
  const say = (s: string): void => void process.stderr.write(`${s}\n`);
  const log = createLogger({ ...base, log: { ...base.log, level: 'warn' } });

  const server = await benchServer(base);
  const serverUrl = server.url;
  const stopEmbedded = (): Promise<void> => server.stop();
  const admin = new pg.Client({ connectionString: withDatabaseName(serverUrl, 'postgres') });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS ews_bench_notify WITH (FORCE)');
  await admin.query('CREATE DATABASE ews_bench_notify');
  await admin.end();
  const database = openDatabase(withDatabaseName(serverUrl, 'ews_bench_notify'), 8);
  const sink = await startSmtpSink({ parse: false });
  const config = configSchema.parse({
    notify: {
      smtpUrl: sink.url,
      cities: Object.fromEntries(CITIES.map((c) => [c.code, [{ email: `dept-${c.code}@city.example` }, { email: `digest-${c.code}@city.example`, mode: 'digest' }]])),
      province: [{ email: 'office@province.example', levels: [1, 2] }],
    },
  });
  const transport = openTransport(config.notify);
  const connection = redisConnection(base.redis.url);
  const prefix = `ews-bench-${randomBytes(4).toString('hex')}`;
  const queues = openQueues(connection, prefix);
  try {
    await migrate(database.pool);
    say(`seeding a scoring run with ${alerts} alerts …`);
    const runId = await seed(database, alerts);

    const deliverDeps = { database, transport, log, leaseMs: config.notify.sendLeaseMs };
    const handlers = notifyHandlers({ database, alerts: config.alerts, notify: config.notify, log }, deliverDeps, queues.queues.notify, { attempts: 5, baseMs: 1000 });
    const workers = startWorkers(handlers, { connection, prefix, log, queues: ['alerts', 'notify'], concurrency: { notify: concurrency } });
    const events = new QueueEvents('alerts', { connection, prefix });
    await events.waitUntilReady();
    // The scoring run ends now: the clock for "run end → Ⅰ/Ⅱ delivered" starts here.
    await database.db.updateTable('score_run').set({ finished_at: new Date() }).where('run_id', '=', runId).execute();
    const t0 = performance.now();
    const job = await queues.queues.alerts.add('raise-alerts', { runId }, { jobId: raiseAlertsJobId(runId) });
    const raised = (await job.waitUntilFinished(events, 600_000)) as { notifications: number; opened: number };
    const tRaised = performance.now();
    await sink.waitFor(raised.notifications, 600_000);
    for (;;) {
      const left = await database.db.selectFrom('notification').select(sql<number>`count(*)::int`.as('n')).where('status', '<>', 'sent').executeTakeFirstOrThrow();
      if (left.n === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = (performance.now() - t0) / 1000;
    const peakRssMib = Math.round(process.resourceUsage().maxRSS / 1024);
    await events.close();
    await workers.close();

    const delivery = await sql<{ p95: number | null; max: number | null; n: number }>`
      SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - raised_at)) AS p95,
             max(extract(epoch FROM sent_at - raised_at)) AS max, count(*)::int AS n
        FROM notification WHERE kind = 'immediate'`.execute(database.db);
    const d = delivery.rows[0];
    const bytes = sink.received.reduce((n, m) => n + m.raw.length, 0);
    const out = {
      alerts,
      emails: raised.notifications,
      emails_per_s: Math.round((raised.notifications / seconds) * 10) / 10,
      p95_delivery_s: Math.round((d?.p95 ?? 0) * 100) / 100,
      peak_rss_mib: peakRssMib,
    };
    say('');
    say(`alerts raised and outbox written in ${((tRaised - t0) / 1000).toFixed(2)} s (${raised.opened} opened)`);
    say(`${out.emails} e-mails (${(bytes / 1048576).toFixed(1)} MiB, charts included) rendered and delivered in ${seconds.toFixed(2)} s: ${out.emails_per_s} e-mails/s, ${Math.round(alerts / seconds)} alerts/s`);
    say(`Ⅰ/Ⅱ e-mails: ${d?.n ?? 0}, delivered p95 ${out.p95_delivery_s} s and at most ${Math.round((d?.max ?? 0) * 100) / 100} s after the scoring run ended; peak RSS ${peakRssMib} MiB`);
    console.log(JSON.stringify(out));
  } finally {
    for (const q of Object.values(queues.queues)) await q.obliterate({ force: true }).catch(() => undefined);
    await queues.close();
    transport.close();
    await sink.close();
    await database.close();
    await stopEmbedded();
  }
}

/** A finished scoring run whose employer results hold `alerts` warnings, and the Ⅰ/Ⅱ employers' 24 months of history. */
async function seed(database: ReturnType<typeof openDatabase>, alerts: number): Promise<number> {
  const risks = new RiskRepository(database);
  const runId = await risks.startRun(PERIOD, null, 'bench:notify');
  const rows: EmployerRiskRow[] = [];
  for (let i = 0; i < alerts; i++) {
    const city = CITIES[i % CITIES.length] as (typeof CITIES)[number];
    const first17 = `91${city.code}MA${String(i).padStart(7, '0')}`;
    const uscc = first17 + (usccCheckChar(first17) as string);
    const r = (i * 7919) % 100;
    const level = r < 2 ? 1 : r < 10 ? 2 : r < 50 ? 3 : 4;
    rows.push({
      bucket: usccBucket(uscc), uscc, name: `基准测试企业${i}有限公司`, cityCode: city.code, regionCode: `${city.code.slice(0, 4)}04`, industryCode: 'C39',
      workforce: 200 + (i % 800), level, ruleLevel: level, probability: 0.4 + (i % 50) / 100, jobsAtStake: 40 + (i % 200), excessSeparations: 30 + (i % 150),
      rules: ['law41'], kinds: ['layoff'],
      separated: 40 + (i % 150), separatedMigrant: i % 3 === 0 ? null : 10 + (i % 40), separatedGraduate: i % 3 === 0 ? null : i % 7, jobsAtStakeMigrant: i % 3 === 0 ? null : 12.5, jobsAtStakeGraduate: i % 3 === 0 ? null : 2.5,
      explanation: {
        rules: [{ rule: 'law41', kind: 'layoff', summary: `本月减员 ${40 + (i % 150)} 人，较自身基线多 ${30 + (i % 150)} 人`, window: { from: PERIOD, to: PERIOD }, numbers: { excess: 30 + (i % 150) }, threshold: '', source: '' }],
        reasons: [],
        model: null,
      },
    });
  }
  await risks.writeShard(PERIOD, { bucketFrom: 0, bucketTo: 255 }, runId, rows);
  await risks.writeCities(PERIOD, runId, []);
  const urgent = rows.filter((r) => (r.level as number) <= 2);
  for (let m = 23; m >= 0; m--) {
    const day = periodDate(addMonth(PERIOD, -m));
    await sql`SELECT ews_ensure_month_partition('social_insurance', ${day}::date)`.execute(database.db);
    await sql`
      INSERT INTO social_insurance (bucket, uscc, period, name, region_code, city_code, industry_code, insured, hired, separated, arrears_months, wage_base_total, batch_id)
      SELECT k.bucket, k.uscc, ${day}::date, 'x', k.region, k.city, 'C39', k.workforce + ${m} * 3, 5 + ${m} % 4, CASE WHEN ${m} = 0 THEN 60 ELSE 6 + ${m} % 3 END, 0, k.workforce * 5000, 0
        FROM unnest(${urgent.map((r) => r.bucket)}::smallint[], ${urgent.map((r) => r.uscc)}::char(18)[], ${urgent.map((r) => r.regionCode)}::char(6)[],
                    ${urgent.map((r) => r.cityCode)}::char(6)[], ${urgent.map((r) => r.workforce)}::int[]) AS k(bucket, uscc, region, city, workforce)`.execute(database.db);
  }
  await risks.finishRun(runId, 'done', rows.length, 1);
  return runId;
}

function addMonth(period: string, n: number): string {
  const t = Number(period.slice(0, 4)) * 12 + Number(period.slice(5, 7)) - 1 + n;
  return `${Math.floor(t / 12)}-${String((t % 12) + 1).padStart(2, '0')}`;
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:notify: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
