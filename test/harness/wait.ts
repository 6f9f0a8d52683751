import type { Queue } from 'bullmq';

/**
 * Waits for a condition by polling it, with a deadline. The wait ends as soon
 * as the condition holds; the deadline only bounds a test that would hang.
 */
export async function until(check: () => Promise<boolean>, ms = 30_000, label = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${label} not met in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The result of a job, read from the job's own state in Redis.
 *
 * Not `job.waitUntilFinished(queueEvents)`: a QueueEvents reader starts at the
 * stream's end when its first XREAD runs, so a job that finishes between the
 * state check and that first read is never reported and the wait times out.
 * Polling the job hash has no such window.
 */
export async function jobResult<T>(queue: Queue, jobId: string, ms = 30_000): Promise<T> {
  let outcome: { value: T } | { error: string } | undefined;
  await until(
    async () => {
      // The state first, then the job: a job read before it finished would
      // carry no return value or reason, and a finished job no longer changes.
      const state = await queue.getJobState(jobId);
      if (state === 'unknown') throw new Error(`job ${jobId} is not in queue ${queue.name}`);
      if (state !== 'completed' && state !== 'failed') return false;
      const job = await queue.getJob(jobId);
      if (!job) throw new Error(`job ${jobId} left queue ${queue.name} before it was read`);
      outcome = state === 'completed' ? { value: job.returnvalue as T } : { error: job.failedReason };
      return true;
    },
    ms,
    `job ${queue.name}/${jobId} finished`,
  );
  if (outcome && 'error' in outcome) throw new Error(outcome.error);
  return (outcome as { value: T }).value;
}
