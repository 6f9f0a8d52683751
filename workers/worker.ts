import { Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from '../services/log.js';
import { JOBS, QUEUE_NAMES, type JobName, type Payload, type QueueName } from './jobs.catalog.js';

/**
 * BullMQ plumbing: one Worker per queue, dispatching by job name to a typed
 * handler after parsing the payload. Only this folder imports bullmq.
 */

export interface JobContext {
  readonly job: Job;
  readonly log: Logger;
}

export type Handlers = { [N in JobName]: (payload: Payload<N>, ctx: JobContext) => Promise<unknown> };

export interface QueueSet {
  readonly queues: Readonly<Record<QueueName, Queue>>;
  close(): Promise<void>;
}

export function openQueues(connection: ConnectionOptions, prefix: string): QueueSet {
  const queues = Object.fromEntries(
    QUEUE_NAMES.map((q) => {
      const queue = new Queue(q, { connection, prefix });
      // Redis going away is reported by the workers and /readyz; without a listener it would crash the process.
      queue.on('error', () => undefined);
      return [q, queue];
    }),
  ) as Record<QueueName, Queue>;
  return {
    queues,
    async close() {
      await Promise.all(Object.values(queues).map((q) => q.close()));
    },
  };
}

export interface WorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  log: Logger;
  concurrency?: Partial<Record<QueueName, number>>;
  queues?: readonly QueueName[];
  /**
   * Lock duration: how soon a crashed worker's jobs are taken up again. A
   * lock is renewed every lockMs/2, so it lapses within lockMs of a crash;
   * the stalled-job check runs every lockMs/4 and needs two passes to move a
   * job back (the first marks the active jobs, the second moves those whose
   * lock is gone): a dead worker's jobs run again within about 1.25 × lockMs
   * of the crash or of the first worker starting after it.
   */
  lockMs?: number;
}

/** How often workers look for jobs whose worker died: a quarter of the lock (at least 250 ms). */
export function stalledIntervalMs(lockMs: number): number {
  return Math.max(250, Math.round(lockMs / 4));
}

export function startWorkers(handlers: Partial<Handlers>, options: WorkerOptions): { workers: Worker[]; close(): Promise<void> } {
  const workers = (options.queues ?? QUEUE_NAMES).map((queue) => {
    const worker = new Worker(
      queue,
      async (job: Job) => {
        // Every line from a job carries its queue, id and the night (date or scoring run) it belongs to.
        const data = (job.data ?? {}) as { date?: unknown; runId?: unknown; period?: unknown };
        const log = options.log.child({
          queue,
          jobId: job.id,
          job: job.name,
          ...(typeof data.date === 'string' ? { date: data.date } : {}),
          ...(typeof data.runId === 'number' ? { runId: data.runId } : {}),
          ...(typeof data.period === 'string' ? { period: data.period } : {}),
        });
        const name = job.name as JobName;
        const spec = JOBS[name] as (typeof JOBS)[JobName] | undefined;
        if (spec === undefined || spec.queue !== queue) throw new UnrecoverableError(`no handler for job "${job.name}" on queue ${queue}`);
        const parsed = spec.payload.safeParse(job.data);
        if (!parsed.success) {
          throw new UnrecoverableError(`bad payload for ${job.name}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        }
        const handler = handlers[name] as ((p: unknown, ctx: JobContext) => Promise<unknown>) | undefined;
        if (handler === undefined) throw new UnrecoverableError(`no handler for job "${job.name}" in this worker`);
        return handler(parsed.data, { job, log });
      },
      {
        connection: options.connection,
        prefix: options.prefix,
        concurrency: options.concurrency?.[queue] ?? 1,
        autorun: true,
        ...(options.lockMs !== undefined ? { lockDuration: options.lockMs, stalledInterval: stalledIntervalMs(options.lockMs) } : {}),
      },
    );
    worker.on('failed', (job, err) => {
      options.log.warn({ queue, jobId: job?.id, attempts: job?.attemptsMade }, `job failed: ${err.message}`);
    });
    worker.on('error', (err) => options.log.error({ queue }, `worker error: ${err.message}`));
    return worker;
  });
  return {
    workers,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
