import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql, type Selectable } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { BatchStatus, BatchTable, FeedName } from '../../sql/schema.js';
import type { Database } from '../db/database.js';
import type { FeedSpec } from './feed.spec.js';
import type { ManifestEntry } from './manifest.js';
import { periodDate, periodOf } from '../domain/period.js';

/** Every query of the feeds: batch history, quarantine, and the staged load. */

export type BatchRow = Selectable<BatchTable>;


export interface LoadCounts {
  rowsRead: number;
  rowsLoaded: number;
  rowsQuarantined: number;
  rowsReplaced: number;
  /** Seconds spent staging (reading, checking, COPY) and merging. */
  stageS: number;
  mergeS: number;
}

export class BatchRepository {
  constructor(private readonly database: Database) {}

  private get db() {
    return this.database.db;
  }

  /** The batch row for this feed-period-sha256, created on first sight. */
  async findOrCreate(source: { name: string; url: string }, b: ManifestEntry): Promise<BatchRow> {
    await this.db
      .insertInto('batch')
      .values({
        source: source.name,
        source_url: source.url,
        file: b.file,
        feed: b.feed,
        period: periodDate(b.period),
        sha256: b.sha256,
        declared_rows: b.rows,
        encoding: b.encoding,
        order_key: b.orderKey,
      })
      .onConflict((oc) => oc.columns(['feed', 'period', 'sha256']).doNothing())
      .execute();
    const row = await this.find(b.feed, b.period, b.sha256);
    if (!row) throw new Error(`batch ${b.file} vanished after insert`);
    return row;
  }

  async find(feed: FeedName, period: string, sha256: string): Promise<BatchRow | undefined> {
    return (await this.db
      .selectFrom('batch')
      .selectAll()
      .where('feed', '=', feed)
      .where('period', '=', periodDate(period))
      .where('sha256', '=', sha256)
      .executeTakeFirst());
  }

  /** The latest month with a loaded batch of a feed (social insurance: what a night scores unless told otherwise), or null. */
  async latestLoadedPeriod(feed: FeedName = 'social_insurance'): Promise<string | null> {
    const r = await this.db
      .selectFrom('batch')
      .select(sql<string | null>`to_char(max(period), 'YYYY-MM')`.as('p'))
      .where('feed', '=', feed)
      .where('status', '=', 'loaded')
      .executeTakeFirst();
    return r?.p ?? null;
  }

  async get(batchId: number): Promise<BatchRow | undefined> {
    return (await this.db.selectFrom('batch').selectAll().where('batch_id', '=', batchId).executeTakeFirst());
  }

