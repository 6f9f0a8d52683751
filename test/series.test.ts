import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../services/db/database.js';
import { addMonths, periodDate } from '../services/domain/period.js';
import { at, type SeriesBatch } from '../services/scoring/series.js';
import { SeriesRepository } from '../services/scoring/series.repository.js';
import type { GenerateSummary } from '../services/synth/province.generate.js';
import { createTestDatabase } from './harness/db.js';
import { ingestProvince } from './harness/province.js';

let database: Database;
let summary: GenerateSummary;
let series: SeriesRepository;

beforeAll(async () => {
  database = await createTestDatabase();
  ({ summary } = await ingestProvince(database, { employers: 2500, months: 15, seed: 5 }));
  series = new SeriesRepository(database);
}, 120_000);

afterAll(async () => {
  await database.close();
});

describe('reading a shard for scoring', () => {
  let batch: SeriesBatch;
  beforeAll(async () => {
    batch = await series.readShard({ period: summary.lastPeriod, months: 12, bucketFrom: 0, bucketTo: 255 });
  });

  it('holds every employer that reported in the last three months, with its months in place', async () => {
    const recent = await database.pool.query<{ n: number }>(
      `SELECT count(DISTINCT uscc)::int AS n FROM social_insurance WHERE period >= $1::date`,
      [periodDate(addMonths(summary.lastPeriod, -2))],
    );
    expect(batch.size).toBe(recent.rows[0]?.n);
    expect(batch.periods).toHaveLength(12);
    expect(batch.periods.at(-1)).toBe(summary.lastPeriod);

    for (const i of [0, Math.floor(batch.size / 2), batch.size - 1]) {
      const uscc = batch.uscc[i] as string;
      const rows = await database.db.selectFrom('social_insurance').selectAll().where('uscc', '=', uscc).where('period', '>=', periodDate(batch.periods[0] as string)).execute();
      for (const row of rows) {
        const m = batch.periods.indexOf(row.period.slice(0, 7));
        const k = at(batch, i, m);
        expect(batch.si[k]).toBe(1);
        expect([batch.insured[k], batch.hired[k], batch.separated[k]]).toEqual([row.insured, row.hired, row.separated]);
        expect(batch.uiClaims[k]).toBe(row.ui_claims ?? -1);
        expect(batch.separatedTransfer[k]).toBe(row.separated_transfer ?? -1);
        expect(batch.wageBaseTotal[k]).toBeCloseTo(Number(row.wage_base_total), 2);
      }
      const missing = batch.periods.filter((p) => !rows.some((r) => r.period.startsWith(p)));
      for (const p of missing) expect(batch.si[at(batch, i, batch.periods.indexOf(p))]).toBe(0);
    }
  });

  it('attaches headcount reports and Art. 41 filings to their employers', async () => {
    const hc = await database.db.selectFrom('headcount').select(['uscc', 'period', 'planned_layoffs']).where('period', '=', periodDate(summary.lastPeriod)).limit(5).execute();
    for (const h of hc) {
      const i = batch.uscc.indexOf(h.uscc);
      if (i < 0) continue;
      const k = at(batch, i, batch.months - 1);
      expect(batch.hc[k]).toBe(1);
      expect(batch.plannedLayoffs[k]).toBe(h.planned_layoffs);
    }
    const filed = await database.db.selectFrom('layoff_filing').select(['uscc', 'filing_id']).where('effective_on', '>=', periodDate(batch.periods[0] as string)).execute();
    for (const f of filed) {
      const i = batch.uscc.indexOf(f.uscc);
      if (i >= 0) expect(batch.filings[i]?.map((x) => x.filingId)).toContain(f.filing_id);
    }
  });

  it('splits by bucket range and city without losing anyone', async () => {
    const low = await series.readShard({ period: summary.lastPeriod, months: 12, bucketFrom: 0, bucketTo: 127 });
    const high = await series.readShard({ period: summary.lastPeriod, months: 12, bucketFrom: 128, bucketTo: 255 });
    expect(low.size + high.size).toBe(batch.size);
    const chengdu = await series.readShard({ period: summary.lastPeriod, months: 12, bucketFrom: 0, bucketTo: 255, city: '510100' });
    expect(chengdu.size).toBe(batch.cityCode.filter((c) => c === '510100').length);
    expect(new Set(chengdu.cityCode)).toEqual(new Set(['510100']));
  });

  it('finds the new employer codes that transferred staff move to', async () => {
    const events = readFileSync(join(summary.truthDir, 'events.jsonl'), 'utf8').split('\n').filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { type: string; period: string; city_code: string; to_uscc: string | null });
    const transfers = events.filter((e) => e.type === 'transfer' && e.to_uscc !== null);
    expect(transfers.length).toBeGreaterThan(0);
    const ctx = await series.newIntakes([...new Set(transfers.map((t) => t.period))]);
    for (const t of transfers) expect(ctx.newIntakes(t.city_code, t.period).map((n) => n.uscc)).toContain(t.to_uscc);
  });
});
