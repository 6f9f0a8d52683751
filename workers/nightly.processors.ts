import { FlowProducer, type ConnectionOptions, type FlowJob } from 'bullmq';
import type { Config } from '../config/config.schema.js';
import type { Database } from '../services/db/database.js';
import type { Logger } from '../services/log.js';
import { catchUpKey, latestPeriod, missingCities, nightDate, pollAll } from '../services/nightly/nightly.service.js';
import { RiskRepository } from '../services/scoring/risk.repository.js';
import { scoreCities, scoreShard, scoringContext, shards, type ModelScorer, type ScoreDeps } from '../services/scoring/score.service.js';
import type { ScoringContext } from '../services/scoring/series.js';
import { SeriesRepository } from '../services/scoring/series.repository.js';
import type { ShardThreads } from '../services/scoring/shard.threads.js';
import { jobOptions, raiseAlertsJobId } from './jobs.catalog.js';
import type { QueueSet } from './worker.js';
import type { Handlers } from './worker.js';
import { periodDate } from '../services/domain/period.js';

/**
 * The nightly run as a BullMQ flow. Every job id derives from the night
 * (its date, or a catch-up's key) or from the scoring run the night opened,
 * so a rerun, a retried step or a second scheduler adds nothing twice:
 *
 *   nightly.<date>                      poll every source, then add:
 *     night-score.<key>                 ← children: one ingest-batch per new batch
 *       (opens the scoring run of the night, then adds:)
 *       alerts.<run>  raise-alerts       ← score-cities.<run> ← score-shard.<run>.<i> × shards
 *         (then one notify job per e-mail)
 *
 * A batch that fails its attempts does not hold the night: its dependency
 * is dropped (ignoreDependencyOnFailure) and the cities it covers are
 * scored "data missing"; the poll scheduler's catch-up rescores them once
 * it arrives.
 */

export interface NightlyWorkerDeps {
  config: Config;
  database: Database;
  log: Logger;
  queues: QueueSet;
  connection: ConnectionOptions;
  prefix: string;
  /** The model, loaded once per worker process (null: rules only, with the reason). */
  model: () => Promise<{ model: ModelScorer | null; note: string | null }>;
  /** The threads that score shards, started once per worker process (null: on this thread). */
  threads?: () => Promise<ShardThreads | null>;
}

