import type { Queue } from 'bullmq';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../db/database.js';
import type { Logger } from '../log.js';
import { oneLineReason, withTimeout } from './guard.js';
import { MetricsRepository, type BatchCountRow, type LatestRunRow } from './metrics.repository.js';

/**
 * /metrics: a registry of its own, every business metric computed at scrape
 * time from the shared stores (Redis for the queues, PostgreSQL for the rest),
 * so any API process reports the whole system. Only small tables are read
 * (batch, score_run, city_risk, alert, notification: metrics.repository.ts)
 * and only through their indexes or whole-table aggregates of a few thousand
 * rows; the big fact tables (social_insurance, headcount, employer_risk) are
 * never touched.
 *
 * A collector that fails or times out is logged and its metric left without
 * samples; the rest of the scrape is served.
 */

export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'] as const;
const FEEDS = ['social_insurance', 'headcount', 'regional', 'layoff_filings'] as const;
const BATCH_STATUSES = ['pending', 'loading', 'loaded', 'rejected'] as const;
const EMAIL_STATUSES = ['pending', 'sending', 'sent', 'failed'] as const;
const ACTIVE_ALERT_STATUSES = ['pending', 'open', 'acknowledged'] as const;
/** Completed jobs per queue the duration statistics are computed over. */
const DURATION_WINDOW = 100;

export interface MetricsDeps {
  database: Database;
  /** Reported under their own names (the `queue` label). */
  queues: readonly Queue[];
  log: Logger;
  /** Deadline of each collector (default 5 s). */
  timeoutMs?: number;
  /** NIGHT_STALL_MS: a night not done and idle longer than this counts as stalled (default 10 min). */
  nightStallMs?: number;
}

export interface ApiMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** The exposition text; scrapes run one at a time and share their queries. */
  scrape(): Promise<string>;
}

type Sample<L extends string> = readonly [labels: Partial<Record<L, string | number>>, value: number];

