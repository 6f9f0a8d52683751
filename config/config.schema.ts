import { z } from 'zod';
import { cityRiskSchema } from './city-risk.schema.js';
import { alertsSchema, notifySchema } from './notify.schema.js';
import { apiSchema, nightlySchema } from './ops.schema.js';
import { thresholdsSchema } from './thresholds.schema.js';
import { trainingSchema } from './training.schema.js';

/**
 * The one configuration schema. Every option has a default that works on a
 * fresh machine; the environment variable that sets it is in ENV_OPTIONS
 * (config.load.ts), every option is documented in the README's tables, and
 * test/settings.test.ts names the test that shows each one's effect.
 */

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

export const SOURCE_NAME = /^[a-z][a-z0-9_-]{0,39}$/;

const sourceSchema = z
  .object({
    name: z.string().regex(SOURCE_NAME, 'must be lower-case letters, digits, - or _, starting with a letter'),
    url: z.string().refine(isSourceUrl, 'must be a file:// directory or an http(s):// base URL'),
    token: z.string().min(1).optional(),
  })
  .strict();

function isSourceUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'file:' || url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

export const configSchema = z
  .object({
    env: z.enum(['development', 'test', 'production']).default('development'),
    database: z
      .object({
        /** Unset: the embedded PostgreSQL under dataDir is started on demand. */
        url: z.string().refine(isPostgresUrl, 'must be a postgres:// or postgresql:// URL').optional(),
        poolSize: positiveInt.max(200).default(10),
        embeddedPort: positiveInt.max(65535).default(54329),
      })
      .strict()
      .default({ poolSize: 10, embeddedPort: 54329 }),
    dataDir: z.string().min(1).default('./data'),
    redis: z
      .object({
        url: z.string().refine((v) => /^rediss?:\/\//.test(v), 'must be a redis:// or rediss:// URL').default('redis://127.0.0.1:6379'),
        queuePrefix: z.string().regex(/^[A-Za-z0-9_{}-]+$/, 'letters, digits, -, _ and {} (a Redis Cluster hash tag) only').default('ews'),
      })
      .strict()
      .default({ url: 'redis://127.0.0.1:6379', queuePrefix: 'ews' }),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        format: z.enum(['json', 'pretty', 'auto']).default('auto'),
      })
      .strict()
      .default({ level: 'info', format: 'auto' }),
    feeds: z
      .object({
        sources: z.array(sourceSchema).default([]),
        httpTimeoutMs: positiveInt.default(30_000),
        httpRetries: nonNegativeInt.max(20).default(4),
        retryBaseMs: positiveInt.default(1_000),
        ingestAttempts: positiveInt.max(50).default(5),
      })
      .strict()
      .default({ sources: [], httpTimeoutMs: 30_000, httpRetries: 4, retryBaseMs: 1_000, ingestAttempts: 5 }),
    scoring: z
      .object({
        /**
         * The model artifact scoring loads; a refused one means rules only. Unset:
         * the model registry's current version (dataDir/models), else the shipped
         * models/default (models/registry.ts resolveModelArtifact).
         */
        modelDir: z.string().min(1).optional(),
        modelThreads: positiveInt.max(16).default(2),
        /** Worker threads that score shards (read, features, rules, write); 0: on the calling thread. */
        threads: nonNegativeInt.max(16).default(2),
        /** Bucket-range shards a period is scored in. */
        shards: positiveInt.max(256).default(64),
        thresholds: thresholdsSchema.prefault({}),
        cityRisk: cityRiskSchema.prefault({}),
      })
      .strict()
      .prefault({}),
    alerts: alertsSchema.prefault({}),
    notify: notifySchema.prefault({}),
    api: apiSchema,
    nightly: nightlySchema,
    training: trainingSchema,
    /** On SIGTERM/SIGINT: how long running jobs get to finish before they are handed back. */
    shutdownGraceMs: positiveInt.max(600_000).default(30_000),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.feeds.sources.forEach((s, i) => {
      if (seen.has(s.name)) {
        ctx.addIssue({ code: 'custom', path: ['feeds', 'sources', i, 'name'], message: `source name "${s.name}" is used twice` });
      }
      seen.add(s.name);
    });
  });

function isPostgresUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'postgres:' || url.protocol === 'postgresql:';
  } catch {
    return false;
  }
}

export type Config = z.infer<typeof configSchema>;
export type NightlyConfig = Config['nightly'];
export type SourceConfig = Config['feeds']['sources'][number];
