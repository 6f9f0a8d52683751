import { Queue, type ConnectionOptions } from 'bullmq';
import { QUEUE_NAMES } from '../../workers/jobs.catalog.js';

/** Removes every queue a service under test used (the scheduler creates some on its own, e.g. the monthly train schedule). */
export async function obliterateQueues(connection: ConnectionOptions, prefix: string): Promise<void> {
  for (const name of QUEUE_NAMES) {
    const q = new Queue(name, { connection, prefix });
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
  }
}
