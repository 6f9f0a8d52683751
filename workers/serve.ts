import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config/config.schema.js';
import { BatchRepository } from '../services/feeds/batch.repository.js';
import { connectDatabase } from '../services/db/connect.js';
import type { Logger } from '../services/log.js';
import { resolveModelArtifact, type ModelChoice } from '../models/registry.js';
import { FEATURE_SPEC } from '../services/scoring/features.js';
import { inlineShards, type ModelScorer } from '../services/scoring/score.service.js';
import type { ShardRunner } from '../services/scoring/shard.types.js';
import { RiskRepository } from '../services/scoring/risk.repository.js';
import { SeriesRepository } from '../services/scoring/series.repository.js';
import { startShardThreads, type ShardThreads } from '../services/scoring/shard.threads.js';
import { openTransport } from '../services/notify/transport.js';
import { ingestHandlers } from './ingest.processors.js';
import type { QueueName } from './jobs.catalog.js';
import { nightlyHandlers } from './nightly.processors.js';
import { notifyHandlers } from './notify.processors.js';
import { trainHandlers } from './train.processors.js';
import { NightFlows } from './night.flow.js';
import { startNightWatch, upsertSchedules } from './night.watch.js';
import { judgeRedis, readRedisDurability, redisConnection } from './redis.js';
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
    if (roles.has('worker') || roles.has('scheduler')) await checkRedis(config, log);
    const queues = openQueues(connection, prefix);
    closers.push({ name: 'queues', close: () => queues.close() });

    // The model and the scoring threads that ask it start on first use, as
    // one generation, and their closer is placed now, before the workers':
    // shutdown stops the workers (and their running shards) first, then the
    // threads, then the model. When the artifact to score with changes (the
    // train job or `ews models promote|rollback` changed the registry's
    // current version), the next run starts a new generation and the old one
    // closes once its shards in flight are done.
    interface Generation {
      dir: string;
      model: Promise<LoadedModel>;
      threads: Promise<ShardThreads | null> | null;
    }
    let generation: Generation | null = null;
    const retiring = new Set<Promise<void>>();
    const closeGeneration = async (g: Generation): Promise<void> => {
      const threads = await (g.threads ?? Promise.resolve(null)).catch(() => null);
      await threads?.close();
      await (await g.model).pool?.close();
    };
    closers.push({
      name: 'model and scoring threads',
      close: async () => {
        await Promise.all(retiring);
        if (generation !== null) await closeGeneration(generation);
      },
    });
    const currentGeneration = (): Generation => {
      const choice = resolveModelArtifact({ configuredDir: config.scoring.modelDir, dataDir: config.dataDir, expected: FEATURE_SPEC });
      if (generation === null || generation.dir !== choice.dir) {
        const old = generation;
        generation = { dir: choice.dir, model: loadModel(config, log, choice), threads: null };
        if (old !== null) {
          log.info({ from: old.dir, to: choice.dir }, `the model to score with is now ${choice.version}: loaded for the next runs`);
          const retired: Promise<void> = closeGeneration(old)
            .catch((err: unknown) => log.warn(`closing the previous model: ${(err as Error).message}`))
            .finally(() => retiring.delete(retired));
          retiring.add(retired);
        }
      }
      return generation;
    };
    const model = async (): Promise<{ model: ModelScorer | null; note: string | null }> => {
      const { model: m, note } = await currentGeneration().model;
      return { model: m, note };
    };
    // The one place the worker process chooses where shards are scored: scoring threads (SCORE_THREADS), or this thread.
    const shardRunner = async (): Promise<ShardRunner> => {
      const threads = await scoringThreads();
      if (threads !== null) return threads;
      const { model: m } = await model();
      return inlineShards({ series: new SeriesRepository(database), risks: new RiskRepository(database), thresholds: config.scoring.thresholds, model: m, log });
    };
    const scoringThreads = (): Promise<ShardThreads | null> => {
      const g = currentGeneration();
      if (g.threads === null) {
        const started = g.model.then(async ({ model: m }) => {
          if (config.scoring.threads === 0) return null;
          return startShardThreads({
            databaseUrl: database.url,
            thresholds: config.scoring.thresholds,
            threads: config.scoring.threads,
            model: m,
            logLevel: config.log.level,
            onRestart: ({ index, reason, error }) =>
              error === undefined
                ? log.warn({ thread: index }, `scoring thread ${index} ${reason}: a new thread took its place`)
                : log.error({ thread: index }, `scoring thread ${index} ${reason}, and was not replaced: ${error}`),
          });
        });
        g.threads = started;
        started.catch(() => {
          if (g.threads === started) g.threads = null;
        });
      }
      return g.threads;
    };

    if (roles.has('scheduler')) {
      // Upserted: a restart or a second scheduler updates the same schedules, never adds one.
      await upsertSchedules(config, queues);
      log.info({ cron: config.nightly.cron, pollCron: config.nightly.pollCron, trainCron: config.training.cron, tz: config.nightly.timezone, sweepMs: config.notify.sweepMs }, 'schedules upserted');
      // The watch: nights whose jobs were lost or that stopped are re-driven (workers/night.watch.ts).
      const flows = new NightFlows(config, connection, prefix, log);
      const watch = startNightWatch({ config, database, log, queues, flows, restoreSchedules: true });
      closers.push({ name: 'night watch', close: () => watch.stop().then(() => flows.close()) });
      log.info({ stallMs: config.nightly.stallMs }, 'night watch started');
    }

    if (roles.has('worker')) {
      const stages = config.nightly.stages;
      const transport = openTransport(config.notify);
      closers.push({ name: 'mail transport', close: () => Promise.resolve(transport.close()) });
      const nightly = nightlyHandlers({ config, database, log, queues, connection, prefix, model, runner: shardRunner });
      closers.push({ name: 'flow producer', close: () => nightly.close() });
      const { close: stopTraining, ...training } = trainHandlers({ config, database, log, queues });
      const handlers: Handlers = {
        ...ingestHandlers(config, { batches: new BatchRepository(database), log }, queues.queues.ingest),
        ...nightly,
        ...training,
        ...notifyHandlers(
          { database, alerts: config.alerts, notify: config.notify, log },
          { database, transport, log, leaseMs: config.notify.sendLeaseMs },
          queues.queues.notify,
          { attempts: config.notify.attempts, baseMs: config.notify.retryBaseMs },
        ),
      };
      const concurrency: Record<QueueName, number> = {
        poll: stages.poll.concurrency,
        ingest: stages.ingest.concurrency,
        nightly: stages.nightly.concurrency,
        score: stages.score.concurrency,
        alerts: stages.alerts.concurrency,
        notify: stages.notify.concurrency,
        // One retraining at a time: it takes the process's cores for minutes.
        train: 1,
      };
      const workers = startWorkers(handlers, { connection, prefix, log, concurrency, lockMs: config.nightly.jobLockMs });
      // After the workers' closer (closers run in reverse): a retraining still running when the grace period is over is stopped, and its job handed back.
      closers.push({ name: 'training thread', close: stopTraining });
      closers.push({
        name: 'workers',
        close: async () => {
          // Take no new job and finish what is running within the grace period; then hand it back: a
          // forced close stops renewing the running jobs' locks, so another worker takes them up. (Not
          // close() then close(true): BullMQ's second close returns the first, which waits for the jobs.)
          let timer: NodeJS.Timeout | undefined;
          const drained = Promise.all(workers.workers.map((w) => w.pause())).then(() => 'drained' as const);
          const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), config.shutdownGraceMs)));
          const how = await Promise.race([drained, late]);
          clearTimeout(timer);
          if (how === 'late') log.warn({ graceMs: config.shutdownGraceMs }, 'shutdown: jobs still running after the grace period are handed back');
          await Promise.all(workers.workers.map((w) => w.close(how === 'late')));
          log.info({ handedBack: how === 'late' }, 'shutdown: workers closed');
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
        queues: Object.values(queues.queues),
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

