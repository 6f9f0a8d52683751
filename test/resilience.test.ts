import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CITIES } from '../config/cities.js';
import { configSchema, type Config } from '../config/config.schema.js';
import { startApiServer, type ApiServer } from '../services/api/server.js';
import { inTransaction, openDatabase, type Database } from '../services/db/database.js';
import { migrate } from '../services/db/migrate.js';
import { deliverNotification } from '../services/notify/deliver.js';
import { openTransport } from '../services/notify/transport.js';
import { redisConnection } from '../workers/redis.js';
import { serve } from '../workers/serve.js';
import { openQueues, type QueueSet } from '../workers/worker.js';
import { startPgCluster, startRedis, type PgCluster, type RedisServer } from '../bench/faults/processes.js';
import { captureLogger } from './harness/log.js';
import { startSmtpSink, type SmtpSink } from './harness/smtp.js';
import { until } from './harness/wait.js';

/**
 * What the service does when the servers under it go away, tried by
 * stopping real ones (a PostgreSQL cluster and redis-servers of this file's
 * own), not by pointing at a closed port: readiness turns 503 and back;
 * a process whose connections the database ended in the middle of a query
 * or a transaction stays up and its next query works; an e-mail the relay
 * accepted while the database restarted is recorded as sent, not resent;
 * Redis that would lose jobs is reported at start, and refused in
 * production when it may evict them.
 */

let dir: string;
let cluster: PgCluster;
let redis: RedisServer;
let database: Database;
let sink: SmtpSink;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ews-resilience-'));
  // As root the cluster runs as user postgres, which must pass through this folder to its own.
  chmodSync(dir, 0o711);
  cluster = await startPgCluster(join(dir, 'pg'));
  const admin = new pg.Client({ connectionString: cluster.url('postgres') });
  await admin.connect();
  await admin.query('CREATE DATABASE ews');
  await admin.end();
  database = openDatabase(cluster.url('ews'), 4);
  await migrate(database.pool);
  redis = await startRedis(join(dir, 'redis'), 'none');
  sink = await startSmtpSink();
}, 120_000);

