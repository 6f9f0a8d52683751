import pg from 'pg';
import { CITIES } from '../config/cities.js';
import { openDatabase, withDatabaseName } from '../services/db/database.js';
import { migrate } from '../services/db/migrate.js';
import { addMonths, monthRange, periodDate } from '../services/domain/period.js';

/**
 * Province-scale history for the benchmarks, generated inside PostgreSQL
 * (INSERT … SELECT): N employers × M months of social insurance ending at
 * LAST_PERIOD, about one in ten (by bucket, so in every city) a monitored
 * enterprise with headcount reports.
 * Employer codes are valid USCCs and rows sit in the bucket the ingest
 * computes (FNV-1a), so a month ingested later through the real feed path
 * lines up with this history. Size is log-uniform from 9 to ~610; churn ~2 %
 * a month each way, doubled around the Spring Festival; one employer in 400
 * lays off a quarter of its staff in the last month, one in 97 runs arrears.
 * The database is kept between runs and rebuilt only when its shape differs.
 */

export const LAST_PERIOD = '2026-10';
// 7: rows written in (bucket, uscc) order, as the ingest merge writes them.
const GENERATOR_VERSION = 7;
const INDUSTRIES = ['C13', 'C18', 'C36', 'C39', 'E48', 'F51', 'G53', 'H62', 'I65', 'K70', 'M75', 'O80'];

