import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import pg from 'pg';
import { openDatabase, withDatabaseName, type Database } from '../../services/db/database.js';
import { migrate } from '../../services/db/migrate.js';
import { evaluateMethods, visibleEpisodes, withPrecursorOracle, type TruthEvent } from '../../services/evaluation/metrics.js';
import { METHODS, replayProvince } from '../../services/evaluation/replay.js';
import { CEILING, renderPrCurves, renderReport, judgeTargets, METHOD_LABELS } from '../../services/evaluation/report.js';
import { BatchRepository } from '../../services/feeds/batch.repository.js';
import { ingestBatchWithRetry, pendingEntries } from '../../services/feeds/ingest.service.js';
import { openSource } from '../../services/feeds/source.js';
import { FEATURE_SPEC, FEATURE_STEPS } from '../../services/scoring/features.js';
import { addMonths } from '../../services/scoring/period.js';
import { SeriesRepository } from '../../services/scoring/series.repository.js';
import type { CliContext } from './context.js';
import { intOption, printJson, UsageError } from './output.js';
import { trainArtifact } from './train.command.js';

const LAST_PERIOD = '2026-10';

/**
 * `ews evaluate`: trains on one generated province, replays another (a
 * different seed) month by month as the nightly run would, and writes
 * models/REPORT.md comparing the full system with rules only, a logistic
 * regression and a seasonal-naive z-score against the second province's
 * ground truth. Provinces are generated once under the data directory and
 * loaded into their own databases on the same server (kept, so a second
 * run only trains and replays).
 */