export function createApiMetrics(deps: MetricsDeps): ApiMetrics {
  const repo = new MetricsRepository(deps.database);
  const log = deps.log.child({ component: 'api-metrics' });
  const timeoutMs = deps.timeoutMs ?? 5_000;
  const queues = deps.queues.map((q): [string, Queue] => [q.name, q]);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ews_process_' });

  // Queries more than one metric reads are run once per scrape.
  let memo: Map<string, Promise<unknown>> | undefined;
  function shared<T>(key: string, load: () => Promise<T>): Promise<T> {
    if (memo === undefined) return load();
    let pending = memo.get(key) as Promise<T> | undefined;
    if (pending === undefined) {
      pending = load();
      pending.catch(() => undefined); // read (and reported) by every metric that shares it
      memo.set(key, pending);
    }
    return pending;
  }

  function gauge<L extends string>(name: string, help: string, labelNames: readonly L[], load: () => Promise<Sample<L>[]>): void {
    const metric: Gauge<L> = new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect: async () => {
        let samples: Sample<L>[];
        try {
          samples = await withTimeout(load(), timeoutMs);
        } catch (err) {
          clear();
          log.warn({ metric: name, reason: oneLineReason(err) }, 'metric skipped: its collector failed');
          return;
        }
        clear();
        for (const [labels, value] of samples) metric.set(labels, value);
      },
    });
    // reset() leaves a label-less gauge at 0; a metric without data (or whose collector failed) has no sample at all.
    function clear(): void {
      metric.reset();
      if (labelNames.length === 0) metric.remove({});
    }
  }

  /** Per queue, so one unreachable queue does not hide the others; failures are logged once per metric. */
  async function eachQueue<T>(metric: string, read: (queue: Queue) => Promise<T>): Promise<[string, T][]> {
    const settled = await Promise.allSettled(queues.map(async ([name, queue]) => [name, await withTimeout(read(queue), timeoutMs)] as [string, T]));
    const ok: [string, T][] = [];
    const failed: Record<string, string> = {};
    settled.forEach((s, i) => {
      if (s.status === 'fulfilled') ok.push(s.value);
      else failed[queues[i]?.[0] ?? String(i)] = oneLineReason(s.reason);
    });
    if (Object.keys(failed).length > 0) {
      if (ok.length === 0 && queues.length > 0) throw new Error(`no queue answered: ${Object.values(failed)[0]}`);
      log.warn({ metric, failed }, 'some queues did not answer');
    }
    return ok;
  }

  const batches = () => shared('batches', (): Promise<BatchCountRow[]> => repo.batchCounts());
  const latestRun = () => shared('score_run', (): Promise<LatestRunRow | undefined> => repo.latestFinishedRun());

  gauge('ews_queue_jobs', 'Jobs per BullMQ queue and state.', ['queue', 'state'], async () => {
    const counts = await eachQueue('ews_queue_jobs', (q) => q.getJobCounts(...QUEUE_STATES));
    return counts.flatMap(([queue, c]) => QUEUE_STATES.map((state): Sample<'queue' | 'state'> => [{ queue, state }, c[state] ?? 0]));
  });

  gauge('ews_job_duration_seconds', `Processing time of the last ${DURATION_WINDOW} completed jobs per queue (finishedOn - processedOn).`, ['queue', 'stat'], async () => {
    const jobs = await eachQueue('ews_job_duration_seconds', (q) => q.getJobs(['completed'], 0, DURATION_WINDOW - 1, false));
    return jobs.flatMap(([queue, list]) => {
      const seconds = list
        .map((j) => (j.finishedOn !== undefined && j.processedOn !== undefined ? (j.finishedOn - j.processedOn) / 1000 : undefined))
        .filter((s): s is number => s !== undefined && s >= 0);
      const stats = durationStats(seconds);
      if (stats === undefined) return [];
      return [
        [{ queue, stat: 'avg' }, stats.avg],
        [{ queue, stat: 'p95' }, stats.p95],
        [{ queue, stat: 'max' }, stats.max],
      ] satisfies Sample<'queue' | 'stat'>[];
    });
  });

  gauge('ews_feed_latest_period_timestamp_seconds', 'The latest month loaded per feed, as the Unix time of its first day (UTC).', ['feed'], async () => {
    const rows = await batches();
    const latest = new Map<string, string>();
    for (const r of rows) {
      if (r.status !== 'loaded' || r.latest === null) continue;
      const seen = latest.get(r.feed);
      if (seen === undefined || r.latest > seen) latest.set(r.feed, r.latest);
    }
    return [...latest].map(([feed, period]): Sample<'feed'> => [{ feed }, monthStartSeconds(period)]);
  });

  gauge('ews_feed_batches', 'Feed batches per feed and status.', ['feed', 'status'], async () => {
    const rows = await batches();
    const counts = new Map<string, number>();
    for (const feed of FEEDS) for (const status of BATCH_STATUSES) counts.set(`${feed}\u0000${status}`, 0);
    for (const r of rows) counts.set(`${r.feed}\u0000${r.status}`, r.n);
    return [...counts].map(([key, n]): Sample<'feed' | 'status'> => {
      const [feed = '', status = ''] = key.split('\u0000');
      return [{ feed, status }, n];
    });
  });

  gauge('ews_city_data_missing', 'Whether a city lacked feed data in the latest scored period (1) or not (0).', ['city'], async () => {
    const rows = await repo.cityDataMissing();
    return rows.map((r): Sample<'city'> => [{ city: r.city_code.trim() }, r.data_missing ? 1 : 0]);
  });

  gauge('ews_employers_scored', 'Employers scored by the latest finished scoring run.', [], async () => {
    const run = await latestRun();
    return run?.employers == null ? [] : [[{}, run.employers]];
  });

  gauge('ews_score_run_timestamp_seconds', 'When the latest finished scoring run ended (Unix time).', [], async () => {
    const run = await latestRun();
    return run?.finished_at == null ? [] : [[{}, run.finished_at.getTime() / 1000]];
  });

  gauge('ews_alerts', 'Alerts not yet resolved, per city, level and status.', ['city', 'level', 'status'], async () => {
    const rows = await repo.alertCounts(ACTIVE_ALERT_STATUSES);
    return rows.map((r): Sample<'city' | 'level' | 'status'> => [{ city: r.city_code.trim(), level: String(r.level), status: r.status }, r.n]);
  });

  gauge('ews_emails', 'Notification e-mails per status.', ['status'], async () => {
    const rows = await repo.emailCounts();
    const counts = new Map<string, number>(EMAIL_STATUSES.map((s) => [s, 0]));
    for (const r of rows) counts.set(r.status, r.n);
    return [...counts].map(([status, n]): Sample<'status'> => [{ status }, n]);
  });

  const nights = () => shared('nights', () => repo.nightTotals(deps.nightStallMs ?? 600_000));
  gauge('ews_night_redrives_total', 'Times the scheduler found a night stalled (jobs lost or failed) and re-drove it, over every night kept.', [], async () => [[{}, (await nights()).redrives]]);
  gauge('ews_nights_stalled', 'Nights not done whose jobs have made no progress for NIGHT_STALL_MS.', [], async () => [[{}, (await nights()).stalled]]);
  gauge('ews_nights_unfinished', 'Nights started and not done.', [], async () => [[{}, (await nights()).unfinished]]);

  let chain: Promise<unknown> = Promise.resolve();
  return {
    registry,
    contentType: registry.contentType,
    scrape() {
      const run = chain.then(async () => {
        memo = new Map();
        try {
          return await registry.metrics();
        } finally {
          memo = undefined;
        }
      });
      chain = run.catch(() => undefined);
      return run;
    },
  };
}

/** avg, p95 (nearest rank) and max, or undefined for no values. */
export function durationStats(seconds: readonly number[]): { avg: number; p95: number; max: number } | undefined {
  if (seconds.length === 0) return undefined;
  const sorted = [...seconds].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  const rank = Math.max(1, Math.ceil(0.95 * sorted.length));
  return { avg: sum / sorted.length, p95: sorted[rank - 1] ?? 0, max: sorted[sorted.length - 1] ?? 0 };
}

/** 'YYYY-MM-DD' (or 'YYYY-MM') → the Unix time of that month's first day, 00:00 UTC. */
export function monthStartSeconds(period: string): number {
  const m = /^(\d{4})-(\d{2})/.exec(period);
  if (m === null) throw new Error(`not a period: ${period}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, 1) / 1000;
}
