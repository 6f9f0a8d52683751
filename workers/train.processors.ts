import { UnrecoverableError } from 'bullmq';
import type { Config } from '../config/config.schema.js';
import type { Database } from '../services/db/database.js';
import type { Logger } from '../services/log.js';
import { BatchRepository } from '../services/feeds/batch.repository.js';
import { startThreadPool, type ThreadPool } from '../services/threads/pool.js';
import { jobOptions, trainJobId } from './jobs.catalog.js';
import type { TrainingThread, TrainThreadData } from './train.protocol.js';
import type { TrainStageOptions, TrainStageResult } from './train.stage.js';
import type { Handlers, QueueSet } from './worker.js';

/**
 * The monthly retraining through the queue: the schedule fires `retrain`,
 * which adds `train.<month>` for the latest month of data (so a month is
 * trained on once, whoever fires it); `train` runs the same stage as
 * `ews train` (train.stage.ts), in a thread of its own so that the
 * process's event loop stays free. Bad data (too few positives, a damaged
 * registry, nothing held out to judge on) fails the job at once; anything
 * else (a database restart) is retried.
 */

export interface TrainWorkerDeps {
  config: Config;
  database: Database;
  log: Logger;
  queues: QueueSet;
  /** Tests: another shipped model. */
  shippedDir?: string;
}

/** Between attempts of a retraining after a transient fault. */
const TRAIN_BACKOFF_MS = 5 * 60_000;
/** Errors of the stage that another attempt would meet again. */
const PERMANENT = new Set(['UsageError', 'RegistryError', 'ModelArtifactError', 'RangeError']);
const THREAD = new URL('./train.thread.mjs', import.meta.url);

export function trainHandlers(deps: TrainWorkerDeps): Pick<Handlers, 'retrain' | 'train'> & { close: () => Promise<void> } {
  const { config, database, queues } = deps;
  const running = new Set<ThreadPool<TrainingThread>>();
  let stopped = false;
  return {
    retrain: async ({ reason }) => {
      const month = await new BatchRepository(database).latestLoadedPeriod();
      if (month === null) return { queued: false, reason: 'no social-insurance month loaded yet' };
      const jobId = trainJobId(month);
      if ((await queues.queues.train.getJob(jobId)) !== undefined) return { queued: false, jobId, reason: 'this month of data is already queued or trained on' };
      await queues.queues.train.add('train', { month, reason }, { ...jobOptions(config.training.attempts, TRAIN_BACKOFF_MS), jobId });
      return { queued: true, jobId };
    },

    train: async ({ month, reason }, { log }) => {
      const t = config.training;
      const options: TrainStageOptions = { through: month, holdoutMonths: t.holdoutMonths, epochs: t.epochs, seed: t.seed, negatives: t.negatives, kind: t.kind, skipIfTrained: true, by: `the train job (${reason})` };
      const data: TrainThreadData = {
        databaseUrl: database.url,
        thresholds: config.scoring.thresholds,
        dataDir: config.dataDir,
        configuredModelDir: config.scoring.modelDir,
        logLevel: config.log.level,
        ...(deps.shippedDir !== undefined ? { shippedDir: deps.shippedDir } : {}),
      };
      const result = await runThread(data, options, log, running, () => stopped);
      if (result.skipped) {
        log.info({ month }, `nothing to train: ${result.reason}`);
        return result;
      }
      const { version, promoted, status, reason: why, holdout } = result;
      return { version, promoted, status, reason: why, holdout };
    },

    /** Stops a training in progress (shutdown); its job goes back to the queue. */
    close: async () => {
      stopped = true;
      await Promise.all([...running].map((pool) => pool.terminate()));
    },
  };
}

/** The stage in a training thread of its own (the project's thread pool, one thread), started for this job and closed after it. */
async function runThread(data: TrainThreadData, options: TrainStageOptions, log: Logger, running: Set<ThreadPool<TrainingThread>>, stopped: () => boolean): Promise<TrainStageResult> {
  const { pool } = await startThreadPool<TrainingThread>({
    script: THREAD,
    data,
    threads: 1,
    name: 'training',
    onAsk: ({ line }) => {
      writeLine(log, line);
      return Promise.resolve({ value: null });
    },
  });
  running.add(pool);
  try {
    if (stopped()) throw new Error('the worker is shutting down: the training was not started');
    return await pool.run(options);
  } catch (err) {
    throw err instanceof Error && PERMANENT.has(err.name) ? new UnrecoverableError(err.message) : err;
  } finally {
    running.delete(pool);
    await pool.close();
  }
}

/** A pino line from the thread, written under the job's logger at its level. */
function writeLine(log: Logger, line: string): void {
  try {
    const { level, msg, ...fields } = JSON.parse(line) as { level?: number; msg?: string } & Record<string, unknown>;
    const at = (level ?? 30) >= 50 ? 'error' : (level ?? 30) >= 40 ? 'warn' : (level ?? 30) >= 30 ? 'info' : 'debug';
    log[at](fields, msg ?? '');
  } catch {
    log.info(line);
  }
}
