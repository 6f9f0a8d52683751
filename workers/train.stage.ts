import fs from 'node:fs/promises';
import path from 'node:path';
import type { Thresholds } from '../config/thresholds.schema.js';
import { ModelRegistry, registryRoot, type VersionRecord } from '../models/registry.js';
import type { Database } from '../services/db/database.js';
import type { Logger } from '../services/log.js';
import { FEATURE_SPEC, featureReference } from '../services/scoring/features.js';
import { LabelRepository } from '../services/scoring/label.repository.js';
import { addMonths, isPeriod, monthsBetween } from '../services/domain/period.js';
import { SeriesRepository } from '../services/scoring/series.repository.js';
import { buildTrainingSet, HORIZON, trainingWindow, type TrainingSet } from '../services/scoring/training.js';
import { UsageError } from './usage.error.js';

/**
 * Training, as a plain artifact (`trainArtifact`: `ews train --out`,
 * `ews evaluate`) and as the retraining stage (`trainStage`: `ews train`
 * and the monthly `train` job): a candidate trained on the window less its
 * latest labelled months, judged on those months against the current model,
 * registered under EWS_DATA_DIR/models, and promoted only if it is better.
 */

export interface TrainOptions {
  out: string;
  from?: string;
  to?: string;
  epochs: number;
  seed: number;
  /** Share of negative examples kept, in (0, 1]. */
  negatives: number;
  kind: 'tcn' | 'gru' | 'mlp' | 'logistic';
  progress?: TrainProgress;
  /** Examples built already (ews evaluate trains three models on one set); its window is the training window. */
  set?: TrainingSet;
}

/** How far a training is, for whoever shows it (the CLI draws bars from it; the queue passes none). */
export type TrainProgress = (step: { phase: 'examples' | 'epochs'; done: number; total: number; detail: string }) => void;

export interface TrainSummary {
  artifact: string;
  kind: string;
  backend: string;
  window: { from: string; to: string };
  examples: number;
  positives: number;
  metrics: Record<string, unknown>;
}

/** The first and last month of social-insurance history in the database. */
async function historyRange(database: Database): Promise<{ first: string; last: string }> {
  const range = await new SeriesRepository(database).historyRange();
  if (range === null) throw new UsageError('no social-insurance history to train on: ingest feeds first');
  return range;
}

/** The example months the history allows (training.ts trainingWindow), or a usage error that says why none. */
export async function exampleWindow(database: Database, from?: string, to?: string): Promise<{ first: string; last: string; from: string; to: string }> {
  for (const [name, v] of [['from', from], ['to', to]] as const) if (v !== undefined && !isPeriod(v)) throw new UsageError(`--${name} must be YYYY-MM, got "${v}"`);
  const { first, last } = await historyRange(database);
  const window = trainingWindow(first, last, from, to);
  if ('refused' in window) throw new UsageError(window.refused);
  return { first, last, ...window };
}

/** Examples of the window, labelled by the rules and by officials' dispositions where they recorded one. */
export async function trainingExamples(
  database: Database,
  thresholds: Thresholds,
  o: { from: string; to: string; negativeKeep: number; seed: number; progress?: TrainProgress },
): Promise<TrainingSet> {
  const progress = o.progress;
  const months = monthsBetween(o.from, o.to) + 1;
  let monthsDone = 0;
  const overrides = await new LabelRepository(database).overrides();
  const set = await buildTrainingSet(new SeriesRepository(database), thresholds, {
    from: o.from,
    to: o.to,
    negativeKeep: o.negativeKeep,
    seed: o.seed,
    overrides,
    onMonth: (m, pos, n) => progress?.({ phase: 'examples', done: ++monthsDone, total: months, detail: `${m}: ${n} examples (${pos} positive)` }),
  });
  return set;
}

/**
 * Examples from the database's history as the deployment sees it (features
 * as of month m, label "a layoff of at least the 规模 minimum in m+1..m+3",
 * officials' dispositions overriding; services/scoring/training.ts), a model
 * trained and calibrated on them, written as an artifact with the feature
 * reference its explanations are measured against. Negatives are sampled;
 * the calibration is shifted back to the true base rate before saving.
 */
