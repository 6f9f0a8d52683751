import { cityName } from '../../services/domain/region.js';
import { FEATURE_SPEC } from '../../services/scoring/features.js';
import { addMonths, isPeriod } from '../../services/domain/period.js';
import { RiskRepository } from '../../services/scoring/risk.repository.js';
import { inlineShards, type ModelScorer } from '../../services/scoring/score.service.js';
import { scorePeriod, type ScoringSetup } from '../../services/scoring/score.run.js';
import type { ShardRunner } from '../../services/scoring/shard.types.js';
import { SeriesRepository } from '../../services/scoring/series.repository.js';
import { startShardThreads } from '../../services/scoring/shard.threads.js';
import { LEVEL_NUMERAL, LEVELS, levelName, type LevelCounts } from '../../services/domain/level.js';
import { processRun } from '../../services/alerts/alert.service.js';
import { sendOutbox } from '../../services/notify/deliver.js';
import type { CliContext } from './context.js';
import { intOption, printJson, printTable, UsageError, printLine } from './output.js';
import { undelivered, type Shortfall } from './shortfall.js';

function period(value: string | undefined): string {
  if (value === undefined || !isPeriod(value)) throw new UsageError(`--period must be a month YYYY-MM, got ${value === undefined ? 'nothing' : `"${value}"`}`);
  return value;
}

/**
 * The model, loaded once into its worker threads (a refused artifact means
 * rules only, said out loud, never a crash), and the threads that score
 * shards against the database (SCORE_THREADS, 0: on this thread).
 */
export async function openModel(ctx: CliContext): Promise<ScoringSetup & { threads: { model: number; scoring: number } }> {
  const { openScoringModel } = await import('../../models/registry.load.js');
  const { poolScorer } = await import('../../models/inference.pool.js');
  const opened = await openScoringModel({ configuredDir: ctx.config.scoring.modelDir, dataDir: ctx.config.dataDir, expected: FEATURE_SPEC, threads: ctx.config.scoring.modelThreads });
  const { pool, note } = opened;
  let model: ModelScorer | null = null;
  if (pool !== null) {
    ctx.onClose(() => pool.close());
    model = poolScorer(pool);
  }
  if (note !== null) {
    ctx.log.warn({ modelDir: opened.choice.dir }, note);
    process.stderr.write(`ews: ${note}\n`);
  }
  // The one place the CLI chooses where shards are scored: scoring threads, or this thread.
  const database = await ctx.db();
  let runner: ShardRunner;
  let scoringThreads = 0;
  if (ctx.config.scoring.threads > 0) {
    const threads = await startShardThreads({ databaseUrl: database.url, thresholds: ctx.config.scoring.thresholds, threads: ctx.config.scoring.threads, model, logLevel: ctx.config.log.level });
    scoringThreads = threads.threads;
    runner = threads;
  } else {
    runner = inlineShards({ series: new SeriesRepository(database), risks: new RiskRepository(database), thresholds: ctx.config.scoring.thresholds, model, log: ctx.log });
  }
  ctx.onClose(() => runner.close());
  // The threads actually started (MODEL_THREADS, SCORE_THREADS), for whoever asks.
  return { model, note, runner, threads: { model: pool?.threads ?? 0, scoring: scoringThreads } };
}

