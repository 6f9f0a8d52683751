import { Worker } from 'node:worker_threads';
import type { Thresholds } from '../../config/thresholds.schema.js';
import { startWorkerPool } from '../../models/worker-pool.js';
import type { ModelScorer, Shard, ShardResult, StageClock } from './score.service.js';
import type { PredictAsk, ShardDone, ShardTask, ShardWorkerData } from './shard.protocol.js';
import type { NewEmployerIntake } from './series.js';

/**
 * Shards scored in worker threads, so that reading, features, rules and
 * writing use every core instead of one event loop. Each thread keeps its
 * own PostgreSQL connections and takes whole shards; the model's
 * predictions are asked of this (owning) thread, whose ModelScorer — the
 * inference pool — serves every scoring thread. A thread that dies fails
 * its shards with the reason; the others go on.
 */

export interface ShardThreads {
  readonly threads: number;
  score(runId: number, period: string, shard: Shard, intakes: readonly NewEmployerIntake[]): Promise<{ result: ShardResult; clock: StageClock }>;
  /** Waits for shards in flight, then lets each thread close its connections and stop. */
  close(): Promise<void>;
}

export interface ShardThreadsOptions {
  databaseUrl: string;
  thresholds: Thresholds;
  threads: number;
  model: ModelScorer | null;
  logLevel?: string;
  /** Default 60 s. */
  startupTimeoutMs?: number;
}

const WORKER_SCRIPT = new URL('./shard.worker.mjs', import.meta.url);

export async function startShardThreads(opts: ShardThreadsOptions): Promise<ShardThreads> {
  const workerData: ShardWorkerData = {
    databaseUrl: opts.databaseUrl,
    thresholds: opts.thresholds,
    modelVersion: opts.model?.version ?? null,
    modelReference: opts.model?.reference ?? null,
    logLevel: opts.logLevel ?? 'warn',
  };
  const model = opts.model;
  const { pool } = await startWorkerPool<null, ShardTask, ShardDone, PredictAsk, Float32Array>(() => new Worker(WORKER_SCRIPT, { workerData }), {
    threads: opts.threads,
    label: 'scoring thread',
    startupTimeoutMs: opts.startupTimeoutMs ?? 60_000,
    gracefulCloseMs: 5_000,
    onAsk: async ({ x, n }) => {
      if (model === null) throw new Error('no model in this process');
      const p = await model.predict(x, n);
      return { value: p, transfer: [p.buffer as ArrayBuffer] };
    },
  });
  return {
    threads: opts.threads,
    score: (runId, period, shard, intakes) => pool.run({ runId, period, shard, intakes }),
    close: () => pool.close(),
  };
}