export async function trainArtifact(database: Database, thresholds: Thresholds, opts: TrainOptions): Promise<TrainSummary> {
  const { epochs, seed, negatives: keep } = opts;
  const progress = opts.progress;
  let set: TrainingSet;
  if (opts.set !== undefined) set = opts.set;
  else {
    const window = await exampleWindow(database, opts.from, opts.to);
    set = await trainingExamples(database, thresholds, { from: window.from, to: window.to, negativeKeep: keep, seed, progress });
  }
  const from = set.months[0] as string;
  const to = set.months[set.months.length - 1] as string;
  if (set.positives < 10) {
    throw new UsageError(`only ${set.positives} positive examples in ${from}..${to} (${set.n} examples): too few to train on; wait for more history or lower scoring.thresholds.scale.minJobs`);
  }

  const { trainModel } = await import('../models/train.js');
  const { saveArtifact } = await import('../models/artifact.js');
  const trained = await trainModel({
    x: set.x,
    y: set.y,
    n: set.n,
    steps: set.steps,
    features: set.features,
    kind: opts.kind,
    epochs,
    seed,
    onEpoch: (e, l) => progress?.({ phase: 'epochs', done: e + 1, total: epochs, detail: `loss ${l.loss.toFixed(4)}${l.valLoss !== undefined ? `, validation ${l.valLoss.toFixed(4)}` : ''}` }),
  });
  // Platt on sampled data → the true base rate: the logit shifts by log(share kept).
  trained.calibration = { ...trained.calibration, b: trained.calibration.b + Math.log(set.negativeKeep) };
  const dir = path.resolve(opts.out);
  try {
    await saveArtifact(dir, trained, {
      featureSpec: FEATURE_SPEC,
      trainingWindow: { from, to },
      seed,
      notes: `labels: a layoff of at least ${thresholds.scale.minJobs} people (rules, or an official's disposition) within ${HORIZON} months; negatives sampled at ${set.negativeKeep}; ${set.n} examples, ${set.positives} positive`,
      reference: featureReference(set.x, set.y, set.n),
    });
  } finally {
    trained.model.dispose();
  }
  return { artifact: dir, kind: trained.kind, backend: trained.backend, window: { from, to }, examples: set.n, positives: set.positives, metrics: { ...trained.metrics } };
}

export interface TrainStageDeps {
  database: Database;
  thresholds: Thresholds;
  /** EWS_DATA_DIR: the registry is its models/ folder. */
  dataDir: string;
  /** MODEL_DIR when set: scoring keeps loading it, whatever the registry makes current. */
  configuredModelDir?: string | undefined;
  log: Logger;
  /** Default models/default. */
  shippedDir?: string;
}

export interface TrainStageOptions {
  /** First labelled month (default: trainArtifact's, the earliest the history allows). */
  from?: string;
  /** Last labelled month (default HORIZON months before `through`). */
  to?: string;
  /** The latest month of data to learn from (the job's month); default the latest in the database. */
  through?: string;
  holdoutMonths: number;
  epochs: number;
  seed: number;
  negatives: number;
  kind: TrainOptions['kind'];
  /** False: register the candidate with its figures, promote nothing. */
  promote?: boolean;
  /** The job: nothing to do when a version was already trained on data through this month. */
  skipIfTrained?: boolean;
  /** Recorded with a promotion. */
  by: string;
  progress?: TrainProgress;
}

export interface TrainStageDone {
  skipped: false;
  version: string;
  artifact: string;
  kind: string;
  backend: string;
  dataThrough: string;
  trainingWindow: { from: string; to: string };
  examples: number;
  positives: number;
  holdout: VersionRecord['holdout'];
  promoted: boolean;
  status: VersionRecord['status'];
  reason: string;
  /** MODEL_DIR, when it is set (and so wins over the registry at scoring). */
  modelDirOverride: string | null;
}

export type TrainStageResult = TrainStageDone | { skipped: true; dataThrough: string; reason: string };

