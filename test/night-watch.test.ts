import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CITIES } from '../config/cities.js';
import { configSchema, type Config } from '../config/config.schema.js';
import type { Database } from '../services/db/database.js';
import { NightRepository } from '../services/nightly/night.repository.js';
import { generateProvince } from '../services/synth/province.generate.js';
import { NightFlows } from '../workers/night.flow.js';
import { watchNights } from '../workers/night.watch.js';
import { redisConnection } from '../workers/redis.js';
import { serve, type Service } from '../workers/serve.js';
import { openQueues, type QueueSet } from '../workers/worker.js';
import { createTestDatabase } from './harness/db.js';
import { databaseUrl, redisUrl } from './harness/env.js';
import { serveSource, type HttpSource } from './harness/http-source.js';
import { captureLogger } from './harness/log.js';
import { obliterateQueues } from './harness/queues.js';
import { startSmtpSink, type SmtpSink } from './harness/smtp.js';
import { until as untilWithin } from './harness/wait.js';

/**
 * What the database knows of a night, and what the scheduler's watch does
 * with it: a batch whose ingest job runs out of attempts is recorded as
 * missing (the run says which, the province summary tells ops, its cities
 * are scored "data missing") and the next poll loads it; a night whose
 * jobs are all lost from Redis (every key of the queues deleted mid-score,
 * as a Redis restarted without persistence leaves them) is re-driven from
 * what the database says is missing, and finishes with every employer
 * scored once and every e-mail sent once.
 */

const until = (check: () => Promise<boolean>, what: string): Promise<void> => untilWithin(check, 120_000, what);
const connection = redisConnection(redisUrl());
const MISSING = 'regional-2026-10.jsonl';

let dir: string;
let source: HttpSource;
let sink: SmtpSink;
let expectedBatches: number;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ews-watch-'));
  await generateProvince({ outDir: join(dir, 'province'), employers: 500, months: 26, seed: 31, lastPeriod: '2026-10', defects: false });
  expectedBatches = (JSON.parse(readFileSync(join(dir, 'province', 'feeds', 'manifest.json'), 'utf8')) as { batches: unknown[] }).batches.length;
  source = await serveSource(join(dir, 'province', 'feeds'));
  sink = await startSmtpSink();
}, 120_000);

afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  await source?.close();
  await sink?.close();
  rmSync(dir, { recursive: true, force: true });
});

function configFor(database: Database & { name: string }, prefix: string, more: Record<string, unknown> = {}): Config {
  return configSchema.parse({
    database: { url: databaseUrl(database.name), poolSize: 6 },
    dataDir: join(dir, `data-${prefix}`),
    redis: { url: redisUrl(), queuePrefix: prefix },
    feeds: { sources: [{ name: 'province', url: source.url }], retryBaseMs: 10, ingestAttempts: 2, httpRetries: 0 },
    scoring: { shards: 4, modelThreads: 1 },
    notify: {
      smtpUrl: sink.url,
      cities: Object.fromEntries(CITIES.map((c) => [c.code, [{ email: `dept-${c.code}@city.example` }]])),
      province: [{ email: 'office@province.example', levels: [1, 2] }],
    },
    nightly: { cron: '0 2 1 1 *', pollCron: '0 0 1 1 *', stages: { score: { concurrency: 2 } } },
    shutdownGraceMs: 5_000,
    ...more,
  });
}

async function setUp(tag: string): Promise<{ database: Database & { name: string }; prefix: string }> {
  const database = await createTestDatabase();
  const prefix = `ews-watch-${tag}-${randomBytes(3).toString('hex')}`;
  cleanup.push(async () => {
    await obliterateQueues(connection, prefix);
    await database.close();
  });
  return { database, prefix };
}

async function addNight(prefix: string, data: Record<string, unknown>, jobId: string): Promise<void> {
  const nightly = new Queue('nightly', { connection, prefix });
  try {
    await nightly.add('nightly', data, { jobId });
  } finally {
    await nightly.close();
  }
}

const count = async (database: Database, query: string): Promise<number> => (await sql<{ n: number }>`${sql.raw(query)}`.execute(database.db)).rows[0]?.n ?? -1;

