import type { Queue } from 'bullmq';
import type { Config } from '../config/config.schema.js';
import type { Database } from '../services/db/database.js';
import type { Logger } from '../services/log.js';
import { nightAction, watchIntervalMs, type JobState, type NightJobs } from '../services/nightly/night.policy.js';
import { NightRepository, type UnfinishedNight } from '../services/nightly/night.repository.js';
import { pollAll } from '../services/nightly/nightly.service.js';
import { raiseAlertsJobId } from './jobs.catalog.js';
import { nightRootId, scoreCitiesId, scoreShardId, type NightFlows } from './night.flow.js';
import type { QueueSet } from './worker.js';

/**
 * The scheduler's watch, every quarter of NIGHT_STALL_MS (at most a
 * minute): the schedules are put back if Redis lost them; every night that
 * has not finished and made no progress for NIGHT_STALL_MS is re-driven
 * from what the database says is missing (night.policy.ts decides; job ids
 * are the night's own, so nothing runs twice) and reported: a warning in
 * the log, the night's incidents (the province summary e-mail lists them)
 * and /metrics (ews_night_redrives_total, ews_nights_stalled). E-mails
 * left in the outbox are the sweep's (NOTIFY_SWEEP_MS), whose schedule the
 * watch puts back when Redis lost it.
 */

export interface NightWatchDeps {
  config: Config;
  database: Database;
  log: Logger;
  queues: QueueSet;
  flows: NightFlows;
  /** The scheduler's watch puts back schedules Redis lost; `ews nights --watch` does not (no scheduler may be meant to run). */
  restoreSchedules?: boolean;
}

export interface WatchPass {
  /** Nights found idle. */
  idle: number;
  redriven: { key: string; action: string; what: string }[];
  reported: { key: string; what: string }[];
  finished: number;
  schedulesRestored: string[];
}

/**
 * The job schedulers the scheduler role keeps: all put in place at start;
 * with `missingOnly`, those Redis no longer has (the watch). The ids upserted.
 */
export async function upsertSchedules(config: Config, queues: QueueSet, options: { missingOnly?: boolean } = {}): Promise<string[]> {
  const tz = config.nightly.timezone;
  const q = queues.queues;
  const schedules: [string, Queue, () => Promise<unknown>][] = [
    ['nightly', q.nightly, () => q.nightly.upsertJobScheduler('nightly', { pattern: config.nightly.cron, tz }, { name: 'nightly', data: { reason: 'schedule' } })],
    ['catch-up', q.nightly, () => q.nightly.upsertJobScheduler('catch-up', { pattern: config.nightly.pollCron, tz }, { name: 'nightly', data: { reason: 'catch-up' } })],
    ['notify-sweep', q.notify, () => q.notify.upsertJobScheduler('notify-sweep', { every: config.notify.sweepMs }, { name: 'notify-sweep', data: {} })],
    ['retrain', q.train, () => q.train.upsertJobScheduler('retrain', { pattern: config.training.cron, tz }, { name: 'retrain', data: { reason: 'schedule' } })],
  ];
  const done: string[] = [];
  for (const [id, queue, upsert] of schedules) {
    if (options.missingOnly !== true || (await queue.getJobScheduler(id)) === undefined) {
      await upsert();
      done.push(id);
    }
  }
  return done;
}

async function stateOf(queue: Queue, id: string): Promise<JobState> {
  const job = (await queue.getJob(id));
  if (job === undefined) return null;
  return (await job.getState());
}

async function jobsOf(queues: QueueSet, night: UnfinishedNight): Promise<NightJobs> {
  const q = queues.queues;
  const root = await stateOf(q.nightly, nightRootId(night.key));
  if (night.runId === null) return { root, alerts: null, cities: null, shards: [] };
  const runId = night.runId;
  return {
    root,
    alerts: await stateOf(q.alerts, raiseAlertsJobId(runId)),
    cities: await stateOf(q.score, scoreCitiesId(runId)),
    shards: await Promise.all((night.shards ?? []).map((_, i) => stateOf(q.score, scoreShardId(runId, i)))),
  };
}

