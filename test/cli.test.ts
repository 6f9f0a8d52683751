import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CITIES } from '../config/cities.js';
import { configSchema } from '../config/config.schema.js';
import { processRun } from '../services/alerts/alert.service.js';
import type { Database } from '../services/db/database.js';
import { redisConnection } from '../workers/redis.js';
import { seedRun } from './harness/alerts.js';
import { createTestDatabase } from './harness/db.js';
import { databaseUrl, redisUrl } from './harness/env.js';
import { FeedSourceBuilder, siRow } from './harness/feed-source.js';
import { serveSource } from './harness/http-source.js';
import { captureLogger } from './harness/log.js';
import { startSmtpSink } from './harness/smtp.js';
import { freePort as closedPort } from './harness/ports.js';

const BIN = fileURLToPath(new URL('../bin/ews.js', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'ews-cli-'));
let database: Database & { name: string };
const others: Database[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.close();
  for (const d of others) await d.close();
  rmSync(scratch, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real command in a child process, with only the environment given (and a test database). */
function ews(args: string[], env: Record<string, string> = {}, db: Database & { name: string } = database): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: databaseUrl(db.name), LOG_LEVEL: 'warn', LOG_FORMAT: 'json', ...env }, timeout: 90_000, maxBuffer: 1 << 24 },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The command's own messages on stderr (log lines, JSON, left out). */
const said = (r: Run): string[] => r.stderr.split('\n').filter((l) => l.startsWith('ews'));

/** Settings a whole night needs to stay small and inside this test's folders. */
const nightEnv = (tag: string): Record<string, string> => ({
  LOG_LEVEL: 'silent',
  MODEL_THREADS: '1',
  SCORE_THREADS: '0',
  SCORE_SHARDS: '2',
  INGEST_ATTEMPTS: '1',
  FEED_RETRY_BASE_MS: '10',
  EWS_DATA_DIR: join(scratch, `data-${tag}`),
  OUTBOX_DIR: join(scratch, `outbox-${tag}`),
});

describe('the ews command', () => {
  it('ingests a source, lists batches and quarantined rows as JSON for scripts', async () => {
    const b = new FeedSourceBuilder().add({
      file: 'si.csv', feed: 'social_insurance', period: '2026-10', rows: [siRow(1), siRow(2, { region_code: '110105' })],
    });
    const ingest = await ews(['ingest', '--source', b.url, '--json']);
    expect(ingest.code).toBe(0);
    const out = JSON.parse(ingest.stdout) as { batches: { status: string; batchId: number; rowsLoaded: number; rowsQuarantined: number }[] };
    expect(out.batches).toHaveLength(1);
    expect(out.batches[0]).toMatchObject({ status: 'loaded', rowsLoaded: 1, rowsQuarantined: 1 });

    const list = await ews(['batches', '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject([{ id: out.batches[0]!.batchId, feed: 'social_insurance', period: '2026-10', status: 'loaded', loaded: 1, quarantined: 1 }]);

    const q = await ews(['quarantine', '--batch', String(out.batches[0]!.batchId), '--json']);
    expect(q.code).toBe(0);
    expect(JSON.parse(q.stdout)).toMatchObject({ quarantined: 1, rows: [{ line_no: 3, column_name: 'region_code', reason: 'region_code 110105 is not in Sichuan (codes start with 51)' }] });

    const human = await ews(['batches']);
    expect(human.stdout.split('\n')[0]).toMatch(/^id\s+feed\s+period\s+file\s+status/);
  });

  it('fails with a one-line reason and a non-zero exit', async () => {
    const cases: [string[], Record<string, string>, number, string][] = [
      [['ingest'], {}, 2, 'ews: no feed source: pass --source <url> or set FEED_SOURCES\n'],
      [['quarantine', '--batch', '999999'], {}, 2, 'ews: no batch 999999 (see `ews batches`)\n'],
      [['batches'], { DB_POOL_SIZE: 'many', REDIS_URL: 'http://x' }, 2, 'ews: invalid configuration (2 problems): DB_POOL_SIZE: must be a whole number, got "many"; REDIS_URL (redis.url): must be a redis:// or rediss:// URL\n'],
      [['nightly', '--from', '2026-10'], {}, 2, 'ews: --from and --to go together (a backfill of months from … to …)\n'],
      [['no-such-command'], {}, 2, "error: unknown command 'no-such-command'\n"],
      [
        ['ingest', '--source', 'file:///nonexistent/feeds/'],
        {},
        3,
        'ews: ingest: source cli: could not be read: file:///nonexistent/feeds/: no manifest.json (is the source directory right?)\news: ingest: partly failed (1 part above); exit code 3\n',
      ],
    ];
    for (const [args, env, code, stderr] of cases) {
      const r = await ews(args, env);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code, stderr });
    }
  });
});

