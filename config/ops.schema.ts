import { z } from 'zod';

/**
 * The running service: the API process (port, dashboard credentials), the
 * nightly schedule and the per-stage queue settings, and shutdown.
 */

const positiveInt = z.number().int().positive();

/** Cron as BullMQ's scheduler reads it: five fields (minute hour day month weekday), or six with seconds first. */
export const CRON = /^(\S+\s+){4,5}\S+$/;

/** A stage whose jobs' attempts and backoff are set here: the night's own steps (nightly, score, alerts). */
const retriedStage = (concurrency: number, attempts: number, backoffMs: number) =>
  z
    .object({
      concurrency: positiveInt.max(64).default(concurrency),
      attempts: positiveInt.max(50).default(attempts),
      backoffMs: positiveInt.default(backoffMs),
    })
    .strict()
    .prefault({});

/**
 * Where the attempts and backoff of the feed and e-mail jobs are set
 * instead: one setting each, documented in the README (workers/jobs.catalog.ts
 * feedJobOptions reads the feed pair; the notify processors the e-mail pair).
 * A config file that still sets them under nightly.stages is refused,
 * naming the setting to use.
 */
export const MOVED_STAGE_SETTINGS = {
  poll: { attempts: 'INGEST_ATTEMPTS (feeds.ingestAttempts)', backoffMs: 'FEED_RETRY_BASE_MS (feeds.retryBaseMs)' },
  ingest: { attempts: 'INGEST_ATTEMPTS (feeds.ingestAttempts)', backoffMs: 'FEED_RETRY_BASE_MS (feeds.retryBaseMs)' },
  notify: { attempts: 'NOTIFY_ATTEMPTS (notify.attempts)', backoffMs: 'NOTIFY_RETRY_BASE_MS (notify.retryBaseMs)' },
} as const;

type MovedStage = keyof typeof MOVED_STAGE_SETTINGS;

const JOBS_OF: Record<MovedStage, string> = { poll: 'poll-source jobs', ingest: 'ingest-batch jobs (poll-source\'s and the night\'s)', notify: 'notify jobs' };

/** A stage whose queue has only its concurrency set here; its jobs' attempts and backoff come from the feed or e-mail settings. */
const concurrencyStage = (stage: MovedStage, concurrency: number) => {
  const moved = (key: 'attempts' | 'backoffMs') =>
    z
      .unknown()
      .optional()
      .superRefine((value, ctx) => {
        if (value === undefined) return;
        const what = key === 'attempts' ? 'attempts' : 'backoff';
        const verb = key === 'attempts' ? 'come' : 'comes';
        ctx.addIssue({ code: 'custom', message: `is no longer set here: the ${what} of ${JOBS_OF[stage]} ${verb} from ${MOVED_STAGE_SETTINGS[stage][key]}; set that instead` });
      });
  return z
    .object({ concurrency: positiveInt.max(64).default(concurrency), attempts: moved('attempts'), backoffMs: moved('backoffMs') })
    .strict()
    .transform(({ concurrency: c }) => ({ concurrency: c }))
    .prefault({});
};

export const apiSchema = z
  .object({
    port: positiveInt.max(65535).default(3000),
    /** A console session ends after this many minutes without a request. */
    sessionIdleMinutes: positiveInt.max(24 * 60).default(30),
    /** …and this many hours after login, whatever happens. */
    sessionMaxHours: positiveInt.max(24 * 7).default(12),
    /** Wrong passwords in a row that lock an account… */
    loginMaxFailures: positiveInt.max(100).default(5),
    /** …for this many minutes (`ews users reset` lifts the lock at once). */
    lockoutMinutes: positiveInt.max(24 * 60).default(15),
    /** Login attempts per client address per minute, whatever the account (in each API process). */
    loginRatePerMinute: positiveInt.max(10_000).default(20),
    /**
     * Which proxies in front of the API to believe about the client's address
     * (X-Forwarded-For), for the login rate limit and the audit log: 'false'
     * (none: the connection's address), a number of hops, or a comma-separated
     * list of addresses/subnets ('loopback', '10.0.0.0/8').
     */
    trustProxy: z
      .string()
      .regex(/^(false|\d{1,2}|[0-9A-Za-z.:/,_ -]{1,500})$/, "must be 'false', a number of hops, or addresses/subnets separated by commas")
      .default('false'),
    /** Session cookies marked Secure: 'auto' when CONSOLE_URL is https://. */
    secureCookies: z.enum(['auto', 'always', 'never']).default('auto'),
    adminUser: z
      .unknown()
      .optional()
      .superRefine((v, ctx) => {
        if (v !== undefined) ctx.addIssue({ code: 'custom', message: 'is gone: the queue dashboard uses the console login now; give someone an ops account (ews users add --role ops --email …)' });
      }),
    adminPassword: z
      .unknown()
      .optional()
      .superRefine((v, ctx) => {
        if (v !== undefined) ctx.addIssue({ code: 'custom', message: 'is gone: the queue dashboard uses the console login now; give someone an ops account (ews users add --role ops --email …)' });
      }),
  })
  .strict()
  .transform(({ adminUser: _u, adminPassword: _p, ...rest }) => rest)
  .prefault({});

export const nightlySchema = z
  .object({
    /** When the nightly run fires (default 02:00). */
    cron: z.string().regex(CRON, 'must be a five-field cron expression, e.g. "0 2 * * *"').default('0 2 * * *'),
    timezone: z.string().min(1).default('Asia/Shanghai'),
    /** Between nights, how often sources are polled for late batches (which trigger a catch-up of the cities they cover). */
    pollCron: z.string().regex(CRON, 'must be a five-field cron expression, e.g. "*/30 * * * *"').default('*/30 * * * *'),
    /** How long a worker holds a job's lock between renewals; a crashed worker's jobs go back to the queue after about this long. */
    jobLockMs: positiveInt.min(1_000).max(600_000).default(30_000),
    /**
     * A night none of whose jobs has finished for this long is looked at by
     * the scheduler's watch: jobs Redis lost are added again, jobs that ran
     * out of attempts retried, and ops told (log, /metrics, the summary).
     */
    stallMs: positiveInt.min(2_000).max(24 * 3600_000).default(600_000),
    /**
     * Per queue: how many jobs a worker process runs at once, and for the
     * night's own steps (nightly, score, alerts) their attempts and backoff.
     * poll, ingest and notify have their concurrency only: their jobs'
     * attempts and backoff are the feed and e-mail settings (MOVED_STAGE_SETTINGS).
     */
    stages: z
      .object({
        poll: concurrencyStage('poll', 1),
        ingest: concurrencyStage('ingest', 2),
        score: retriedStage(3, 3, 10_000),
        nightly: retriedStage(2, 3, 10_000),
        alerts: retriedStage(1, 5, 10_000),
        notify: concurrencyStage('notify', 4),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

export type ApiConfig = z.infer<typeof apiSchema>;
