import { FlowProducer, type ConnectionOptions, type FlowJob, type JobsOptions } from 'bullmq';
import type { Config } from '../config/config.schema.js';
import type { PlannedBatch } from '../services/nightly/night.repository.js';
import type { Shard } from '../services/scoring/shard.types.js';
import type { Logger } from '../services/log.js';
import { feedJobOptions, jobOptions, raiseAlertsJobId } from './jobs.catalog.js';

/**
 * The night's two BullMQ flows, added by the nightly processors and, when
 * Redis lost them, added again by the scheduler's watch under the same ids
 * (a job id that is already there is not added twice):
 *
 *   night-score.<key>                   ← night-ingest.<key>.<feed>.<period>.<sha> × new batches
 *   alerts.<run>  raise-alerts          ← score-cities.<run> ← score-shard.<run>.<i> × shards
 */

export const nightRootId = (key: string): string => `night-score.${key}`;
export const scoreCitiesId = (runId: number): string => `score-cities.${runId}`;
export const scoreShardId = (runId: number, index: number): string => `score-shard.${runId}.${index}`;

export interface NightFlowSpec {
  date: string;
  key: string;
  period?: string;
  cities?: readonly string[];
}

export class NightFlows {
  private readonly flow: FlowProducer;

  constructor(
    private readonly config: Config,
    connection: ConnectionOptions,
    prefix: string,
    log: Logger,
  ) {
    this.flow = new FlowProducer({ connection, prefix });
    this.flow.on('error', (err) => log.warn(`flow producer: ${err.message}`));
  }

  private opts(stage: 'nightly' | 'score' | 'alerts', jobId: string): JobsOptions {
    const s = this.config.nightly.stages[stage];
    return { ...jobOptions(s.attempts, s.backoffMs), jobId };
  }

  /**
   * The night's ingest jobs under night-score: a batch that runs out of
   * attempts does not hold the night (ignoreDependencyOnFailure); scoring
   * records it as missing and marks its cities "data missing", and the next
   * poll retries it.
   */
  async addNight(spec: NightFlowSpec, pending: readonly PlannedBatch[]): Promise<void> {
    const children: FlowJob[] = pending.map(({ source, entry }) => ({
      name: 'ingest-batch',
      queueName: 'ingest',
      data: { source, entry },
      opts: { ...feedJobOptions(this.config.feeds), jobId: `night-ingest.${spec.key}.${entry.feed}.${entry.period}.${entry.sha256.slice(0, 16)}`, ignoreDependencyOnFailure: true },
    }));
    await this.flow.add({
      name: 'night-score',
      queueName: 'nightly',
      data: { date: spec.date, key: spec.key, ...(spec.period !== undefined ? { period: spec.period } : {}), ...(spec.cities !== undefined ? { cities: [...spec.cities] } : {}) },
      opts: this.opts('nightly', nightRootId(spec.key)),
      children,
    });
  }

  /** The scoring run's shards, then its cities, then its alerts. */
  async addScoring(runId: number, period: string, shards: readonly Shard[]): Promise<void> {
    await this.flow.add({
      name: 'raise-alerts',
      queueName: 'alerts',
      data: { runId },
      opts: this.opts('alerts', raiseAlertsJobId(runId)),
      children: [
        {
          name: 'score-cities',
          queueName: 'score',
          data: { runId, period },
          opts: this.opts('score', scoreCitiesId(runId)),
          children: shards.map((s, i) => ({
            name: 'score-shard',
            queueName: 'score',
            data: { runId, period, bucketFrom: s.bucketFrom, bucketTo: s.bucketTo, ...(s.city !== undefined ? { city: s.city } : {}) },
            opts: this.opts('score', scoreShardId(runId, i)),
          })),
        },
      ],
    });
  }

  /** A scored run's alerts job alone (its scoring jobs are done). */
  async addAlerts(runId: number): Promise<void> {
    await this.flow.add({ name: 'raise-alerts', queueName: 'alerts', data: { runId }, opts: this.opts('alerts', raiseAlertsJobId(runId)) });
  }

  close(): Promise<void> {
    return this.flow.close();
  }
}