describe('a command whose work partly failed exits 3 and names each part', () => {
  it('ews ingest: a refused manifest entry and a batch rejected whole, while the good batch loads', async () => {
    const b = new FeedSourceBuilder()
      .add({ file: 'si-good.csv', feed: 'social_insurance', period: '2026-07', rows: [siRow(10, { period: '2026-07' })] })
      .add({ file: 'si-count.csv', feed: 'social_insurance', period: '2026-07', rows: [siRow(11, { period: '2026-07' })], declaredRows: 4 })
      .add({ file: 'si-nosha.csv', feed: 'social_insurance', period: '2026-07', rows: [siRow(12, { period: '2026-07' })], declaredSha256: 'not-a-sha' });
    const r = await ews(['ingest', '--json'], { FEED_SOURCES: `partner=${b.url}` });
    expect(r.code).toBe(3);
    const out = JSON.parse(r.stdout) as { batches: { file: string; status: string }[] };
    expect(out.batches.map((x) => [x.file, x.status]).sort()).toEqual([['si-count.csv', 'rejected'], ['si-good.csv', 'loaded']]);
    expect(said(r)).toEqual([
      'ews: ingest: source partner: manifest entry refused: batches[2] (si-nosha.csv): sha256: must be 64 hex digits',
      'ews: ingest: batch si-count.csv (source partner): rejected: row count mismatch: the manifest declares 4 rows, the file has 1 (see `ews batches --status rejected`)',
      'ews: ingest: partly failed (2 parts above); exit code 3',
    ]);
  });

  it('ews nightly: a source that cannot be read, a batch whose file is missing and a batch rejected; it still scores the rest', async () => {
    const db = await createTestDatabase();
    others.push(db);
    const local = new FeedSourceBuilder()
      .add({ file: 'si-2026-10.csv', feed: 'social_insurance', period: '2026-10', rows: [1, 2, 3].map((s) => siRow(s, { period: '2026-10' })) })
      .add({ file: 'si-2026-09.csv', feed: 'social_insurance', period: '2026-09', rows: [siRow(1, { period: '2026-09' })] })
      .add({ file: 'si-2026-08.csv', feed: 'social_insurance', period: '2026-08', rows: [siRow(1, { period: '2026-08' })], declaredRows: 7 });
    rmSync(join(local.dir, 'si-2026-09.csv'));
    const env = { ...nightEnv('night'), FEED_SOURCES: `local=${local.url},broken=file:///nonexistent/feeds/` };
    const r = await ews(['nightly'], env, db);
    expect(r.code).toBe(3);
    expect(said(r)).toEqual([
      'ews: nightly: source broken: not read: file:///nonexistent/feeds/: no manifest.json (is the source directory right?)',
      `ews: nightly: source local: not read: si-2026-09.csv: listed in the manifest but not in ${local.url}`,
      'ews: nightly: batch si-2026-08.csv: rejected: row count mismatch: the manifest declares 7 rows, the file has 1 (see `ews batches --status rejected`)',
      'ews: nightly: partly failed (3 parts above); exit code 3',
    ]);
    // The rest of the night went on: the month that loaded was scored and its e-mails written.
    expect(r.stdout).toContain('ingest: 1 batches loaded, 1 rejected, 2 could not be read (broken, local)');
    expect(r.stdout).toMatch(/^scored 3 employers for 2026-10 \(run \d+\)/m);
    const run = await db.db.selectFrom('score_run').select(['status', 'employers']).executeTakeFirstOrThrow();
    expect(run).toEqual({ status: 'done', employers: 3 });
    const written = readdirSync(join(scratch, 'outbox-night'));
    expect(written.length).toBeGreaterThan(0);
    expect(written.every((f) => f.endsWith('.eml'))).toBe(true);

    // Once the file lands, the next night reads it and has nothing left to report.
    local.add({ file: 'si-2026-09.csv', feed: 'social_insurance', period: '2026-09', rows: [siRow(1, { period: '2026-09' })] });
    const again = await ews(['nightly'], { ...env, FEED_SOURCES: `local=${local.url}` }, db);
    expect({ code: again.code, said: said(again) }).toEqual({ code: 0, said: [] });
  });

  it('ews nightly: with no month loaded at all there is nothing to score, and it says so', async () => {
    const db = await createTestDatabase();
    others.push(db);
    const empty = new FeedSourceBuilder().write();
    const r = await ews(['nightly'], { ...nightEnv('empty'), FEED_SOURCES: `empty=${empty.url}` }, db);
    expect(r.code).toBe(3);
    expect(said(r)).toEqual(['ews: nightly: scoring: nothing scored: no social-insurance month is loaded yet', 'ews: nightly: partly failed (1 part above); exit code 3']);
  });

  it('ews notify send: e-mails the relay refused, or that could not be sent now, are named; a pass that sends all exits 0', async () => {
    const db = await createTestDatabase();
    others.push(db);
    const notify = {
      cities: Object.fromEntries(CITIES.map((c) => [c.code, [{ email: `dept-${c.code}@city.example` }]])),
      province: [{ email: 'office@province.example', levels: [1, 2] }],
    };
    const config = configSchema.parse({ notify });
    await processRun({ database: db, alerts: config.alerts, notify: config.notify, log: captureLogger().log }, await seedRun(db, '2026-10', [{ serial: 1, level: 1 }, { serial: 2, level: 3, city: '510700' }]));
    const waiting = (await db.db.selectFrom('notification').select('recipient').execute()).length;
    expect(waiting).toBeGreaterThan(2);

    // The relay is not there: nothing sent, everything stays pending.
    const down = await ews(['notify', 'send'], { LOG_LEVEL: 'silent', SMTP_URL: `smtp://127.0.0.1:${await closedPort()}` }, db);
    expect(down.code).toBe(3);
    expect(said(down)).toEqual([
      `ews: notify send: e-mails: ${waiting} not sent after a temporary failure (SMTP 4xx or connection): they stay pending for the next \`ews notify send\` or notify-sweep (\`ews notify list --status pending\`)`,
      'ews: notify send: partly failed (1 part above); exit code 3',
    ]);

    // The relay refuses one address for good: that one fails, the others go.
    const sink = await startSmtpSink();
    try {
      sink.faults = { rejectRecipients: ['dept-510700@city.example'] };
      const refused = await ews(['notify', 'send', '--json'], { LOG_LEVEL: 'silent', SMTP_URL: sink.url }, db);
      expect(refused.code).toBe(3);
      expect(JSON.parse(refused.stdout)).toEqual({ sent: waiting - 1, failed: 1, deferred: 0 });
      expect(said(refused)).toEqual([
        'ews: notify send: e-mails: 1 refused permanently by the mail relay (SMTP 5xx): `ews notify list --status failed` lists them with the reason',
        'ews: notify send: partly failed (1 part above); exit code 3',
      ]);
      const again = await ews(['notify', 'send', '--json'], { LOG_LEVEL: 'silent', SMTP_URL: sink.url }, db);
      expect({ code: again.code, out: JSON.parse(again.stdout) as unknown, said: said(again) }).toEqual({ code: 0, out: { sent: 0, failed: 0, deferred: 0 }, said: [] });
    } finally {
      await sink.close();
    }
  });
});

