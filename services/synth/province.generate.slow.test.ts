import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cityOfRegion } from '../domain/region.js';
import { checkUscc } from '../domain/uscc.js';
import { CITIES } from '../../config/cities.js';
import { readBatch, readManifest, rowProblems, sha256, splitCsv } from './feed.read.testkit.js';
import type { Batch, Manifest, Row } from './feed.read.testkit.js';
import { generateProvince } from './province.generate.js';
import type { GenerateSummary } from './province.generate.js';

const EMPLOYERS = 4000;
const MONTHS = 36;
const SEED = 20261;

interface TruthEvent {
  id: string;
  type: string;
  uscc: string | null;
  city_code: string;
  period: string;
  end_period: string;
  size: number;
  workforce: number;
  statutory: boolean;
  sudden: boolean;
  precursor_start: string | null;
  signals: string[];
  filed: boolean;
  filing_in_feed: boolean;
  filing_id: string | null;
  planned_count: number | null;
  spread_months: number;
  to_uscc: string | null;
  transfer_reported: boolean | null;
  months?: number;
  industry_section?: string;
}

interface Defect {
  kind: string;
  feed: string;
  period: string;
  file: string;
  line: number | null;
  uscc: string | null;
  first_line?: number;
  original_file?: string;
  original_line?: number;
  true_uscc?: string;
}

const root = mkdtempSync(join(tmpdir(), 'synth-'));
let summary: GenerateSummary;
let manifest: Manifest;
let batches: Batch[];
let events: TruthEvent[];
let defects: Defect[];
let employers: Record<string, string>[];
const sourceDir = join(root, 'main', 'feeds');
const truthDir = join(root, 'main', 'truth');

function readJsonl<T>(file: string): T[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as T);
}

function readCsv(file: string): Record<string, string>[] {
  const [head, ...lines] = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  const cols = splitCsv(head ?? '');
  return lines.map((l) => {
    const f = splitCsv(l);
    return Object.fromEntries(cols.map((c, i) => [c, f[i] ?? '']));
  });
}

/** Social-insurance rows by employer, then period (originals only; defect rows left out). */
function seriesByEmployer(): Map<string, Map<string, Row>> {
  const skip = defectLines();
  const out = new Map<string, Map<string, Row>>();
  for (const b of batches) {
    if (b.entry.feed !== 'social_insurance' || b.entry.file.includes('-r')) continue;
    const bad = skip.get(b.entry.file);
    for (const r of b.rows) {
      if (bad?.has(r.line)) continue;
      const u = r.get('uscc');
      let m = out.get(u);
      if (!m) out.set(u, (m = new Map<string, Row>()));
      m.set(r.get('period'), r);
    }
  }
  return out;
}

/** Lines that are defects by design (broken codes, repeated rows), by file. */
function defectLines(): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (const d of defects) {
    if (d.line === null || (d.kind !== 'bad_check_digit' && d.kind !== 'duplicate_row')) continue;
    let s = out.get(d.file);
    if (!s) out.set(d.file, (s = new Set()));
    s.add(d.line);
  }
  return out;
}

function addMonths(period: string, n: number): string {
  const [y, m] = period.split('-').map(Number) as [number, number];
  const o = y * 12 + m - 1 + n;
  const yy = Math.floor(o / 12);
  return `${yy}-${String(o - yy * 12 + 1).padStart(2, '0')}`;
}

beforeAll(async () => {
  summary = await generateProvince({ outDir: join(root, 'main'), employers: EMPLOYERS, months: MONTHS, seed: SEED, lastPeriod: '2026-10' });
  manifest = readManifest(sourceDir);
  batches = manifest.batches.map((e) => readBatch(sourceDir, e));
  events = readJsonl<TruthEvent>(join(truthDir, 'events.jsonl'));
  defects = readJsonl<Defect>(join(truthDir, 'defects.jsonl'));
  employers = readCsv(join(truthDir, 'employers.csv'));
}, 120_000);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('generateProvince options', () => {
  it.each([
    [{ employers: 0 }, /employers must be at least 1/],
    [{ employers: 2.5 }, /employers must be a whole number/],
    [{ months: 0 }, /months must be at least 1/],
    [{ months: Number.NaN }, /months must be a whole number/],
    [{ seed: 0.5 }, /seed must be an integer/],
    [{ lastPeriod: '2026-13' }, /lastPeriod must be a month/],
    [{ lastPeriod: '26-10' }, /lastPeriod must be a month/],
    [{ lastPeriod: '1990-03', months: 12 }, /before 1990-01/],
  ])('refuses %o', async (bad, message) => {
    await expect(generateProvince({ outDir: join(root, 'bad'), employers: 10, months: 2, seed: 1, ...bad })).rejects.toThrow(message);
  });
});

