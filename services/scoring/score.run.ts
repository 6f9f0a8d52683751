import type { CityRiskBands } from '../../config/city-risk.schema.js';
import type { Thresholds } from '../../config/thresholds.schema.js';
import type { LevelCounts } from '../domain/level.js';
import type { Logger } from '../log.js';
import type { RiskRepository, CityRiskRow } from './risk.repository.js';
import { inlineShards, scoreCities, scoringContext, shards as equalShards, type ScoreDeps } from './score.service.js';
import type { ScoringContext } from './series.js';
import type { SeriesRepository } from './series.repository.js';
import { addClock, type ModelScorer, type Shard, type ShardRunner, type ShardScored, type StageClock } from './shard.types.js';

/**
 * A scoring run in its three stages, the same functions whether a BullMQ
 * flow runs them as jobs (workers/nightly.processors.ts: night-score opens,
 * score-shard scores one shard, score-cities closes) or the inline night
 * runs them in a loop (`scoreRun`, for `ews nightly`, `ews score`, the demo
 * and the benchmarks):
 *
 *   open   a run of a period over planned shards (a night's run by its key, once)
 *   shard  one shard through the runner the composition root chose (this thread or scoring threads)
 *   close  cities, the employers counted by level, the run marked done, old packs pruned
 */

/** The model a run records and scores with (null: rules only, `note` says why). */
export interface ScoringModel {
  model: ModelScorer | null;
  note: string | null;
}

/** The model and the shard runner a run uses, as the composition root chose them. */
export interface ScoringSetup extends ScoringModel {
  runner: ShardRunner;
}

export interface ScoreRunDeps {
  readonly series: SeriesRepository;
  readonly risks: RiskRepository;
  readonly thresholds: Thresholds;
  readonly cityBands: CityRiskBands;
  readonly log: Logger;
  /** The model of the next run (a worker may have loaded a newer one since the last). */
  model(): Promise<ScoringModel>;
  /** Where shards are scored: asked only when a shard is (starting scoring threads is a shard's business, not the run's). */
  runner(): Promise<ShardRunner>;
}

export interface OpenedRun {
  runId: number;
  period: string;
  /** 'running' for a new run; a night's run opened again reports where it got to. */
  status: string;
  modelVersion: string | null;
}

export interface ClosedRun {
  runId: number;
  period: string;
  employers: number;
  levels: LevelCounts;
  cities: CityRiskRow[];
  /** Cities whose feeds were missing or partial: scored "data missing". */
  dataMissing: string[];
  /** series_pack partitions dropped. */
  pruned: string[];
}

/** The shards of a run: equal bucket ranges over the province, one city, or (a catch-up) a few per listed city. */
export function planShards(count: number, options: { city?: string; cities?: readonly string[]; fromFacts?: boolean } = {}): Shard[] {
  const list = options.cities !== undefined
    ? options.cities.flatMap((city) => equalShards(Math.max(1, Math.ceil(count / 8)), city))
    : equalShards(count, options.city);
  return options.fromFacts === true ? list.map((s) => ({ ...s, fromFacts: true })) : list;
}

export class ScoreRuns {
  // The scoring context (new employer codes of the month) is the same for every shard of a run.
  private readonly contexts = new Map<number, Promise<ScoringContext>>();

  constructor(private readonly deps: ScoreRunDeps) {}

  async open(period: string, shardCount: number, key: string | null = null): Promise<OpenedRun> {
    const { model, note } = await this.deps.model();
    const modelVersion = model?.version ?? null;
    const run = await this.deps.risks.openRun({ period, modelVersion, modelNote: note, shards: shardCount, key });
    return { ...run, modelVersion };
  }

  async shard(runId: number, period: string, shard: Shard): Promise<ShardScored> {
    const runner = await this.deps.runner();
    return runner.score(runId, period, shard, await this.context(runId, period));
  }

