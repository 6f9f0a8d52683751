import { existsSync, realpathSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { TrainingConfig } from '../../config/training.schema.js';
import { registryRoot, SHIPPED_MODEL_DIR } from '../../models/registry.js';
import { trainArtifact, trainStage, type TrainOptions, type TrainStageResult, type TrainSummary } from '../train.stage.js';
import type { CliContext } from './context.js';
import { whoami } from './models.commands.js';
import { intOption, printJson, UsageError, printLine } from './output.js';
import { trainProgress } from './progress.js';

export { trainArtifact, type TrainOptions, type TrainSummary } from '../train.stage.js';

/**
 * `ews train`: without --out, the retraining stage (the same function as
 * the monthly `train` job): a candidate trained on the window less its
 * last --holdout-months labelled months, judged on those months against the
 * current model, registered as a new version under EWS_DATA_DIR/models, and
 * promoted only if better. With --out, a plain artifact in that folder, no
 * judging; the shipped models/default only with --overwrite-shipped.
 */

export interface TrainCommandOptions {
  out?: string;
  overwriteShipped?: boolean;
  from?: string;
  to?: string;
  epochs?: string;
  seed?: string;
  negatives?: string;
  kind?: string;
  holdoutMonths?: string;
  /** --no-promote */
  promote?: boolean;
  json?: boolean;
}

const KINDS = ['tcn', 'gru', 'mlp', 'logistic'] as const;

/** What a training runs with: each flag given, else its setting (TRAIN_EPOCHS, TRAIN_KIND, TRAIN_HOLDOUT_MONTHS, training.seed, training.negatives). */
export function trainSettings(
  t: TrainingConfig,
  opts: Pick<TrainCommandOptions, 'epochs' | 'seed' | 'negatives' | 'kind' | 'holdoutMonths'>,
): { epochs: number; seed: number; negatives: number; kind: TrainOptions['kind']; holdoutMonths: number } {
  const epochs = opts.epochs !== undefined ? intOption('epochs', opts.epochs, 1, 500) : t.epochs;
  const seed = opts.seed !== undefined ? intOption('seed', opts.seed, 0, 2 ** 31 - 1) : t.seed;
  const negatives = opts.negatives !== undefined ? Number(opts.negatives) : t.negatives;
  if (!(negatives > 0 && negatives <= 1)) throw new UsageError(`--negatives must be a share in (0, 1], got "${opts.negatives}"`);
  const kind = opts.kind ?? t.kind;
  if (!(KINDS as readonly string[]).includes(kind)) throw new UsageError(`--kind must be tcn, gru, mlp or logistic, got "${kind}"`);
  const holdoutMonths = opts.holdoutMonths !== undefined ? intOption('holdout-months', opts.holdoutMonths, 1, 12) : t.holdoutMonths;
  return { epochs, seed, negatives, kind: kind as TrainOptions['kind'], holdoutMonths };
}

export async function trainCommand(ctx: CliContext, opts: TrainCommandOptions): Promise<void> {
  const { epochs, seed, negatives, kind, holdoutMonths } = trainSettings(ctx.config.training, opts);
  const progress = trainProgress(opts.json);
  const common = {
    ...(opts.from !== undefined ? { from: opts.from } : {}),
    ...(opts.to !== undefined ? { to: opts.to } : {}),
    epochs,
    seed,
    negatives,
    kind,
    progress,
  };

  if (opts.out === undefined) {
    if (opts.overwriteShipped === true) throw new UsageError(`--overwrite-shipped goes with --out ${SHIPPED_MODEL_DIR}: it replaces the shipped model on purpose`);
    const result = await trainStage(
      { database: await ctx.db(), thresholds: ctx.config.scoring.thresholds, dataDir: ctx.config.dataDir, configuredModelDir: ctx.config.scoring.modelDir, log: ctx.log },
      { ...common, holdoutMonths, promote: opts.promote !== false, by: `ews train (${whoami()})` },
    );
    if (opts.json) printJson(result);
    else printStage(result);
    return;
  }

  if (opts.holdoutMonths !== undefined || opts.promote === false) throw new UsageError('--holdout-months and --no-promote judge a registry version: leave out --out');
  const target = canonical(opts.out);
  const shipped = canonical(SHIPPED_MODEL_DIR);
  const registry = canonical(registryRoot(ctx.config.dataDir));
  if (inside(target, registry)) throw new UsageError(`${opts.out} is inside the model registry ${registry}: run \`ews train\` without --out to add a version there`);
  const intoShipped = inside(target, shipped);
  if (intoShipped && opts.overwriteShipped !== true) {
    throw new UsageError(
      `refusing to write into the shipped model ${shipped}: \`ews train\` without --out adds a version to the model registry (${registry}); to replace the shipped model on purpose, add --overwrite-shipped`,
    );
  }
  if (opts.overwriteShipped === true && target !== shipped) throw new UsageError(`--overwrite-shipped replaces the shipped model ${shipped} itself: --out must name that folder`);

  const database = await ctx.db();
  let summary: TrainSummary;
  if (intoShipped) {
    // Trained beside it, then its three files replaced one by one (its README stays).
    const staging = `${shipped}.training-${process.pid}-${Date.now()}`;
    try {
      summary = await trainArtifact(database, ctx.config.scoring.thresholds, { ...common, out: staging });
      for (const file of ['weights.bin', 'model.json', 'metadata.json']) {
        const tmp = path.join(shipped, `.${file}.tmp-${process.pid}`);
        await fs.copyFile(path.join(staging, file), tmp);
        await fs.rename(tmp, path.join(shipped, file));
      }
      summary = { ...summary, artifact: shipped };
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
  } else {
    summary = await trainArtifact(database, ctx.config.scoring.thresholds, { ...common, out: target });
  }
  if (opts.json) printJson(summary);
  else {
    printLine(`trained ${summary.kind} on ${summary.examples} examples (${summary.positives} positive) from ${summary.window.from} to ${summary.window.to}, backend ${summary.backend}`);
    printLine(`validation: ${JSON.stringify(summary.metrics)}`);
    printLine(`artifact: ${summary.artifact}${intoShipped ? ' (the shipped model, replaced)' : ' (not in the model registry: point MODEL_DIR at it to score with it)'}`);
  }
}

function printStage(r: TrainStageResult): void {
  if (r.skipped) {
    printLine(`nothing to train: ${r.reason}`);
    return;
  }
  const ap = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(4));
  printLine(`trained ${r.kind} on ${r.examples} examples (${r.positives} positive) from ${r.trainingWindow.from} to ${r.trainingWindow.to}, backend ${r.backend}`);
  const h = r.holdout;
  printLine(`held out ${h.window.from}..${h.window.to}: ${h.n} examples, ${h.positives} positive`);
  printLine(`  candidate ${r.version}: average precision ${ap(h.candidate.averagePrecision)}, log-loss ${ap(h.candidate.logLoss)}`);
  printLine(
    h.current.averagePrecision === null
      ? `  current   ${h.current.version}: not scored (${h.current.note ?? 'no score'})`
      : `  current   ${h.current.version}: average precision ${ap(h.current.averagePrecision)}, log-loss ${ap(h.current.logLoss)}`,
  );
  printLine(r.promoted ? `promoted ${r.version}: ${r.reason}` : `not promoted (${r.status}): ${r.reason}`);
  printLine(`artifact: ${r.artifact}`);
  if (r.modelDirOverride !== null) printLine(`note: MODEL_DIR is set (${r.modelDirOverride}): scoring keeps loading it, not the registry's current version`);
}

/** The absolute path with symbolic links resolved as far as it exists, so two spellings of one folder compare equal. */
function canonical(p: string): string {
  let head = path.resolve(p);
  const tail: string[] = [];
  while (!existsSync(head)) {
    const parent = path.dirname(head);
    if (parent === head) break;
    tail.unshift(path.basename(head));
    head = parent;
  }
  return path.join(existsSync(head) ? realpathSync(head) : head, ...tail);
}

function inside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