/** The retraining stage: train a candidate, judge it on held-out months against the current model, register it, promote it if better. */
export async function trainStage(deps: TrainStageDeps, opts: TrainStageOptions): Promise<TrainStageResult> {
  const { database, thresholds, log } = deps;
  const registry = new ModelRegistry(registryRoot(deps.dataDir), FEATURE_SPEC, deps.shippedDir);
  // A damaged registry stops us before the hours of training, not after.
  const state = registry.readSync();

  const { first, last } = await historyRange(database);
  const through = opts.through ?? last;
  for (const [name, v] of [['from', opts.from], ['to', opts.to], ['through', through]] as const) {
    if (v !== undefined && !isPeriod(v)) throw new UsageError(`--${name} must be YYYY-MM, got "${v}"`);
  }
  if (through > last) throw new UsageError(`no data for ${through} yet: the latest social-insurance month is ${last}`);
  const fingerprint = await new LabelRepository(database).fingerprint(through);
  if (opts.skipIfTrained === true) {
    // The same months, but restated since (or newly labelled by officials), are new data: train again.
    const done = state.versions.find((v) => v.dataThrough === through && v.dataFingerprint === fingerprint);
    if (done !== undefined) return { skipped: true, dataThrough: through, reason: `version ${done.version} was already trained on data through ${through} (${done.status})` };
    const restated = state.versions.find((v) => v.dataThrough === through);
    if (restated !== undefined) log.info({ version: restated.version, was: restated.dataFingerprint ?? null, now: fingerprint }, `data through ${through} changed since version ${restated.version} was trained (a restatement or new labels): training again`);
  }
  // The last labelled month; the first, and whether the window holds enough
  // history, are trainArtifact's to decide (the same rules as `ews train --out`).
  const latest = addMonths(through, -HORIZON);
  const to = opts.to ?? latest;
  if (to > latest || to < first || (opts.from !== undefined && opts.from > to)) {
    throw new UsageError(`the window ${opts.from ?? '…'}..${to} is not labelled by the data ${first}..${through}: the last labelled month is ${latest}`);
  }
  const holdoutFrom = addMonths(to, -(opts.holdoutMonths - 1));
  const trainTo = addMonths(holdoutFrom, -1);
  if (opts.from !== undefined && trainTo < opts.from) {
    throw new UsageError(`the window ${opts.from}..${to} is too short to hold out its last ${opts.holdoutMonths} months and train on the rest: widen it or hold out fewer months`);
  }

  // The held-out months, every example kept: judged at the true base rate, labelled as training labels are.
  const holdout = await trainingExamples(database, thresholds, { from: holdoutFrom, to, negativeKeep: 1, seed: opts.seed });
  if (holdout.positives === 0) {
    throw new UsageError(`the held-out months ${holdoutFrom}..${to} have no positive example (${holdout.n} examples): a candidate could not be judged; hold out more months`);
  }

  await fs.mkdir(registry.root, { recursive: true });
  await removeAbandoned(registry.root);
  const staging = path.join(registry.root, `${STAGING_PREFIX}${process.pid}-${Date.now()}`);
  try {
    const summary = await trainArtifact(database, thresholds, {
      out: staging,
      ...(opts.from !== undefined ? { from: opts.from } : {}),
      to: trainTo,
      epochs: opts.epochs,
      seed: opts.seed,
      negatives: opts.negatives,
      kind: opts.kind,
      ...(opts.progress !== undefined ? { progress: opts.progress } : {}),
    });

    const { judgeCandidate } = await import('../models/registry.evaluate.js');
    const judged = await judgeCandidate(registry, {
      stagingDir: staging,
      holdout: { x: holdout.x, y: holdout.y, n: holdout.n, positives: holdout.positives, window: { from: holdoutFrom, to } },
      record: {
        createdAt: new Date().toISOString(),
        kind: summary.kind,
        featureVersion: FEATURE_SPEC.version,
        trainingWindow: summary.window,
        dataThrough: through,
        dataFingerprint: fingerprint,
        examples: summary.examples,
        positives: summary.positives,
      },
      promote: opts.promote !== false,
      by: opts.by,
    });
    const h = judged.holdout;
    const figures = {
      version: judged.version,
      holdout: `${holdoutFrom}..${to}`,
      candidate: h.candidate.averagePrecision,
      candidateLogLoss: h.candidate.logLoss,
      current: h.current.version,
      currentAp: h.current.averagePrecision,
      currentLogLoss: h.current.logLoss,
    };
    if (judged.promoted) log.info(figures, `model ${judged.version} promoted: ${judged.reason}`);
    else log.warn({ ...figures, status: judged.status }, `model ${judged.version} not promoted: ${judged.reason}`);
    if (deps.configuredModelDir !== undefined && judged.promoted) {
      log.warn({ modelDir: deps.configuredModelDir }, `MODEL_DIR is set: scoring keeps loading it; the registry's current version (${judged.version}) is used once MODEL_DIR is unset`);
    }
    return {
      skipped: false,
      version: judged.version,
      artifact: judged.dir,
      kind: summary.kind,
      backend: summary.backend,
      dataThrough: through,
      trainingWindow: summary.window,
      examples: summary.examples,
      positives: summary.positives,
      holdout: h,
      promoted: judged.promoted,
      status: judged.status,
      reason: judged.reason,
      modelDirOverride: deps.configuredModelDir ?? null,
    };
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

const STAGING_PREFIX = '.training-';
/** Older than any training: a folder a killed run left behind. */
const ABANDONED_MS = 24 * 3600_000;

async function removeAbandoned(root: string): Promise<void> {
  for (const entry of await fs.readdir(root)) {
    if (!entry.startsWith(STAGING_PREFIX)) continue;
    const dir = path.join(root, entry);
    const stat = await fs.stat(dir).catch(() => null);
    if (stat !== null && Date.now() - stat.mtimeMs > ABANDONED_MS) await fs.rm(dir, { recursive: true, force: true });
  }
}
