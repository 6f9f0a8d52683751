import type { CityRiskBands } from '../../config/city-risk.schema.js';
import type { Thresholds } from '../../config/thresholds.schema.js';
import type { Logger } from '../log.js';
import { computeCityRisk } from './city.risk.js';
import { buildFeatures, FEATURES_PER_STEP, lastSteps, monthWorkforce, STEP_FEATURES, type FeatureReference } from './features.js';
import { addMonths } from '../domain/period.js';
import type { EmployerRiskRow, RiskRepository } from './risk.repository.js';
import { employerLevel, withPeers } from './rules/index.js';
import { evaluateRules } from './rules/index.js';
import type { RuleHit } from './rules/index.js';
import { at, type ScoringContext, type SeriesBatch } from './series.js';
import type { SeriesRepository } from './series.repository.js';
import type { ShardThreads } from './shard.threads.js';
import { noLevels, countLevel, addCounts, type Level, type LevelCounts } from '../domain/level.js';
import type { EmployerExplanation, ModelDriver } from '../domain/explanation.js';

/**
 * The scoring stage: per shard (a bucket range, optionally one city) read
 * the employers' history, run the rules, ask the model, set a level with its
 * explanation, and write the shard's rows back in one transaction; then the
 * cities. `ews score` runs it inline; the nightly run calls the same
 * functions from its queue jobs.
 */

export interface ModelScorer {
  readonly version: string;
  /** What the explanation's drivers are measured against (the artifact's province-wide reference); null: no drivers. */
  readonly reference?: FeatureReference | null;
  /** Calibrated probabilities for n windows; x is handed over (it may be detached afterwards). */
  predict(x: Float32Array, n: number): Promise<Float32Array>;
}

export interface ScoreDeps {
  readonly series: SeriesRepository;
  readonly risks: RiskRepository;
  readonly thresholds: Thresholds;
  readonly cityBands: CityRiskBands;
  /** null: rules only (no model, or the artifact was refused). */
  readonly model: ModelScorer | null;
  readonly log: Logger;
  /** When given, seconds spent in each stage are added here (benchmarks, run logs). */
  readonly clock?: StageClock;
  /** When given, shards are scored in these worker threads instead of on this thread. */
  readonly threads?: ShardThreads | null;
}

/** What scoring one shard needs (a scoring thread has no city bands). */
export type ShardDeps = Pick<ScoreDeps, 'series' | 'risks' | 'thresholds' | 'model' | 'log' | 'clock' | 'threads'>;

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

export async function scoringContext(deps: ScoreDeps, period: string): Promise<ScoringContext> {
  return deps.series.newIntakes([addMonths(period, -1), period]);
}

export async function scoreShard(deps: ShardDeps, runId: number, period: string, shard: Shard, ctx: ScoringContext): Promise<ShardResult> {
  const clock = deps.clock;
  if (deps.threads) {
    const scored = await deps.threads.score(runId, period, shard, ctx.intakes);
    if (clock) for (const k of Object.keys(scored.clock) as (keyof StageClock)[]) clock[k] += scored.clock[k];
    return scored.result;
  }
  let t = performance.now();
  const lap = (stage: keyof StageClock): void => {
    const now = performance.now();
    if (clock) clock[stage] += (now - t) / 1000;
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
    const { hits, workforce, excess, jobsAtStake, level, ruleLevel, reasons } = judgeEmployer(batch, i, ctx, deps.thresholds, p);
    if (level !== null) countLevel(levels, level);
    rows.push({
      bucket: batch.bucket[i] as number,
      uscc: batch.uscc[i] as string,
      name: batch.name[i] as string,
      cityCode: batch.cityCode[i] as string,
      regionCode: batch.regionCode[i] as string,
      industryCode: batch.industryCode[i] as string,
      workforce,
      level,
      ruleLevel,
      probability: p === null ? null : Math.round(p * 10_000) / 10_000,
      jobsAtStake,
      excessSeparations: Math.round(excess),
      rules: [...new Set(hits.map((h) => h.rule))],
      kinds: [...new Set(hits.map((h) => h.kind))],
      explanation: explain(hits, p, reasons, features && stats && level !== null ? drivers(features, stats, i) : [], deps.model?.version ?? null),
    });
  }
  lap('rules');
  await deps.risks.writeShard(period, shard, runId, rows);
  await deps.series.writePack(query, runId, read);
  lap('write');
  return { employers: batch.size, levels, fromPack: read.source === 'pack' ? 1 : 0 };
}

export interface Judgement {
  hits: RuleHit[];
  workforce: number;
  excess: number;
  jobsAtStake: number;
  level: Level | null;
  /** The level the rules alone give: null when the level (if any) comes from the model alone. */
  ruleLevel: Level | null;
  reasons: string[];
}

