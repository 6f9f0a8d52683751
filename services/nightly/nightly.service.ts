import { createHash } from 'node:crypto';
import type { Config } from '../../config/config.schema.js';
import { processRun, type ProcessResult } from '../alerts/alert.service.js';
import type { Database } from '../db/database.js';
import { BatchRepository } from '../feeds/batch.repository.js';
import { ingestBatchWithRetry, pendingEntries, type BatchOutcome } from '../feeds/ingest.service.js';
import type { ManifestEntry } from '../feeds/manifest.js';
import { openSource, type FeedSource } from '../feeds/source.js';
import type { Logger } from '../log.js';
import { sendOutbox } from '../notify/deliver.js';
import { RiskRepository } from '../scoring/risk.repository.js';
import { planShards, scoreRun, type ScoreRunDeps, type ScoringModel, type ScoringSetup } from '../scoring/score.run.js';
import type { Shard, ShardRunner } from '../scoring/shard.types.js';
import { SeriesRepository } from '../scoring/series.repository.js';
import { noLevels, type LevelCounts } from '../domain/level.js';

/**
 * The night, in order: poll every source and load its new batches, score
 * the latest month (all cities, or for a catch-up the cities whose feeds
 * were missing), raise the alerts, send the e-mails. The queue path runs
 * these stages as jobs of a BullMQ flow (workers/nightly.processors.ts);
 * `ews nightly` and the demo run the same functions inline.
 */

export interface NightDeps {
  config: Config;
  database: Database;
  log: Logger;
}

