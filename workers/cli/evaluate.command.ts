import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { siblingDatabase, type Database } from '../../services/db/database.js';
import type { Thresholds } from '../../config/thresholds.schema.js';
import { fitBoosting, predictBoosting } from '../../services/evaluation/boosting.js';
import { evaluateMethods, visibleEpisodes, withPrecursorOracle, type TruthEvent } from '../../services/evaluation/metrics.js';
import { METHODS, replayProvince, type Predictor } from '../../services/evaluation/replay.js';
import { CEILING, renderPrCurves, renderReport, judgeTargets, METHOD_LABELS, type ReportRun } from '../../services/evaluation/report.js';
import { BatchRepository } from '../../services/feeds/batch.repository.js';
import { ingestBatchWithRetry, pendingEntries } from '../../services/feeds/ingest.service.js';
import { openSource } from '../../services/feeds/source.js';
import { FEATURE_SPEC, FEATURE_STEPS, lastSteps } from '../../services/scoring/features.js';
import { addMonths } from '../../services/domain/period.js';
import { SeriesRepository } from '../../services/scoring/series.repository.js';
import { MIN_HISTORY_MONTHS, samplingWeights, type TrainingSet } from '../../services/scoring/training.js';
import { exampleWindow, trainingExamples } from '../train.stage.js';
import type { CliContext } from './context.js';
import { intOption, printJson, UsageError, printLine } from './output.js';
import { trainProgress } from './progress.js';
import { trainArtifact } from './train.command.js';

const LAST_PERIOD = '2026-10';

/** Why each separability setting is in the report (services/synth/README.md gives the sources). */
const SEPARABILITY_NOTES: Readonly<Record<string, string>> = {
  '0': 'Separability 0: a run-up to a layoff and distress that recovers draw their signals alike (the generator as it was). What any method reaches here is the floor: warning ahead costs precision one for one.',
  '2': 'Separability 2, a sensitivity setting: run-ups clearly deeper than recovering distress (about 3 months of arrears against 2, wage cuts of 30% against 6%, 2.8 signals against 1.7 in the truth). It shows what a more separable province would let the same code reach.',
  '1': "Separability 1, the setting this report justifies: the literature (../shared/research/, services/synth/README.md) finds arrears that build up and persist, deepening wage cuts and a hiring stop ahead of failures, while the same tools (wage cuts, rotation, deferred contributions) are used to avoid layoffs, so the two overlap. 1 is a clear but overlapping difference; no firm-level Chinese series calibrates it, so it is a reasoned middle value, not an estimate.",
};

interface ParsedOptions {
  employers: number;
  months: number;
  trainSeed: number;
  testSeed: number;
  epochs: number;
  negatives: number;
  separability: number[];
  churnDispersion: number;
}

function parseOptions(opts: EvaluateCliOptions): ParsedOptions {
  const employers = intOption('employers', opts.employers, 200, 2_000_000);
  const months = intOption('months', opts.months, MIN_HISTORY_MONTHS + 12, 120);
  const trainSeed = intOption('train-seed', opts.trainSeed, 0, 2 ** 31 - 1);
  const testSeed = intOption('test-seed', opts.testSeed, 0, 2 ** 31 - 1);
  const epochs = intOption('epochs', opts.epochs, 1, 500);
  const negatives = Number(opts.negatives);
  if (!(negatives > 0 && negatives <= 1)) throw new UsageError(`--negatives must be a share in (0, 1], got "${opts.negatives}"`);
  if (trainSeed === testSeed) throw new UsageError('--train-seed and --test-seed must differ: the model is judged on a province it has not seen');
  const separability = opts.separability.split(',').map((v) => {
    const n = Number(v.trim());
    if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 5) throw new UsageError(`--separability takes numbers from 0 to 5 separated by commas, got "${opts.separability}"`);
    return n;
  });
  if (new Set(separability).size !== separability.length) throw new UsageError(`--separability lists a setting twice: "${opts.separability}"`);
  const churnDispersion = Number(opts.churnDispersion);
  if (opts.churnDispersion.trim() === '' || !Number.isFinite(churnDispersion) || churnDispersion < 0 || churnDispersion > 5) {
    throw new UsageError(`--churn-dispersion must be a number from 0 to 5, got "${opts.churnDispersion}"`);
  }
  return { employers, months, trainSeed, testSeed, epochs, negatives, separability, churnDispersion };
}

export interface EvaluateCliOptions {
  employers: string;
  months: string;
  trainSeed: string;
  testSeed: string;
  epochs: string;
  negatives: string;
  separability: string;
  churnDispersion: string;
  out: string;
  json?: boolean;
}

