import { describe, expect, it } from 'vitest';
import { idCheckChar } from '../domain/pii.js';
import { usccCheckChar } from '../domain/uscc.js';
import { parseCsv } from './csv.parse.js';
import { FEEDS, type RowResult } from './feed.spec.js';
import { parseJsonl } from './jsonl.parse.js';
import type { SourceRecord } from './record.js';

const HEADER = 'uscc,name,region_code,industry_code,period,insured,hired,separated,arrears_months,wage_base_total';
const USCC = (() => {
  const first17 = '91510100MA6C5XXXX';
  return first17 + (usccCheckChar(first17) as string);
})();
const ID = (() => {
  const first17 = '51010419850312123';
  return first17 + idCheckChar(first17);
})();

async function records(text: string, jsonl = false): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  const chunks = (async function* () {
    yield await Promise.resolve(text);
  })();
  for await (const p of jsonl ? parseJsonl(chunks) : parseCsv(chunks)) if (p.ok) out.push(p.record);
  return out;
}

async function validate(line: string): Promise<RowResult> {
  const [record] = await records(`${HEADER}\n${line}\n`);
  return FEEDS.social_insurance.validate(record as SourceRecord, '2026-10');
}

describe('a row holding personal data', () => {
  it.each([
    ['an 18-digit ID number', ID],
    ['an old 15-digit ID number', '510104850312123'],
    ['a landline (028)…', '(028)85123456'],
    ['a landline with spaces', '028 8512 3457'],
    ['a landline written together', '02885123458'],
    ['a mobile with +86', '+86 138-0013-8000'],
    ['an e-mail address', 'hr@example.com'],
  ])('is refused with the column named and the value withheld: %s in the name, or in a count', async (_what, pii) => {
    for (const line of [`${USCC},成都${pii}贸易有限公司,510104,C39,2026-10,120,3,2,0,720000.00`, `${USCC},成都贸易有限公司,510104,C39,2026-10,"${pii}",3,2,0,720000.00`]) {
      const r = await validate(line);
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      const column = line.includes(`成都${pii}`) ? 'name' : 'insured';
      expect(r.problems[0]?.column).toBe(column);
      expect(r.problems[0]?.message).toMatch(new RegExp(`^${column}: looks like (a personal ID number|a phone number|an e-mail address)`));
      expect([...r.withheld]).toEqual([column]);
      expect(JSON.stringify(r.problems)).not.toContain(pii.replace(/\D/g, '').slice(0, 8) || pii);
    }
  });

  it('an ID number as the employer code is refused as such, never quoted', async () => {
    const r = await validate(`${ID},成都贸易有限公司,510104,C39,2026-10,120,3,2,0,720000.00`);
    expect(r).toEqual({ ok: false, problems: [{ column: 'uscc', message: 'uscc: looks like a personal ID number (公民身份号码); value withheld' }], withheld: new Set(['uscc']) });
  });

  it('a column whose name is an identifier is withheld, and the row goes on (one such name in a CSV header must not refuse every row)', async () => {
    const [record] = await records(`${JSON.stringify({ uscc: USCC, name: '成都贸易有限公司', region_code: '510104', industry_code: 'C39', period: '2026-10', insured: 1, hired: 0, separated: 0, arrears_months: 0, wage_base_total: '1.00', '13800138000': 'x' })}\n`, true);
    const r = FEEDS.social_insurance.validate(record as SourceRecord, '2026-10');
    expect(r.ok).toBe(true);
  });

  it('a CSV header with an identifier as a column name: every row goes on, without that column', async () => {
    const rows = await records(`${HEADER},028-85123456\n${USCC},成都贸易有限公司,510104,C39,2026-10,120,3,2,0,720000.00,x\n${USCC.slice(0, 17)}0,成都商贸有限公司,510104,C39,2026-10,80,1,1,0,1.00,y\n`);
    expect(rows).toHaveLength(2);
    const results = rows.map((r) => FEEDS.social_insurance.validate(r, '2026-10'));
    expect(results[0]?.ok).toBe(true);
    // The second row's own defect (its check character) is what refuses it, not the header.
    expect(results[1]).toMatchObject({ ok: false, problems: [{ column: 'uscc' }] });
  });

  it('an all-digit employer code, amounts and counts are not personal data', async () => {
    const first17 = '12510104450712345';
    const code = first17 + (usccCheckChar(first17) as string);
    const r = await validate(`${code},成都（锦江）贸易有限公司,510104,C39,2026-10,1380,13,138,0,13800138000.00`);
    expect(r.ok).toBe(true);
  });
});
