import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { BinaryCopyRows } from '../db/copy.binary.js';
import { copyScan, copyScanBinary } from '../db/copy.read.js';
import { inTransaction, type Database } from '../db/database.js';
import { addMonths, dayNumber, monthRange, periodDate } from '../domain/period.js';
import { BatchBuilder, monthNumber } from './series.build.js';
import { PACK_FORMAT, PackFormatError, PackWriter, packSeries, type MonthColumns } from './series.pack.js';
import { packPlan, packRefused, type Fingerprint, type PackState } from './series.pack.plan.js';
import type { NewEmployerIntake, ScoringContext, SeriesBatch } from './series.js';

/**
 * Reads what the scoring stage needs, shard by shard: the monthly history
 * of every employer in a bucket range (optionally one city) that reported
 * in the last few months, as a columnar SeriesBatch. Rows stream out with
 * COPY … TO STDOUT in (bucket, uscc, period) order, the order of the fact
 * tables' primary keys, so each month's partition is read as index ranges.
 * The queries only: the rows go into a BatchBuilder (series.build.ts), and
 * whether the previous period's pack is read is series.pack.plan.ts's call.
 */

export interface ShardQuery {
  /** 'YYYY-MM' scored */
  period: string;
  /** Months of history including the scored one. */
  months: number;
  bucketFrom: number;
  bucketTo: number;
  city?: string;
  /** Employers whose last social-insurance row is at most this many months old (closures stay visible). */
  recentMonths?: number;
  /** Read every month from the facts even where a pack could be used (it is still written for the next period). */
  fromFacts?: boolean;
}

/** What the scoring stage read for one shard, and what it needs to keep the pack for the next period. */
export interface ScoringRead {
  /** Employers in (bucket, uscc) order. */
  batch: SeriesBatch;
  /** Per employer, the month (0 = oldest) its name and codes came from. */
  namedMonth: Int16Array;
  /** 'pack': the previous period's pack and the months named in `fromFacts`; 'facts': every month from the fact tables. */
  source: 'pack' | 'facts';
  /** Months ('YYYY-MM') read from the fact tables. */
  fromFacts: string[];
  /** Why the pack was not used ('' when it was). */
  why: string;
  /** Employers whose packed value could not be unpacked (read whole from the facts instead). */
  damaged: number;
  /** The batches each month of the window was read from, to store with this period's pack; null: no pack is kept (one city). */
  fingerprint: Fingerprint | null;
}

export type { Fingerprint } from './series.pack.plan.js';

export class SeriesRepository {
  constructor(private readonly database: Database) {}

  /** Every month of the window from the fact tables, employers in the order they were first seen. */
  async readShard(q: ShardQuery): Promise<SeriesBatch> {
    const client = await this.database.pool.connect();
    try {
      const b = new BatchBuilder(windowOf(q));
      await readFacts(client, b, q, null);
      await readFilings(client, b, q);
      return b.build().batch;
    } finally {
      client.release();
    }
  }

  /**
   * What the scoring stage reads: the previous period's pack, where every
   * bucket of the shard has one, and from the facts only the months whose
   * loaded batches have changed since it was written (always the scored
   * month) and the whole history of employers the pack does not hold; the
   * facts alone otherwise. One snapshot throughout, so the fingerprint kept
   * with this period's pack is that of the rows read. The batch is the same
   * either way, in (bucket, uscc) order.
   */
  async readForScoring(q: ShardQuery): Promise<ScoringRead> {
    const periods = windowOf(q);
    return inTransaction(
      this.database.pool,
      async (client) => {
        const fingerprint = await readFingerprint(client, periods);
        const b = new BatchBuilder(periods);
        let read: Pick<ScoringRead, 'source' | 'fromFacts' | 'why' | 'damaged'>;
        const previous = packRefused(q) === null ? await readPackState(client, q) : [];
        const plan = packPlan(q, periods, fingerprint, previous);
        if (plan.usable) {
          const undecodable = await readPack(client, b, q, plan.packMonths);
          const stale = new Set(plan.stale.map((p) => periods.indexOf(p)));
          const fresh = await readFacts(client, b, q, stale);
          for (const i of undecodable) b.clearEmployer(i);
          await readHistoryOf(client, b, q, [...fresh, ...undecodable]);
          read = { source: 'pack', fromFacts: plan.stale, why: '', damaged: undecodable.length };
        } else {
          await readFacts(client, b, q, null);
          read = { source: 'facts', fromFacts: [...periods], why: plan.why, damaged: 0 };
        }
        await readFilings(client, b, q);
        const built = b.build({ recentMonths: q.recentMonths ?? 3, sorted: true });
        return { batch: built.batch, namedMonth: built.namedMonth, ...read, fingerprint: q.city === undefined ? fingerprint : null };
      },
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
    );
  }