describe('settings, as the command reads them', () => {
  it('FEED_SOURCES, FEED_TOKEN_<NAME>, FEED_HTTP_TIMEOUT_MS and FEED_HTTP_RETRIES: the named source is read with its token, timed out and retried as set', async () => {
    const b = new FeedSourceBuilder().add({ file: 'si.csv', feed: 'social_insurance', period: '2026-06', rows: [siRow(20, { period: '2026-06' })] });
    const server = await serveSource(b.dir, { token: 's3cret' });
    try {
      // A source given by name in FEED_SOURCES, its token in FEED_TOKEN_<NAME> (upper case, - as _).
      const loaded = await ews(['ingest', '--json'], { FEED_SOURCES: `city-exchange=${server.url}`, FEED_TOKEN_CITY_EXCHANGE: 's3cret', LOG_LEVEL: 'silent' });
      expect(loaded.code).toBe(0);
      expect((JSON.parse(loaded.stdout) as { batches: { source: string; status: string }[] }).batches).toEqual([expect.objectContaining({ source: 'city-exchange', status: 'loaded' })]);
      expect(new Set(server.authorizations)).toEqual(new Set(['Bearer s3cret']));

      // A URL on the command line takes FEED_TOKEN_CLI.
      const seen = server.authorizations.length;
      const withToken = await ews(['ingest', '--source', server.url, '--json'], { FEED_TOKEN_CLI: 's3cret', LOG_LEVEL: 'silent' });
      expect(withToken.code).toBe(0);
      expect(server.authorizations.slice(seen)).toEqual(['Bearer s3cret']);

      // Hanging answers: each waited for FEED_HTTP_TIMEOUT_MS, the request tried 1 + FEED_HTTP_RETRIES times.
      const before = server.requests.get('manifest.json') ?? 0;
      server.fail('manifest.json', 'hang', 'hang', 'hang', 'hang');
      const slow = await ews(['ingest'], {
        FEED_SOURCES: `city-exchange=${server.url}`, FEED_TOKEN_CITY_EXCHANGE: 's3cret', FEED_HTTP_TIMEOUT_MS: '250', FEED_HTTP_RETRIES: '2', FEED_RETRY_BASE_MS: '10', LOG_LEVEL: 'silent',
      });
      expect(slow.code).toBe(3);
      expect(said(slow)[0]).toBe(`ews: ingest: source city-exchange: could not be read: GET ${server.url}manifest.json timed out after 250 ms (gave up after 3 attempts)`);
      expect((server.requests.get('manifest.json') ?? 0) - before).toBe(3);
    } finally {
      server.clear();
      await server.close();
    }
  });

  it('LOG_LEVEL and LOG_FORMAT: log lines below the level are not written; json is one JSON object a line, pretty is for people', async () => {
    const source = (n: number): string =>
      new FeedSourceBuilder().add({ file: `si-log-${n}.csv`, feed: 'social_insurance', period: '2026-05', rows: [siRow(30 + n, { period: '2026-05' })] }).url;
    const json = await ews(['ingest', '--source', source(1)], { LOG_LEVEL: 'info', LOG_FORMAT: 'json' });
    expect(json.code).toBe(0);
    const lines = json.stderr.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { level: number; msg: string; service: string });
    expect(lines.some((l) => l.msg === 'batch loaded' && l.level === 30 && l.service === 'layoff-ews')).toBe(true);

    const quiet = await ews(['ingest', '--source', source(2)], { LOG_LEVEL: 'warn', LOG_FORMAT: 'json' });
    expect({ code: quiet.code, stderr: quiet.stderr }).toEqual({ code: 0, stderr: '' });

    const pretty = await ews(['ingest', '--source', source(3)], { LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' });
    expect(pretty.code).toBe(0);
    const loaded = pretty.stderr.split('\n').find((l) => l.includes('batch loaded'));
    expect(loaded).toMatch(/INFO.*batch loaded/);
    expect(() => JSON.parse(loaded ?? '') as unknown).toThrow();
  });

  it('REDIS_URL and QUEUE_PREFIX: ews queues reports the queues of that Redis database under that prefix', async () => {
    const prefix = `ews-cli-${randomBytes(4).toString('hex')}`;
    const url = `${redisUrl().replace(/\/\d*$/, '')}/3`;
    const notify = new Queue('notify', { connection: redisConnection(url), prefix });
    try {
      await notify.add('notify', { notificationId: 1 });
      await notify.add('notify', { notificationId: 2 });
      const waiting = async (env: Record<string, string>): Promise<number> => {
        const r = await ews(['queues', '--json', '--failed', '0'], env);
        expect(r.code).toBe(0);
        return (JSON.parse(r.stdout) as { queue: string; waiting: number }[]).find((q) => q.queue === 'notify')?.waiting ?? -1;
      };
      expect(await waiting({ REDIS_URL: url, QUEUE_PREFIX: prefix })).toBe(2);
      expect(await waiting({ REDIS_URL: url, QUEUE_PREFIX: `${prefix}-other` })).toBe(0);
      expect(await waiting({ REDIS_URL: `${redisUrl().replace(/\/\d*$/, '')}/4`, QUEUE_PREFIX: prefix })).toBe(0);
    } finally {
      await notify.obliterate({ force: true });
      await notify.close();
    }
  });
});