/** One pass of the watch (also `ews nights watch`). */
export async function watchNights(deps: NightWatchDeps): Promise<WatchPass> {
  const { config, database, log, queues, flows } = deps;
  const stallMs = config.nightly.stallMs;
  const nights = new NightRepository(database);
  const pass: WatchPass = { idle: 0, redriven: [], reported: [], finished: 0, schedulesRestored: [] };

  // Every scheduler upserts these at start; Redis restarted without persistence has forgotten them.
  if (deps.restoreSchedules === true) pass.schedulesRestored = await upsertSchedules(config, queues, { missingOnly: true });
  if (pass.schedulesRestored.length > 0) {
    log.warn({ schedules: pass.schedulesRestored }, 'job schedules were missing from Redis (restarted without persistence?): put back');
  }

  for (const night of await nights.idle(stallMs)) {
    pass.idle++;
    const action = nightAction(night, await jobsOf(queues, night));
    if (action.kind === 'finish') {
      if (night.runId !== null) await nights.finished(night.runId);
      pass.finished++;
      continue;
    }
    // Claimed by recording it: with two schedulers, only the one whose update finds the night still idle acts.
    const redrive = action.kind !== 'report';
    if (!(await nights.incident(night.key, night.stage, action.what, redrive, night.progressAt))) continue;
    const idleS = Math.round(night.idleS);
    if (!redrive) {
      pass.reported.push({ key: night.key, what: action.what });
      log.warn({ night: night.key, stage: night.stage, idleS }, `night ${night.key} has made no progress for ${idleS} s: ${action.what}`);
      continue;
    }
    switch (action.kind) {
      case 'restart-night': {
        const { pending, unreadable } = await pollAll({ config, database, log });
        if (unreadable.length > 0) log.warn({ night: night.key, unreadable: unreadable.map((u) => u.source) }, 'some sources could not be polled while re-driving the night');
        await nights.addBatches(night.key, pending);
        await flows.addNight({ date: night.date, key: night.key, ...(night.period !== null ? { period: night.period } : {}), ...(night.cities !== null ? { cities: night.cities } : {}) }, pending);
        break;
      }
      case 'restart-scoring':
        await flows.addScoring(night.runId as number, night.runPeriod as string, night.shards ?? []);
        break;
      case 'restart-alerts':
        await flows.addAlerts(night.runId as number);
        break;
      case 'retry':
        for (const which of action.jobs) {
          const runId = night.runId as number;
          const [queue, id] =
            which === 'root' ? [queues.queues.nightly, nightRootId(night.key)]
            : which === 'alerts' ? [queues.queues.alerts, raiseAlertsJobId(runId)]
            : which === 'cities' ? [queues.queues.score, scoreCitiesId(runId)]
            : [queues.queues.score, scoreShardId(runId, which)];
          const job = (await queue.getJob(id));
          // A whole new round of attempts, with their backoff (retry alone keeps attemptsMade: one more try).
          if (job !== undefined && (await job.isFailed())) await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        }
        break;
    }
    pass.redriven.push({ key: night.key, action: action.kind, what: action.what });
    log.warn({ night: night.key, stage: night.stage, idleS, action: action.kind }, `night ${night.key} had made no progress for ${idleS} s and was re-driven: ${action.what}`);
  }
  return pass;
}

/** The watch, on a timer, in the scheduler role; stop() waits for a pass under way. */
export function startNightWatch(deps: NightWatchDeps): { stop(): Promise<void> } {
  const everyMs = watchIntervalMs(deps.config.nightly.stallMs);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = (): void => {
    running = watchNights(deps)
      .then(
        () => undefined,
        (err: unknown) => deps.log.warn(`night watch: ${(err as Error).message}`),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, everyMs);
      });
  };
  timer = setTimeout(tick, everyMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