describe('determinism', () => {
  it('gives byte-identical output for the same seed and different output for another', async () => {
    const run = async (name: string, seed: number) => {
      await generateProvince({ outDir: join(root, name), employers: 1500, months: 14, seed });
      const m = readManifest(join(root, name, 'feeds'));
      const truth = ['employers.csv', 'events.jsonl', 'defects.jsonl'].map((f) => readFileSync(join(root, name, 'truth', f), 'utf8'));
      return { m, truth };
    };
    const a = await run('det-a', 99);
    const b = await run('det-b', 99);
    const c = await run('det-c', 100);
    expect(b.m).toEqual(a.m);
    expect(b.truth).toEqual(a.truth);
    expect(a.m.generated_at).toBe('2026-11-03T01:12:00+08:00');
    expect(c.m.batches.map((x) => x.sha256)).not.toEqual(a.m.batches.map((x) => x.sha256));
    expect(c.truth[0]).not.toEqual(a.truth[0]);
  }, 60_000);
});

describe('manifest', () => {
  it('lists four batches a month plus one restatement, in order, with matching sha256 and row counts', () => {
    expect(manifest.generated_at).toBe('2026-11-03T01:12:00+08:00');
    expect(manifest.batches).toHaveLength(MONTHS * 4 + 1);
    expect(summary.batches).toBe(manifest.batches.length);
    expect(summary.firstPeriod).toBe('2023-11');
    for (const b of batches) {
      expect(sha256(b.bytes), b.entry.file).toBe(b.entry.sha256);
      expect(b.rows.length, b.entry.file).toBe(b.entry.rows);
    }
    const originals = manifest.batches.filter((b) => !b.file.includes('-r1'));
    originals.forEach((b, i) => {
      const period = addMonths('2023-11', Math.floor(i / 4));
      const feed = (['social_insurance', 'headcount', 'regional', 'layoff_filings'] as const)[i % 4];
      expect(b.feed).toBe(feed);
      expect(b.period).toBe(period);
      const ext = { social_insurance: '.csv.gz', headcount: '.csv', regional: '.jsonl', layoff_filings: '.csv' }[b.feed];
      expect(b.file).toBe(`${b.feed}-${period}${ext}`);
    });
    const restated = manifest.batches.findIndex((b) => b.file.includes('-r1'));
    const entry = manifest.batches[restated];
    expect(entry?.file).toBe('social_insurance-2026-08-r1.csv.gz');
    const original = manifest.batches.findIndex((b) => b.file === 'social_insurance-2026-08.csv.gz');
    expect(restated).toBeGreaterThan(original);
    for (const feed of ['social_insurance', 'headcount', 'regional', 'layoff_filings'] as const) {
      expect(summary.rows[feed]).toBe(manifest.batches.filter((b) => b.feed === feed).reduce((s, b) => s + b.rows, 0));
    }
    // A month with no filings still has its (header-only) batch.
    expect(manifest.batches.filter((b) => b.feed === 'layoff_filings')).toHaveLength(MONTHS);
  });
});

