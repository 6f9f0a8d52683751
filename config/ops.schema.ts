import { z } from 'zod';

/**
 * The running service: the API process (port, dashboard credentials), the
 * nightly schedule and the per-stage queue settings, and shutdown.
 */

const positiveInt = z.number().int().positive();

/** Cron as BullMQ's scheduler reads it: five fields (minute hour day month weekday), or six with seconds first. */
export const CRON = /^(\S+\s+){4,5}\S+$/;

const stageSchema = (concurrency: number, attempts: number, backoffMs: number) =>
  z
    .object({
      concurrency: positiveInt.max(64).default(concurrency),
      attempts: positiveInt.max(50).default(attempts),
      backoffMs: positiveInt.default(backoffMs),
    })
    .strict()
    .prefault({});

export const apiSchema = z
  .object({
    port: positiveInt.max(65535).default(3000),
    /** The queue dashboard (/admin/queues) and nothing else needs these; never anonymous. */
    adminUser: z.string().min(1).max(64).default('ops'),
    adminPassword: z.string().min(1).max(200).optional(),
  })
  .strict()
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
    stages: z
      .object({
        poll: stageSchema(1, 5, 30_000),
        ingest: stageSchema(2, 5, 30_000),
        score: stageSchema(3, 3, 10_000),
        nightly: stageSchema(2, 3, 10_000),
        alerts: stageSchema(1, 5, 10_000),
        notify: stageSchema(4, 8, 30_000),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

export type ApiConfig = z.infer<typeof apiSchema>;
export type NightlyConfig = z.infer<typeof nightlySchema>;
