import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../config/config.schema.js';
import type { Database } from '../services/db/database.js';
import { addMonths, periodDate } from '../services/domain/period.js';
import { RiskRepository } from '../services/scoring/risk.repository.js';
import { HISTORY_MONTHS, type ScoreDeps } from '../services/scoring/score.service.js';
import { scorePeriod } from '../services/scoring/score.run.js';
import { SeriesRepository, type ShardQuery } from '../services/scoring/series.repository.js';
import type { GenerateSummary } from '../services/synth/province.generate.js';
import { createTestDatabase } from './harness/db.js';
import { captureLogger } from './harness/log.js';
import { ingestProvince } from './harness/province.js';

/**
 * The pack kept from one period to the next (series_pack) must give the
 * scoring stage exactly what the fact tables give, whatever changed in
 * between: a restatement, a late feed, an employer that comes back, a value
 * that cannot be unpacked.
 */
let database: Database;
let summary: GenerateSummary;
let series: SeriesRepository;
let deps: ScoreDeps;
let p: string;
let previous: string;
const config = configSchema.parse({});

beforeAll(async () => {
  database = await createTestDatabase();
  ({ summary } = await ingestProvince(database, { employers: 1500, months: 28, seed: 9 }));
  series = new SeriesRepository(database);
  deps = { series, risks: new RiskRepository(database), thresholds: config.scoring.thresholds, cityBands: config.scoring.cityRisk, model: null, log: captureLogger().log };
  p = summary.lastPeriod;
  previous = addMonths(p, -1);
}, 180_000);

afterAll(async () => {
  await database.close();
});

const shard = (bucketFrom = 0, bucketTo = 255): ShardQuery => ({ period: p, months: HISTORY_MONTHS, bucketFrom, bucketTo });

/** The scoring read both ways; the pack's must be the facts' to the last value. */
async function expectSameAsFacts(q: ShardQuery, stale: string[]) {
  const packed = await series.readForScoring(q);
  const facts = await series.readForScoring({ ...q, fromFacts: true });
  expect(packed.source, packed.why).toBe('pack');
  expect(packed.fromFacts).toEqual(stale);
  expect(facts.source).toBe('facts');
  expect(packed.batch.size).toBeGreaterThan(0);
  expect(packed.batch).toEqual(facts.batch);
  expect(packed.namedMonth).toEqual(facts.namedMonth);
  expect(packed.fingerprint).toEqual(facts.fingerprint);
  return packed;
}

/** Why a read did not use the pack (it must not have). */
async function whyNot(q: ShardQuery): Promise<string> {
  const read = await series.readForScoring(q);
  expect(read.source).toBe('facts');
  return read.why;
}

const riskRows = async (period: string) =>
  (
    await sql<Record<string, unknown>>`
      SELECT bucket, uscc, name, city_code, workforce, level, probability, jobs_at_stake, excess_separations, rules, kinds, explanation, rule_level
        FROM employer_risk WHERE period = ${periodDate(period)}::date ORDER BY bucket, uscc`.execute(database.db)
  ).rows;

