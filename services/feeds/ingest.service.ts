import type pg from 'pg';
import type { Logger } from '../log.js';
import { batchFormat, readBatchRecords } from './batch.read.js';
import type { BatchRepository, BatchRow } from './batch.repository.js';
import { CopyBytes, copyLine } from './copy.text.js';
import { FirstLineIndex } from './key.set.js';
import { FEEDS, missingColumns, type FeedSpec, type Value } from './feed.spec.js';
import type { Manifest, ManifestEntry } from './manifest.js';
import { BatchFormatError } from './record.js';
import { isTransient, TransientError, withRetry } from './retry.js';
import type { FeedSource } from './source.js';
import { periodOf } from '../domain/period.js';
import { maskPii } from '../domain/pii.js';

/**
 * Ingestion, shared by `ews ingest` and the BullMQ jobs: list what a source
 * has that is not loaded yet, and load one batch exactly once.
 */

export interface IngestDeps {
  readonly batches: BatchRepository;
  readonly log: Logger;
}

export type BatchStatusOut = 'loaded' | 'unchanged' | 'rejected';

export interface BatchOutcome {
  batchId: number;
  file: string;
  feed: string;
  period: string;
  status: BatchStatusOut;
  rowsRead: number;
  rowsLoaded: number;
  rowsQuarantined: number;
  rowsReplaced: number;
  reason?: string;
}

export interface IngestHooks {
  /** Test seam: runs inside the load transaction after staging, before the merge. */
  afterStaging?(client: pg.PoolClient): Promise<void>;
}

export interface BatchOptions {
  /** Read a batch again even though it was rejected before. */
  retryRejected?: boolean;
  hooks?: IngestHooks;
  /** Rows per staged segment (default 100,000). */
  segmentRows?: number;
}

/** The manifest's entries that still need loading, in manifest order. */
export async function pendingEntries(deps: IngestDeps, source: FeedSource, options: { retryRejected?: boolean } = {}): Promise<{ manifest: Manifest; pending: ManifestEntry[] }> {
  const manifest = await source.readManifest();
  for (const r of manifest.refused) deps.log.warn({ source: source.name, entry: r.index }, `manifest entry refused: ${maskPii(r.reason)}`);
  const settled = await deps.batches.settled(manifest.entries.map((e) => e.sha256));
  const pending = manifest.entries.filter((e) => {
    const status = settled.get(`${e.feed}/${e.period}/${e.sha256}`);
    return status === undefined || (status === 'rejected' && options.retryRejected === true);
  });
  return { manifest, pending };
}

export async function ingestBatch(deps: IngestDeps, source: FeedSource, entry: ManifestEntry, options: BatchOptions = {}): Promise<BatchOutcome> {
  const { batches, log } = deps;
  const spec = FEEDS[entry.feed];
  let batch = await batches.findOrCreate(source, entry);
  const blog = log.child({ batch: batch.batch_id, feed: entry.feed, period: entry.period, file: entry.file });
  if (batch.status === 'loaded') return outcome(batch, 'unchanged');
  if (batch.status === 'rejected') {
    if (options.retryRejected !== true) return outcome(batch, 'rejected');
    await batches.reopen(batch.batch_id);
  }
  await batches.markAttempt(batch.batch_id);

  let staged: ReturnType<typeof stageRows> | undefined;
  try {
    const local = await source.fetchBatch(entry.file);
    try {
      if (local.sha256 !== entry.sha256) {
        const mismatch = `sha256 mismatch: the manifest says ${entry.sha256.slice(0, 12)}…, the file's bytes hash to ${local.sha256.slice(0, 12)}… (${local.bytes} bytes)`;
        // A download cut short (or a file still being written) hashes wrong once: read it again. The
        // same wrong bytes a second time are the file as the platform has it: rejected.
        if (batch.last_error?.startsWith(mismatch) === true) throw new BatchFormatError(`${mismatch}; the same bytes when read again`);
        throw new TransientError(`${mismatch}; reading it again`);
      }
      await batches.ensurePartition(spec, entry.period);
      const rows = stageRows(spec, local.path, entry, options.segmentRows ?? SEGMENT_ROWS);
      staged = rows;
      const result = await batches.load(batch, spec, rows.segments(), {
        rowsRead: () => rows.rowsRead,
        staged: async (client, segment) => {
          if (segment === 0) await options.hooks?.afterStaging?.(client);
        },
        beforeCommit: () => {
          if (rows.rowsRead !== entry.rows) {
            throw new BatchFormatError(`row count mismatch: the manifest declares ${entry.rows} rows, the file has ${rows.rowsRead}`);
          }
        },
      });
      batch = (await batches.get(batch.batch_id)) ?? batch;
      if (result === 'already-loaded') return outcome(batch, 'unchanged');
      await batches.analyse(spec, entry.period).catch((err: unknown) => blog.warn(`ANALYZE after load failed: ${(err as Error).message}`));
      blog.info(
        { rows: result.rowsRead, loaded: result.rowsLoaded, quarantined: result.rowsQuarantined, replaced: result.rowsReplaced, stageS: round(result.stageS), mergeS: round(result.mergeS) },
        'batch loaded',
      );
      return outcome(batch, 'loaded');
    } finally {
      await local.release();
    }
  } catch (err) {
    // A reason is stored, logged and passed up the queue: never with personal data in it.
    const reason = maskPii(err instanceof Error ? err.message : String(err));
    if (err instanceof BatchFormatError) {
      // Rows read before the defect showed, for the record (none when refused before reading).
      await batches.markRejected(batch.batch_id, reason, staged?.rowsRead ?? null);
      blog.warn({ reason }, 'batch rejected');
      return outcome((await batches.get(batch.batch_id)) ?? batch, 'rejected');
    }
    await batches.recordError(batch.batch_id, reason).catch(() => undefined);
    if (err instanceof Error && reason !== err.message) {
      err.message = reason;
      if (err.stack !== undefined) err.stack = maskPii(err.stack);
    }
    throw err;
  }
}