  /**
   * Keeps this period's pack of the shard for the next period's run: every
   * employer scored, its months of the window, and per bucket the batches
   * they came from. Replaces the shard's earlier pack of the period in one
   * transaction, so a rerun or a retried job leaves one.
   */
  async writePack(q: ShardQuery, runId: number, read: ScoringRead): Promise<void> {
    if (read.fingerprint === null || q.city !== undefined) return;
    const day = periodDate(q.period);
    const b = read.batch;
    await this.database.pool.query(`SELECT ews_ensure_month_partition('series_pack', $1::date)`, [day]);
    // Binary COPY: the packed value goes as its bytes, not as hex digits for the server to decode.
    const out = new BinaryCopyRows();
    const packed = new PackWriter();
    const columns = b as unknown as MonthColumns;
    const days = dayNumber(day) ?? Number.NaN;
    for (let i = 0; i < b.size; i++) {
      packed.reset();
      packSeries(columns, i * b.months, b.months, packed);
      out.row(9);
      out.date(days);
      out.int16(b.bucket[i] as number);
      out.text(b.uscc[i] as string);
      out.text(b.name[i] as string);
      out.text(b.cityCode[i] as string);
      out.text(b.regionCode[i] as string);
      out.text(b.industryCode[i] as string);
      out.int16(read.namedMonth[i] as number);
      out.bytes(packed.bytes());
    }
    await inTransaction(this.database.pool, async (client) => {
      await client.query('DELETE FROM series_pack WHERE period = $1::date AND bucket BETWEEN $2 AND $3', [day, q.bucketFrom, q.bucketTo]);
      await client.query('DELETE FROM series_pack_state WHERE period = $1::date AND bucket BETWEEN $2 AND $3', [day, q.bucketFrom, q.bucketTo]);
      await pipeline(Readable.from(out.take()), client.query(copyFrom('COPY series_pack (period, bucket, uscc, name, city_code, region_code, industry_code, named_month, series) FROM STDIN (FORMAT binary)')));
      await client.query(
        `INSERT INTO series_pack_state (period, bucket, months, fingerprint, run_id, format)
         SELECT $1::date, g, $4, $5::jsonb, $6, $7 FROM generate_series($2::int, $3::int) g`,
        [day, q.bucketFrom, q.bucketTo, b.months, JSON.stringify(read.fingerprint), runId, PACK_FORMAT],
      );
    });
  }

