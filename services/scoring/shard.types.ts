import type { LevelCounts } from '../domain/level.js';
import type { FeatureReference } from './features.js';
import type { ScoringContext } from './series.js';

/**
 * What scoring a shard takes and gives, and the one interface through which
 * shards are scored: on this thread (score.service.ts, inlineShards) or in
 * scoring threads (shard.threads.ts). The composition root (the CLI, the
 * worker process, a benchmark) chooses which; the stages never ask.
 */

/** The model as scoring sees it: the inference pool, or a thread's proxy to it. */
export interface ModelScorer {
  readonly version: string;
  /** What the explanation's drivers are measured against (the artifact's province-wide reference); null: no drivers. */
  readonly reference?: FeatureReference | null;
  /** Calibrated probabilities for n windows; x is handed over (it may be detached afterwards). */
  predict(x: Float32Array, n: number): Promise<Float32Array>;
}

export interface Shard {
  bucketFrom: number;
  bucketTo: number;
  city?: string;
  /** Read every month from the fact tables, not the pack the previous period left. */
  fromFacts?: boolean;
}

export interface ShardResult {
  employers: number;
  levels: LevelCounts;
  /** 1 when the shard's history came from the previous period's pack (and the changed months), 0 when all from the facts. */
  fromPack: number;
}

/** Seconds spent per stage, summed over shards (lanes overlap, so the sum may exceed wall time). */
export interface StageClock {
  read: number;
  features: number;
  predict: number;
  rules: number;
  write: number;
}

export function newStageClock(): StageClock {
  return { read: 0, features: 0, predict: 0, rules: 0, write: 0 };
}

export function addClock(into: StageClock, from: StageClock): void {
  for (const k of Object.keys(from) as (keyof StageClock)[]) into[k] += from[k];
}

export interface ShardScored {
  result: ShardResult;
  clock: StageClock;
}

/** Scores shards: one at a time per lane, as many lanes as `lanes` says keep every thread busy. */
export interface ShardRunner {
  /** Shards worth scoring at once. */
  readonly lanes: number;
  score(runId: number, period: string, shard: Shard, ctx: ScoringContext): Promise<ShardScored>;
  /** Waits for shards in flight and releases what the runner holds (threads, connections). */
  close(): Promise<void>;
}