describe('a night the database keeps track of', () => {
  it('records a batch that ran out of attempts as missing, tells ops in the summary, and the next poll loads it', async () => {
    const { database, prefix } = await setUp('missing');
    const config = configFor(database, prefix);
    // Every request for this batch answers 503 until the source is fixed.
    source.fail(MISSING, ...Array.from({ length: 50 }, () => ({ status: 503 })));
    const service: Service = await serve(config, captureLogger().log, new Set(['worker']));
    cleanup.push(() => service.stop());

    await addNight(prefix, { reason: 'manual', date: '2026-11-05' }, 'nightly.2026-11-05');
    await until(async () => (await count(database, `SELECT count(*)::int AS n FROM night WHERE stage = 'done'`)) === 1, 'the night raised its alerts and is done');

    const night = await new NightRepository(database).get('2026-11-05');
    expect(night).toMatchObject({ stage: 'done', redrives: 0 });
    expect(night?.missingBatches).toHaveLength(1);
    expect(night?.missingBatches[0]).toMatchObject({ source: 'province', file: MISSING, feed: 'regional', period: '2026-10', reason: expect.stringContaining('503') as unknown });
    expect(night?.missingBatches[0]?.status).not.toBe('loaded');
    expect(await count(database, `SELECT count(*)::int AS n FROM batch WHERE status = 'loaded'`)).toBe(expectedBatches - 1);
    // Its cities are scored "data missing": the regional feed covers all 21.
    expect(await count(database, `SELECT count(*)::int AS n FROM city_risk WHERE industry_section = '*' AND data_missing AND 'regional' = ANY (missing_feeds)`)).toBe(21);

    // The province summary names the batch.
    await until(async () => (await count(database, `SELECT count(*)::int AS n FROM notification WHERE status <> 'sent'`)) === 0, 'every e-mail sent');
    const summary = sink.received.find((m) => m.envelopeTo.includes('office@province.example') && (m.text ?? '').includes('数据批次未能载入'));
    expect(summary?.text).toContain(`province/${MISSING}`);

    // The source is fixed: the next poll's catch-up loads the batch and rescores the cities it had left "data missing".
    source.clear();
    await addNight(prefix, { reason: 'catch-up', date: '2026-11-05' }, 'catch-up.1');
    await until(async () => (await count(database, `SELECT count(*)::int AS n FROM night WHERE stage = 'done'`)) === 2, 'the catch-up raised its alerts and is done');
    expect(await count(database, `SELECT count(*)::int AS n FROM batch WHERE status = 'loaded'`)).toBe(expectedBatches);
    expect(await count(database, `SELECT count(*)::int AS n FROM city_risk WHERE industry_section = '*' AND 'regional' = ANY (missing_feeds)`)).toBe(0);
    const nights = await new NightRepository(database).list(10);
    expect(nights.map((n) => ({ reason: n.reason, stage: n.stage, missing: n.missingBatches.length }))).toEqual([
      { reason: 'catch-up', stage: 'done', missing: 0 },
      { reason: 'manual', stage: 'done', missing: 1 },
    ]);
  }, 240_000);

  it('re-drives a night whose jobs were all lost from Redis mid-score: every employer scored once, every e-mail sent once', async () => {
    const { database, prefix } = await setUp('lost');
    const config = configFor(database, prefix, {});
    const stallMs = 3_000;
    // The first test's e-mails carry the same Message-IDs (each test database numbers its notifications from 1).
    sink.received.length = 0;
    const watched = { ...config, nightly: { ...config.nightly, stallMs } };
    const service: Service = await serve(watched, captureLogger().log, new Set(['worker']));
    cleanup.push(() => service.stop());

    await addNight(prefix, { reason: 'manual', date: '2026-11-06' }, 'nightly.2026-11-06');
    // Mid-score: the run is open and its first shard has written its rows.
    await until(async () => (await count(database, `SELECT count(*)::int AS n FROM employer_risk`)) > 0, 'the first shard wrote its rows');
    const before = await count(database, `SELECT count(*)::int AS n FROM alert_run`);
    await obliterateQueues(connection, prefix);
    expect(before).toBe(0);

    // The watch (the scheduler's, run here pass by pass) finds the night idle and adds its scoring flow again.
    const queues: QueueSet = openQueues(connection, prefix);
    const { log, lines } = captureLogger();
    const flows = new NightFlows(watched, connection, prefix, log);
    try {
      let redriven = 0;
      const restored: string[] = [];
      await until(async () => {
        const pass = await watchNights({ config: watched, database, log, queues, flows, restoreSchedules: true });
        redriven += pass.redriven.length;
        restored.push(...pass.schedulesRestored);
        return (await count(database, `SELECT count(*)::int AS n FROM alert_run`)) === 1;
      }, 'the re-driven night raised its alerts');
      expect(redriven).toBeGreaterThanOrEqual(1);
      // The schedules Redis lost are put back, once.
      expect(restored.sort()).toEqual(['catch-up', 'nightly', 'notify-sweep', 'retrain']);
      expect(lines.some((l) => l.includes('was re-driven'))).toBe(true);
    } finally {
      await flows.close();
      await queues.close();
    }
    await until(async () => (await count(database, `SELECT count(*)::int AS n FROM notification WHERE status <> 'sent'`)) === 0, 'every e-mail sent');

    const runs = await database.db.selectFrom('score_run').select(['run_id', 'status', 'employers']).where('night_key', '=', '2026-11-06').execute();
    expect(runs.map((r) => r.status)).toEqual(['done']);
    const scored = await count(database, `SELECT count(*)::int AS n FROM employer_risk WHERE period = '2026-10-01'`);
    const distinct = await count(database, `SELECT count(DISTINCT uscc)::int AS n FROM employer_risk WHERE period = '2026-10-01'`);
    expect(scored).toBe(distinct);
    expect(runs[0]?.employers).toBe(scored);
    const night = await new NightRepository(database).get('2026-11-06');
    expect(night?.stage).toBe('done');
    expect(night?.redrives).toBeGreaterThanOrEqual(1);

    // Every e-mail of the night once: no Message-ID twice among those this database queued.
    const ids = (await database.db.selectFrom('notification').select('message_id').execute()).map((n) => n.message_id);
    const received = sink.received.filter((m) => m.messageId !== undefined && ids.includes(m.messageId));
    expect(received).toHaveLength(ids.length);
    expect(new Set(received.map((m) => m.messageId)).size).toBe(ids.length);
    // The summary tells ops the night stalled and was re-driven.
    expect(received.some((m) => (m.text ?? '').includes('调度程序已自动重新驱动'))).toBe(true);
  }, 240_000);
});
