import type { ConnectionOptions } from 'bullmq';
import type { Config } from '../config/config.schema.js';
import type { Database } from '../services/db/database.js';
import { BatchRepository } from '../services/feeds/batch.repository.js';
import type { Logger } from '../services/log.js';
import { NightRepository } from '../services/nightly/night.repository.js';
import { nightDate, nightScoring, nightShards, planNight } from '../services/nightly/nightly.service.js';
import { ScoreRuns, type ScoringModel } from '../services/scoring/score.run.js';
import type { ShardRunner } from '../services/scoring/shard.types.js';
import { raiseAlertsJobId } from './jobs.catalog.js';
import { NightFlows, nightRootId } from './night.flow.js';
import type { QueueSet } from './worker.js';
import type { Handlers } from './worker.js';

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
 * is dropped (ignoreDependencyOnFailure), the night records it as missing
 * (`night.missing_batches`, logged, and in the province summary), the
 * cities it covers are scored "data missing", and the poll scheduler's
 * catch-up loads it and rescores them once it can be read.
 *
 * Each night is also recorded in the database (`night`: its batches, its
 * run, its stage, when a job of it last finished), so the scheduler's watch
 * (night.watch.ts) can re-drive a night whose jobs Redis lost.
 */

export interface NightlyWorkerDeps {
  config: Config;
  database: Database;
  log: Logger;
  queues: QueueSet;
  connection: ConnectionOptions;
  prefix: string;
  /** The model (null: rules only, with the reason), loaded once per worker process (a new current version: loaded for the next run). */
  model: () => Promise<ScoringModel>;
  /** Where this process scores shards, chosen by the composition root (workers/serve.ts). */
  runner: () => Promise<ShardRunner>;
}

/**
 * Thin adapters: each job parses its payload, calls its stage (the same
 * functions `ews nightly` runs inline: services/scoring/score.run.ts) and
 * adds the jobs that follow.
 */
export function nightlyHandlers(deps: NightlyWorkerDeps): Pick<Handlers, 'nightly' | 'night-score' | 'score-shard' | 'score-cities'> & { close(): Promise<void> } {
  const { config, database, log, queues } = deps;
  const flows = new NightFlows(config, deps.connection, deps.prefix, log);
  const batches = new BatchRepository(database);
  const nights = new NightRepository(database);
  const runs = new ScoreRuns(nightScoring({ config, database, log }, deps.model, deps.runner));

  return {
    nightly: async ({ date: given, period, reason, cities }, { job }) => {
      const date = given ?? nightDate(new Date(job.timestamp), config.nightly.timezone);
      const plan = await planNight({ config, database, log }, { date, reason, ...(period !== undefined ? { period } : {}), ...(cities !== undefined ? { cities } : {}) });
      if (plan.skip !== undefined) return { date, reason, pending: 0, started: false };
      const { key, pending, unreadable, cities: only } = plan;
      if (unreadable.length > 0) log.warn({ date, unreadable: unreadable.map((u) => u.source) }, 'some sources could not be polled: scoring with what there is');
      const { night } = await nights.begin({ key, date, reason, ...(period !== undefined ? { period } : {}), ...(only !== undefined ? { cities: only } : {}), batches: pending });
      if (night.stage === 'done') return { date, key, pending: pending.length, started: false, reason: 'this night is done' };
      if ((await queues.queues.nightly.getJob(nightRootId(key))) !== undefined) return { date, key, pending: pending.length, started: false, reason: 'this night is already under way' };
      // A night started again (its jobs lost): the batches it set out to load that are still not loaded, and any new ones.
      await nights.addBatches(key, pending);
      await flows.addNight({ date, key, ...(period !== undefined ? { period } : {}), ...(only !== undefined ? { cities: only } : {}) }, pending);
      log.info({ date, key, reason, batches: pending.length }, 'night started');
      return { date, key, pending: pending.length, started: true };
    },

    'night-score': async ({ key, period: given, cities }) => {
      const period = given ?? (await batches.latestLoadedPeriod());
      if (period === null) {
        await nights.finishedWithoutRun(key);
        return { key, scored: false, reason: 'no social-insurance month loaded yet' };
      }
      if (cities !== undefined && cities.length === 0) {
        await nights.finishedWithoutRun(key);
        return { key, period, scored: false, reason: 'no city is missing data: nothing to catch up' };
      }
      const list = nightShards(config, cities);
      const run = await runs.open(period, list.length, key);
      const missing = await nights.scoring(key, run.runId, list);
      if (missing.length > 0) {
        log.warn(
          { key, runId: run.runId, missing: missing.map((m) => ({ source: m.source, file: m.file, status: m.status })) },
          `scoring without ${missing.length} batch(es) that could not be loaded (${missing.map((m) => `${m.source}/${m.file} (${m.status}): ${m.reason ?? 'no reason recorded'}`).join('; ')}): their cities are scored "data missing"; the next poll retries those not rejected (a rejected one needs a corrected file or \`ews ingest --retry-rejected\`)`,
        );
      }
      if ((await queues.queues.alerts.getJob(raiseAlertsJobId(run.runId))) !== undefined) return { key, period: run.period, runId: run.runId, scored: false, reason: 'already scheduled' };
      await flows.addScoring(run.runId, run.period, list);
      log.info({ key, period: run.period, runId: run.runId, shards: list.length }, 'scoring flow added');
      return { key, period: run.period, runId: run.runId, shards: list.length, scored: true, missingBatches: missing.length };
    },

    'score-shard': async ({ runId, period, bucketFrom, bucketTo, city }) => {
      const { result } = await runs.shard(runId, period, { bucketFrom, bucketTo, ...(city !== undefined ? { city } : {}) });
      await nights.progressOfRun(runId);
      return result;
    },

    'score-cities': async ({ runId, period }) => {
      const closed = await runs.close(runId, period);
      await nights.scored(runId);
      if (closed.dataMissing.length > 0) log.warn({ runId, period, cities: closed.dataMissing }, 'scored with feeds missing for some cities: marked "data missing"; a catch-up rescores them when the batches arrive');
      return { runId, period, employers: closed.employers, dataMissing: closed.dataMissing, packsPruned: closed.pruned.length };
    },

    close: () => flows.close(),
  };
}