export async function ensureHistory(serverUrl: string, name: string, employers: number, months: number, options: { rebuild?: boolean; say?: (s: string) => void } = {}): Promise<boolean> {
  const url = withDatabaseName(serverUrl, name);
  if (options.rebuild !== true && (await ready(url, employers, months))) return false;
  const admin = new pg.Client({ connectionString: withDatabaseName(serverUrl, 'postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  await admin.end();
  await build(url, employers, months, options.say ?? (() => undefined));
  return true;
}

async function ready(url: string, employers: number, months: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const r = await client.query<{ employers: number; months: number; version: number }>('SELECT employers, months, version FROM bench_meta');
    const row = r.rows[0];
    return row !== undefined && row.employers === employers && row.months === months && row.version === GENERATOR_VERSION;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function build(url: string, employers: number, months: number, say: (s: string) => void): Promise<void> {
  const database = openDatabase(url, 3);
  try {
    await migrate(database.pool);
    await database.pool.query(FUNCTIONS);
    const cities = CITIES.map((c) => c.code);
    say(`  ${employers} employer codes …`);
    await database.pool.query(EMPLOYERS, [employers, cities, INDUSTRIES]);
    const periods = monthRange(addMonths(LAST_PERIOD, -(months - 1)), LAST_PERIOD);
    // Partitions first: creating one locks its parent, which would deadlock against the other lane's inserts.
    for (const p of periods) {
      await database.pool.query(`SELECT ews_ensure_month_partition('social_insurance', $1::date), ews_ensure_month_partition('headcount', $1::date)`, [periodDate(p)]);
    }
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < periods.length) {
        const m = next++;
        const period = periodDate(periods[m] as string);
        await database.pool.query(SI_MONTH, [period, m, months]);
        await database.pool.query(HC_MONTH, [period]);
        say(`  month ${m + 1}/${periods.length} (${periods[m]})`);
      }
    };
    await Promise.all([lane(), lane()]);
    await database.pool.query(
      `INSERT INTO batch (source, source_url, file, feed, period, sha256, declared_rows, encoding, order_key, status, rows_read, rows_loaded, rows_quarantined, finished_at)
       SELECT 'bench', 'bench://', f || '-' || to_char(p, 'YYYY-MM'), f, p, lpad(md5(f || p::text), 64, '0'), 0, 'utf-8', 0, 'loaded', 0, 0, 0, now()
         FROM unnest($1::date[]) p, unnest(ARRAY['social_insurance', 'headcount']) f`,
      [periods.map((p) => periodDate(p))],
    );
    await database.pool.query('ANALYZE');
    await database.pool.query('CHECKPOINT');
    await database.pool.query('CREATE TABLE bench_meta (employers integer, months integer, version integer)');
    await database.pool.query('INSERT INTO bench_meta VALUES ($1, $2, $3)', [employers, months, GENERATOR_VERSION]);
  } finally {
    await database.close();
  }
}

// GB 32100 check character and the ingest's FNV-1a bucket, in SQL, for the employer table.
const FUNCTIONS = `
CREATE OR REPLACE FUNCTION bench_uscc(first17 text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  alphabet text := '0123456789ABCDEFGHJKLMNPQRTUWXY';
  weights int[] := ARRAY[1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  total int := 0;
BEGIN
  FOR i IN 1..17 LOOP
    total := total + (strpos(alphabet, substr(first17, i, 1)) - 1) * weights[i];
  END LOOP;
  RETURN first17 || substr(alphabet, ((31 - total % 31) % 31) + 1, 1);
END $$;
CREATE OR REPLACE FUNCTION bench_bucket(code text) RETURNS smallint LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  h bigint := 2166136261;
BEGIN
  FOR i IN 1..length(code) LOOP
    h := ((h # ascii(substr(code, i, 1))) * 16777619) & 4294967295;
  END LOOP;
  RETURN (h % 256)::smallint;
END $$;`;

// $1 employers, $2 city codes, $3 industry codes.
const EMPLOYERS = `
CREATE TABLE bench_employer AS
SELECT e, code AS uscc, bench_bucket(code) AS bucket, c AS city, i AS industry,
       8 + floor(exp(((e::bigint * 7919) % 10007) / 10007.0 * 6.4))::int AS size, e % 400 = 7 AS lays_off
  FROM generate_series(1, $1::int) AS e,
       LATERAL (SELECT ($2::text[])[1 + e % array_length($2::text[], 1)] AS c, ($3::text[])[1 + (e / array_length($2::text[], 1)) % array_length($3::text[], 1)] AS i) AS k,
       LATERAL (SELECT bench_uscc('91' || c || 'MA' || lpad(e::text, 7, '0')) AS code) AS u`;

// $1 period, $2 month index, $3 months.
const SI_MONTH = `
INSERT INTO social_insurance (bucket, uscc, period, name, region_code, city_code, industry_code, insured, hired, separated,
                              arrears_months, wage_base_total, ui_claims, separated_transfer, separated_natural, separated_migrant, separated_graduate, batch_id)
SELECT bucket, uscc, $1::date, '基准企业' || e, city, city, industry,
       ins, hire, sep, CASE WHEN e % 97 = 0 AND $2 > $3 - 4 THEN 1 + ($3 - 1 - $2) % 3 ELSE 0 END,
       ins * 5200.00, CASE WHEN e % 3 = 0 THEN NULL ELSE sep / 4 END, 0, sep / 5, CASE WHEN feb THEN sep / 2 ELSE 0 END, 0, 1
  FROM bench_employer,
       LATERAL (SELECT extract(month FROM $1::date) = 2 AS feb) AS k,
       LATERAL (SELECT greatest(1, size + ((e * 13 + $2 * 7) % 3) - 1 - CASE WHEN lays_off AND $2 >= $3 - 1 THEN size / 4 ELSE 0 END) AS ins,
                       (size * (CASE WHEN feb THEN 4 ELSE 2 END)) / 100 + (e + $2) % 2 AS hire,
                       (size * (CASE WHEN feb THEN 4 ELSE 2 END)) / 100 + (e + $2 * 3) % 2
                         + CASE WHEN lays_off AND $2 = $3 - 1 THEN size / 4 ELSE 0 END AS sep) AS v
 ORDER BY bucket, uscc`;

const HC_MONTH = `
INSERT INTO headcount (bucket, uscc, period, jobs_begin, jobs_end, jobs_lost, loss_reason, planned_layoffs, furloughed, dispatched, batch_id)
SELECT s.bucket, s.uscc, s.period, s.insured - s.hired + s.separated, s.insured, s.separated, CASE WHEN s.separated > 0 THEN 'other' END, 0, 0, 0, 1
  FROM social_insurance s JOIN bench_employer b ON b.bucket = s.bucket AND b.uscc = s.uscc
 WHERE s.period = $1::date AND b.bucket % 10 = 0
 ORDER BY s.bucket, s.uscc`;