afterAll(async () => {
  await database?.close();
  await sink?.close();
  await redis?.stop();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function configFor(redisUrl: string, more: Record<string, unknown> = {}): Config {
  return configSchema.parse({
    database: { url: cluster.url('ews'), poolSize: 4 },
    dataDir: join(dir, 'data'),
    redis: { url: redisUrl, queuePrefix: 'ews-resilience' },
    notify: { smtpUrl: sink.url, cities: Object.fromEntries(CITIES.map((c) => [c.code, [{ email: `dept-${c.code}@city.example` }]])) },
    ...more,
  });
}

async function readyz(api: ApiServer): Promise<{ status: number; checks: Record<string, boolean> }> {
  const res = await fetch(`http://127.0.0.1:${api.port}/readyz`);
  const body = (await res.json()) as { checks: Record<string, boolean> };
  return { status: res.status, checks: body.checks };
}

describe('readiness tells the truth', () => {
  it('is 503 while Redis is stopped or PostgreSQL is down under open connections, and 200 again once they are back', async () => {
    const config = configFor(redis.url);
    const queues: QueueSet = openQueues(redisConnection(redis.url), 'ews-resilience');
    const api = await startApiServer({ config, database, queues: Object.values(queues.queues), log: captureLogger().log, checks: {} }, { port: 0, host: '127.0.0.1', checkTimeoutMs: 1_000 });
    try {
      expect(await readyz(api)).toEqual({ status: 200, checks: { postgres: true, redis: true } });

      await redis.stop();
      await until(async () => (await readyz(api)).status === 503, 20_000, 'readyz 503 with Redis stopped');
      expect((await readyz(api)).checks).toEqual({ postgres: true, redis: false });
      await redis.restart();
      await until(async () => (await readyz(api)).status === 200, 30_000, 'readyz 200 with Redis back');

      // The pool holds connections the server is about to end.
      await Promise.all([1, 2, 3].map(() => database.db.selectNoFrom(sql<number>`1`.as('one')).execute()));
      await cluster.stop();
      const down = await readyz(api);
      expect(down).toEqual({ status: 503, checks: { postgres: false, redis: true } });
      await cluster.restart();
      await until(async () => (await readyz(api)).status === 200, 30_000, 'readyz 200 with PostgreSQL back');
    } finally {
      await api.close();
      await queues.close();
    }
  }, 120_000);
});

describe('a database restart under a running process', () => {
  it('fails the query and the transaction in flight, crashes nothing, and the next query works', async () => {
    const slowQuery = database.db.selectNoFrom(sql<number>`pg_sleep(30)`.as('slept')).execute().then(() => 'finished', (err: Error) => err.message);
    const slowTransaction = inTransaction(database.pool, async (client) => {
      await client.query('SELECT pg_sleep(30)');
    }).then(() => 'committed', (err: Error) => err.message);
    // Both are running on checked-out connections when the server goes.
    await until(async () => {
      const rows = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()`.execute(database.db);
      return rows.rows[0]?.n === 2;
    }, 10_000, 'both sleeping on the server');
    await cluster.restart();
    expect(await slowQuery).toMatch(/terminat|shutdown|connection/i);
    expect(await slowTransaction).toMatch(/terminat|shutdown|connection/i);
    // Still here (an unhandled 'error' event would have ended this process), and the pool opens new connections.
    const after = await database.db.selectNoFrom(sql<number>`41 + 1`.as('answer')).executeTakeFirstOrThrow();
    expect(after.answer).toBe(42);
  }, 60_000);
});

describe('an e-mail the relay accepted while the database restarted', () => {
  it('is recorded as sent once the database is back, and never sent again', async () => {
    const slow = await startSmtpSink();
    // The relay holds its 250 until the test lets it go: the database is down by then, however slow this machine.
    slow.faults.acceptDelayMs = 60_000;
    const transport = openTransport(configFor(redis.url, { notify: { smtpUrl: slow.url } }).notify);
    const { log, lines } = captureLogger();
    try {
      const { notification_id: id } = await database.db
        .insertInto('notification')
        .values({ dedupe_key: 'resilience/1', kind: 'summary', run_id: 1, city_code: null, recipient: 'office@province.example', message_id: '<resilience-1@layoff-ews>', payload: summaryPayload(), alert_ids: [], raised_at: new Date() })
        .returning('notification_id')
        .executeTakeFirstOrThrow();
      const delivery = deliverNotification({ database, transport, log, leaseMs: 60_000 }, id);
      // While the relay holds its 250, the database restarts: the `sent` update meets a dead pool.
      await until(() => Promise.resolve(slow.accepting === 1), 10_000, 'the relay accepting');
      await cluster.stop();
      slow.releaseAccepting();
      await until(() => Promise.resolve(lines.some((l) => l.includes('recording it failed; retrying'))), 20_000, 'the sent update failing');
      await cluster.restart();
      expect(await delivery).toMatchObject({ status: 'sent', notificationId: id });
      const row = await database.db.selectFrom('notification').select(['status', 'attempts']).where('notification_id', '=', id).executeTakeFirstOrThrow();
      expect(row).toEqual({ status: 'sent', attempts: 1 });
      expect(slow.received.map((m) => m.messageId)).toEqual(['<resilience-1@layoff-ews>']);
      expect(lines.some((l) => l.includes('recording it failed; retrying'))).toBe(true);
    } finally {
      transport.close();
      await slow.close();
    }
  }, 60_000);
});

describe('Redis that would lose jobs', () => {
  it('is refused in production when it may evict keys, and reported at start when it persists nothing', async () => {
    const evicting = await startRedis(join(dir, 'redis-lru'), 'aof', ['--maxmemory-policy', 'allkeys-lru']);
    try {
      const production = configFor(evicting.url, { env: 'production' });
      await expect(serve(production, captureLogger().log, new Set(['scheduler']))).rejects.toThrow(/maxmemory-policy is allkeys-lru.*refused in production/);
    } finally {
      await evicting.stop();
    }
    // This file's Redis keeps nothing on disk (as .ci/run starts one): said at start, and the service still starts.
    const { log, lines } = captureLogger();
    const service = await serve(configFor(redis.url), log, new Set(['scheduler']));
    await service.stop();
    expect(lines.some((l) => l.includes('Redis persists nothing'))).toBe(true);
  }, 60_000);
});

function summaryPayload(): Record<string, unknown> {
  return {
    kind: 'summary', period: '2026-10', runId: 1, cityCode: null, cityName: '四川省', recipient: { email: 'office@province.example', name: null },
    employers: [], city: null, dataMissing: [], consoleUrl: 'http://127.0.0.1:8080', summary: [], failedDeliveries: 0,
  };
}
