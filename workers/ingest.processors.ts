import { UnrecoverableError, type Queue } from 'bullmq';
import type { Config } from '../config/config.schema.js';
import { ingestBatch, pendingEntries, type IngestDeps } from '../services/feeds/ingest.service.js';
import { ManifestError } from '../services/feeds/manifest.js';
import { SourceError, type FeedSource } from '../services/feeds/source.js';
import { openFeedSource } from '../services/nightly/nightly.service.js';
import { feedJobOptions, ingestJobId } from './jobs.catalog.js';
import type { Handlers } from './worker.js';

/**
 * poll-source lists what a source has that is not loaded and enqueues one
 * ingest-batch job per batch under a deterministic id; ingest-batch loads it
 * with the same function `ews ingest` uses. Problems no retry can fix become
 * UnrecoverableError; transient ones are thrown for BullMQ's backoff.
 */
export function ingestHandlers(config: Config, deps: IngestDeps, ingestQueue: Queue): Pick<Handlers, 'poll-source' | 'ingest-batch'> {
  const source = (name: string): FeedSource => {
    if (!config.feeds.sources.some((s) => s.name === name)) throw new UnrecoverableError(`unknown source "${name}": configure it in FEED_SOURCES`);
    return openFeedSource(config, name);
  };
  const permanent = (err: unknown): never => {
    if (err instanceof SourceError || err instanceof ManifestError) throw new UnrecoverableError(err.message);
    throw err;
  };

  return {
    'poll-source': async ({ source: name }, { log }) => {
      const src = source(name);
      const { manifest, pending } = await pendingEntries(deps, src).catch(permanent);
      let enqueued = 0;
      let retried = 0;
      for (const entry of pending) {
        const payload = { source: name, entry };
        const jobId = ingestJobId(payload);
        const existing = await ingestQueue.getJob(jobId);
        if (existing === undefined) {
          await ingestQueue.add('ingest-batch', payload, { ...feedJobOptions(config.feeds), jobId });
          enqueued++;
        } else if (await existing.isFailed()) {
          // The source may be back: one more round of attempts per poll, not a storm.
          await existing.retry();
          retried++;
        }
      }
      log.info({ source: name, pending: pending.length, enqueued, retried, refused: manifest.refused.length }, 'source polled');
      return { pending: pending.length, enqueued, retried, refused: manifest.refused.map((r) => r.reason) };
    },
    'ingest-batch': async ({ source: name, entry }) => ingestBatch(deps, source(name), entry).catch(permanent),
  };
}