  /**
   * Drops packs no run will read again: those of periods before the one
   * before the newest. A pack is only ever read by the next period's run,
   * so scoring an old period again (a backfill) reads the facts.
   */
  async prunePacks(): Promise<string[]> {
    const newest = await this.database.pool.query<{ period: string | null }>(`SELECT to_char(max(period), 'YYYY-MM') AS period FROM series_pack_state`);
    const top = newest.rows[0]?.period;
    if (top === null || top === undefined) return [];
    const keepFrom = addMonths(top, -1);
    const parts = await this.database.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'series_pack'::regclass AND c.relname < $1 ORDER BY 1`,
      [`series_pack_p${keepFrom.replace('-', '')}`],
    );
    const dropped: string[] = [];
    for (const { name } of parts.rows) {
      if (!/^series_pack_p\d{6}$/.test(name)) continue;
      await this.database.pool.query(`DROP TABLE IF EXISTS ${name}`);
      dropped.push(`${name.slice(13, 17)}-${name.slice(17, 19)}`);
    }
    await this.database.pool.query(`DELETE FROM series_pack_state WHERE period < $1::date`, [periodDate(keepFrom)]);
    return dropped;
  }

  /** The first and last month of social-insurance history ('YYYY-MM'), null when there is none. */
  async historyRange(): Promise<{ first: string; last: string } | null> {
    const r = await this.database.pool.query<{ first: string | null; last: string | null }>(
      "SELECT to_char(min(period), 'YYYY-MM') AS first, to_char(max(period), 'YYYY-MM') AS last FROM social_insurance",
    );
    const row = r.rows[0];
    return row?.first && row.last ? { first: row.first, last: row.last } : null;
  }

  /**
   * New employer codes of these months, province-wide (a transferred block
   * may land in any bucket): codes whose first social-insurance row ever is
   * in that month. Found in two steps so that a night never hashes the whole
   * history: the codes with no row the month before (two partitions), then,
   * of those few, the ones that never had a row earlier at all (index probes).
   */
  async newIntakes(periods: readonly string[]): Promise<ScoringContext> {
    const intakes: NewEmployerIntake[] = [];
    for (const period of [...new Set(periods)]) {
      const candidates = await this.database.pool.query<{ bucket: number; uscc: string; city_code: string; industry_code: string; insured: number; hired: number }>(
        `SELECT s.bucket, s.uscc, s.city_code, s.industry_code, s.insured, s.hired
           FROM social_insurance s
          WHERE s.period = $1::date AND s.insured >= $3
            AND NOT EXISTS (SELECT 1 FROM social_insurance q WHERE q.period = $2::date AND q.bucket = s.bucket AND q.uscc = s.uscc)`,
        [periodDate(period), periodDate(addMonths(period, -1)), MIN_INTAKE],
      );
      if (candidates.rows.length === 0) continue;
      const returning = await this.database.pool.query<{ uscc: string }>(
        `SELECT c.uscc
           FROM unnest($1::smallint[], $2::text[]) AS c(bucket, uscc)
          WHERE EXISTS (SELECT 1 FROM social_insurance p WHERE p.bucket = c.bucket AND p.uscc = c.uscc::char(18) AND p.period < $3::date)`,
        [candidates.rows.map((r) => r.bucket), candidates.rows.map((r) => r.uscc), periodDate(addMonths(period, -1))],
      );
      const earlier = new Set(returning.rows.map((r) => r.uscc));
      for (const r of candidates.rows) {
        if (!earlier.has(r.uscc)) intakes.push({ uscc: r.uscc, cityCode: r.city_code, industryCode: r.industry_code, period, insured: r.insured, hired: r.hired });
      }
    }
    return intakeContext(intakes);
  }
}

/** The months of a query's window, oldest first. */
function windowOf(q: ShardQuery): string[] {
  return monthRange(addMonths(q.period, -(q.months - 1)), q.period);
}

const lit = (client: pg.PoolClient, v: string): string => client.escapeLiteral(v);

/** The shard's bucket range (and city) on a fact table's alias, with its months. */
function factWhere(client: pg.PoolClient, q: ShardQuery, alias: string, from: string, to: string): string {
  const range = from === to ? `${alias}.period = ${lit(client, periodDate(from))}::date` : `${alias}.period BETWEEN ${lit(client, periodDate(from))}::date AND ${lit(client, periodDate(to))}::date`;
  return `${range} AND ${alias}.bucket BETWEEN ${Number(q.bucketFrom) | 0} AND ${Number(q.bucketTo) | 0}` + (q.city !== undefined && alias === 's' ? ` AND s.city_code = ${lit(client, q.city)}` : '');
}

/** The loaded batches of each month of the window, in the caller's snapshot. */
async function readFingerprint(client: pg.PoolClient, periods: readonly string[]): Promise<Fingerprint> {
  const r = await client.query<{ period: string; feed: string; ids: string }>(
    `SELECT to_char(period, 'YYYY-MM') AS period, feed, string_agg(batch_id::text, ',' ORDER BY batch_id) AS ids
       FROM batch
      WHERE status = 'loaded' AND feed IN ('social_insurance', 'headcount') AND period BETWEEN $1::date AND $2::date
      GROUP BY 1, 2 ORDER BY 1, 2`,
    [periodDate(periods[0] as string), periodDate(periods[periods.length - 1] as string)],
  );
  const out: Fingerprint = {};
  for (const p of periods) out[p] = '';
  for (const row of r.rows) out[row.period] = out[row.period] ? `${out[row.period]};${row.feed}:${row.ids}` : `${row.feed}:${row.ids}`;
  return out;
}

/** The previous period's pack state over the shard's buckets, one row per distinct (months, fingerprint, format). */
async function readPackState(client: pg.PoolClient, q: ShardQuery): Promise<PackState[]> {
  const r = await client.query<PackState>(
    `SELECT months, format, fingerprint, count(*)::int AS buckets FROM series_pack_state
      WHERE period = $1::date AND bucket BETWEEN $2 AND $3 GROUP BY months, format, fingerprint`,
    [periodDate(addMonths(q.period, -1)), q.bucketFrom, q.bucketTo],
  );
  return r.rows;
}

/** The previous period's pack into b, one month earlier; returns the employers whose value could not be unpacked. */
async function readPack(client: pg.PoolClient, b: BatchBuilder, q: ShardQuery, packMonths: number): Promise<number[]> {
  const undecodable: number[] = [];
  const where = `period = ${lit(client, periodDate(addMonths(q.period, -1)))}::date AND bucket BETWEEN ${Number(q.bucketFrom) | 0} AND ${Number(q.bucketTo) | 0}`;
  const count = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM series_pack WHERE ${where}`);
  b.reserve(Math.ceil((count.rows[0]?.n ?? 0) * 1.02));
  // Binary: the packed value comes as its bytes, not as hex digits to decode.
  await copyScanBinary(
    client,
    `SELECT bucket, uscc, name, city_code, region_code, industry_code, named_month, series FROM series_pack WHERE ${where}`,
    (r) => {
      const bucket = r.int();
      const i = b.employer(r.ascii(), bucket);
      const name = r.text() ?? '';
      const city = r.ascii();
      const region = r.ascii();
      const industry = r.ascii();
      b.setAttributes(i, r.int() - 1, name, city, region, industry);
      const bytes = r.bytea();
      try {
        if (bytes === null) throw new PackFormatError('no packed series');
        b.unpack(i, bytes, packMonths, 1);
      } catch (err) {
        if (!(err instanceof PackFormatError)) throw err;
        undecodable.push(i);
      }
    },
  );
  return undecodable;
}

