import type { Queue } from 'bullmq';
import type { Database } from '../db/database.js';
import type { Logger } from '../log.js';
import { oneLineReason, withTimeout } from './guard.js';
import { MetricsRepository } from './metrics.repository.js';

/**
 * /readyz: PostgreSQL answers SELECT 1, Redis answers PING, and every check
 * the caller added passes, each within its own deadline so that a hung
 * dependency makes the probe fail instead of hang.
 */

export type ReadinessCheck = () => Promise<boolean>;

export interface ReadinessReport {
  status: 'ready' | 'not ready';
  checks: Record<string, boolean>;
  errors?: Record<string, string>;
}

export const BUILT_IN_CHECKS = ['postgres', 'redis'] as const;

export function readinessChecks(database: Database, queues: readonly Queue[], extra: Record<string, ReadinessCheck> = {}): Record<string, ReadinessCheck> {
  for (const name of Object.keys(extra)) {
    if ((BUILT_IN_CHECKS as readonly string[]).includes(name)) throw new Error(`readiness check "${name}" is built in; give the extra check another name`);
  }
  const postgres = new MetricsRepository(database);
  return {
    postgres: () => postgres.ping(),
    redis: async () => {
      const queue = queues[0];
      if (queue === undefined) throw new Error('no queue to reach Redis through');
      // The queues' client is ioredis here; BullMQ's type for it is an adapter interface without PING.
      const client = (await queue.client) as Awaited<Queue['client']> & { ping?: () => Promise<string> };
      if (typeof client.ping === 'function') return (await client.ping()) === 'PONG';
      return (await client.info()).length > 0;
    },
    ...extra,
  };
}

/** Runs every check at once; a check that returns false, throws or times out fails. */
export async function runReadiness(checks: Record<string, ReadinessCheck>, timeoutMs: number): Promise<ReadinessReport> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, true | string]> => {
      try {
        const ok = await withTimeout(Promise.resolve().then(check), timeoutMs);
        return [name, ok === true ? true : 'the check reported not ready'];
      } catch (err) {
        return [name, oneLineReason(err)];
      }
    }),
  );
  const report: ReadinessReport = { status: 'ready', checks: {} };
  const errors: Record<string, string> = {};
  for (const [name, result] of results) {
    report.checks[name] = result === true;
    if (result !== true) errors[name] = result;
  }
  if (Object.keys(errors).length > 0) {
    report.status = 'not ready';
    report.errors = errors;
  }
  return report;
}

/** Logs when readiness changes (not on every probe: probes come every few seconds). */
export function readinessTransitions(log: Logger): (report: ReadinessReport) => void {
  let last: ReadinessReport['status'] | undefined;
  return (report) => {
    if (report.status === last) return;
    const first = last === undefined;
    last = report.status;
    if (report.status === 'ready') {
      if (!first) log.info('ready again');
    } else {
      log.warn({ errors: report.errors }, 'not ready');
    }
  };
}
