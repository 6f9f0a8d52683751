import type { Thresholds } from '../../config/thresholds.schema.js';
import type { ThreadKind } from '../threads/protocol.js';
import type { Shard, ShardScored } from './shard.types.js';
import type { NewEmployerIntake } from './series.js';
import type { FeatureReference } from './features.js';

/**
 * What the scoring threads and their owner say to each other, over the
 * thread pool's protocol (services/threads): a task is one shard; the
 * thread's asks are the model's predictions, which the owner's inference
 * pool answers.
 */

export interface ShardWorkerData {
  databaseUrl: string;
  thresholds: Thresholds;
  /** The model's version when there is one: its predictions are asked of the owning thread. */
  modelVersion: string | null;
  /** The model's feature reference, for the explanation's drivers. */
  modelReference: FeatureReference | null;
  logLevel: string;
}

export interface ShardTask {
  runId: number;
  period: string;
  shard: Shard;
  intakes: readonly NewEmployerIntake[];
}

export type ShardDone = ShardScored;

/** n windows [n, steps, features], handed over. */
export interface PredictAsk {
  x: Float32Array;
  n: number;
}

/** A scoring thread: started with its database and thresholds, tells nothing; a task is a shard, an ask the model's predictions. */
export interface ScoringThread extends ThreadKind {
  data: ShardWorkerData;
  info: null;
  request: ShardTask;
  result: ShardDone;
  ask: PredictAsk;
  answer: Float32Array;
}