/** ingestBatch with in-process retries of transient faults (the CLI path; BullMQ retries jobs itself). */
export function ingestBatchWithRetry(
  deps: IngestDeps,
  source: FeedSource,
  entry: ManifestEntry,
  retry: { attempts: number; baseMs: number },
  options: BatchOptions = {},
): Promise<BatchOutcome> {
  return withRetry(() => ingestBatch(deps, source, entry, options), {
    attempts: retry.attempts,
    baseMs: retry.baseMs,
    isTransient,
    onRetry: (err, attempt, delay) =>
      deps.log.warn({ file: entry.file, attempt, delayMs: delay }, `transient failure, retrying: ${(err as Error).message}`),
  });
}

function outcome(batch: BatchRow, status: BatchStatusOut): BatchOutcome {
  const o: BatchOutcome = {
    batchId: batch.batch_id,
    file: batch.file,
    feed: batch.feed,
    period: periodOf(batch.period),
    status,
    rowsRead: batch.rows_read ?? 0,
    rowsLoaded: batch.rows_loaded ?? 0,
    rowsQuarantined: batch.rows_quarantined ?? 0,
    rowsReplaced: batch.rows_replaced ?? 0,
  };
  if (batch.reason !== null) o.reason = batch.reason;
  return o;
}

const round = (s: number): number => Math.round(s * 100) / 100;

/** Rows staged and merged at a time: big enough to amortise the statements, small enough to overlap reading with merging. */
const SEGMENT_ROWS = 100_000;

/**
 * Reads, checks and encodes every row as COPY text for staging. Bad rows are
 * staged too, with their reason and raw text, so the quarantine commits with
 * the batch and memory stays bounded. Whatever text of a row is staged (raw
 * text of a bad row, whether it could be split into fields or not, a reason,
 * a column name, the raw text a filing keeps) has its personal identifiers
 * masked first (maskPii); a column found to hold one is withheld whole.
 */
function stageRows(spec: FeedSpec, path: string, entry: ManifestEntry, segmentSize: number) {
  const isCsv = batchFormat(entry.file)?.format === 'csv';
  const blanks: Value[] = spec.columns.map(() => null);
  const state = { rowsRead: 0 };
  async function* segments(): AsyncGenerator<Buffer[]> {
    const firstLines = new FirstLineIndex();
    const out = new CopyBytes();
    let segmentRows = 0;
    let headerChecked = !isCsv;
    const bad = (line: number, reason: string, column: string | null, raw: string): string =>
      copyLine(blanks, [line, maskPii(reason), column === null ? null : maskPii(column), maskPii(raw)]);
    for await (const parsed of readBatchRecords(path, entry.file, entry.encoding)) {
      state.rowsRead += 1;
      if (!parsed.ok) {
        out.push(bad(parsed.broken.line, parsed.broken.problem, null, parsed.broken.raw));
      } else {
        const record = parsed.record;
        if (!headerChecked) {
          const missing = missingColumns(spec, record.columns);
          if (missing.length > 0) throw new BatchFormatError(`header lacks required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} for feed ${spec.feed}`);
          headerChecked = true;
        }
        const r = spec.validate(record, entry.period);
        if (!r.ok) {
          const raw = r.withheld.size > 0 ? record.redacted(r.withheld) : record.raw;
          out.push(bad(record.line, r.problems.map((p) => p.message).join('; '), r.problems[0]?.column ?? null, raw));
        } else {
          const first = firstLines.firstLine(r.key, record.line);
          if (first !== undefined) {
            out.push(bad(record.line, `duplicate: ${spec.keyLabel} ${r.key} already at line ${first}; the first is kept`, spec.keyLabel, record.raw));
          } else {
            out.push(copyLine(r.values, [record.line, null, null, spec.keepRaw ? maskPii(record.raw) : null]));
          }
        }
      }
      segmentRows += 1;
      if (segmentRows >= segmentSize) {
        yield out.take();
        segmentRows = 0;
      }
    }
    if (out.bytes > 0) yield out.take();
  }
  return {
    segments,
    get rowsRead() {
      return state.rowsRead;
    },
  };
}