/**
 * Rows from the fact tables into b: every month of the window (months null),
 * or only the given month indexes, each cleared first so that a row a
 * restatement removed goes too. With months given, employers not yet in b
 * whose row is in one of the recent months are added; their indexes are
 * returned so that the rest of their history can be read.
 */
async function readFacts(client: pg.PoolClient, b: BatchBuilder, q: ShardQuery, months: ReadonlySet<number> | null): Promise<number[]> {
  const periods = b.periods;
  const first = monthNumber(periods[0] as string);
  const recent = q.recentMonths ?? 3;
  const recentFrom = addMonths(q.period, -(recent - 1));
  if (months === null) {
    // Who is scored: employers with a social-insurance row in the recent
    // months (closures stay visible a while), named by their latest row.
    // Employers that stopped reporting before that are gone, not at risk.
    await copyScan(client, `SELECT s.bucket, s.uscc, s.period, s.name, s.city_code, s.region_code, s.industry_code FROM social_insurance s WHERE ${factWhere(client, q, 's', recentFrom, q.period)}`, (r) => {
      const bucket = r.int();
      const i = b.employer(r.ascii(), bucket);
      b.attributes(i, r.month() - first, r);
    });
    await readMonths(client, b, q);
    return [];
  }
  const fresh: number[] = [];
  const recentIndex = periods.indexOf(recentFrom);
  for (const m of [...months].sort((x, y) => x - y)) {
    const period = periods[m] as string;
    b.clearMonth(m);
    await copyScan(
      client,
      `SELECT s.bucket, s.uscc, s.name, s.city_code, s.region_code, s.industry_code, s.insured, s.hired, s.separated, s.arrears_months, s.wage_base_total,
              s.ui_claims, s.separated_transfer, s.separated_natural, s.separated_migrant, s.separated_graduate
         FROM social_insurance s WHERE ${factWhere(client, q, 's', period, period)}`,
      (r) => {
        const bucket = r.int();
        const uscc = r.ascii();
        let i = b.known(uscc);
        if (i === undefined) {
          if (m < recentIndex) return;
          i = b.employer(uscc, bucket);
          fresh.push(i);
        }
        // Named, as from the facts, by the latest row of the recent months.
        if (m >= recentIndex) b.attributes(i, m, r);
        else r.skip(4);
        b.si(i, m, r);
      },
    );
    await copyScan(client, `SELECT h.uscc, h.jobs_begin, h.jobs_end, h.jobs_lost, h.planned_layoffs, h.furloughed FROM headcount h WHERE ${factWhere(client, q, 'h', period, period)}`, (r) => {
      const i = b.next(r);
      if (i !== undefined) b.hc(i, m, r);
    });
  }
  return fresh;
}

