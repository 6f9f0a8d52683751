import type { Thresholds } from '../../config/thresholds.schema.js';
import type { ShardResult, Shard, StageClock } from './score.service.js';
import type { NewEmployerIntake } from './series.js';

/** What the scoring threads and the thread that owns them say to each other (see shard.threads.ts). */

export interface ShardWorkerData {
  databaseUrl: string;
  thresholds: Thresholds;
  /** The model's version when there is one: its predictions are asked of the owning thread. */
  modelVersion: string | null;
  logLevel: string;
}

export type ToShardWorker =
  | { kind: 'shard'; id: number; runId: number; period: string; shard: Shard; intakes: readonly NewEmployerIntake[] }
  | { kind: 'predicted'; id: number; p: Float32Array }
  | { kind: 'predict-failed'; id: number; message: string }
  | { kind: 'close' };

export type FromShardWorker =
  | { kind: 'ready' }
  | { kind: 'startup-failed'; message: string }
  | { kind: 'done'; id: number; result: ShardResult; clock: StageClock }
  | { kind: 'failed'; id: number; name: string; message: string }
  | { kind: 'predict'; id: number; x: Float32Array; n: number }
  | { kind: 'closed' };
