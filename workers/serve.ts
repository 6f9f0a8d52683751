import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config/config.schema.js';
import { BatchRepository } from '../services/feeds/batch.repository.js';
import { connectDatabase } from '../services/db/connect.js';
import type { Logger } from '../services/log.js';
import { FEATURE_SPEC } from '../services/scoring/features.js';
import type { ModelScorer } from '../services/scoring/score.service.js';
import { startShardThreads, type ShardThreads } from '../services/scoring/shard.threads.js';
import { openTransport } from '../services/notify/transport.js';
import { ingestHandlers } from './ingest.processors.js';
import type { QueueName } from './jobs.catalog.js';
import { nightlyHandlers } from './nightly.processors.js';
import { notifyHandlers } from './notify.processors.js';
import { redisConnection } from './redis.js';
import { openQueues, startWorkers, type Handlers } from './worker.js';

/**
 * `ews serve --role api|worker|scheduler|all`: the long-running processes.
 * All roles share PostgreSQL and Redis; BullMQ is what lets workers run on
 * as many machines as needed. On SIGTERM/SIGINT: stop taking jobs, give the
 * running ones the grace period to finish (then hand them back: BullMQ
 * gives a job whose worker vanished to another worker), close the queues,
 * the API, the model, then the database.
 */

export type Role = 'api' | 'worker' | 'scheduler';
export const ROLES: readonly Role[] = ['api', 'worker', 'scheduler'];

export interface Service {
  readonly port: number | null;
  stop(): Promise<void>;
}

