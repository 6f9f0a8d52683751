import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CITIES } from '../config/cities.js';
import { configSchema, type Config } from '../config/config.schema.js';
import type { Database } from '../services/db/database.js';
import { generateProvince } from '../services/synth/province.generate.js';
import { serve } from '../workers/serve.js';
import { createTestDatabase } from './harness/db.js';
import { databaseUrl } from './harness/env.js';
import { captureLogger } from './harness/log.js';
import { until as untilWithin } from './harness/wait.js';
import { startSmtpSink, type SmtpSink } from './harness/smtp.js';

/**
 * The night survives its processes: a worker killed in the middle of the
 * flow (another takes its jobs up), and Redis restarted in the middle of a
 * run (with its append-only file, as docker-compose runs it). Each test has
 * a Redis of its own, so restarting it disturbs nobody else.
 */

const BIN = fileURLToPath(new URL('../bin/ews.js', import.meta.url));
let sink: SmtpSink;
let dir: string;
const children: ChildProcess[] = [];

/** A whole night runs in child processes: give its conditions room. */
const until = (check: () => Promise<boolean>): Promise<void> => untilWithin(check, 120_000);

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });
}

/** A private redis-server with AOF persistence; resolves once it answers. */
async function startRedis(port: number, data: string): Promise<ChildProcess> {
  mkdirSync(data, { recursive: true });
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', data, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { stdio: 'ignore' });
  children.push(child);
  const { Redis } = await import('ioredis');
  await untilWithin(async () => {
    const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      return (await r.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      r.disconnect();
    }
  }, 20_000, 'redis-server answering');
  return child;
}

function stopped(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill(signal);
  });
}

function nightConfig(database: Database & { name: string }, redisPort: number, tag: string): Config {
  return configSchema.parse({
    database: { url: databaseUrl(database.name), poolSize: 6 },
    dataDir: join(dir, `data-${tag}`),
    redis: { url: `redis://127.0.0.1:${redisPort}`, queuePrefix: `ews-${tag}-${randomBytes(3).toString('hex')}` },
    feeds: { sources: [{ name: 'province', url: `file://${join(dir, 'province', 'feeds')}/` }], retryBaseMs: 10 },
    scoring: { shards: 8, modelThreads: 1 },
    notify: {
      smtpUrl: sink.url,
      cities: Object.fromEntries(CITIES.map((c) => [c.code, [{ email: `dept-${c.code}@city.example` }]])),
      province: [{ email: `office-${tag}@province.example`, levels: [1, 2] }],
    },
    nightly: { cron: '* * * * * *', pollCron: '0 0 1 1 *', jobLockMs: 2_000, stages: { ingest: { backoffMs: 200 }, score: { backoffMs: 200 }, nightly: { backoffMs: 200 }, alerts: { backoffMs: 200 }, notify: { backoffMs: 200 } } },
    shutdownGraceMs: 5_000,
  });
}

/** The whole night is done: alerts processed and every e-mail sent. */
async function nightDone(database: Database): Promise<void> {
  await until(async () => (await database.db.selectFrom('alert_run').select('run_id').execute()).length > 0);
  await until(async () => (await database.db.selectFrom('notification').select('status').where('status', '<>', 'sent').execute()).length === 0);
}

async function exactlyOnce(database: Database): Promise<void> {
  const runs = await database.db.selectFrom('score_run').select(['run_id', 'status']).execute();
  expect(runs).toHaveLength(1);
  expect(runs[0]?.status).toBe('done');
  const mine = await database.db.selectFrom('notification').select(['message_id']).execute();
  const received = sink.received.filter((m) => mine.some((n) => n.message_id === m.messageId));
  expect(sink.received).toHaveLength(received.length);
  expect(new Set(received.map((m) => m.messageId)).size).toBe(mine.length);
  expect(received).toHaveLength(mine.length);
}

beforeAll(async () => {
  sink = await startSmtpSink();
  dir = mkdtempSync(join(tmpdir(), 'ews-faults-'));
  await generateProvince({ outDir: join(dir, 'province'), employers: 3000, months: 26, seed: 13, lastPeriod: '2026-10', defects: false });
}, 120_000);

afterAll(async () => {
  for (const c of children) await stopped(c, 'SIGKILL');
  await sink.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('faults in the middle of a night', () => {
  it('a worker killed mid-flow: another takes its jobs up and the night finishes, nothing lost or doubled', async () => {
    sink.received.length = 0;
    const database = await createTestDatabase();
    try {
      const redisPort = await freePort();
      await startRedis(redisPort, join(dir, 'redis-kill'));
      const config = nightConfig(database, redisPort, 'kill');
      const file = join(dir, 'kill.config.json');
      writeFileSync(file, JSON.stringify(config));
      // The first worker is a real process, killed once scoring has begun.
      const worker = spawn(process.execPath, [BIN, 'serve', '--role', 'worker,scheduler'], { env: { PATH: process.env['PATH'] ?? '', EWS_CONFIG: file, LOG_LEVEL: 'silent' }, stdio: 'ignore' });
      children.push(worker);
      await until(async () => (await database.db.selectFrom('employer_risk').select('uscc').limit(1).execute()).length > 0);
      await stopped(worker, 'SIGKILL');

      const { log } = captureLogger();
      const second = await serve(config, log, new Set(['worker']));
      try {
        await nightDone(database);
        await exactlyOnce(database);
      } finally {
        await second.stop();
      }
    } finally {
      await database.close();
    }
  });

  it('Redis restarted mid-run: the workers reconnect and the night finishes, nothing lost or doubled', async () => {
    sink.received.length = 0;
    const database = await createTestDatabase();
    try {
      const redisPort = await freePort();
      const data = join(dir, 'redis-restart');
      let redis = await startRedis(redisPort, data);
      const config = nightConfig(database, redisPort, 'restart');
      const { log } = captureLogger();
      const service = await serve(config, log, new Set(['worker', 'scheduler']));
      try {
        await until(async () => (await database.db.selectFrom('batch').select('batch_id').where('status', '=', 'loaded').execute()).length > 10);
        await stopped(redis, 'SIGTERM');
        redis = await startRedis(redisPort, data);
        await nightDone(database);
        await exactlyOnce(database);
      } finally {
        await service.stop();
      }
    } finally {
      await database.close();
    }
  });
});
