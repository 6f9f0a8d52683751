import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import type { Config } from '../config/config.schema.js';

/**
 * The one typed catalog of jobs: each name, its queue, its payload schema
 * (parsed when a job is taken) and its options. A job name without a handler
 * does not compile (see Handlers).
 */

const manifestEntry = z.object({
  file: z.string().min(1),
  feed: z.enum(['social_insurance', 'headcount', 'regional', 'layoff_filings']),
  period: z.string().regex(/^\d{4}-\d{2}$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  rows: z.number().int().nonnegative(),
  encoding: z.enum(['utf-8', 'gbk']),
  orderKey: z.number().int().nonnegative(),
});

export const JOBS = {
  'poll-source': {
    queue: 'poll',
    payload: z.object({ source: z.string().min(1) }),
  },
  'ingest-batch': {
    queue: 'ingest',
    payload: z.object({ source: z.string().min(1), entry: manifestEntry }),
  },
  /** The night's run: polls every source, then a flow: ingest the new batches → score. Id nightly.<date>. */
  nightly: {
    queue: 'nightly',
    payload: z.object({
      /** The night's date; default the date of the job's creation in the schedule's time zone (scheduled runs). */
      date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
      /** The month to score; default the latest month with social-insurance data. */
      period: z.string().regex(/^\d{4}-\d{2}$/).optional(),
      reason: z.enum(['schedule', 'manual', 'catch-up']).default('schedule'),
      /** Catch-up: only these cities are rescored. */
      cities: z.array(z.string().regex(/^\d{6}$/)).optional(),
    }),
  },
  /** Runs once the night's ingest jobs are done: opens the scoring run and adds the scoring flow (shards → cities → alerts). */
  'night-score': {
    queue: 'nightly',
    payload: z.object({
      date: z.string(),
      key: z.string().min(1),
      period: z.string().regex(/^\d{4}-\d{2}$/).optional(),
      cities: z.array(z.string()).optional(),
    }),
  },
  /** One shard of a scoring run. */
  'score-shard': {
    queue: 'score',
    payload: z.object({
      runId: z.number().int().positive(),
      period: z.string().regex(/^\d{4}-\d{2}$/),
      bucketFrom: z.number().int().min(0).max(255),
      bucketTo: z.number().int().min(0).max(255),
      city: z.string().optional(),
    }),
  },
  /** After every shard: the cities' systemic risk, then the run is done. */
  'score-cities': {
    queue: 'score',
    payload: z.object({ runId: z.number().int().positive(), period: z.string().regex(/^\d{4}-\d{2}$/) }),
  },
  /** After a scoring run: alert changes and their notifications, in one transaction. */
  'raise-alerts': {
    queue: 'alerts',
    payload: z.object({ runId: z.number().int().positive() }),
  },
  /** Sends one notification from the outbox. */
  notify: {
    queue: 'notify',
    payload: z.object({ notificationId: z.number().int().positive() }),
  },
  /** Enqueues every unsent notification (after a crash between commit and enqueue, or after a long SMTP outage). */
  'notify-sweep': {
    queue: 'notify',
    payload: z.object({}),
  },
  /** Fired by the monthly schedule (training.cron): adds `train` for the latest month of data, once (id train.<month>). */
  retrain: {
    queue: 'train',
    payload: z.object({ reason: z.enum(['schedule', 'manual']).default('schedule') }),
  },
  /** Trains a candidate on the data through `month`, judges it on the held-out months against the current model, registers it, promotes it if better. */
  train: {
    queue: 'train',
    payload: z.object({ month: z.string().regex(/^\d{4}-\d{2}$/), reason: z.enum(['schedule', 'manual']).default('schedule') }),
  },
} as const;

export type JobName = keyof typeof JOBS;
export type QueueName = (typeof JOBS)[JobName]['queue'];
export type Payload<N extends JobName> = z.infer<(typeof JOBS)[N]['payload']>;

export const QUEUE_NAMES: readonly QueueName[] = [...new Set(Object.values(JOBS).map((j) => j.queue))];

/** Deterministic ids: enqueuing the same batch twice is a no-op. BullMQ ids may not contain ':'. */
export function ingestJobId(p: Payload<'ingest-batch'>): string {
  return `ingest.${p.entry.feed}.${p.entry.period}.${p.entry.sha256}`;
}

export function notifyJobId(notificationId: number): string {
  return `notify.${notificationId}`;
}

export function raiseAlertsJobId(runId: number): string {
  return `alerts.${runId}`;
}

/** One retraining per month of data: a second firing, a restart or a rerun adds nothing. */
export function trainJobId(month: string): string {
  return `train.${month}`;
}

export function jobOptions(attempts: number, backoffMs: number): JobsOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: backoffMs },
    removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
    removeOnFail: { age: 30 * 24 * 3600 },
  };
}

/**
 * Every job that reads a feed (ingest-batch, whether poll-source or the
 * night's flow adds it; poll-source itself): INGEST_ATTEMPTS attempts, the
 * first retry after FEED_RETRY_BASE_MS, doubling each time.
 */
export function feedJobOptions(feeds: Pick<Config['feeds'], 'ingestAttempts' | 'retryBaseMs'>): JobsOptions {
  return jobOptions(feeds.ingestAttempts, feeds.retryBaseMs);
}