/** The calendar date of an instant in the schedule's time zone: the night's identity. */
export function nightDate(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(at);
  const get = (t: string): string => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** A catch-up's key: its date and the batches that triggered it, so the same late batches never trigger two. */
export function catchUpKey(date: string, shas: readonly string[]): string {
  return `catchup.${date}.${createHash('sha256').update([...shas].sort().join(',')).digest('hex').slice(0, 16)}`;
}

export function openFeedSource(config: Config, name: string, log?: Logger): FeedSource {
  const found = config.feeds.sources.find((s) => s.name === name);
  if (!found) throw new Error(`unknown source "${name}": configure it in FEED_SOURCES`);
  return openSource(found, {
    timeoutMs: config.feeds.httpTimeoutMs,
    retries: config.feeds.httpRetries,
    retryBaseMs: config.feeds.retryBaseMs,
    spoolDir: `${config.dataDir}/spool`,
    ...(log ? { onRetry: (what: string, err: unknown, attempt: number, delay: number) => log.warn({ source: name, what, attempt, delayMs: delay }, `retrying: ${(err as Error).message}`) } : {}),
  });
}

/** Every configured source's batches not yet loaded (a source that cannot be read is reported, not fatal). */
export async function pollAll(deps: NightDeps): Promise<{ pending: { source: string; entry: ManifestEntry }[]; unreadable: { source: string; reason: string }[] }> {
  const batches = new BatchRepository(deps.database);
  const pending: { source: string; entry: ManifestEntry }[] = [];
  const unreadable: { source: string; reason: string }[] = [];
  for (const s of deps.config.feeds.sources) {
    try {
      const found = await pendingEntries({ batches, log: deps.log }, openFeedSource(deps.config, s.name, deps.log));
      pending.push(...found.pending.map((entry) => ({ source: s.name, entry })));
    } catch (err) {
      unreadable.push({ source: s.name, reason: (err as Error).message });
      deps.log.warn({ source: s.name }, `source could not be polled: ${(err as Error).message}`);
    }
  }
  return { pending, unreadable };
}

export interface InlineNight {
  period: string | null;
  ingested: BatchOutcome[];
  unreadable: { source: string; reason: string }[];
  runId: number | null;
  employers: number;
  levels: LevelCounts;
  alerts: ProcessResult | null;
  emails: { sent: number; failed: number; deferred: number };
  dataMissing: string[];
}

/** The night's scoring stages over this process's database, with the model and runner the composition root chose. */
export function nightScoring(deps: NightDeps, model: () => Promise<ScoringModel>, runner: () => Promise<ShardRunner>): ScoreRunDeps {
  return {
    series: new SeriesRepository(deps.database),
    risks: new RiskRepository(deps.database),
    thresholds: deps.config.scoring.thresholds,
    cityBands: deps.config.scoring.cityRisk,
    log: deps.log,
    model,
    runner,
  };
}

export interface NightPlan {
  date: string;
  /** The night's identity: its date, or a catch-up's key. */
  key: string;
  pending: { source: string; entry: ManifestEntry }[];
  unreadable: { source: string; reason: string }[];
  /** The cities to score (a catch-up: those scored "data missing"); undefined: all. */
  cities?: string[];
  /** Why there is nothing to do (a catch-up with no late batch). */
  skip?: string;
}

/**
 * What a night will do: poll every source, and for a catch-up between
 * nights (only late batches matter) key it by those batches and score only
 * the cities the latest run marked "data missing".
 */
export async function planNight(deps: NightDeps, request: { date: string; reason: 'schedule' | 'manual' | 'catch-up'; period?: string; cities?: string[] }): Promise<NightPlan> {
  const { pending, unreadable } = await pollAll(deps);
  const base = { date: request.date, pending, unreadable, ...(request.cities !== undefined ? { cities: request.cities } : {}) };
  if (request.reason !== 'catch-up') return { ...base, key: request.date };
  if (pending.length === 0) return { ...base, key: request.date, skip: 'no late batch to catch up with' };
  const key = catchUpKey(request.date, pending.map((p) => p.entry.sha256));
  const latest = request.period ?? (await new BatchRepository(deps.database).latestLoadedPeriod());
  const cities = request.cities ?? (latest !== null ? await new RiskRepository(deps.database).missingCities(latest) : []);
  return { ...base, key, cities };
}

/** The shards of a night: the whole province, or for a catch-up the listed cities. */
export function nightShards(config: Config, cities?: readonly string[]): Shard[] {
  return planShards(config.scoring.shards, cities !== undefined ? { cities } : {});
}

/**
 * `ews nightly` and the demo: the stages of the queue's flow, inline and in
 * order (poll and load, open the run, every shard, close it, raise the
 * alerts, send). With no period to score (nothing loaded yet) it stops
 * after the poll and says so.
 */
export async function runNightInline(
  deps: NightDeps,
  setup: ScoringSetup,
  options: { period?: string; onStage?: (stage: string) => void } = {},
): Promise<InlineNight> {
  const { config, database, log } = deps;
  options.onStage?.('poll and ingest');
  const { pending, unreadable } = await pollAll(deps);
  const batches = new BatchRepository(database);
  const ingested: BatchOutcome[] = [];
  for (const p of pending) {
    try {
      ingested.push(
        await ingestBatchWithRetry({ batches, log }, openFeedSource(config, p.source, log), p.entry, { attempts: config.feeds.ingestAttempts, baseMs: config.feeds.retryBaseMs }),
      );
    } catch (err) {
      // One batch that cannot be read does not stop the night: it is scored with what there is.
      unreadable.push({ source: p.source, reason: `${p.entry.file}: ${(err as Error).message}` });
    }
  }
  const period = options.period ?? (await batches.latestLoadedPeriod());
  if (period === null) {
    return { period, ingested, unreadable, runId: null, employers: 0, levels: noLevels(), alerts: null, emails: { sent: 0, failed: 0, deferred: 0 }, dataMissing: [] };
  }
  options.onStage?.(`score ${period}`);
  const scored = await scoreRun(nightScoring(deps, () => Promise.resolve(setup), () => Promise.resolve(setup.runner)), period, nightShards(config));
  options.onStage?.('alerts');
  const alerts = await processRun({ database, alerts: config.alerts, notify: config.notify, log }, scored.runId);
  options.onStage?.('e-mail');
  const emails = await sendOutbox(database, config.notify, log);
  if (scored.dataMissing.length > 0) log.warn({ period, cities: scored.dataMissing }, 'scored with feeds missing for some cities: they are marked "data missing"');
  return { period, ingested, unreadable, runId: scored.runId, employers: scored.employers, levels: scored.levels, alerts, emails, dataMissing: scored.dataMissing };
}