describe('the pack kept between periods', () => {
  it('is written by a run from the facts, and read by the next period whole but for the month scored', async () => {
    const first = await scorePeriod(deps, previous, { shards: 3 });
    expect(first.shardsFromPack).toBe(0);
    const state = await sql<{ buckets: number; months: number }>`
      SELECT count(*)::int AS buckets, min(months)::int AS months FROM series_pack_state WHERE period = ${periodDate(previous)}::date`.execute(database.db);
    expect(state.rows[0]).toEqual({ buckets: 256, months: HISTORY_MONTHS });
    const packs = await sql<{ n: number }>`SELECT count(*)::int AS n FROM series_pack WHERE period = ${periodDate(previous)}::date`.execute(database.db);
    expect(packs.rows[0]?.n).toBe(first.employers);

    await expectSameAsFacts(shard(), [p]);
    await expectSameAsFacts(shard(40, 97), [p]);
  });

  it('scores a period from the pack exactly as from the facts', async () => {
    const warm = await scorePeriod(deps, p, { shards: 4 });
    expect(warm.shardsFromPack).toBe(4);
    const fromPack = await riskRows(p);
    await sql`DELETE FROM series_pack_state WHERE period = ${periodDate(previous)}::date`.execute(database.db);
    const cold = await scorePeriod(deps, p, { shards: 4 });
    expect(cold.shardsFromPack).toBe(0);
    expect(fromPack.length).toBe(cold.employers);
    expect(await riskRows(p)).toEqual(fromPack);
    // Put the pack of the month before back for the cases below.
    await scorePeriod(deps, previous, { shards: 2 });
  });

  it('re-reads a month a restatement changed, with rows it removed gone and an employer it brings back read whole', async () => {
    const restated = addMonths(p, -5);
    const victim = await sql<{ bucket: number; uscc: string }>`
      SELECT bucket, uscc FROM social_insurance WHERE period = ${periodDate(restated)}::date AND insured > 50 ORDER BY uscc LIMIT 2`.execute(database.db);
    const [changed, removed] = victim.rows;
    // An employer gone for months that reports again in the month scored: its old history must come with it.
    const back = await sql<{ bucket: number; uscc: string; last: string }>`
      SELECT bucket, uscc, to_char(max(period), 'YYYY-MM') AS last FROM social_insurance GROUP BY bucket, uscc
      HAVING max(period) BETWEEN ${periodDate(addMonths(p, -12))}::date AND ${periodDate(addMonths(p, -4))}::date
       ORDER BY uscc LIMIT 1`.execute(database.db);
    expect(changed && removed && back.rows[0], 'the province has employers to restate and one that closed').toBeTruthy();
    const returning = back.rows[0] as { bucket: number; uscc: string; last: string };
    const batch = async (period: string, feed: string): Promise<number> =>
      Number(
        (
          await sql<{ id: number }>`
            INSERT INTO batch (source, source_url, file, feed, period, sha256, declared_rows, encoding, order_key, status, finished_at)
            VALUES ('test', 'test://', ${`restate-${period}`}, ${feed}, ${periodDate(period)}::date, ${`${period}${feed}`.padEnd(64, '0')}, 1, 'utf-8', 99, 'loaded', now())
            RETURNING batch_id AS id`.execute(database.db)
        ).rows[0]?.id,
      );
    // What the ingest's merge does to the facts, done here directly, with the batch rows that record it.
    const id = await batch(restated, 'social_insurance');
    await sql`UPDATE social_insurance SET insured = insured - 40, separated = separated + 40, batch_id = ${id}
               WHERE period = ${periodDate(restated)}::date AND bucket = ${changed!.bucket} AND uscc = ${changed!.uscc}`.execute(database.db);
    await sql`DELETE FROM social_insurance WHERE period = ${periodDate(restated)}::date AND bucket = ${removed!.bucket} AND uscc = ${removed!.uscc}`.execute(database.db);
    const again = await batch(p, 'social_insurance');
    await sql`
      INSERT INTO social_insurance (bucket, uscc, period, name, region_code, city_code, industry_code, insured, hired, separated, arrears_months, wage_base_total, batch_id)
      SELECT bucket, uscc, ${periodDate(p)}::date, name, region_code, city_code, industry_code, insured, 5, 0, 0, wage_base_total, ${again}
        FROM social_insurance WHERE period = ${periodDate(returning.last)}::date AND bucket = ${returning.bucket} AND uscc = ${returning.uscc}`.execute(database.db);

    const read = await expectSameAsFacts(shard(), [restated, p]);
    const i = read.batch.uscc.indexOf(returning.uscc);
    expect(i, 'the returning employer is scored').toBeGreaterThanOrEqual(0);
    const m = read.batch.periods.indexOf(returning.last);
    expect(read.batch.si[i * read.batch.months + m], 'with its history from before the gap').toBe(1);
  });

  it('reads an employer whose packed value is damaged from the facts, none of the damage kept', async () => {
    const day = periodDate(previous);
    // One value cut short, and one whose bitmap claims early months it has no values for (it unpacks some before it fails).
    await sql`UPDATE series_pack SET series = '\\x0102'::bytea WHERE period = ${day}::date AND uscc = (SELECT min(uscc) FROM series_pack WHERE period = ${day}::date)`.execute(database.db);
    const claimed = await sql<{ uscc: string }>`
      UPDATE series_pack SET series = set_byte(series, 0, 255)
       WHERE period = ${day}::date AND uscc = (SELECT max(uscc) FROM series_pack WHERE period = ${day}::date AND get_byte(series, 0) & 254 <> 254)
      RETURNING uscc`.execute(database.db);
    expect(claimed.rows).toHaveLength(1);
    const read = await expectSameAsFacts(shard(), [addMonths(p, -5), p]);
    expect(read.batch.uscc).toContain(claimed.rows[0]?.uscc);
  });

  it('is not used where it cannot answer: one city, a shard it covers only in part, another window, too many changed months', async () => {
    const city = await series.readForScoring({ ...shard(), city: '510100' });
    expect(city).toMatchObject({ source: 'facts', why: 'one city is scored', fingerprint: null });
    await sql`DELETE FROM series_pack_state WHERE period = ${periodDate(previous)}::date AND bucket = 200`.execute(database.db);
    expect(await whyNot(shard(150, 255))).toMatch(/does not cover/);
    expect((await series.readForScoring(shard(0, 149))).source).toBe('pack');
    expect(await whyNot({ ...shard(0, 149), months: 13 })).toMatch(/holds 25 months, not 13/);
    for (let k = 1; k <= 9; k++) {
      await sql`INSERT INTO batch (source, source_url, file, feed, period, sha256, declared_rows, encoding, order_key, status)
                VALUES ('test', 'test://', ${`late-${k}`}, 'headcount', ${periodDate(addMonths(p, -k))}::date, ${`late${k}`.padEnd(64, '0')}, 0, 'utf-8', 99, 'loaded')`.execute(database.db);
    }
    expect(await whyNot(shard(0, 149))).toMatch(/10 months changed/);
  });

  it('keeps only the packs a run can still read', async () => {
    const older = addMonths(p, -2);
    await scorePeriod(deps, older, { shards: 1 });
    await scorePeriod(deps, p, { shards: 1 });
    const parts = await sql<{ name: string }>`
      SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'series_pack'::regclass ORDER BY 1`.execute(database.db);
    expect(parts.rows.map((r) => r.name)).toEqual([`series_pack_p${previous.replace('-', '')}`, `series_pack_p${p.replace('-', '')}`]);
    const state = await sql<{ period: string }>`SELECT DISTINCT to_char(period, 'YYYY-MM') AS period FROM series_pack_state ORDER BY 1`.execute(database.db);
    expect(state.rows.map((r) => r.period)).toEqual([previous, p]);
  });
});