describe('rows follow the feed contract', () => {
  it('every row that is not a deliberate defect is valid', () => {
    const skip = defectLines();
    let checked = 0;
    for (const b of batches) {
      const bad = skip.get(b.entry.file);
      for (const r of b.rows) {
        if (bad?.has(r.line)) continue;
        expect(rowProblems(b.entry.feed, b.entry.period, r), `${b.entry.file}:${r.line} ${r.raw}`).toEqual([]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100_000);
  });

  it('has one row per employer per period, except the repeated rows', () => {
    const skip = defectLines();
    for (const b of batches) {
      if (b.entry.feed === 'layoff_filings') {
        const ids = b.rows.map((r) => r.get('filing_id'));
        expect(new Set(ids).size).toBe(ids.length);
        continue;
      }
      const key = b.entry.feed === 'regional' ? 'region_code' : 'uscc';
      const bad = skip.get(b.entry.file);
      const seen = new Set<string>();
      for (const r of b.rows) {
        if (bad?.has(r.line)) continue;
        expect(seen.has(r.get(key)), `${b.entry.file}:${r.line}`).toBe(false);
        seen.add(r.get(key));
      }
      if (b.entry.feed === 'regional') expect([...seen].sort()).toEqual(CITIES.map((c) => c.code).sort());
    }
  });

  it('quotes names that hold a comma or a quote', () => {
    const si = batches.find((b) => b.entry.feed === 'social_insurance');
    const names = si?.rows.map((r) => r.get('name')) ?? [];
    expect(names.some((n) => n.includes(','))).toBe(true);
    expect(names.some((n) => n.includes('"'))).toBe(true);
    expect(si?.rows.some((r) => r.raw.includes('""'))).toBe(true);
  });

  it('filing ids are unique across batches and filings precede their layoff by 30–60 days', () => {
    const all = batches.filter((b) => b.entry.feed === 'layoff_filings').flatMap((b) => b.rows);
    expect(all.length).toBeGreaterThan(5);
    expect(new Set(all.map((r) => r.get('filing_id'))).size).toBe(all.length);
    for (const r of all) {
      const days = (Date.parse(r.get('effective_on')) - Date.parse(r.get('filed_on'))) / 86_400_000;
      expect(days).toBeGreaterThanOrEqual(30);
      expect(days).toBeLessThanOrEqual(60);
    }
  });
});

describe('defects', () => {
  it('are each really in the file at the line given', () => {
    const byFile = new Map(batches.map((b) => [b.entry.file, b]));
    const kinds = new Set(defects.map((d) => d.kind));
    expect([...kinds].sort()).toEqual(['bad_check_digit', 'duplicate_row', 'gbk_encoding', 'missing_month', 'restatement']);
    for (const d of defects) {
      const b = byFile.get(d.file);
      expect(b, d.file).toBeDefined();
      if (!b) continue;
      const at = (line: number) => b.rows.find((r) => r.line === line);
      switch (d.kind) {
        case 'bad_check_digit': {
          const r = at(d.line ?? -1);
          expect(r?.get('uscc')).toBe(d.uscc);
          expect(checkUscc(d.uscc ?? '')?.kind).toBe('check');
          expect(checkUscc(d.true_uscc ?? '')).toBeUndefined();
          break;
        }
        case 'duplicate_row': {
          expect(d.line).toBeGreaterThan(d.first_line ?? Infinity);
          expect(at(d.line ?? -1)?.raw).toBe(at(d.first_line ?? -1)?.raw);
          expect(at(d.line ?? -1)?.get('uscc')).toBe(d.uscc);
          break;
        }
        case 'missing_month':
          expect(b.rows.some((r) => r.get('uscc') === d.uscc)).toBe(false);
          expect(employers.some((e) => e.uscc === d.uscc)).toBe(true);
          break;
        case 'restatement': {
          const corrected = at(d.line ?? -1);
          const original = byFile.get(d.original_file ?? '')?.rows.find((r) => r.line === d.original_line);
          expect(corrected?.get('uscc')).toBe(d.uscc);
          expect(original?.get('uscc')).toBe(d.uscc);
          expect(corrected?.raw).not.toBe(original?.raw);
          break;
        }
        case 'gbk_encoding': {
          expect(b.entry.encoding).toBe('gbk');
          const raw = b.bytes;
          expect(() => new TextDecoder('utf-8', { fatal: true }).decode(raw)).toThrow();
          const text = iconv.decode(raw, 'gbk');
          expect(text).toMatch(/有限公司/);
          expect(iconv.encode(text, 'gbk').equals(raw)).toBe(true);
          break;
        }
        default:
          throw new Error(`unexpected defect kind ${d.kind}`);
      }
    }
    const counts: Record<string, number> = {};
    for (const d of defects) counts[d.kind] = (counts[d.kind] ?? 0) + 1;
    expect(summary.defects).toEqual(counts);
    expect(manifest.batches.filter((b) => b.encoding === 'gbk')).toHaveLength(1);
    const siRows = summary.rows.social_insurance;
    expect(counts.bad_check_digit ?? 0).toBeGreaterThanOrEqual(1);
    expect(counts.bad_check_digit ?? 0).toBeLessThan(siRows * 0.002);
    expect(counts.duplicate_row ?? 0).toBeLessThan(siRows * 0.001);
    expect(counts.missing_month ?? 0).toBeLessThan(siRows * 0.005);
  });

  it('are absent with defects: false, and the simulated rows stay the same', async () => {
    const out = join(root, 'clean');
    const clean = await generateProvince({ outDir: out, employers: EMPLOYERS, months: MONTHS, seed: SEED, defects: false });
    expect(Object.values(clean.defects).every((n) => n === 0)).toBe(true);
    expect(readFileSync(join(out, 'truth', 'defects.jsonl'), 'utf8')).toBe('');
    const m = readManifest(join(out, 'feeds'));
    expect(m.batches).toHaveLength(MONTHS * 4);
    expect(m.batches.every((b) => b.encoding === 'utf-8' && !b.file.includes('-r'))).toBe(true);
    for (const e of m.batches.filter((b) => b.feed === 'social_insurance')) {
      const b = readBatch(join(out, 'feeds'), e);
      const seen = new Set<string>();
      for (const r of b.rows) {
        expect(rowProblems('social_insurance', e.period, r)).toEqual([]);
        expect(seen.has(r.get('uscc'))).toBe(false);
        seen.add(r.get('uscc'));
      }
    }
    // Apart from the defects, the defective run delivers exactly the clean run's rows.
    const period = '2025-06';
    const cleanRows = new Set(readBatch(join(out, 'feeds'), m.batches.find((b) => b.file === `social_insurance-${period}.csv.gz`) as Manifest['batches'][number]).rows.map((r) => r.raw));
    const noisy = batches.find((b) => b.entry.file === `social_insurance-${period}.csv.gz`);
    const skip = defectLines().get(`social_insurance-${period}.csv.gz`) ?? new Set();
    const missing = defects.filter((d) => d.kind === 'missing_month' && d.period === period).length;
    let kept = 0;
    for (const r of noisy?.rows ?? []) {
      if (skip.has(r.line)) continue;
      expect(cleanRows.has(r.raw), r.raw).toBe(true);
      kept++;
    }
    const bad = defects.filter((d) => d.kind === 'bad_check_digit' && d.period === period).length;
    expect(kept + bad + missing).toBe(cleanRows.size);
    expect(JSON.parse(readFileSync(join(out, 'truth', 'events.jsonl'), 'utf8').split('\n')[0] ?? '{}')).toEqual(events[0]);
  }, 60_000);
});

describe('realism', () => {
  it('has heavy-tailed employer sizes and a dominant Chengdu', () => {
    const base = employers.filter((e) => e.parent_uscc === '');
    expect(base).toHaveLength(EMPLOYERS);
    const sizes = base.map((e) => Number(e.base_size)).sort((a, b) => a - b);
    const median = sizes[Math.floor(sizes.length / 2)] ?? 0;
    expect(median).toBeLessThan(20);
    expect(sizes.filter((s) => s < 50).length / sizes.length).toBeGreaterThan(0.8);
    expect(sizes[sizes.length - 1]).toBeGreaterThan(2000);
    const total = sizes.reduce((a, b) => a + b, 0);
    const top = sizes.slice(-Math.ceil(sizes.length / 100)).reduce((a, b) => a + b, 0);
    expect(top / total).toBeGreaterThan(0.25);
    const chengdu = base.filter((e) => e.city_code === '510100').length / base.length;
    expect(chengdu).toBeGreaterThan(0.33);
    expect(chengdu).toBeLessThan(0.43);
    const cities = new Set(base.map((e) => e.city_code));
    expect(cities.size).toBe(21);
    for (const e of employers) {
      const r = cityOfRegion(e.region_code ?? '');
      expect(r.ok && r.city).toBe(e.city_code);
      expect(checkUscc(e.uscc ?? '')).toBeUndefined();
    }
    expect(new Set(employers.map((e) => e.uscc)).size).toBe(employers.length);
  });

  it('monitors every employer of 300+ and a few smaller ones, and only those report headcount', () => {
    const base = employers.filter((e) => e.parent_uscc === '');
    for (const e of base) if (Number(e.base_size) >= 300) expect(e.monitored).toBe('true');
    const monitored = new Set(employers.filter((e) => e.monitored === 'true').map((e) => e.uscc));
    expect(monitored.size / employers.length).toBeLessThan(0.06);
    expect(base.some((e) => e.monitored === 'true' && Number(e.base_size) < 300)).toBe(true);
    for (const b of batches.filter((x) => x.entry.feed === 'headcount')) for (const r of b.rows) expect(monitored.has(r.get('uscc'))).toBe(true);
  });

  it('has the planned mix of layoffs: some sudden, some filed, statutory flags that follow the law', () => {
    const layoffs = events.filter((e) => e.type === 'layoff');
    expect(layoffs.length).toBeGreaterThan(20);
    const sudden = layoffs.filter((e) => e.sudden);
    expect(sudden.length / layoffs.length).toBeGreaterThanOrEqual(0.2);
    expect(sudden.length / layoffs.length).toBeLessThan(0.45);
    for (const e of sudden) {
      expect(e.precursor_start).toBeNull();
      expect(e.signals).toEqual([]);
      expect(e.filed).toBe(false);
    }
    for (const e of layoffs) {
      expect(e.statutory).toBe(e.size >= 20 || e.size >= 0.1 * e.workforce);
      expect(e.size).toBeGreaterThan(0);
    }
    const warned = layoffs.filter((e) => !e.sudden);
    expect(warned.filter((e) => e.signals.length > 0).length / warned.length).toBeGreaterThan(0.8);
    expect(layoffs.some((e) => e.filed)).toBe(true);
    expect(layoffs.some((e) => e.statutory && !e.filed)).toBe(true);
    // Distress that recovers must be common enough that signals alone do not mean a layoff.
    const episodes = events.filter((e) => e.type === 'distress').length;
    const ended = events.filter((e) => (e.type === 'layoff' || e.type === 'closure') && !e.sudden).length;
    expect(episodes / (episodes + ended)).toBeGreaterThanOrEqual(0.3);
    expect(Object.keys(summary.events).sort()).toEqual(['closure', 'distress', 'layoff', 'shock', 'transfer']);
  });

  it('shows each layoff as separations far above the baseline, and each filing in the feed', () => {
    const series = seriesByEmployer();
    const filings = new Map(batches.filter((b) => b.entry.feed === 'layoff_filings').flatMap((b) => b.rows.map((r) => [r.get('filing_id'), r] as const)));
    let checked = 0;
    for (const e of events.filter((x) => x.type === 'layoff' && x.size >= 8)) {
      const s = series.get(e.uscc ?? '');
      const row = s?.get(e.period);
      const next = s?.get(addMonths(e.period, 1));
      if (!row || (e.spread_months === 2 && !next)) continue;
      const sep = Number(row.get('separated')) + (e.spread_months === 2 ? Number(next?.get('separated')) : 0);
      const before = [1, 2, 3, 4, 5, 6].map((k) => s?.get(addMonths(e.period, -k))).filter((r): r is Row => r !== undefined).map((r) => Number(r.get('separated')));
      const sorted = before.sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
      expect(sep, e.id).toBeGreaterThanOrEqual(e.size);
      expect(Number(row.get('separated')), e.id).toBeGreaterThan(median + 0.3 * e.size);
      checked++;
    }
    expect(checked).toBeGreaterThan(5);
    for (const e of events.filter((x) => x.filing_in_feed)) {
      const f = filings.get(e.filing_id ?? '');
      expect(f?.get('uscc')).toBe(e.uscc);
      expect(Number(f?.get('planned_count'))).toBe(e.planned_count);
      expect((f?.get('filed_on').slice(0, 7) ?? '9999') < e.period, e.id).toBe(true);
    }
  });

  it('moves transferred staff to a new code that appears with them, and closes employers for good', () => {
    const series = seriesByEmployer();
    const transfers = events.filter((e) => e.type === 'transfer');
    expect(transfers.length).toBeGreaterThan(3);
    for (const e of transfers) {
      const target = employers.find((x) => x.uscc === e.to_uscc);
      expect(target?.parent_uscc).toBe(e.uscc);
      expect(target?.first_period).toBe(e.period);
      expect(target?.city_code).toBe(e.city_code);
      const first = series.get(e.to_uscc ?? '')?.get(e.period);
      if (first) expect(Number(first.get('hired'))).toBeGreaterThanOrEqual(e.size);
      const from = series.get(e.uscc ?? '')?.get(e.period);
      if (from && from.get('separated_transfer') !== '' && e.transfer_reported) expect(Number(from.get('separated_transfer'))).toBe(e.size);
      if (from && !e.transfer_reported) expect(Number(from.get('separated_transfer') || '0')).toBe(0);
    }
    const closures = events.filter((e) => e.type === 'closure' && e.size > 0);
    expect(closures.length).toBeGreaterThan(10);
    for (const e of closures) {
      const s = series.get(e.uscc ?? '');
      const after = [...(s?.keys() ?? [])].filter((p) => p > e.end_period);
      expect(after, e.id).toEqual([]);
      const last = s?.get(e.end_period);
      if (last) expect(last.get('insured')).toBe('0');
    }
  });

  it('has a Spring Festival wave of migrant departures and a regional shock', () => {
    const byMonth = new Map<string, number>();
    for (const b of batches) {
      if (b.entry.feed !== 'social_insurance' || b.entry.file.includes('-r')) continue;
      byMonth.set(b.entry.period, b.rows.reduce((s, r) => s + Number(r.get('separated_migrant') || 0), 0));
    }
    const festival = [...byMonth].filter(([p]) => /-(01|02)$/.test(p)).map(([, v]) => v);
    const rest = [...byMonth].filter(([p]) => !/-(01|02|03)$/.test(p)).map(([, v]) => v);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(festival)).toBeGreaterThan(1.5 * mean(rest));
    const shock = events.filter((e) => e.type === 'shock');
    expect(shock).toHaveLength(1);
    expect(shock[0]?.industry_section).toBe('C');
    expect(shock[0]?.months).toBeGreaterThanOrEqual(4);
    expect(shock[0]?.months).toBeLessThanOrEqual(6);
  });

  it('adds up regional claims from the employers plus a background', () => {
    const skip = defectLines();
    for (const period of ['2024-06', '2025-09', '2026-02']) {
      const si = batches.find((b) => b.entry.file === `social_insurance-${period}.csv.gz`);
      const regional = batches.find((b) => b.entry.file === `regional-${period}.jsonl`);
      const sums = new Map<string, number>();
      for (const r of si?.rows ?? []) {
        if (skip.get(si?.entry.file ?? '')?.has(r.line)) continue;
        const city = cityOfRegion(r.get('region_code'));
        if (city.ok) sums.set(city.city, (sums.get(city.city) ?? 0) + Number(r.get('ui_claims') || 0));
      }
      for (const r of regional?.rows ?? []) {
        expect(Number(r.get('ui_new_claims'))).toBeGreaterThanOrEqual(sums.get(r.get('region_code')) ?? 0);
        const rate = r.get('surveyed_unemployment_rate');
        if (rate !== '') {
          expect(Number(rate)).toBeGreaterThan(3);
          expect(Number(rate)).toBeLessThan(9);
        }
      }
      expect(regional?.rows.some((r) => r.get('surveyed_unemployment_rate') === '')).toBe(true);
    }
  });

  it('writes gzip social insurance that decompresses to what the manifest counts', () => {
    const e = manifest.batches[0];
    const raw = readFileSync(join(sourceDir, e?.file ?? ''));
    expect(raw[0]).toBe(0x1f);
    expect(raw[1]).toBe(0x8b);
    const lines = gunzipSync(raw).toString('utf8').split('\n').filter((l) => l !== '');
    expect(lines.length - 1).toBe(e?.rows);
  });
});