  /** Known sha256s of batches that need no more work (loaded or rejected). */
  async settled(shas: readonly string[]): Promise<Map<string, BatchStatus>> {
    if (shas.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('batch')
      .select(['feed', 'period', 'sha256', 'status'])
      .where('sha256', 'in', [...shas])
      .where('status', 'in', ['loaded', 'rejected'])
      .execute();
    return new Map(rows.map((r) => [`${r.feed}/${periodOf(r.period)}/${r.sha256}`, r.status]));
  }

  async markAttempt(batchId: number): Promise<void> {
    await this.db
      .updateTable('batch')
      .set({ status: 'loading', attempts: sql<number>`attempts + 1`, started_at: new Date() })
      .where('batch_id', '=', batchId)
      .where('status', 'in', ['pending', 'loading'])
      .execute();
  }

  async markRejected(batchId: number, reason: string, rowsRead: number | null): Promise<void> {
    await this.db
      .updateTable('batch')
      .set({ status: 'rejected', reason, rows_read: rowsRead, rows_loaded: 0, rows_quarantined: 0, finished_at: new Date() })
      .where('batch_id', '=', batchId)
      .where('status', '<>', 'loaded')
      .execute();
  }

  async recordError(batchId: number, message: string): Promise<void> {
    await this.db.updateTable('batch').set({ last_error: message.slice(0, 2000) }).where('batch_id', '=', batchId).execute();
  }

  /** Reopens a rejected batch so that it is read again (operator's choice). */
  async reopen(batchId: number): Promise<void> {
    await this.db.updateTable('batch').set({ status: 'pending', reason: null }).where('batch_id', '=', batchId).where('status', '=', 'rejected').execute();
  }

  /** Creating a partition locks its parent: done in its own short transaction, before the load. */
  async ensurePartition(spec: FeedSpec, period: string): Promise<void> {
    if (!spec.partitioned) return;
    await sql`SELECT ews_ensure_month_partition(${spec.table}, ${periodDate(period)}::date)`.execute(this.db);
  }

  /** Fresh statistics for the month just loaded, so the scoring stage's reads get a sound plan. */
  async analyse(spec: FeedSpec, period: string): Promise<void> {
    const table = spec.partitioned ? `${spec.table}_p${period.replace('-', '')}` : spec.table;
    await sql`ANALYZE ${sql.table(table)}`.execute(this.db);
  }

  async list(filter: { feed?: FeedName; status?: BatchStatus; limit?: number } = {}): Promise<BatchRow[]> {
    let q = this.db.selectFrom('batch').selectAll().orderBy('batch_id', 'desc').limit(filter.limit ?? 100);
    if (filter.feed) q = q.where('feed', '=', filter.feed);
    if (filter.status) q = q.where('status', '=', filter.status);
    return q.execute();
  }

  async restatements(batchId: number): Promise<{ replaced_batch_id: number; rows: number }[]> {
    return this.db.selectFrom('batch_restatement').select(['replaced_batch_id', 'rows']).where('batch_id', '=', batchId).orderBy('replaced_batch_id').execute();
  }

  async quarantine(batchId: number, limit = 1000, offset = 0) {
    return this.db
      .selectFrom('quarantine')
      .select(['line_no', 'column_name', 'reason', 'raw'])
      .where('batch_id', '=', batchId)
      .orderBy('line_no')
      .limit(limit)
      .offset(offset)
      .execute();
  }

  /**
   * The load, in one transaction on one connection: lock the feed-period,
   * then for each segment of rows COPY all of them (good ones, and bad ones
   * with their reason) into a temporary staging table and merge: quarantine
   * the bad rows, replace the rows of older batches for the same employers,
   * insert. While PostgreSQL merges one segment the next is being read and
   * checked, so the two cores overlap. Until COMMIT nothing is visible; any
   * failure rolls all of it back.
   */
  async load(
    batch: BatchRow,
    spec: FeedSpec,
    segments: AsyncIterable<readonly Buffer[]>,
    checks: {
      /** After each segment is staged, before it is merged (a test seam). */
      staged(client: pg.PoolClient, segment: number): Promise<void>;
      /** After the last segment: throws to refuse the batch (row count). */
      beforeCommit(): void;
      rowsRead(): number;
    },
  ): Promise<LoadCounts | 'already-loaded'> {
    const client = await this.database.pool.connect();
    let broken = false;
    // A server that ends the session between queries emits here; the next query then fails and is handled.
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      // Each segment's rows are sorted into key order before the insert
      // (below): with the default 4 MB a 100,000-row segment sorts on disk.
      await client.query(`SET LOCAL work_mem = '64MB'`);
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`ingest/${batch.feed}/${batch.period}`]);
      const current = await client.query<{ status: BatchStatus }>('SELECT status FROM batch WHERE batch_id = $1 FOR UPDATE', [batch.batch_id]);
      if (current.rows[0]?.status === 'loaded') {
        await client.query('ROLLBACK');
        return 'already-loaded';
      }
      const stg = `stg_${spec.table}`;
      const cols = spec.columns.map(([n]) => n);
      await client.query(
        `CREATE TEMP TABLE ${stg} (${spec.columns.map(([n, t]) => `${n} ${t}`).join(', ')}, _line integer NOT NULL, _reason text, _column text, _raw text) ON COMMIT DROP`,
      );
      // Only when a newer batch of this feed-period is loaded can an insert meet a row it must leave alone.
      const newer = await client.query(
        `SELECT 1 FROM batch WHERE feed = $1 AND period = $2::date AND status = 'loaded' AND order_key > $3 LIMIT 1`,
        [batch.feed, batch.period, batch.order_key],
      );
      const totals = { rowsLoaded: 0, rowsQuarantined: 0, rowsReplaced: 0, stageS: 0, mergeS: 0 };
      const it = segments[Symbol.asyncIterator]();
      let next = it.next();
      for (let segment = 0; ; segment++) {
        const t0 = performance.now();
        const step: IteratorResult<readonly Buffer[], unknown> = await next;
        if (step.done === true) break;
        const value = step.value;
        await pipeline(Readable.from(value), client.query(copyFrom(`COPY ${stg} (${cols.join(', ')}, _line, _reason, _column, _raw) FROM STDIN`)));
        await checks.staged(client, segment);
        // Start reading the next segment; it runs while the merge below waits on the server.
        next = it.next();
        const t1 = performance.now();
        const counts = await this.merge(client, batch, spec, stg, cols, newer.rowCount !== 0);
        await client.query(`TRUNCATE ${stg}`);
        totals.rowsLoaded += counts.rowsLoaded;
        totals.rowsQuarantined += counts.rowsQuarantined;
        totals.rowsReplaced += counts.rowsReplaced;
        totals.stageS += (t1 - t0) / 1000;
        totals.mergeS += (performance.now() - t1) / 1000;
      }
      checks.beforeCommit();
      await client.query(
        `UPDATE batch SET status = 'loaded', reason = NULL, last_error = NULL, rows_read = $2, rows_loaded = $3, rows_quarantined = $4,
           rows_replaced = $5, finished_at = now() WHERE batch_id = $1`,
        [batch.batch_id, checks.rowsRead(), totals.rowsLoaded, totals.rowsQuarantined, totals.rowsReplaced],
      );
      await client.query('COMMIT');
      return { ...totals, rowsRead: checks.rowsRead() };
    } catch (err) {
      broken = true;
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      // A connection that failed mid-transaction (or was terminated) is not reused.
      client.off('error', onError);
      client.release(broken);
    }
  }

  private async merge(
    client: pg.PoolClient,
    batch: BatchRow,
    spec: FeedSpec,
    stg: string,
    cols: readonly string[],
    newerLoaded: boolean,
  ): Promise<Pick<LoadCounts, 'rowsLoaded' | 'rowsQuarantined' | 'rowsReplaced'>> {
    const period = batch.period;
    if (spec.feed === 'layoff_filings') {
      // A filing id already received for another employer or month is not this report's to replace.
      await client.query(
        `UPDATE ${stg} s SET _reason = 'filing_id ' || s.filing_id || ': already received in batch ' || f.batch_id || ' for ' || to_char(f.period, 'YYYY-MM'),
                _column = 'filing_id'
           FROM layoff_filing f
          WHERE s._reason IS NULL AND f.filing_id = s.filing_id AND (f.period <> $1::date OR f.uscc <> s.uscc)`,
        [period],
      );
    }
    const quarantined = await client.query(
      `INSERT INTO quarantine (batch_id, line_no, column_name, reason, raw)
       SELECT $1, _line, _column, _reason, coalesce(_raw, '') FROM ${stg} WHERE _reason IS NOT NULL`,
      [batch.batch_id],
    );
    const match = spec.replaceColumns.map((c) => `f.${c} = s.${c}`).join(' AND ');
    const replaced = await client.query<{ rows: number }>(
      `WITH gone AS (
         DELETE FROM ${spec.table} f USING ${stg} s, batch b
          WHERE f.period = $2::date AND ${match} AND s._reason IS NULL
            AND b.batch_id = f.batch_id AND b.order_key < $3
         RETURNING f.batch_id),
       recorded AS (
         INSERT INTO batch_restatement (batch_id, replaced_batch_id, rows)
         SELECT $1, batch_id, count(*) FROM gone GROUP BY batch_id
         ON CONFLICT (batch_id, replaced_batch_id) DO UPDATE SET rows = batch_restatement.rows + EXCLUDED.rows)
       SELECT count(*)::int AS rows FROM gone`,
      [batch.batch_id, period, batch.order_key],
    );
    // Rows a newer batch already holds stay as they are, and are recorded as
    // that batch's restatement of this one, as if this batch had come first:
    // the history of a feed-period does not depend on the order its batches
    // were loaded in (a late or retried older batch counts the same).
    // (Filings are kept by filing id, not replaced per employer: a late
    // batch's filings are stored beside the newer ones, nothing is shadowed.)
    let shadowed = 0;
    if (newerLoaded && spec.feed !== 'layoff_filings') {
      const kept = await client.query<{ rows: number }>(
        `WITH kept AS (
           SELECT DISTINCT ON (s._line) f.batch_id FROM ${spec.table} f JOIN ${stg} s ON ${match} JOIN batch b ON b.batch_id = f.batch_id
            WHERE f.period = $2::date AND s._reason IS NULL AND b.order_key > $3),
         per AS (SELECT batch_id, count(*)::int AS n FROM kept GROUP BY batch_id),
         recorded AS (
           INSERT INTO batch_restatement (batch_id, replaced_batch_id, rows)
           SELECT batch_id, $1, n FROM per
           ON CONFLICT (batch_id, replaced_batch_id) DO UPDATE SET rows = batch_restatement.rows + EXCLUDED.rows),
         bumped AS (
           UPDATE batch SET rows_replaced = coalesce(batch.rows_replaced, 0) + per.n FROM per WHERE batch.batch_id = per.batch_id)
         SELECT coalesce(sum(n), 0)::int AS rows FROM per`,
        [batch.batch_id, period, batch.order_key],
      );
      shadowed = kept.rows[0]?.rows ?? 0;
    }
    // Only when a newer batch is loaded is ON
    // CONFLICT needed: it doubles the cost of the insert, so the usual case
    // goes without it. Rows go in key order (bucket, uscc for the monthly
    // feeds): a month's partition is then laid out the way a scoring shard
    // reads it, a bucket range as a run of pages, not a few rows on every
    // page of the partition.
    const loaded = await client.query(
      `INSERT INTO ${spec.table} (${cols.join(', ')}, batch_id)
       SELECT ${cols.join(', ')}, $1 FROM ${stg} WHERE _reason IS NULL
       ORDER BY ${spec.replaceColumns.join(', ')}
       ${newerLoaded ? 'ON CONFLICT DO NOTHING' : ''}`,
      [batch.batch_id],
    );
    return {
      // Every good row of the batch, those a newer batch had already restated included (as when it comes first).
      rowsLoaded: (loaded.rowCount ?? 0) + shadowed,
      rowsQuarantined: quarantined.rowCount ?? 0,
      rowsReplaced: replaced.rows[0]?.rows ?? 0,
    };
  }
}
