import { resolve } from 'node:path';
import { sql } from 'kysely';
import { FEATURE_SPEC, FEATURE_STEPS } from '../../services/scoring/features.js';
import { addMonths, isPeriod } from '../../services/scoring/period.js';
import { SeriesRepository } from '../../services/scoring/series.repository.js';
import { buildTrainingSet, HORIZON } from '../../services/scoring/training.js';
import type { Thresholds } from '../../config/thresholds.schema.js';
import type { Database } from '../../services/db/database.js';
import type { CliContext } from './context.js';
import { intOption, printJson, UsageError } from './output.js';

/**
 * `ews train`: examples from the database's history (features as of month
 * m, label "a layoff rule hit in m+1..m+3"), a TCN trained and calibrated on
 * them, written as a versioned artifact. Negatives are sampled; the
 * calibration is shifted back to the true base rate before saving.
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
  progress?: boolean;
}

export interface TrainSummary {
  artifact: string;
  kind: string;
  backend: string;
  window: { from: string; to: string };
  examples: number;
  positives: number;
  metrics: Record<string, unknown>;
}

export async function trainCommand(
  ctx: CliContext,
  opts: { out: string; from?: string; to?: string; epochs: string; seed: string; negatives: string; kind: string; json?: boolean },
): Promise<void> {
  const epochs = intOption('epochs', opts.epochs, 1, 500);
  const seed = intOption('seed', opts.seed, 0, 2 ** 31 - 1);
  const keep = Number(opts.negatives);
  if (!(keep > 0 && keep <= 1)) throw new UsageError(`--negatives must be a share in (0, 1], got "${opts.negatives}"`);
  if (!['tcn', 'gru', 'mlp', 'logistic'].includes(opts.kind)) throw new UsageError(`--kind must be tcn, gru, mlp or logistic, got "${opts.kind}"`);
  const summary = await trainArtifact(await ctx.db(), ctx.config.scoring.thresholds, {
    out: opts.out,
    ...(opts.from !== undefined ? { from: opts.from } : {}),
    ...(opts.to !== undefined ? { to: opts.to } : {}),
    epochs,
    seed,
    negatives: keep,
    kind: opts.kind as TrainOptions['kind'],
    progress: process.stderr.isTTY && opts.json !== true,
  });
  if (opts.json) printJson(summary);
  else {
    console.log(`trained ${summary.kind} on ${summary.examples} examples (${summary.positives} positive) from ${summary.window.from} to ${summary.window.to}, backend ${summary.backend}`);
    console.log(`validation: ${JSON.stringify(summary.metrics)}`);
    console.log(`artifact: ${summary.artifact}`);
  }
}

/** Examples from the database's history, a model trained and calibrated on them, saved as an artifact (ews train, ews evaluate). */
export async function trainArtifact(database: Database, thresholds: Thresholds, opts: TrainOptions): Promise<TrainSummary> {
  const { epochs, seed, negatives: keep } = opts;
  const range = await sql<{ first: string | null; last: string | null }>`
    SELECT to_char(min(period), 'YYYY-MM') AS first, to_char(max(period), 'YYYY-MM') AS last FROM social_insurance`.execute(database.db);
  const first = range.rows[0]?.first ?? null;
  const last = range.rows[0]?.last ?? null;
  if (first === null || last === null) throw new UsageError('no social-insurance history to train on: ingest feeds first');
  // Features need 24 months before m (plus one for the baseline); labels need HORIZON after.
  const earliest = addMonths(first, FEATURE_STEPS);
  const latest = addMonths(last, -HORIZON);
  const from = opts.from ?? earliest;
  const to = opts.to ?? latest;
  for (const [name, v] of [['from', from], ['to', to]] as const) if (!isPeriod(v)) throw new UsageError(`--${name} must be YYYY-MM, got "${v}"`);
  if (from < earliest || to > latest || from > to) {
    throw new UsageError(`the training window ${from}..${to} needs history the database lacks: with data ${first}..${last}, months ${earliest}..${latest} can be used`);
  }
  const progress = opts.progress === true;
  const set = await buildTrainingSet(new SeriesRepository(database), thresholds, {
    from,
    to,
    negativeKeep: keep,
    seed,
    onMonth: (m, pos, n) => progress && process.stderr.write(`\rexamples ${m}: ${n} (${pos} positive)\u001b[K`),
  });
  if (progress) process.stderr.write('\n');
  if (set.positives < 10) throw new UsageError(`only ${set.positives} positive examples in ${from}..${to}: too few to train on`);

  const { trainModel } = await import('../../models/train.js');
  const { saveArtifact } = await import('../../models/artifact.js');
  const trained = await trainModel({
    x: set.x,
    y: set.y,
    n: set.n,
    steps: set.steps,
    features: set.features,
    kind: opts.kind,
    epochs,
    seed,
    onEpoch: (e, l) => progress && process.stderr.write(`\repoch ${e + 1}/${epochs}: loss ${l.loss.toFixed(4)}${l.valLoss !== undefined ? `, validation ${l.valLoss.toFixed(4)}` : ''}\u001b[K`),
  });
  if (progress) process.stderr.write('\n');
  // Platt on sampled data → the true base rate: the logit shifts by log(share kept).
  trained.calibration = { ...trained.calibration, b: trained.calibration.b + Math.log(keep) };
  const dir = resolve(opts.out);
  await saveArtifact(dir, trained, {
    featureSpec: FEATURE_SPEC,
    trainingWindow: { from, to },
    seed,
    notes: `labels: a layoff rule hit within ${HORIZON} months; negatives sampled at ${keep}; ${set.n} examples, ${set.positives} positive`,
  });
  return { artifact: dir, kind: trained.kind, backend: trained.backend, window: { from, to }, examples: set.n, positives: set.positives, metrics: { ...trained.metrics } };
}
