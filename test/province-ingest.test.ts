import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../services/db/database.js';
import type { BatchOutcome } from '../services/feeds/ingest.service.js';
import type { GenerateSummary } from '../services/synth/province.generate.js';
import { createTestDatabase } from './harness/db.js';
import { ingestProvince } from './harness/province.js';
import { periodDate } from '../services/domain/period.js';

/** The generator and the ingestion agree: every deliberate defect is caught where the truth says. */
let database: Database;
let summary: GenerateSummary;
let outcomes: BatchOutcome[];

interface Defect {
  kind: string;
  file: string;
  period: string;
  line: number | null;
  uscc?: string;
  first_line?: number;
}

beforeAll(async () => {
  database = await createTestDatabase();
  ({ summary, outcomes } = await ingestProvince(database, { employers: 3000, months: 8, seed: 11 }));
}, 120_000);

afterAll(async () => {
  await database.close();
});

const defects = (): Defect[] =>
  readFileSync(join(summary.truthDir, 'defects.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Defect);

describe('a generated province, ingested', () => {
  it('loads every batch, and every row is either loaded or quarantined', () => {
    expect(outcomes).toHaveLength(summary.batches);
    for (const o of outcomes) {
      expect(o.status, o.file).toBe('loaded');
      expect(o.rowsLoaded + o.rowsQuarantined, o.file).toBe(o.rowsRead);
    }
    const read = outcomes.reduce((n, o) => n + o.rowsRead, 0);
    expect(read).toBe(Object.values(summary.rows).reduce((a, b) => a + b, 0));
  });

  it('quarantines each bad check digit and duplicate at the line the truth names, and nothing else', async () => {
    const lined = defects().filter((d) => d.kind === 'bad_check_digit' || d.kind === 'duplicate_row');
    expect(lined.length).toBeGreaterThan(0);
    const q = await sql<{ file: string; line_no: number; reason: string }>`
      SELECT b.file, q.line_no, q.reason FROM quarantine q JOIN batch b USING (batch_id) ORDER BY b.file, q.line_no`.execute(database.db);
    expect(q.rows.map((r) => `${r.file}:${r.line_no}`).sort()).toEqual(lined.map((d) => `${d.file}:${d.line}`).sort());
    for (const d of lined) {
      const row = q.rows.find((r) => r.file === d.file && r.line_no === d.line);
      if (d.kind === 'bad_check_digit') expect(row?.reason).toMatch(new RegExp(`^uscc ${d.uscc}: check digit should be [0-9A-Y]$`));
      else expect(row?.reason).toBe(`duplicate: uscc ${d.uscc} already at line ${d.first_line}; the first is kept`);
    }
  });

  it('leaves the months an employer did not report empty, and applies the restatement', async () => {
    const missing = defects().filter((d) => d.kind === 'missing_month').slice(0, 20);
    for (const d of missing) {
      const row = await database.db.selectFrom('social_insurance').select('uscc').where('uscc', '=', d.uscc!).where('period', '=', periodDate(d.period)).executeTakeFirst();
      expect(row, `${d.uscc} ${d.period}`).toBeUndefined();
    }
    const restatement = outcomes.find((o) => /-r1\./.test(o.file));
    expect(restatement?.rowsReplaced).toBe(summary.defects['restatement']);
  });

  it('reads the GBK batch into proper Chinese names', async () => {
    const gbk = JSON.parse(readFileSync(join(summary.sourceDir, 'manifest.json'), 'utf8')) as { batches: { file: string; encoding?: string }[] };
    const file = gbk.batches.find((b) => b.encoding === 'gbk')?.file;
    expect(file).toBeDefined();
    expect(outcomes.find((o) => o.file === file)?.status).toBe('loaded');
    const names = await database.db.selectFrom('social_insurance').select('name').limit(50).execute();
    for (const { name } of names) expect(name).toMatch(/[\u4e00-\u9fff]/);
  });
});