  async close(runId: number, period: string): Promise<ClosedRun> {
    const cities = await scoreCities(this.deps, runId, period);
    const { employers, levels } = await this.deps.risks.closeRun(runId, period);
    this.contexts.delete(runId);
    // The run is done whatever happens to the cache: a prune that fails (a lock it waited on too long) is logged, and the next run's close tries again.
    const pruned = await this.deps.series.prunePacks().catch((err: unknown) => {
      this.deps.log.warn({ runId, period }, `old history packs not pruned: ${(err as Error).message}`);
      return [] as string[];
    });
    const dataMissing = cities.filter((c) => c.industrySection === '*' && c.dataMissing).map((c) => c.cityCode);
    return { runId, period, employers, levels, cities, dataMissing, pruned };
  }

  /** Marks a run failed (the inline loop, when a shard fails: the queue's flow leaves that to BullMQ's retries). */
  async fail(runId: number, period: string): Promise<void> {
    this.contexts.delete(runId);
    await this.deps.risks.failRun(runId, period);
  }

  private context(runId: number, period: string): Promise<ScoringContext> {
    let ctx = this.contexts.get(runId);
    if (!ctx) {
      ctx = scoringContext(this.deps.series, period);
      this.contexts.set(runId, ctx);
      ctx.catch(() => this.contexts.delete(runId));
    }
    return ctx;
  }
}

export interface RunTotals extends ClosedRun {
  shards: number;
  shardsFromPack: number;
  /** Seconds per stage summed over shards. */
  clock: StageClock;
  seconds: number;
}

/**
 * The stages in a loop, as the inline night, `ews score` and the benchmarks
 * run them: open, every shard (as many at once as the runner has lanes),
 * close. A shard that fails marks the run failed and the error goes up.
 */
export async function scoreRun(
  deps: ScoreRunDeps,
  period: string,
  list: readonly Shard[],
  options: { key?: string | null; lanes?: number; runs?: ScoreRuns } = {},
): Promise<RunTotals> {
  const runs = options.runs ?? new ScoreRuns(deps);
  const started = performance.now();
  const run = await runs.open(period, list.length, options.key ?? null);
  const runner = await deps.runner();
  const clock: StageClock = { read: 0, features: 0, predict: 0, rules: 0, write: 0 };
  let shardsFromPack = 0;
  try {
    let next = 0;
    let failed = false;
    const lane = async (): Promise<void> => {
      // A failed shard fails the run: the other lanes take no further shard.
      while (next < list.length && !failed) {
        const shard = list[next++] as Shard;
        const scored = await runs.shard(run.runId, run.period, shard).catch((err: unknown) => {
          failed = true;
          throw err;
        });
        shardsFromPack += scored.result.fromPack;
        addClock(clock, scored.clock);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.lanes ?? runner.lanes, list.length)) }, lane));
    const closed = await runs.close(run.runId, run.period);
    const seconds = Math.round(performance.now() - started) / 1000;
    deps.log.info({ period, runId: run.runId, employers: closed.employers, levels: closed.levels, shards: list.length, shardsFromPack, seconds }, 'period scored');
    return { ...closed, shards: list.length, shardsFromPack, clock, seconds };
  } catch (err) {
    await runs.fail(run.runId, run.period).catch(() => undefined);
    throw err;
  }
}

/**
 * `scoreRun` for callers that hold a model and (optionally) a runner:
 * `ews score`, the tests and the benchmarks. With no runner, shards are
 * scored on this thread (two lanes).
 */
export async function scorePeriod(
  deps: ScoreDeps,
  period: string,
  options: { shards?: number; city?: string; fromFacts?: boolean; modelNote?: string | null; runner?: ShardRunner | null; lanes?: number } = {},
): Promise<RunTotals> {
  const runner = options.runner ?? inlineShards(deps);
  const model: ScoringModel = { model: deps.model, note: options.modelNote ?? null };
  const list = planShards(options.shards ?? 16, { ...(options.city !== undefined ? { city: options.city } : {}), ...(options.fromFacts === true ? { fromFacts: true } : {}) });
  return scoreRun({ ...deps, model: () => Promise.resolve(model), runner: () => Promise.resolve(runner) }, period, list, options.lanes !== undefined ? { lanes: options.lanes } : {});
}
