import type { CityRiskBands } from '../../config/city-risk.schema.js';
import type { Thresholds } from '../../config/thresholds.schema.js';
import { noLevels, countLevel } from '../domain/level.js';
import { addMonths } from '../domain/period.js';
import type { Logger } from '../log.js';
import { computeCityRisk } from './city.risk.js';
import { buildFeatures, lastSteps } from './features.js';
import { DRIVER_STEPS, judgeRow, TYPICAL_LAYOFF_SHARE } from './judgement.js';
import type { EmployerRiskRow, RiskRepository } from './risk.repository.js';
import { withPeers } from './rules/index.js';
import type { ScoringContext } from './series.js';
import type { SeriesRepository } from './series.repository.js';
import { newStageClock, type ModelScorer, type Shard, type ShardResult, type ShardRunner, type StageClock } from './shard.types.js';

/**
 * The scoring stage: per shard (a bucket range, optionally one city) read
 * the employers' history, run the rules, ask the model, set a level with its
 * explanation, and write the shard's rows back in one transaction; then the
 * cities. `ews score` runs it inline; the nightly run calls the same
 * functions from its queue jobs.
 */

export type { ModelScorer, Shard, ShardResult, StageClock } from './shard.types.js';
export { newStageClock };

export interface ScoreDeps {
  readonly series: SeriesRepository;
  readonly risks: RiskRepository;
  readonly thresholds: Thresholds;
  readonly cityBands: CityRiskBands;
  /** null: rules only (no model, or the artifact was refused). */
  readonly model: ModelScorer | null;
  readonly log: Logger;
}

/** What scoring one shard on this thread needs (a scoring thread has no city bands). */
export interface ShardDeps {
  readonly series: SeriesRepository;
  readonly risks: RiskRepository;
  readonly thresholds: Thresholds;
  readonly model: ModelScorer | null;
  readonly log: Logger;
}

/** Months read per employer: the model's 24 plus the rules' year-ago comparison. */
export const HISTORY_MONTHS = 25;

/** Equal bucket ranges covering all 256 buckets. */
export function shards(count: number, city?: string): Shard[] {
  const n = Math.max(1, Math.min(256, Math.floor(count)));
  return Array.from({ length: n }, (_, i) => ({
    bucketFrom: Math.floor((i * 256) / n),
    bucketTo: Math.floor(((i + 1) * 256) / n) - 1,
    ...(city !== undefined ? { city } : {}),
  }));
}

/** What every shard of a run shares: the month's new employer codes (for transfers). */
export async function scoringContext(series: SeriesRepository, period: string): Promise<ScoringContext> {
  return series.newIntakes([addMonths(period, -1), period]);
}

/** One shard on this thread: read, features, model, rules and levels, write (the seconds of each go to `clock`). */
export async function scoreShard(deps: ShardDeps, runId: number, period: string, shard: Shard, ctx: ScoringContext, clock: StageClock = newStageClock()): Promise<ShardResult> {
  let t = performance.now();
  const lap = (stage: keyof StageClock): void => {
    const now = performance.now();
    clock[stage] += (now - t) / 1000;
    t = now;
  };
  const query = { period, months: HISTORY_MONTHS, ...shard };
  const read = await deps.series.readForScoring(query);
  const batch = read.batch;
  ctx = withPeers(ctx, batch, deps.thresholds);
  if (read.damaged > 0) deps.log.warn({ period, shard, damaged: read.damaged }, 'packed history that could not be unpacked was read from the facts');
  lap('read');
  const all = Array.from({ length: batch.size }, (_, i) => i);
  let probabilities: Float32Array | null = null;
  // The explanation reads only the last DRIVER_STEPS steps: taken before the
  // model is asked, so that the whole window can be handed over, not copied.
  let features: Float32Array | null = null;
  if (deps.model !== null && batch.size > 0) {
    const x = buildFeatures(batch, all);
    features = lastSteps(x, batch.size, DRIVER_STEPS);
    lap('features');
    probabilities = await deps.model.predict(x, batch.size);
    lap('predict');
  }
  const stats = deps.model?.reference ?? null;
  const rows: EmployerRiskRow[] = [];
  const levels = noLevels();
  for (const i of all) {
    const p = probabilities ? (probabilities[i] as number) : null;
    const row = judgeRow(batch, i, ctx, deps.thresholds, p, features, stats, deps.model?.version ?? null);
    if (row.level !== null) countLevel(levels, row.level);
    rows.push(row);
  }
  lap('rules');
  await deps.risks.writeShard(period, shard, runId, rows);
  await deps.series.writePack(query, runId, read);
  lap('write');
  return { employers: batch.size, levels, fromPack: read.source === 'pack' ? 1 : 0 };
}

/**
 * Shards scored on this thread, two at a time by default: while one waits
 * on PostgreSQL or the model's threads, the other's rules and features use
 * the thread.
 */
export function inlineShards(deps: ShardDeps, lanes = 2): ShardRunner {
  return {
    lanes,
    score: async (runId, period, shard, ctx) => {
      const clock = newStageClock();
      const result = await scoreShard(deps, runId, period, shard, ctx, clock);
      return { result, clock };
    },
    close: () => Promise.resolve(),
  };
}

export async function scoreCities(deps: Pick<ScoreDeps, 'risks' | 'cityBands'>, runId: number, period: string) {
  const [aggregates, regional, coverage] = await Promise.all([
    deps.risks.cityAggregates(period, TYPICAL_LAYOFF_SHARE),
    deps.risks.regionalFacts(period),
    deps.risks.feedCoverage(period, addMonths(period, -1)),
  ]);
  const rows = computeCityRisk({ aggregates, regional, ...coverage }, deps.cityBands);
  await deps.risks.writeCities(period, runId, rows);
  return rows;
}

