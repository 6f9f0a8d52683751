import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.load.js';
import type { Config } from '../config/config.schema.js';
import type { Database } from '../services/db/database.js';
import { BatchRepository } from '../services/feeds/batch.repository.js';
import { ingestHandlers } from '../workers/ingest.processors.js';
import { nightlyHandlers } from '../workers/nightly.processors.js';
import { redisConnection } from '../workers/redis.js';
import { openQueues, startWorkers, type Handlers, type QueueSet } from '../workers/worker.js';
import { createTestDatabase } from './harness/db.js';
import { redisUrl } from './harness/env.js';
import { FeedSourceBuilder, siRow, uscc } from './harness/feed-source.js';
import { captureLogger } from './harness/log.js';
import { jobResult, until } from './harness/wait.js';

const connection = redisConnection(redisUrl());
const prefix = `ews-test-${randomBytes(4).toString('hex')}`;
let database: Database;
let queues: QueueSet;
let workers: { close(): Promise<void> };
let config: Config;
const feeds = new FeedSourceBuilder();
const { log } = captureLogger();

beforeAll(async () => {
  database = await createTestDatabase();
  // As a deployment sets them: the source, and the feed jobs' attempts and backoff, from the environment; the night's own step's in the config file.
  const cwd = mkdtempSync(join(tmpdir(), 'ews-cfg-'));
  writeFileSync(join(cwd, 'ews.config.json'), JSON.stringify({ nightly: { stages: { nightly: { attempts: 2, backoffMs: 25 } } } }));
  config = loadConfig({ env: { FEED_SOURCES: `local=${feeds.url}`, INGEST_ATTEMPTS: '3', FEED_RETRY_BASE_MS: '10' }, cwd });
  queues = openQueues(connection, prefix);
  const handlers = ingestHandlers(config, { batches: new BatchRepository(database), log }, queues.queues.ingest) satisfies Partial<Handlers>;
  workers = startWorkers(handlers, { connection, prefix, log, concurrency: { ingest: 2 }, queues: ['poll', 'ingest'] });
});

afterAll(async () => {
  await workers.close();
  for (const q of Object.values(queues.queues)) await q.obliterate({ force: true });
  await queues.close();
  await database.close();
});

async function poll(): Promise<{ pending: number; enqueued: number; retried: number }> {
  const job = await queues.queues.poll.add('poll-source', { source: 'local' });
  return jobResult(queues.queues.poll, job.id!);
}