/** The social-insurance and headcount values of every employer already in b (or only those `only` selects), every month of the window. */
async function readMonths(client: pg.PoolClient, b: BatchBuilder, q: ShardQuery, only = ''): Promise<void> {
  const from = b.periods[0] as string;
  const to = q.period;
  const first = monthNumber(from);
  // No ORDER BY, so each month's partition is one scan; the text columns
  // came with the employers, once per employer, not once per month.
  const join = (alias: string): string => (only === '' ? '' : ` JOIN (${only}) k ON k.bucket = ${alias}.bucket AND k.uscc = ${alias}.uscc`);
  await copyScan(
    client,
    `SELECT s.uscc, s.period, s.insured, s.hired, s.separated, s.arrears_months, s.wage_base_total,
            s.ui_claims, s.separated_transfer, s.separated_natural, s.separated_migrant, s.separated_graduate
       FROM social_insurance s${join('s')} WHERE ${factWhere(client, q, 's', from, to)}`,
    (r) => {
      const i = b.next(r);
      if (i !== undefined) b.si(i, r.month() - first, r);
    },
  );
  await copyScan(
    client,
    `SELECT h.uscc, h.period, h.jobs_begin, h.jobs_end, h.jobs_lost, h.planned_layoffs, h.furloughed FROM headcount h${join('h')} WHERE ${factWhere(client, q, 'h', from, to)}`,
    (r) => {
      const i = b.next(r);
      if (i !== undefined) b.hc(i, r.month() - first, r);
    },
  );
}

/** The whole window of these employers from the facts (index probes: a few employers of a shard). */
async function readHistoryOf(client: pg.PoolClient, b: BatchBuilder, q: ShardQuery, employers: readonly number[]): Promise<void> {
  if (employers.length === 0) return;
  const buckets = employers.map((i) => b.bucketOf(i));
  const codes = employers.map((i) => b.usccOf(i));
  const only = `SELECT * FROM unnest(${lit(client, `{${buckets.join(',')}}`)}::smallint[], ${lit(client, `{${codes.join(',')}}`)}::char(18)[]) AS k(bucket, uscc)`;
  await readMonths(client, b, q, only);
}

async function readFilings(client: pg.PoolClient, b: BatchBuilder, q: ShardQuery): Promise<void> {
  const filings = await client.query<{ uscc: string; filing_id: string; filed_on: string; effective_on: string; planned_count: number; staff_total: number }>(
    `SELECT uscc, filing_id, to_char(filed_on, 'YYYY-MM-DD') AS filed_on, to_char(effective_on, 'YYYY-MM-DD') AS effective_on, planned_count, staff_total
       FROM layoff_filing
      WHERE bucket BETWEEN $1 AND $2 AND effective_on >= $3::date
      ORDER BY filed_on, filing_id`,
    [q.bucketFrom, q.bucketTo, periodDate(b.periods[0] as string)],
  );
  for (const f of filings.rows) {
    const i = b.known(f.uscc);
    if (i !== undefined) b.filing(i, { filingId: f.filing_id, filedOn: f.filed_on, effectiveOn: f.effective_on, plannedCount: f.planned_count, staffTotal: f.staff_total });
  }
}

/** Staff a new code must start with to count as a place transferred staff may have gone. */
const MIN_INTAKE = 5;

/** A ScoringContext over a list of new employer codes (also how a worker thread rebuilds the one the main thread read). */
export function intakeContext(intakes: readonly NewEmployerIntake[]): ScoringContext {
  const byKey = new Map<string, NewEmployerIntake[]>();
  for (const r of intakes) {
    const key = `${r.cityCode}|${r.period}`;
    const list = byKey.get(key) ?? [];
    list.push(r);
    byKey.set(key, list);
  }
  return { intakes, newIntakes: (city, period) => byKey.get(`${city}|${period}`) ?? [] };
}
