import { tokenFor } from '../../config/config.load.js';
import type { SourceConfig } from '../../config/config.schema.js';
import { migrate } from '../../services/db/migrate.js';
import type { BatchStatus, FeedName } from '../../sql/schema.js';
import { BatchRepository } from '../../services/feeds/batch.repository.js';
import { ingestBatchWithRetry, pendingEntries, type BatchOutcome } from '../../services/feeds/ingest.service.js';
import { openSource } from '../../services/feeds/source.js';
import type { CliContext } from './context.js';
import { intOption, printJson, printTable, UsageError, printLine } from './output.js';
import { progressBar } from './progress.js';
import { rejectedBatches, type Shortfall } from './shortfall.js';
import { periodOf } from '../../services/domain/period.js';

export async function migrateCommand(ctx: CliContext): Promise<void> {
  const database = await ctx.db({ migrate: false });
  const result = await migrate(database.pool);
  printLine(result.applied.length > 0 ? `applied ${result.applied.join(', ')}; schema at ${result.current}` : `schema up to date at ${result.current}`);
}

function resolveSources(ctx: CliContext, given: string | undefined): SourceConfig[] {
  const configured = ctx.config.feeds.sources;
  if (given === undefined) {
    if (configured.length === 0) throw new UsageError('no feed source: pass --source <url> or set FEED_SOURCES');
    return [...configured];
  }
  const named = configured.find((s) => s.name === given || s.url === given);
  if (named) return [named];
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new UsageError(`--source "${given}" is neither a configured source (${configured.map((s) => s.name).join(', ') || 'none'}) nor a URL`);
  }
  if (!['file:', 'http:', 'https:'].includes(url.protocol)) throw new UsageError(`--source must be a file:// or http(s):// URL, got ${url.protocol}`);
  const token = tokenFor('cli');
  return [{ name: 'cli', url: given, ...(token !== undefined ? { token } : {}) }];
}

/**
 * Loads every pending batch of each source. Returns what did not get done
 * (exit code 3): a source whose manifest could not be read, a manifest
 * entry refused, a batch that could not be loaded after its attempts, a
 * batch rejected whole (sha256, row count, format). Quarantined rows are
 * not failures: the batch loads, and `ews quarantine` lists them.
 */
export async function ingestCommand(ctx: CliContext, opts: { source?: string; retryRejected?: boolean; json?: boolean }): Promise<Shortfall[]> {
  const sources = resolveSources(ctx, opts.source);
  const database = await ctx.db();
  const deps = { batches: new BatchRepository(database), log: ctx.log };
  const { feeds } = ctx.config;
  const outcomes: (BatchOutcome & { source: string })[] = [];
  const failures: { source: string; file?: string; reason: string }[] = [];
  const refused: { source: string; reason: string }[] = [];
  for (const sc of sources) {
    const source = openSource(sc, {
      timeoutMs: feeds.httpTimeoutMs,
      retries: feeds.httpRetries,
      retryBaseMs: feeds.retryBaseMs,
      spoolDir: `${ctx.config.dataDir}/spool`,
      onRetry: (what, err, attempt, delay) => ctx.log.warn({ source: sc.name, what, attempt, delayMs: delay }, `retrying: ${(err as Error).message}`),
    });
    let pending;
    try {
      const listed = await pendingEntries(deps, source, { retryRejected: opts.retryRejected === true });
      pending = listed.pending;
      for (const r of listed.manifest.refused) refused.push({ source: sc.name, reason: r.reason });
    } catch (err) {
      failures.push({ source: sc.name, reason: (err as Error).message });
      continue;
    }
    const bar = progressBar(`ingest ${sc.name}`, 'batches', { json: opts.json });
    for (const [i, entry] of pending.entries()) {
      bar.update(i, pending.length, entry.file);
      try {
        const o = await ingestBatchWithRetry(deps, source, entry, { attempts: feeds.ingestAttempts, baseMs: feeds.retryBaseMs }, { retryRejected: opts.retryRejected === true });
        outcomes.push({ source: sc.name, ...o });
      } catch (err) {
        failures.push({ source: sc.name, file: entry.file, reason: (err as Error).message });
      }
    }
    if (pending.length > 0) bar.update(pending.length, pending.length);
    bar.stop();
  }
  if (opts.json) printJson({ batches: outcomes, refused, failures });
  else printTable(outcomes, ['source', 'batchId', 'file', 'feed', 'period', 'status', 'rowsRead', 'rowsLoaded', 'rowsQuarantined', 'rowsReplaced', 'reason']);
  return [
    ...failures.map((f) =>
      f.file === undefined
        ? { what: `source ${f.source}`, reason: `could not be read: ${f.reason}` }
        : { what: `batch ${f.file} (source ${f.source})`, reason: `not loaded: ${f.reason}` },
    ),
    ...refused.map((r) => ({ what: `source ${r.source}`, reason: `manifest entry refused: ${r.reason}` })),
    ...rejectedBatches(outcomes),
  ];
}

export async function batchesCommand(ctx: CliContext, opts: { feed?: string; status?: string; limit: string; json?: boolean }): Promise<void> {
  const limit = intOption('limit', opts.limit, 1, 100_000);
  const database = await ctx.db();
  const rows = await new BatchRepository(database).list({
    ...(opts.feed !== undefined ? { feed: opts.feed as FeedName } : {}),
    ...(opts.status !== undefined ? { status: opts.status as BatchStatus } : {}),
    limit,
  });
  const view = rows.map((r) => ({
    id: r.batch_id,
    feed: r.feed,
    period: periodOf(r.period),
    file: r.file,
    source: r.source,
    status: r.status,
    rows: r.declared_rows,
    loaded: r.rows_loaded,
    quarantined: r.rows_quarantined,
    replaced: r.rows_replaced,
    attempts: r.attempts,
    reason: r.reason ?? r.last_error,
    sha256: r.sha256,
    finished_at: r.finished_at,
  }));
  if (opts.json) printJson(view);
  else printTable(view, ['id', 'feed', 'period', 'file', 'status', 'rows', 'loaded', 'quarantined', 'replaced', 'attempts', 'reason']);
}

export async function quarantineCommand(ctx: CliContext, opts: { batch: string; limit: string; json?: boolean }): Promise<void> {
  const id = intOption('batch', opts.batch, 1);
  const limit = intOption('limit', opts.limit, 1, 1_000_000);
  const repo = new BatchRepository(await ctx.db());
  const batch = await repo.get(id);
  if (!batch) throw new UsageError(`no batch ${id} (see \`ews batches\`)`);
  const rows = await repo.quarantine(id, limit);
  if (opts.json) {
    printJson({ batch: id, file: batch.file, quarantined: batch.rows_quarantined ?? 0, rows });
    return;
  }
  printLine(`batch ${id} ${batch.file}: ${batch.rows_quarantined ?? 0} quarantined row(s)${batch.status === 'rejected' ? `; the whole batch was rejected: ${batch.reason}` : ''}`);
  printTable(rows, ['line_no', 'column_name', 'reason', 'raw']);
}
