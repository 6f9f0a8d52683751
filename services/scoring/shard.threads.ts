import type { Thresholds } from '../../config/thresholds.schema.js';
import { startThreadPool } from '../threads/pool.js';
import type { ModelScorer, ShardRunner } from './shard.types.js';
import type { ScoringThread, ShardWorkerData } from './shard.protocol.js';

/**
 * Shards scored in worker threads, so that reading, features, rules and
 * writing use every core instead of one event loop. Each thread keeps its
 * own PostgreSQL connections and takes whole shards; the model's
 * predictions are asked of this (owning) thread, whose ModelScorer — the
 * inference pool — serves every scoring thread. A thread that dies fails
 * its shards with the reason (BullMQ retries them); the others go on, and
 * the pool starts another thread in its place.
 */

/** A runner whose shards go to scoring threads (closing it lets each thread close its connections and stop). */
export interface ShardThreads extends ShardRunner {
  readonly threads: number;
}

export interface ShardThreadsOptions {
  databaseUrl: string;
  thresholds: Thresholds;
  threads: number;
  model: ModelScorer | null;
  logLevel?: string;
  /** Default 60 s. */
  startupTimeoutMs?: number;
  /** Told when a thread that died was replaced, or could not be (the owner logs it). */
  onRestart?: (event: { index: number; reason: string; error?: string }) => void;
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
  const { pool } = await startThreadPool<ScoringThread>({
    script: WORKER_SCRIPT,
    data: workerData,
    threads: opts.threads,
    name: 'scoring',
    startupTimeoutMs: opts.startupTimeoutMs ?? 60_000,
    closeTimeoutMs: 5_000,
    ...(opts.onRestart !== undefined ? { onRestart: opts.onRestart } : {}),
    onAsk: async ({ x, n }) => {
      if (model === null) throw new Error('no model in this process');
      const p = await model.predict(x, n);
      return { value: p, transfer: [p.buffer as ArrayBuffer] };
    },
  });
  return {
    threads: opts.threads,
    // One shard per thread and one more, so that no thread idles while another waits.
    lanes: opts.threads + 1,
    score: (runId, period, shard, ctx) => pool.run({ runId, period, shard, intakes: ctx.intakes }),
    close: () => pool.close(),
  };
}