/**
 * `ews evaluate`: for each generator setting, trains on one generated
 * province, replays another (a different seed) month by month as the
 * nightly run would, and writes models/REPORT.md comparing the full system
 * with rules only, a logistic regression, gradient-boosted trees and a
 * seasonal-naive z-score against the second province's ground truth.
 * Provinces are generated once under the data directory and loaded into
 * their own databases on the same server (kept, so a second run only
 * trains and replays).
 */
export async function evaluateCommand(ctx: CliContext, opts: EvaluateCliOptions): Promise<void> {
  const o = parseOptions(opts);
  const say = (s: string): void => {
    if (opts.json !== true) printLine(s);
  };
  const started = performance.now();
  const thresholds = ctx.config.scoring.thresholds;
  const out = resolve(opts.out);
  mkdirSync(dirname(out), { recursive: true });
  const runs: ReportRun[] = [];
  for (const separability of o.separability) {
    const run = await evaluateSetting(ctx, o, separability, say);
    const picture = `${basename(out, '.md')}-pr-s${separability}.svg`;
    writeFileSync(resolve(dirname(out), picture), renderPrCurves(run.results));
    runs.push({ ...run, picture });
  }
  const seconds = (performance.now() - started) / 1000;
  const command = `npx ews evaluate --employers ${o.employers} --months ${o.months} --train-seed ${o.trainSeed} --test-seed ${o.testSeed} --epochs ${o.epochs} --separability ${o.separability.join(',')} --churn-dispersion ${o.churnDispersion}`;
  writeFileSync(out, renderReport({ command, generatedOn: new Date().toISOString().slice(0, 10), seconds, minJobs: thresholds.scale.minJobs, runs }));
  const judged = runs.map((r) => ({ separability: r.separability, churnDispersion: r.churnDispersion, results: r.results.map(({ curve: _curve, ...rest }) => rest), targets: judgeTargets(r.results) }));
  if (opts.json) {
    printJson({ report: out, runs: judged });
    return;
  }
  const f = (v: number | null, d = 2): string => (v === null ? 'n/a' : v.toFixed(d));
  for (const run of runs) {
    say('');
    say(`separability ${run.separability}, churn dispersion ${run.churnDispersion}:`);
    for (const r of run.results) {
      say(
        `${(METHOD_LABELS[r.method] ?? r.method).padEnd(48)} precision ${f(r.precision)}  recall ${f(r.recall)} (precursors ${f(r.recallPrecursor)}, ahead ${f(r.recallAhead)})  ` +
          `lead Ⅳ+ ${f(r.medianLeadWarnPrecursor, 1)} Ⅲ+ ${f(r.medianLeadPrecursor, 1)}  false/1000 ${f(r.falseAlertsPer1000)}  PR-AUC ${f(r.prAuc, 3)}  transfers ${r.transferAlerts}`,
      );
    }
    const targets = judgeTargets(run.results);
    say(`targets reached: ${targets.filter((t) => t.met === true).length} of ${targets.length}`);
  }
  say(`report: ${out}`);
}