export function nightlyHandlers(deps: NightlyWorkerDeps): Pick<Handlers, 'nightly' | 'night-score' | 'score-shard' | 'score-cities'> & { close(): Promise<void> } {
  const { config, database, log, queues } = deps;
  const flow = new FlowProducer({ connection: deps.connection, prefix: deps.prefix });
  flow.on('error', (err) => log.warn(`flow producer: ${err.message}`));
  const stage = config.nightly.stages;
  const opts = (s: keyof typeof stage, jobId: string) => ({ ...jobOptions(stage[s].attempts, stage[s].backoffMs), jobId });
  const risks = new RiskRepository(database);
  const series = new SeriesRepository(database);
  // The scoring context (new employer codes of the month) is the same for every shard of a run.
  const contexts = new Map<number, Promise<ScoringContext>>();

  const scoreDeps = async (): Promise<ScoreDeps> => {
    const { model } = await deps.model();
    const threads = deps.threads ? await deps.threads() : null;
    return { series, risks, thresholds: config.scoring.thresholds, cityBands: config.scoring.cityRisk, model, log, threads };
  };

  return {
    nightly: async ({ date: given, period, reason, cities }, { job }) => {
      const date = given ?? nightDate(new Date(job.timestamp), config.nightly.timezone);
      const { pending, unreadable } = await pollAll({ config, database, log });
      let key = date;
      let only = cities;
      if (reason === 'catch-up') {
        // Between nights: only late batches matter, and only for the cities that were scored without them.
        if (pending.length === 0) return { date, reason, pending: 0, started: false };
        key = catchUpKey(date, pending.map((p) => p.entry.sha256));
        const latest = period ?? (await latestPeriod(database));
        only = cities ?? (latest !== null ? await missingCities(database, latest) : []);
      }
      if (unreadable.length > 0) log.warn({ date, unreadable: unreadable.map((u) => u.source) }, 'some sources could not be polled: scoring with what there is');
      const rootId = `night-score.${key}`;
      if ((await queues.queues.nightly.getJob(rootId)) !== undefined) return { date, key, pending: pending.length, started: false, reason: 'this night is already under way or done' };
      const children: FlowJob[] = pending.map(({ source, entry }) => ({
        name: 'ingest-batch',
        queueName: 'ingest',
        data: { source, entry },
        opts: { ...opts('ingest', `night-ingest.${key}.${entry.feed}.${entry.period}.${entry.sha256.slice(0, 16)}`), ignoreDependencyOnFailure: true },
      }));
      await flow.add({
        name: 'night-score',
        queueName: 'nightly',
        data: { date, key, ...(period !== undefined ? { period } : {}), ...(only !== undefined ? { cities: only } : {}) },
        opts: opts('nightly', rootId),
        children,
      });
      log.info({ date, key, reason, batches: pending.length }, 'night started');
      return { date, key, pending: pending.length, started: true };
    },

    'night-score': async ({ key, period: given, cities }) => {
      const period = given ?? (await latestPeriod(database));
      if (period === null) return { key, scored: false, reason: 'no social-insurance month loaded yet' };
      if (cities !== undefined && cities.length === 0) return { key, period, scored: false, reason: 'no city is missing data: nothing to catch up' };
      const { model, note } = await deps.model();
      const run = await risks.startNightRun(key, period, model?.version ?? null, note);
      const alertsId = raiseAlertsJobId(run.runId);
      if ((await queues.queues.alerts.getJob(alertsId)) !== undefined) return { key, period: run.period, runId: run.runId, scored: false, reason: 'already scheduled' };
      const list = cities !== undefined ? cities.flatMap((city) => shards(Math.max(1, Math.ceil(config.scoring.shards / 8)), city)) : shards(config.scoring.shards);
      await flow.add({
        name: 'raise-alerts',
        queueName: 'alerts',
        data: { runId: run.runId },
        opts: opts('alerts', alertsId),
        children: [
          {
            name: 'score-cities',
            queueName: 'score',
            data: { runId: run.runId, period: run.period },
            opts: opts('score', `score-cities.${run.runId}`),
            children: list.map((s, i) => ({
              name: 'score-shard',
              queueName: 'score',
              data: { runId: run.runId, period: run.period, bucketFrom: s.bucketFrom, bucketTo: s.bucketTo, ...(s.city !== undefined ? { city: s.city } : {}) },
              opts: opts('score', `score-shard.${run.runId}.${i}`),
            })),
          },
        ],
      });
      log.info({ key, period: run.period, runId: run.runId, shards: list.length }, 'scoring flow added');
      return { key, period: run.period, runId: run.runId, shards: list.length, scored: true };
    },

    'score-shard': async ({ runId, period, bucketFrom, bucketTo, city }) => {
      const d = await scoreDeps();
      let ctx = contexts.get(runId);
      if (!ctx) {
        ctx = scoringContext(d, period);
        contexts.set(runId, ctx);
        ctx.catch(() => contexts.delete(runId));
      }
      return scoreShard(d, runId, period, { bucketFrom, bucketTo, ...(city !== undefined ? { city } : {}) }, await ctx);
    },

    'score-cities': async ({ runId, period }) => {
      const d = await scoreDeps();
      const cities = await scoreCities(d, runId, period);
      const scored = await database.db
        .selectFrom('employer_risk')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('period', '=', periodDate(period))
        .where('run_id', '=', runId)
        .executeTakeFirstOrThrow();
      await risks.finishRun(runId, 'done', Number(scored.n), 0);
      contexts.delete(runId);
      const missing = cities.filter((c) => c.industrySection === '*' && c.dataMissing).map((c) => c.cityCode);
      if (missing.length > 0) log.warn({ runId, period, cities: missing }, 'scored with feeds missing for some cities: marked "data missing"; a catch-up rescores them when the batches arrive');
      return { runId, period, employers: Number(scored.n), dataMissing: missing };
    },

    close: () => flow.close(),
  };
}
