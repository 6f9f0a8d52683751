import { FlowProducer, type ConnectionOptions, type FlowJob } from 'bullmq';
import type { Config } from '../config/config.schema.js';
import type { Database } from '../services/db/database.js';
import { BatchRepository } from '../services/feeds/batch.repository.js';
import type { Logger } from '../services/log.js';
import { nightDate, nightScoring, nightShards, planNight } from '../services/nightly/nightly.service.js';
import { ScoreRuns, type ScoringModel } from '../services/scoring/score.run.js';
import type { ShardRunner } from '../services/scoring/shard.types.js';
import { jobOptions, raiseAlertsJobId } from './jobs.catalog.js';
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
  const flow = new FlowProducer({ connection: deps.connection, prefix: deps.prefix });
  flow.on('error', (err) => log.warn(`flow producer: ${err.message}`));
  const stage = config.nightly.stages;
  const opts = (s: keyof typeof stage, jobId: string) => ({ ...jobOptions(stage[s].attempts, stage[s].backoffMs), jobId });
  const batches = new BatchRepository(database);
  const runs = new ScoreRuns(nightScoring({ config, database, log }, deps.model, deps.runner));

  return {
    nightly: async ({ date: given, period, reason, cities }, { job }) => {
      const date = given ?? nightDate(new Date(job.timestamp), config.nightly.timezone);
      const plan = await planNight({ config, database, log }, { date, reason, ...(period !== undefined ? { period } : {}), ...(cities !== undefined ? { cities } : {}) });
      if (plan.skip !== undefined) return { date, reason, pending: 0, started: false };
      const { key, pending, unreadable, cities: only } = plan;
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
      const period = given ?? (await batches.latestLoadedPeriod());
      if (period === null) return { key, scored: false, reason: 'no social-insurance month loaded yet' };
      if (cities !== undefined && cities.length === 0) return { key, period, scored: false, reason: 'no city is missing data: nothing to catch up' };
      const list = nightShards(config, cities);
      const run = await runs.open(period, list.length, key);
      const alertsId = raiseAlertsJobId(run.runId);
      if ((await queues.queues.alerts.getJob(alertsId)) !== undefined) return { key, period: run.period, runId: run.runId, scored: false, reason: 'already scheduled' };
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

    'score-shard': async ({ runId, period, bucketFrom, bucketTo, city }) =>
      (await runs.shard(runId, period, { bucketFrom, bucketTo, ...(city !== undefined ? { city } : {}) })).result,

    'score-cities': async ({ runId, period }) => {
      const closed = await runs.close(runId, period);
      if (closed.dataMissing.length > 0) log.warn({ runId, period, cities: closed.dataMissing }, 'scored with feeds missing for some cities: marked "data missing"; a catch-up rescores them when the batches arrive');
      return { runId, period, employers: closed.employers, dataMissing: closed.dataMissing, packsPruned: closed.pruned.length };
    },

    close: () => flow.close(),
  };
}