/** One generator setting: two provinces, the models trained on the first, the second replayed and judged. */
async function evaluateSetting(ctx: CliContext, o: ParsedOptions, separability: number, say: (s: string) => void): Promise<Omit<ReportRun, 'picture'>> {
  const thresholds = ctx.config.scoring.thresholds;
  const root = resolve(ctx.config.dataDir, 'evaluate');
  const main = await ctx.db();
  const setting = `s${separability}${o.churnDispersion > 0 ? `-d${o.churnDispersion}` : ''}`;
  const provinces = [];
  for (const seed of [o.trainSeed, o.testSeed]) {
    const dir = resolve(root, `province-${o.employers}x${o.months}-seed${seed}-${setting}`);
    const generate = !existsSync(resolve(dir, 'truth', 'summary.json'));
    if (generate) {
      say(`generating a province of ${o.employers} employers × ${o.months} months (seed ${seed}, ${setting}) into ${dir}`);
      const { generateProvince } = await import('../../services/synth/province.generate.js');
      await generateProvince({ outDir: dir, employers: o.employers, months: o.months, seed, lastPeriod: LAST_PERIOD, defects: true, separability, churnDispersion: o.churnDispersion });
    }
    // A province generated now gets a fresh database; one kept from before keeps its loaded batches.
    const database = await siblingDatabase(main.url, `ews_eval_${o.employers}x${o.months}_s${seed}_${setting.replace(/[^a-z0-9]/g, '_')}`, generate);
    ctx.onClose(() => database.close());
    const loaded = await ingestAll(ctx, database, dir);
    say(`province seed ${seed} (${setting}): ${loaded} batches loaded now (database ${basename(new URL(database.url).pathname)})`);
    provinces.push({ seed, dir, database });
  }
  const [train, test] = provinces as [(typeof provinces)[0], (typeof provinces)[0]];

  // One training set from the training province's history alone, for the three models.
  const modelDir = resolve(root, `models-${o.employers}x${o.months}-seed${o.trainSeed}-${setting}`);
  say(`training the sequence model (${o.epochs} epochs), the logistic regression and the gradient-boosted trees on seed ${o.trainSeed} …`);
  const set = await trainingSetOf(train.database, thresholds, o);
  const common = { epochs: o.epochs, seed: o.trainSeed, negatives: o.negatives, progress: trainProgress(), set };
  const seqSummary = await trainArtifact(train.database, thresholds, { ...common, out: resolve(modelDir, 'tcn'), kind: 'tcn' });
  await trainArtifact(train.database, thresholds, { ...common, out: resolve(modelDir, 'logistic'), kind: 'logistic' });
  const { loadArtifact } = await import('../../models/artifact.js');
  const sequence = await loadArtifact(resolve(modelDir, 'tcn'), FEATURE_SPEC);
  const logistic = await loadArtifact(resolve(modelDir, 'logistic'), FEATURE_SPEC);
  const boosting = boostingPredictor(set);

  // The test province, month by month: from the first month with a full history to the last.
  const first = addMonths(LAST_PERIOD, -(o.months - 1));
  const replay = { from: addMonths(first, FEATURE_STEPS), to: LAST_PERIOD };
  say(`replaying seed ${o.testSeed} (${setting}) from ${replay.from} to ${replay.to} …`);
  const monthsOut = await replayProvince(new SeriesRepository(test.database), thresholds, { sequence, logistic, boosting }, replay, (p, n) =>
    ctx.log.info({ period: p, employers: n }, 'month replayed'),
  );
  const events = readEvents(resolve(test.dir, 'truth', 'events.jsonl'));
  // The reference row: the full system plus a reader of the precursors that reads the truth.
  const results = evaluateMethods(withPrecursorOracle(monthsOut, events, 'full', CEILING), events, [...METHODS, CEILING], { minJobs: thresholds.scale.minJobs });
  return {
    separability,
    churnDispersion: o.churnDispersion,
    note: SEPARABILITY_NOTES[String(separability)] ?? `Separability ${separability}: a sensitivity setting (services/synth/README.md).`,
    train: { seed: o.trainSeed, employers: o.employers, months: o.months, window: seqSummary.window, examples: seqSummary.examples, positives: seqSummary.positives, epochs: o.epochs, model: `a ${seqSummary.kind.toUpperCase()} sequence model` },
    test: { seed: o.testSeed, employers: o.employers, months: o.months, replay, scoredPerMonth: Math.round(monthsOut.reduce((a, m) => a + m.uscc.length, 0) / monthsOut.length) },
    episodes: visibleEpisodes(events, replay.from, replay.to),
    results,
  };
}

/** The training province's examples over every month its history allows (as `ews train` would use them). */
async function trainingSetOf(database: Database, thresholds: Thresholds, o: ParsedOptions): Promise<TrainingSet> {
  const window = await exampleWindow(database);
  return trainingExamples(database, thresholds, { from: window.from, to: window.to, negativeKeep: o.negatives, seed: o.trainSeed, progress: trainProgress() });
}

/** Gradient-boosted trees on the last month of each training window, as a predictor over full windows. */
function boostingPredictor(set: TrainingSet): Predictor {
  const model = fitBoosting(lastSteps(set.x, set.n, 1), set.y, set.features, {}, samplingWeights(set));
  return { predict: (x, n) => Promise.resolve(predictBoosting(model, lastSteps(x, n, 1), n)) };
}

/** Loads every batch of a generated province (a no-op for batches already loaded); returns how many loaded now. */
async function ingestAll(ctx: CliContext, database: Database, dir: string): Promise<number> {
  const deps = { batches: new BatchRepository(database), log: ctx.log };
  const source = openSource({ name: 'evaluate', url: `file://${resolve(dir, 'feeds')}/` }, {
    timeoutMs: ctx.config.feeds.httpTimeoutMs,
    retries: 0,
    retryBaseMs: ctx.config.feeds.retryBaseMs,
    spoolDir: resolve(ctx.config.dataDir, 'spool'),
  });
  const { pending } = await pendingEntries(deps, source);
  let loaded = 0;
  for (const entry of pending) {
    const outcome = await ingestBatchWithRetry(deps, source, entry, { attempts: ctx.config.feeds.ingestAttempts, baseMs: ctx.config.feeds.retryBaseMs });
    if (outcome.status === 'loaded') loaded++;
  }
  return loaded;
}

function readEvents(path: string): TruthEvent[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as TruthEvent);
}