interface LoadedModel {
  model: ModelScorer | null;
  note: string | null;
  pool: { close(): Promise<void> } | null;
}

async function loadModel(config: Config, log: Logger, choice: ModelChoice): Promise<LoadedModel> {
  const { openScoringModel } = await import('../models/registry.load.js');
  const { poolScorer } = await import('../models/inference.pool.js');
  const opened = await openScoringModel({ configuredDir: config.scoring.modelDir, dataDir: config.dataDir, expected: FEATURE_SPEC, threads: config.scoring.modelThreads }, choice);
  const { pool, note } = opened;
  if (pool === null) {
    log.error({ modelDir: choice.dir }, note ?? 'model not used');
    return { model: null, note, pool: null };
  }
  if (note !== null) log.error({ modelDir: choice.dir }, note);
  log.info({ model: pool.version, backend: pool.backend, source: choice.source }, 'model loaded');
  return { model: poolScorer(pool), note, pool };
}

/** Says loudly when Redis would lose jobs; refuses to start in production when it may evict them. */
async function checkRedis(config: Config, log: Logger): Promise<void> {
  const durability = await readRedisDurability(config.redis.url).catch((err: unknown) => {
    log.warn(`could not ask Redis how it keeps its keys: ${(err as Error).message}`);
    return null;
  });
  if (durability === null) return;
  const verdict = judgeRedis(durability, config.env);
  for (const w of verdict.warnings) log.warn({ redis: durability }, w);
  if (verdict.refuse !== null) throw new Error(`${verdict.refuse} (refused in production)`);
}

function modelFilesPresent(config: Config): Promise<boolean> {
  const { dir } = resolveModelArtifact({ configuredDir: config.scoring.modelDir, dataDir: config.dataDir, expected: FEATURE_SPEC });
  return Promise.resolve(['model.json', 'weights.bin', 'metadata.json'].every((f) => existsSync(resolve(dir, f))));
}