async function drained(queue: Queue): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    if (Object.values(c).every((n) => n === 0)) return;
    if (Date.now() > deadline) throw new Error(`queue not drained: ${JSON.stringify(c)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the BullMQ path', () => {
  it('poll-source enqueues one ingest-batch per new batch; they load; a second poll finds nothing', async () => {
    feeds
      .add({ file: 'si-2025-05.csv.gz', feed: 'social_insurance', period: '2025-05', rows: Array.from({ length: 30 }, (_, i) => siRow(i, { period: '2025-05' })) })
      .add({ file: 'si-2025-06.csv.gz', feed: 'social_insurance', period: '2025-06', rows: Array.from({ length: 20 }, (_, i) => siRow(i, { period: '2025-06' })) })
      .add({ file: 'si-bad.csv', feed: 'social_insurance', period: '2025-06', rows: [siRow(99, { period: '2025-06' })], declaredRows: 7 });
    const first = await poll();
    expect(first).toMatchObject({ pending: 3, enqueued: 3 });
    await drained(queues.queues.ingest);

    const counts = await sql<{ period: string; n: number }>`SELECT period, count(*)::int AS n FROM social_insurance GROUP BY period ORDER BY period`.execute(database.db);
    expect(counts.rows).toEqual([{ period: '2025-05-01', n: 30 }, { period: '2025-06-01', n: 20 }]);
    const statuses = await database.db.selectFrom('batch').select(['file', 'status', 'reason']).orderBy('file').execute();
    expect(statuses).toEqual([
      { file: 'si-2025-05.csv.gz', status: 'loaded', reason: null },
      { file: 'si-2025-06.csv.gz', status: 'loaded', reason: null },
      { file: 'si-bad.csv', status: 'rejected', reason: 'row count mismatch: the manifest declares 7 rows, the file has 1' },
    ]);
    // The rejected batch completed its job: no retries, no storm.
    const rejectedJob = (await queues.queues.ingest.getJobs(['completed'])).find((j) => (j.data as { entry: { file: string } }).entry.file === 'si-bad.csv');
    expect(rejectedJob?.attemptsMade).toBe(1);

    expect(await poll()).toMatchObject({ pending: 0, enqueued: 0 });
  });

  it('a duplicate enqueue of the same batch runs once', async () => {
    feeds.add({ file: 'si-2025-07.csv', feed: 'social_insurance', period: '2025-07', rows: [siRow(7, { period: '2025-07' })] });
    const [r1, r2] = await Promise.all([poll(), poll()]);
    expect(r1.enqueued + r2.enqueued).toBeLessThanOrEqual(2);
    await drained(queues.queues.ingest);
    const jobs = (await queues.queues.ingest.getJobs(['completed'])).filter((j) => (j.data as { entry: { file: string } }).entry.file === 'si-2025-07.csv');
    expect(jobs).toHaveLength(1);
    const row = await database.db.selectFrom('social_insurance').select('uscc').where('period', '=', '2025-07-01').execute();
    expect(row).toEqual([{ uscc: uscc(7) }]);
  });

  it('a batch whose file has not landed fails after its attempts; the next poll retries it and it loads', async () => {
    feeds.add({ file: 'si-2025-08.csv', feed: 'social_insurance', period: '2025-08', rows: [siRow(8, { period: '2025-08' }), siRow(9, { period: '2025-08' })] });
    const path = join(feeds.dir, 'si-2025-08.csv');
    const held = `${path}.held`;
    renameSync(path, held);
    expect(await poll()).toMatchObject({ pending: 1, enqueued: 1 });
    const jobId = 'ingest.social_insurance.2025-08.' + (JSON.parse(readFileSync(join(feeds.dir, 'manifest.json'), 'utf8')) as { batches: { file: string; sha256: string }[] }).batches.find((b) => b.file === 'si-2025-08.csv')!.sha256;
    await until(async () => (await queues.queues.ingest.getJob(jobId))?.failedReason !== undefined && (await (await queues.queues.ingest.getJob(jobId))!.isFailed()));
    const failed = await queues.queues.ingest.getJob(jobId);
    expect(failed?.attemptsMade).toBe(3);
    expect(failed?.failedReason).toBe(`si-2025-08.csv: listed in the manifest but not in ${feeds.url}`);
    const row = await database.db.selectFrom('batch').select(['status', 'attempts', 'last_error']).where('file', '=', 'si-2025-08.csv').executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'loading', attempts: 3, last_error: `si-2025-08.csv: listed in the manifest but not in ${feeds.url}` });

    renameSync(held, path);
    expect(await poll()).toMatchObject({ pending: 1, enqueued: 0, retried: 1 });
    await until(async () => (await queues.queues.ingest.getJob(jobId))?.finishedOn !== undefined && (await (await queues.queues.ingest.getJob(jobId))!.isCompleted()));
    const loaded = await database.db.selectFrom('social_insurance').select('uscc').where('period', '=', '2025-08-01').execute();
    expect(loaded).toHaveLength(2);
  });

  it('a bad payload fails at once without retries', async () => {
    const job = await queues.queues.ingest.add('ingest-batch', { source: 'local', entry: { file: 'x.csv' } }, { attempts: 5 });
    await expect(jobResult(queues.queues.ingest, job.id!)).rejects.toThrow(/^bad payload for ingest-batch: entry\.feed: /);
    const failed = await queues.queues.ingest.getJob(job.id!);
    expect(failed?.attemptsMade).toBe(1);
  });

  it('INGEST_ATTEMPTS and FEED_RETRY_BASE_MS: the night\'s ingest-batch jobs get the same attempts and backoff as poll-source\'s, and a batch that never lands fails after that many; the night\'s own step takes nightly.stages.nightly\'s', async () => {
    feeds.add({ file: 'si-2025-09.csv', feed: 'social_insurance', period: '2025-09', rows: [siRow(10, { period: '2025-09' })] });
    const path = join(feeds.dir, 'si-2025-09.csv');
    renameSync(path, `${path}.held`);
    const sha = (JSON.parse(readFileSync(join(feeds.dir, 'manifest.json'), 'utf8')) as { batches: { file: string; sha256: string }[] }).batches.find((b) => b.file === 'si-2025-09.csv')!.sha256;
    const noScoring = (): Promise<never> => Promise.reject(new Error('this test scores nothing'));
    const night = nightlyHandlers({ config, database, log, queues, connection, prefix, model: noScoring, runner: noScoring });
    // Only the night's first step: the worker that already runs takes its ingest jobs.
    const nightly = startWorkers({ nightly: night.nightly }, { connection, prefix, log, queues: ['nightly'] });
    try {
      const started = await queues.queues.nightly.add('nightly', { date: '2025-10-02', reason: 'manual' }, { jobId: 'nightly.2025-10-02' });
      expect(await jobResult(queues.queues.nightly, started.id!)).toMatchObject({ pending: 1, started: true });
      const childId = `night-ingest.2025-10-02.social_insurance.2025-09.${sha.slice(0, 16)}`;
      await until(async () => (await queues.queues.ingest.getJobState(childId)) === 'failed');
      const child = (await queues.queues.ingest.getJob(childId))!;
      expect(child.opts).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delay: 10 } });
      expect(child.attemptsMade).toBe(3);
      expect(child.failedReason).toBe(`si-2025-09.csv: listed in the manifest but not in ${feeds.url}`);
      // The night's own step waiting on it: its stage's attempts and backoff, from the config file.
      expect((await queues.queues.nightly.getJob('night-score.2025-10-02'))?.opts).toMatchObject({ attempts: 2, backoff: { type: 'exponential', delay: 25 } });

      // poll-source's job for the same batch: the same attempts and backoff.
      expect(await poll()).toMatchObject({ pending: 1, enqueued: 1 });
      const polled = (await queues.queues.ingest.getJob(`ingest.social_insurance.2025-09.${sha}`))!;
      expect(polled.opts).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delay: 10 } });
      await until(async () => (await polled.getState()) === 'failed');
    } finally {
      await nightly.close();
      await night.close();
      renameSync(`${path}.held`, path);
    }
  });
});