/** `ews score`: returns the e-mails of its alerts that were not delivered, if any (exit code 3). */
export async function scoreCommand(ctx: CliContext, opts: { period?: string; city?: string; shards?: string; alerts?: boolean; json?: boolean; fromFacts?: boolean }): Promise<Shortfall[]> {
  const p = period(opts.period);
  const shardCount = opts.shards !== undefined ? intOption('shards', opts.shards, 1, 256) : ctx.config.scoring.shards;
  const database = await ctx.db();
  const { model, note, runner } = await openModel(ctx);
  const result = await scorePeriod(
    {
      series: new SeriesRepository(database),
      risks: new RiskRepository(database),
      thresholds: ctx.config.scoring.thresholds,
      cityBands: ctx.config.scoring.cityRisk,
      model,
      log: ctx.log,
    },
    p,
    { shards: shardCount, ...(opts.city !== undefined ? { city: opts.city } : {}), modelNote: note, fromFacts: opts.fromFacts === true, runner },
  );
  const summary = {
    period: p,
    run: result.runId,
    employers: result.employers,
    shardsFromPack: result.shardsFromPack,
    model: model?.version ?? null,
    levels: result.levels,
    citiesAtRisk: result.cities.filter((c) => c.industrySection === '*' && c.level !== null).length,
    citiesDataMissing: result.cities.filter((c) => c.industrySection === '*' && c.dataMissing).map((c) => c.cityCode),
  };
  // A whole-province run raises its alerts and sends their e-mails straight away (Ⅰ/Ⅱ are due within hours).
  let alerts: Awaited<ReturnType<typeof raiseAndSend>> | null = null;
  if (opts.alerts !== false && opts.city === undefined) alerts = await raiseAndSend(ctx, result.runId);
  if (opts.json) printJson({ ...summary, alerts });
  else {
    printLine(`scored ${summary.employers} employers for ${p} (run ${summary.run}, ${model ? `model ${model.version}` : 'rules only'})`);
    if (alerts) {
      printLine(`alerts: ${alerts.opened} opened, ${alerts.escalated} escalated, ${alerts.resolved} resolved, ${alerts.pending} waiting for the model's confirmation`);
      printLine(`e-mails: ${alerts.delivery.sent} ${ctx.config.notify.smtpUrl !== undefined ? 'sent' : `written to ${ctx.config.notify.outboxDir}`}, ${alerts.delivery.failed} failed, ${alerts.delivery.deferred} deferred`);
    }
    printLine(`levels: ${LEVELS.map((l) => `${LEVEL_NUMERAL[l]} ${summary.levels[String(l) as keyof LevelCounts]}`).join('  ')}`);
    printLine(`history: ${result.shardsFromPack} of ${result.shards} shards from the pack ${addMonths(p, -1)} left, the rest from the fact tables`);
    if (summary.citiesDataMissing.length > 0) printLine(`data missing: ${summary.citiesDataMissing.map(cityName).join('、')}`);
  }
  return alerts !== null ? undelivered(alerts.delivery) : [];
}

export async function riskListCommand(ctx: CliContext, opts: { period?: string; city?: string; level?: string; limit: string; json?: boolean; employersOnly?: boolean }): Promise<void> {
  const p = period(opts.period);
  const level = opts.level !== undefined ? intOption('level', opts.level, 1, 4) : undefined;
  const limit = intOption('limit', opts.limit, 1, 100_000);
  const risks = new RiskRepository(await ctx.db());
  const employers = await risks.list(p, { ...(opts.city !== undefined ? { city: opts.city } : {}), ...(level !== undefined ? { maxLevel: level } : {}), limit });
  const cities = await risks.cities(p, opts.city !== undefined ? { city: opts.city } : {});
  if (opts.json) {
    printJson({ period: p, employers, cities });
    return;
  }
  printLine(`employers at risk in ${p}${opts.city !== undefined ? ` (${cityName(opts.city)})` : ''}${level !== undefined ? `, level ${levelName(level)} and above` : ''}:`);
  printTable(
    employers.map((e) => ({
      level: e.level !== null ? levelName(e.level) : '',
      uscc: e.uscc,
      name: e.name.length > 24 ? `${e.name.slice(0, 24)}…` : e.name,
      city: cityName(e.city_code),
      industry: e.industry_code,
      workforce: e.workforce,
      probability: e.probability === null ? '' : e.probability.toFixed(3),
      at_stake: e.jobs_at_stake,
      rules: e.rules.join(','),
    })),
    ['level', 'uscc', 'name', 'city', 'industry', 'workforce', 'probability', 'at_stake', 'rules'],
  );
  if (opts.employersOnly === true) return;
  printLine('');
  printLine('cities:');
  printTable(
    cities
      .filter((c) => c.industry_section === '*')
      .map((c) => ({
        city: cityName(c.city_code),
        level: c.data_missing ? '数据缺失 data missing' : c.level !== null ? levelName(c.level) : '',
        employers: c.employers,
        expected_losses: Math.round(c.expected_job_losses),
        layoffs: c.observed_layoffs,
        claims_vs_earlier: c.ui_claims_ratio ?? '',
        surveyed_rate: c.surveyed_unemployment_rate ?? '',
        missing: c.missing_feeds.join(', '),
      })),
    ['city', 'level', 'employers', 'expected_losses', 'layoffs', 'claims_vs_earlier', 'surveyed_rate', 'missing'],
  );
}

async function raiseAndSend(ctx: CliContext, runId: number) {
  const database = await ctx.db();
  const result = await processRun({ database, alerts: ctx.config.alerts, notify: ctx.config.notify, log: ctx.log }, runId);
  const delivery = await sendOutbox(database, ctx.config.notify, ctx.log);
  return { opened: result.opened, escalated: result.escalated, resolved: result.resolved, pending: result.pending, notifications: result.notifications.length, delivery };
}
