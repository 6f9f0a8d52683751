import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { configSchema } from '../config/config.schema.js';
import { ModelRegistry, registryRoot } from '../models/registry.js';
import type { Database } from '../services/db/database.js';
import { FEATURE_SPEC } from '../services/scoring/features.js';
import { redisConnection } from '../workers/redis.js';
import { serve } from '../workers/serve.js';
import { trainHandlers } from '../workers/train.processors.js';
import { openQueues, startWorkers } from '../workers/worker.js';
import { createTestDatabase } from './harness/db.js';
import { databaseUrl, redisUrl } from './harness/env.js';
import { captureLogger } from './harness/log.js';
import { ingestProvince } from './harness/province.js';
import { jobResult, until } from './harness/wait.js';
import { obliterateQueues } from './harness/queues.js';

/**
 * Retraining as an operation, end to end on a small generated province:
 * `ews train` registers a judged version under EWS_DATA_DIR/models and never
 * touches the shipped models/default; a second identical training is a tie
 * and is not promoted; scoring records the registry version it used;
 * promote and rollback; the monthly job through a real queue; and a worker
 * that picks up a newly promoted version at its next run.
 */

const BIN = fileURLToPath(new URL('../bin/ews.js', import.meta.url));
const SHIPPED = fileURLToPath(new URL('../models/default', import.meta.url));
let database: Database & { name: string };
let dir: string;
/** The two versions the first test registers, for the worker test. */
const trained: { a?: string; b?: string } = {};

beforeAll(async () => {
  database = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'ews-train-'));
  await ingestProvince(database, { employers: 2000, months: 36, seed: 1, lastPeriod: '2026-10', defects: false });
}, 120_000);