export async function evaluateCommand(
  ctx: CliContext,
  opts: { employers: string; months: string; trainSeed: string; testSeed: string; epochs: string; negatives: string; out: string; json?: boolean },
): Promise<void> {
  const employers = intOption('employers', opts.employers, 200, 2_000_000);
  const months = intOption('months', opts.months, FEATURE_STEPS + 6, 120);
  const trainSeed = intOption('train-seed', opts.trainSeed, 0, 2 ** 31 - 1);
  const testSeed = intOption('test-seed', opts.testSeed, 0, 2 ** 31 - 1);
  const epochs = intOption('epochs', opts.epochs, 1, 500);
  const negatives = Number(opts.negatives);
  if (!(negatives > 0 && negatives <= 1)) throw new UsageError(`--negatives must be a share in (0, 1], got "${opts.negatives}"`);
  if (trainSeed === testSeed) throw new UsageError('--train-seed and --test-seed must differ: the model is judged on a province it has not seen');
  const say = (s: string): void => {
    if (opts.json !== true) console.log(s);
  };
  const started = performance.now();
  const root = resolve(ctx.config.dataDir, 'evaluate');
  const main = await ctx.db();

  const provinces = [];
  for (const seed of [trainSeed, testSeed]) {
    const dir = resolve(root, `province-${employers}x${months}-seed${seed}`);
    const generate = !existsSync(resolve(dir, 'truth', 'summary.json'));
    if (generate) {
      say(`generating a province of ${employers} employers × ${months} months (seed ${seed}) into ${dir}`);
      const { generateProvince } = await import('../../services/synth/province.generate.js');
      await generateProvince({ outDir: dir, employers, months, seed, lastPeriod: LAST_PERIOD, defects: true });
    }
    // A province generated now gets a fresh database; one kept from before keeps its loaded batches.
    const database = await siblingDatabase(main.url, `ews_eval_${employers}x${months}_s${seed}`, generate);
    ctx.onClose(() => database.close());
    const loaded = await ingestAll(ctx, database, dir);
    say(`province seed ${seed}: ${loaded} batches loaded now (database ${basename(new URL(database.url).pathname)})`);
    provinces.push({ seed, dir, database });
  }
  const [train, test] = provinces as [(typeof provinces)[0], (typeof provinces)[0]];

  // The two models, trained on the training province's history alone.
  const modelDir = resolve(root, `models-${employers}x${months}-seed${trainSeed}`);
  say(`training the sequence model (${epochs} epochs) and the logistic regression on seed ${trainSeed} …`);
  const common = { epochs, seed: trainSeed, negatives, progress: process.stderr.isTTY && opts.json !== true };
  const seqSummary = await trainArtifact(train.database, ctx.config.scoring.thresholds, { ...common, out: resolve(modelDir, 'tcn'), kind: 'tcn' });
  await trainArtifact(train.database, ctx.config.scoring.thresholds, { ...common, out: resolve(modelDir, 'logistic'), kind: 'logistic' });
  const { loadArtifact } = await import('../../models/artifact.js');
  const sequence = await loadArtifact(resolve(modelDir, 'tcn'), FEATURE_SPEC);
  const logistic = await loadArtifact(resolve(modelDir, 'logistic'), FEATURE_SPEC);

  // The test province, month by month: from the first month with a full history to the last.
  const first = addMonths(LAST_PERIOD, -(months - 1));
  const replay = { from: addMonths(first, FEATURE_STEPS), to: LAST_PERIOD };
  say(`replaying seed ${testSeed} from ${replay.from} to ${replay.to} …`);
  const monthsOut = await replayProvince(new SeriesRepository(test.database), ctx.config.scoring.thresholds, { sequence, logistic }, replay, (p, n) =>
    ctx.log.info({ period: p, employers: n }, 'month replayed'),
  );
  const events = readEvents(resolve(test.dir, 'truth', 'events.jsonl'));
  // The reference row: the full system plus a reader of the precursors that reads the truth.
  const results = evaluateMethods(withPrecursorOracle(monthsOut, events, 'full', CEILING), events, [...METHODS, CEILING]);

  const out = resolve(opts.out);
  const pictureName = `${basename(out, '.md')}-pr.svg`;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(resolve(dirname(out), pictureName), renderPrCurves(results));
  const seconds = (performance.now() - started) / 1000;
  writeFileSync(
    out,
    renderReport(
      results,
      {
        command: `npx ews evaluate --employers ${employers} --months ${months} --train-seed ${trainSeed} --test-seed ${testSeed} --epochs ${epochs}`,
        generatedOn: new Date().toISOString().slice(0, 10),
        train: { seed: trainSeed, employers, months, window: seqSummary.window, examples: seqSummary.examples, positives: seqSummary.positives, epochs, model: `a ${seqSummary.kind.toUpperCase()} sequence model` },
        test: { seed: testSeed, employers, months, replay, scoredPerMonth: Math.round(monthsOut.reduce((a, m) => a + m.uscc.length, 0) / monthsOut.length) },
        seconds,
        episodes: visibleEpisodes(events, replay.from, replay.to),
      },
      pictureName,
    ),
  );
  const targets = judgeTargets(results);
  if (opts.json) {
    printJson({ report: out, results: results.map(({ curve: _curve, ...r }) => r), targets });
    return;
  }
  say('');
  for (const r of results) {
    const f = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(2));
    say(`${(METHOD_LABELS[r.method] ?? r.method).padEnd(40)} precision ${f(r.precision)}  recall ${f(r.recall)}  PR-AUC ${r.prAuc?.toFixed(3) ?? 'n/a'}  lead ${f(r.medianLeadMonths)} (precursors ${f(r.medianLeadPrecursor)})  false/1000 ${r.falseAlertsPer1000.toFixed(2)}  transfers ${r.transferAlerts}`);
  }
  say(`targets reached: ${targets.filter((t) => t.met === true).length} of ${targets.length}; report: ${out}`);
}

/** A database next to the service's own on the same server, created on first use and migrated. */
async function siblingDatabase(url: string, name: string, fresh: boolean): Promise<Database> {
  const admin = new pg.Client({ connectionString: withDatabaseName(url, 'postgres') });
  await admin.connect();
  try {
    if (fresh) await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const database = openDatabase(withDatabaseName(url, name), 4);
  await migrate(database.pool);
  return database;
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