export async function serve(config: Config, log: Logger, roles: ReadonlySet<Role>): Promise<Service> {
  const closers: { name: string; close: () => Promise<void> }[] = [];
  const stopAll = async (): Promise<void> => {
    for (const c of closers.reverse()) {
      await c.close().catch((err: unknown) => log.warn({ component: c.name }, `shutdown: ${(err as Error).message}`));
    }
    closers.length = 0;
  };
  try {
    const database = await connectDatabase(config, log);
    closers.push({ name: 'database', close: () => database.close() });
    const connection = redisConnection(config.redis.url);
    const prefix = config.redis.queuePrefix;
    const queues = openQueues(connection, prefix);
    closers.push({ name: 'queues', close: () => queues.close() });

    // The model and the scoring threads start on first use, but their closer
    // is placed now, before the workers': shutdown stops the workers (and
    // their running shards) first, then the threads, then the model.
    let pool: { close(): Promise<void> } | null = null;
    let threadsStarted: ShardThreads | null = null;
    closers.push({
      name: 'model and scoring threads',
      close: async () => {
        await threadsStarted?.close();
        await pool?.close();
      },
    });
    let modelReady: Promise<{ model: ModelScorer | null; note: string | null }> | null = null;
    const model = (): Promise<{ model: ModelScorer | null; note: string | null }> => {
      modelReady ??= loadModel(config, log).then((m) => {
        pool = m.pool;
        return { model: m.model, note: m.note };
      });
      return modelReady;
    };
    let threadsReady: Promise<ShardThreads | null> | null = null;
    const scoringThreads = (): Promise<ShardThreads | null> => {
      threadsReady ??= model().then(async ({ model: m }) => {
        if (config.scoring.threads === 0) return null;
        threadsStarted = await startShardThreads({ databaseUrl: database.url, thresholds: config.scoring.thresholds, threads: config.scoring.threads, model: m, logLevel: config.log.level });
        return threadsStarted;
      });
      threadsReady.catch(() => (threadsReady = null));
      return threadsReady;
    };

    if (roles.has('scheduler')) {
      const tz = config.nightly.timezone;
      // Upserted: a restart or a second scheduler updates the same schedules, never adds one.
      await queues.queues.nightly.upsertJobScheduler('nightly', { pattern: config.nightly.cron, tz }, { name: 'nightly', data: { reason: 'schedule' } });
      await queues.queues.nightly.upsertJobScheduler('catch-up', { pattern: config.nightly.pollCron, tz }, { name: 'nightly', data: { reason: 'catch-up' } });
      await queues.queues.notify.upsertJobScheduler('notify-sweep', { every: 10 * 60_000 }, { name: 'notify-sweep', data: {} });
      log.info({ cron: config.nightly.cron, pollCron: config.nightly.pollCron, tz }, 'schedules upserted');
    }

    if (roles.has('worker')) {
      const stages = config.nightly.stages;
      const transport = openTransport(config.notify);
      closers.push({ name: 'mail transport', close: () => Promise.resolve(transport.close()) });
      const nightly = nightlyHandlers({ config, database, log, queues, connection, prefix, model, threads: scoringThreads });
      closers.push({ name: 'flow producer', close: () => nightly.close() });
      const handlers: Handlers = {
        ...ingestHandlers(config, { batches: new BatchRepository(database), log }, queues.queues.ingest),
        ...nightly,
        ...notifyHandlers(
          { database, alerts: config.alerts, notify: config.notify, log },
          { database, transport, log, leaseMs: config.notify.sendLeaseMs },
          queues.queues.notify,
          { attempts: stages.notify.attempts, baseMs: stages.notify.backoffMs },
        ),
      };
      const concurrency: Record<QueueName, number> = {
        poll: stages.poll.concurrency,
        ingest: stages.ingest.concurrency,
        nightly: stages.nightly.concurrency,
        score: stages.score.concurrency,
        alerts: stages.alerts.concurrency,
        notify: stages.notify.concurrency,
      };
      const workers = startWorkers(handlers, { connection, prefix, log, concurrency, lockMs: config.nightly.jobLockMs });
      closers.push({
        name: 'workers',
        close: async () => {
          // Finish what is running within the grace period; then hand it back.
          let timer: NodeJS.Timeout | undefined;
          const graceful = workers.close().then(() => 'closed' as const);
          const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), config.shutdownGraceMs)));
          const how = await Promise.race([graceful, late]);
          clearTimeout(timer);
          if (how === 'late') {
            log.warn({ graceMs: config.shutdownGraceMs }, 'shutdown: jobs still running after the grace period are handed back');
            await Promise.all(workers.workers.map((w) => w.close(true)));
          }
        },
      });
      // Load the model now rather than on the first shard of the night.
      void model();
    }

    let port: number | null = null;
    if (roles.has('api')) {
      const { startApiServer } = await import('../services/api/server.js');
      const api = await startApiServer({
        config,
        database,
        queues,
        log,
        checks: {
          model: async () => (roles.has('worker') ? (await model()).model !== null : modelFilesPresent(config)),
        },
      });
      port = api.port;
      closers.push({ name: 'api', close: () => api.close() });
      log.info({ port }, 'API listening');
    }
    log.info({ roles: [...roles] }, 'layoff-ews serving');
    return { port, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function loadModel(config: Config, log: Logger): Promise<{ model: ModelScorer | null; note: string | null; pool: { close(): Promise<void> } | null }> {
  const dir = resolve(config.scoring.modelDir);
  try {
    const { startInferencePool } = await import('../models/inference.pool.js');
    const pool = await startInferencePool(dir, FEATURE_SPEC, { threads: config.scoring.modelThreads });
    log.info({ model: pool.version, backend: pool.backend }, 'model loaded');
    return { model: { version: pool.version, predict: (x, n) => pool.predict(x, n, { handOver: true }) }, note: null, pool };
  } catch (err) {
    const note = `model not used, scoring with rules only: ${(err as Error).message}`;
    log.error({ modelDir: dir }, note);
    return { model: null, note, pool: null };
  }
}

function modelFilesPresent(config: Config): Promise<boolean> {
  const dir = resolve(config.scoring.modelDir);
  return Promise.resolve(['model.json', 'weights.bin', 'metadata.json'].every((f) => existsSync(resolve(dir, f))));
}