afterAll(async () => {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

function ews(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: databaseUrl(database.name), EWS_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'silent', MODEL_THREADS: '1', SCORE_THREADS: '0', ...env },
        timeout: 180_000,
        maxBuffer: 1 << 24,
      },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function shippedHashes(): Record<string, string> {
  return Object.fromEntries(readdirSync(SHIPPED).sort().map((f) => [f, createHash('sha256').update(readFileSync(join(SHIPPED, f))).digest('hex')]));
}

interface StageJson {
  skipped: false;
  version: string;
  artifact: string;
  promoted: boolean;
  status: string;
  reason: string;
  holdout: { window: { from: string; to: string }; n: number; positives: number; candidate: { averagePrecision: number | null }; current: { version: string; averagePrecision: number | null } };
  trainingWindow: { from: string; to: string };
}

describe('ews train and ews models', () => {
  it('registers a judged version, never touches the shipped model, does not promote a tie, and scoring records the version it used', async () => {
    const before = shippedHashes();
    const fast = ['--kind', 'logistic', '--epochs', '1'];

    // Into the shipped model: refused before any training, with what to do instead.
    const into = await ews(['train', '--out', SHIPPED, ...fast]);
    expect(into.code).toBe(2);
    expect(into.stderr).toMatch(/^ews: refusing to write into the shipped model .*models\/default: `ews train` without --out adds a version to the model registry \(.*\); to replace the shipped model on purpose, add --overwrite-shipped\n$/);
    const elsewhere = await ews(['train', '--out', join(dir, 'x'), '--overwrite-shipped', ...fast]);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain('--overwrite-shipped replaces the shipped model');

    const first = await ews(['train', ...fast, '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const a = JSON.parse(first.stdout) as StageJson;
    // Data 2023-11..2026-10: labelled months 2025-11..2026-07; the last three held out, trained on the months before.
    expect(a.holdout.window).toEqual({ from: '2026-05', to: '2026-07' });
    expect(a.trainingWindow.to).toBe('2026-04');
    expect(a.holdout.positives).toBeGreaterThan(0);
    expect(a.artifact).toBe(join(dir, 'data', 'models', a.version));
    // The decision follows the figures: better than a current model that could be scored, or than chance when it could not.
    const theirs = a.holdout.current.averagePrecision;
    const ours = a.holdout.candidate.averagePrecision ?? 0;
    expect(a.promoted).toBe(ours > (theirs ?? a.holdout.positives / a.holdout.n));

    // The same training again gives the same weights: a tie with the current model (or as bad as the first), not promoted.
    const second = await ews(['train', ...fast, '--json']);
    expect(second.code).toBe(0);
    const b = JSON.parse(second.stdout) as StageJson;
    expect(b).toMatchObject({ promoted: false, status: 'rejected' });
    if (a.promoted) {
      expect(b.holdout.current.version).toBe(a.version);
      expect(b.reason).toContain('a tie is not promoted');
    }
    expect(shippedHashes()).toEqual(before);

    const list = await ews(['models', 'list', '--json']);
    expect(list.code).toBe(0);
    const listing = JSON.parse(list.stdout) as { current: { version: string }; versions: { version: string; status: string; reason: string; current: boolean }[]; scoring: { version: string; source: string } };
    expect(listing.versions.map((v) => v.version)).toEqual([b.version, a.version]);
    expect(listing.versions[0]).toMatchObject({ status: 'rejected', reason: b.reason, current: false });
    const human = await ews(['models', 'list']);
    expect(human.stdout).toContain(b.reason);
    expect(human.stdout).toMatch(/^version\s+status\s+features\s+kind\s+trained\s+held_out\s+ap\s+ap_then_current\s+why$/m);

    // Scoring loads the registry's current version and records it on the run; MODEL_DIR, when set, wins.
    const current = listing.current.version;
    expect(listing.scoring).toMatchObject({ version: current, source: a.promoted ? 'registry' : 'shipped' });
    if (a.promoted) {
      const scored = await ews(['score', '--period', '2026-10', '--no-alerts', '--shards', '2', '--json']);
      expect(scored.code).toBe(0);
      const out = JSON.parse(scored.stdout) as { run: number; model: string | null };
      expect(out.model).toBe(a.version);
      const run = await database.db.selectFrom('score_run').select(['model_version']).where('run_id', '=', out.run).executeTakeFirstOrThrow();
      expect(run.model_version).toBe(a.version);
    }

    // By hand: promote the rejected one, roll back twice, refuse what cannot be promoted.
    const promote = await ews(['models', 'promote', b.version, '--by', 'ops-wang', '--json']);
    expect(promote.code).toBe(0);
    expect(JSON.parse(promote.stdout)).toMatchObject({ version: b.version, changed: true });
    const back = await ews(['models', 'rollback', '--json']);
    expect(JSON.parse(back.stdout)).toMatchObject({ from: b.version, to: a.promoted ? a.version : 'default' });
    trained.a = a.version;
    trained.b = b.version;
    const unknown = await ews(['models', 'promote', '2020-01-01T0000-00000000']);
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringContaining('no version 2020-01-01T0000-00000000 in the model registry') as unknown });
    expect(shippedHashes()).toEqual(before);
  });

  it('the monthly job: retrain adds train.<month> once, and the train job registers a judged version', async () => {
    const prefix = `ews-train-${randomBytes(4).toString('hex')}`;
    const connection = redisConnection(redisUrl());
    const config = configSchema.parse({
      database: { url: databaseUrl(database.name) },
      dataDir: join(dir, 'job-data'),
      redis: { url: redisUrl(), queuePrefix: prefix },
      training: { kind: 'logistic', epochs: 1 },
    });
    const { log, lines } = captureLogger();
    const queues = openQueues(connection, prefix);
    const handlers = trainHandlers({ config, database, log, queues });
    const workers = startWorkers(handlers, { connection, prefix, log, queues: ['train'] });
    const train = new Queue('train', { connection, prefix });
    try {
      await train.add('retrain', { reason: 'schedule' }, { jobId: 'fired-1' });
      expect(await jobResult(train, 'fired-1', 60_000)).toEqual({ queued: true, jobId: 'train.2026-10' });
      const result = await jobResult<{ version: string; status: string; reason: string }>(train, 'train.2026-10', 180_000);
      expect(['promoted', 'rejected']).toContain(result.status);
      expect(lines.some((l) => l.includes(`model ${result.version} ${result.status === 'promoted' ? 'promoted' : 'not promoted'}: `))).toBe(true);

      // The schedule firing again in the same month of data adds nothing.
      await train.add('retrain', { reason: 'schedule' }, { jobId: 'fired-2' });
      expect(await jobResult(train, 'fired-2', 60_000)).toMatchObject({ queued: false, jobId: 'train.2026-10' });
      // A rerun of the month under another id finds it trained on already.
      await train.add('train', { month: '2026-10', reason: 'manual' }, { jobId: 'train.2026-10.rerun' });
      expect(await jobResult(train, 'train.2026-10.rerun', 60_000)).toMatchObject({
        skipped: true,
        reason: expect.stringContaining(`version ${result.version} was already trained on data through 2026-10`) as unknown,
      });
      // A restatement of a month it trained on is new data: the same month trains again, and says why.
      await database.db
        .insertInto('batch')
        .values({ source: 'test', source_url: 'file:///restated/', file: 'social_insurance-2026-08-r1.csv.gz', feed: 'social_insurance', period: '2026-08-01', sha256: 'f'.repeat(64), declared_rows: 0, encoding: 'utf-8', order_key: 1e9, status: 'loaded' })
        .execute();
      await train.add('train', { month: '2026-10', reason: 'manual' }, { jobId: 'train.2026-10.restated' });
      const again = await jobResult<{ skipped?: boolean; version: string }>(train, 'train.2026-10.restated', 180_000);
      expect(again.skipped).not.toBe(true);
      expect(again.version).not.toBe(result.version);
      expect(lines.some((l) => l.includes(`data through 2026-10 changed since version ${result.version} was trained`))).toBe(true);
    } finally {
      await workers.close();
      await handlers.close();
      await train.obliterate({ force: true });
      await train.close();
      await queues.close();
    }
  });

  it('a worker loads a newly promoted version at its next run, and each run records the version it used', async () => {
    const { a, b } = trained;
    if (a === undefined || b === undefined) throw new Error('needs the versions the first test registered');
    const registry = new ModelRegistry(registryRoot(join(dir, 'data')), FEATURE_SPEC);
    await registry.promote(a, 'test');
    const prefix = `ews-train-serve-${randomBytes(4).toString('hex')}`;
    const config = configSchema.parse({
      database: { url: databaseUrl(database.name), poolSize: 4 },
      dataDir: join(dir, 'data'),
      redis: { url: redisUrl(), queuePrefix: prefix },
      scoring: { shards: 2, modelThreads: 1, threads: 0 },
      notify: { outboxDir: join(dir, 'outbox') },
      shutdownGraceMs: 5_000,
    });
    const { log, lines } = captureLogger();
    const connection = redisConnection(redisUrl());
    const service = await serve(config, log, new Set(['worker']));
    const nightly = new Queue('nightly', { connection, prefix });
    const night = async (date: string): Promise<string | null> => {
      await nightly.add('nightly', { date, period: '2026-10', reason: 'manual' }, { jobId: `nightly.${date}` });
      let version: string | null = null;
      await until(async () => {
        const run = await database.db.selectFrom('score_run').select(['model_version', 'status']).where('night_key', '=', date).executeTakeFirst();
        version = run?.model_version ?? null;
        return run?.status === 'done';
      }, 120_000);
      return version;
    };
    try {
      expect(await night('2026-11-03')).toBe(a);
      await registry.promote(b, 'test');
      expect(await night('2026-11-04')).toBe(b);
      expect(lines.some((l) => l.includes(`the model to score with is now ${b}`))).toBe(true);
      const shards = await database.db.selectFrom('score_run').select('run_id').where('night_key', '=', '2026-11-04').executeTakeFirstOrThrow();
      const explained = await sql<{ version: string | null }>`SELECT DISTINCT explanation->'model'->>'version' AS version FROM employer_risk WHERE run_id = ${shards.run_id} AND explanation->'model' <> 'null'::jsonb`.execute(database.db);
      expect(explained.rows.map((r) => r.version)).toEqual([b]);
    } finally {
      await service.stop();
      await nightly.close();
      await obliterateQueues(connection, prefix);
    }
  });
});