/** One employer's rules, jobs at stake and level, given the model's probability (null: rules only). */
export function judgeEmployer(
  batch: SeriesBatch,
  i: number,
  ctx: ScoringContext,
  thresholds: Thresholds,
  p: number | null,
  hits: RuleHit[] = evaluateRules(batch, i, ctx, thresholds),
): Judgement {
  const workforce = workforceOf(batch, i);
  const excess = Math.max(0, ...hits.filter((h) => h.kind === 'layoff').map((h) => h.numbers['excess'] ?? 0));
  const planned = Math.max(0, ...hits.map((h) => h.numbers['plannedLayoffs'] ?? 0));
  // Jobs at stake if the layoff happens: what the rules measured, or, when
  // the model sees a layoff coming (at least the lowest level's cut-off),
  // the share of the workforce a layoff typically takes. The expected loss
  // (× probability) is the cities' measure, not the employer's.
  // What the model predicts is a layoff of at least the 规模 minimum (its training label), so
  // the jobs at stake when it sees one coming are at least that many, never more than the staff.
  const modelCut = thresholds.levels.IV.probability ?? 1;
  const predicted = p !== null && p >= modelCut ? Math.min(workforce, Math.max(thresholds.scale.minJobs, workforce * TYPICAL_LAYOFF_SHARE)) : 0;
  const jobsAtStake = Math.round(Math.max(excess, planned, predicted));
  const { level, reasons } = employerLevel(hits, p, jobsAtStake, thresholds);
  const ruleLevel = p === null ? level : employerLevel(hits, null, Math.round(Math.max(excess, planned)), thresholds).level;
  return { hits, workforce, excess, jobsAtStake, level, ruleLevel, reasons: [...reasons] };
}

/** Scores every shard of the period inline, then the cities. */
export async function scorePeriod(
  deps: ScoreDeps,
  period: string,
  options: { shards?: number; city?: string; modelNote?: string | null; concurrency?: number; fromFacts?: boolean } = {},
) {
  const runId = await deps.risks.startRun(period, deps.model?.version ?? null, options.modelNote ?? null);
  const list = shards(options.shards ?? 16, options.city).map((s) => (options.fromFacts === true ? { ...s, fromFacts: true } : s));
  const ctx = await scoringContext(deps, period);
  const started = performance.now();
  const totals = { employers: 0, levels: noLevels(), shardsFromPack: 0 };
  try {
    // Inline, two shards at a time by default: while one waits on PostgreSQL
    // or the model's threads, the other's rules and features use this
    // thread. With scoring threads, one shard per thread and one more, so
    // that no thread idles while another waits.
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < list.length) {
        const shard = list[next++] as Shard;
        const r = await scoreShard(deps, runId, period, shard, ctx);
        totals.employers += r.employers;
        totals.shardsFromPack += r.fromPack;
        addCounts(totals.levels, r.levels);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? (deps.threads ? deps.threads.threads + 1 : 2), list.length)) }, lane));
    const cities = await scoreCities(deps, runId, period);
    await deps.risks.finishRun(runId, 'done', totals.employers, list.length);
    await deps.series.prunePacks();
    deps.log.info({ period, runId, employers: totals.employers, levels: totals.levels, shards: list.length, shardsFromPack: totals.shardsFromPack, seconds: Math.round(performance.now() - started) / 1000 }, 'period scored');
    return { runId, ...totals, shards: list.length, cities };
  } catch (err) {
    await deps.risks.finishRun(runId, 'failed', totals.employers, list.length).catch(() => undefined);
    throw err;
  }
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

/** A layoff typically takes this share of a workforce: turns a probability into jobs at stake (employer and city alike). */
export const TYPICAL_LAYOFF_SHARE = 0.2;

function workforceOf(b: SeriesBatch, i: number): number {
  for (let m = b.months - 1; m >= 0; m--) {
    const k = at(b, i, m);
    if (b.si[k] === 1) return monthWorkforce(b, k);
  }
  return 0;
}

function explain(hits: readonly RuleHit[], probability: number | null, reasons: readonly string[], drivers: ModelDriver[], modelVersion: string | null): EmployerExplanation {
  return {
    reasons: [...reasons],
    rules: hits.map((h) => ({ rule: h.rule, kind: h.kind, summary: h.summary, window: { ...h.window }, numbers: { ...h.numbers }, threshold: h.threshold, source: h.source })),
    model: probability === null ? null : { version: modelVersion, probability: Math.round(probability * 10_000) / 10_000, drivers },
  };
}

/** Signals that stand out in an employer's last three months, against the ordinary employers of the province the model was trained on. */
const DRIVER_FEATURES: readonly { name: (typeof STEP_FEATURES)[number]; sign: 1 | -1 }[] = [
  { name: 'sep_excess_ratio', sign: 1 }, { name: 'arrears', sign: 1 }, { name: 'planned_layoff_rate', sign: 1 },
  { name: 'furlough_rate', sign: 1 }, { name: 'ui_claim_rate', sign: 1 }, { name: 'hire_rate', sign: -1 },
  { name: 'wage_per_head_change', sign: -1 }, { name: 'jobs_lost_rate', sign: 1 }, { name: 'net_change', sign: -1 },
  { name: 'arrears_max6', sign: 1 }, { name: 'wage_vs_12m', sign: -1 }, { name: 'months_since_hire', sign: 1 },
  { name: 'filing_planned_rate', sign: 1 }, { name: 'peer_arrears', sign: 1 },
];

/** Steps of each window the explanation reads: the last three months. */
const DRIVER_STEPS = 3;

function drivers(x: Float32Array, stats: FeatureReference, r: number): ModelDriver[] {
  const F = FEATURES_PER_STEP;
  const out: ModelDriver[] = [];
  for (const d of DRIVER_FEATURES) {
    const f = STEP_FEATURES.indexOf(d.name);
    let best = -Infinity;
    let value = 0;
    for (let s = 0; s < DRIVER_STEPS; s++) {
      const v = x[(r * DRIVER_STEPS + s) * F + f] as number;
      const z = (d.sign * (v - (stats.mean[f] as number))) / (stats.sd[f] as number);
      if (z > best) {
        best = z;
        value = v;
      }
    }
    if (best >= 2) out.push({ feature: d.name, value: Math.round(value * 1000) / 1000, z: Math.round(best * 10) / 10 });
  }
  return out.sort((a, b) => b.z - a.z).slice(0, 3);
}
