import type { NightStage } from './night.repository.js';

/**
 * What the scheduler's watch does about a night that has made no progress
 * for the stall time, from what the database says (its stage, its scoring
 * run, whether its alerts were raised) and what the queues still hold (the
 * state of each of its jobs; null: the job is not in Redis). Pure: the
 * watch (workers/night.watch.ts) reads the states and carries the action out.
 *
 * Lost jobs (Redis restarted without persistence, or evicted keys) are
 * added again under their own ids; failed jobs (attempts exhausted while a
 * dependency was down) are retried; a night whose jobs are all there and
 * waiting is reported, not touched: its workers are down or slow.
 */

/** BullMQ's job states as the watch reads them; null when the job is not there. */
export type JobState = 'waiting' | 'waiting-children' | 'active' | 'delayed' | 'prioritized' | 'completed' | 'failed' | 'unknown' | null;

export interface NightJobs {
  /** night-score.<key>: the root of the ingest flow. */
  root: JobState;
  /** alerts.<runId>: the root of the scoring flow (null before the run is open). */
  alerts: JobState;
  cities: JobState;
  shards: JobState[];
}

export interface NightFacts {
  stage: NightStage;
  runId: number | null;
  runStatus: 'running' | 'done' | 'failed' | null;
  alertsDone: boolean;
}

export type NightAction =
  /** The ingest flow is gone: poll again and add it under the night's ids. */
  | { kind: 'restart-night'; what: string }
  /** The scoring flow is gone: add it again (shards, cities, alerts) under the run's ids. */
  | { kind: 'restart-scoring'; what: string }
  /** The run is scored but the alerts job is gone: add it alone. */
  | { kind: 'restart-alerts'; what: string }
  /** Jobs that ran out of attempts: another round. */
  | { kind: 'retry'; jobs: ('root' | 'alerts' | 'cities' | number)[]; what: string }
  /** Its alerts are raised: the night is done (the last job's bookkeeping was lost). */
  | { kind: 'finish' }
  /** Its jobs are there and waiting: nothing to re-drive, ops are told. */
  | { kind: 'report'; what: string };

const gone = (s: JobState): boolean => s === null || s === 'unknown';

export function nightAction(night: NightFacts, jobs: NightJobs): NightAction {
  if (night.alertsDone) return { kind: 'finish' };
  if (night.runId === null) {
    if (gone(jobs.root)) return { kind: 'restart-night', what: 'its jobs were lost before scoring (Redis restarted without persistence?): polled again and its flow added again' };
    if (jobs.root === 'failed') return { kind: 'retry', jobs: ['root'], what: 'its scoring step ran out of attempts: retried' };
    return { kind: 'report', what: `waiting to score (night-score ${jobs.root}): no job of this night finished lately; are the workers running?` };
  }
  if (night.runStatus === 'failed') return { kind: 'report', what: `its scoring run ${night.runId} failed: rescore with \`ews nightly\`` };
  if (night.runStatus === 'done') {
    if (gone(jobs.alerts)) return { kind: 'restart-alerts', what: `run ${night.runId} is scored but its alerts job was lost: added again` };
    if (jobs.alerts === 'failed') return { kind: 'retry', jobs: ['alerts'], what: `raising the alerts of run ${night.runId} ran out of attempts: retried` };
    return { kind: 'report', what: `run ${night.runId} is scored; its alerts job is ${jobs.alerts} and no job of this night finished lately` };
  }
  if (gone(jobs.alerts)) return { kind: 'restart-scoring', what: `the jobs of scoring run ${night.runId} were lost (Redis restarted without persistence?): its shards were added again` };
  const failed: ('alerts' | 'cities' | number)[] = [];
  jobs.shards.forEach((s, i) => {
    if (s === 'failed') failed.push(i);
  });
  if (jobs.cities === 'failed') failed.push('cities');
  if (jobs.alerts === 'failed') failed.push('alerts');
  if (failed.length > 0) {
    const shards = failed.filter((f): f is number => typeof f === 'number');
    const parts = [shards.length > 0 ? `${shards.length} shard(s)` : null, failed.includes('cities') ? 'the city step' : null, failed.includes('alerts') ? 'the alert step' : null].filter((p) => p !== null);
    return { kind: 'retry', jobs: failed, what: `${parts.join(', ')} of run ${night.runId} ran out of attempts: retried` };
  }
  const waiting = jobs.shards.filter((s) => !gone(s) && s !== 'completed').length;
  return { kind: 'report', what: `scoring run ${night.runId}: ${waiting} shard(s) waiting and no job of this night finished lately; are the workers running?` };
}

/** How often the watch looks: a quarter of the stall time, between 1 s and a minute. */
export function watchIntervalMs(stallMs: number): number {
  return Math.min(60_000, Math.max(1_000, Math.round(stallMs / 4)));
}
