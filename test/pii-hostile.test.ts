import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import iconv from 'iconv-lite';
import { sql } from 'kysely';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CITIES } from '../config/cities.js';
import type { Database } from '../services/db/database.js';
import { createLogger } from '../services/log.js';
import { generateProvince } from '../services/synth/province.generate.js';
import { readBatch, readManifest, type Entry } from '../services/synth/feed.read.testkit.js';
import { createTestDatabase } from './harness/db.js';
import { databaseUrl } from './harness/env.js';
import { startSmtpSink, type SmtpSink } from './harness/smtp.js';

/**
 * Issue 19: a feed carrying personal data in every form a careless guard
 * misses, in every column of every feed, as CSV, JSON Lines, gzip and GBK,
 * well-formed and broken, beside good rows. The night runs on it through the
 * `ews` command (poll, ingest, score, alerts, e-mail over real SMTP), every
 * listing command is run with and without --json, and then every row of
 * every table, every log line, every command's output and every e-mail
 * received is searched for every identifier planted: none may be found,
 * and the good rows must have loaded.
 */

const BIN = fileURLToPath(new URL('../bin/ews.js', import.meta.url));
const PERIOD = '2026-10';

// ---------------------------------------------------------------------------
// Identifiers: each planted one is distinct, so a find names its plant.

type FormName =
  | 'id18' | 'id15'
  | 'mobile' | 'mobile spaced' | 'mobile +86 dashed' | 'mobile full-width'
  | 'landline dash' | 'landline (028)' | 'landline （028）' | 'landline spaced' | 'landline compact' | 'landline 0816' | 'landline extension'
  | 'email';

interface Plant {
  readonly form: FormName;
  /** As written in the feed. */
  readonly literal: string;
  /** What a scanner looks for: the digits (ID numbers with their X) or the lower-case e-mail address. */
  readonly needle: string;
  readonly where: string;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const FULL_WIDTH = (s: string): string => s.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)));

/** ISO 7064 MOD 11-2, written out here rather than taken from the code under test. */
function idCheck(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * (weights[i] as number);
  return '10X98765432'[sum % 11] as string;
}

const FORMS: Readonly<Record<FormName, (k: number) => { literal: string; needle: string }>> = {
  id18: (k) => {
    const first17 = `510124${1960 + (k % 40)}${pad(1 + (k % 12), 2)}${pad(1 + (k % 28), 2)}${pad(k % 1000, 3)}`;
    const id = first17 + idCheck(first17);
    return { literal: id, needle: id };
  },
  id15: (k) => {
    const id = `510124${60 + (k % 40)}${pad(1 + (k % 12), 2)}${pad(1 + (k % 28), 2)}${pad(k % 1000, 3)}`;
    return { literal: id, needle: id };
  },
  mobile: (k) => ({ literal: `139${pad(k, 8)}`, needle: `139${pad(k, 8)}` }),
  'mobile spaced': (k) => {
    const d = pad(k, 8);
    return { literal: `137 ${d.slice(0, 4)} ${d.slice(4)}`, needle: `137${d}` };
  },
  'mobile +86 dashed': (k) => {
    const d = pad(k, 8);
    return { literal: `+86 135-${d.slice(0, 4)}-${d.slice(4)}`, needle: `135${d}` };
  },
  'mobile full-width': (k) => ({ literal: FULL_WIDTH(`136${pad(k, 8)}`), needle: `136${pad(k, 8)}` }),
  'landline dash': (k) => ({ literal: `028-8${pad(k, 7)}`, needle: `0288${pad(k, 7)}` }),
  'landline (028)': (k) => ({ literal: `(028)8${pad(k, 7)}`, needle: `0288${pad(k, 7)}` }),
  'landline （028）': (k) => ({ literal: `（028）8${pad(k, 7)}`, needle: `0288${pad(k, 7)}` }),
  'landline spaced': (k) => {
    const d = `8${pad(k, 7)}`;
    return { literal: `028 ${d.slice(0, 4)} ${d.slice(4)}`, needle: `028${d}` };
  },
  'landline compact': (k) => ({ literal: `0288${pad(k, 7)}`, needle: `0288${pad(k, 7)}` }),
  'landline 0816': (k) => ({ literal: `0816-2${pad(k, 6)}`, needle: `08162${pad(k, 6)}` }),
  'landline extension': (k) => ({ literal: `028-8${pad(k, 7)}转${100 + (k % 900)}`, needle: `0288${pad(k, 7)}` }),
  email: (k) => ({ literal: `Zhang.Wei${k}@Example-Mail.com`, needle: `zhang.wei${k}@example-mail.com` }),
};
const FORM_NAMES = Object.keys(FORMS) as FormName[];

class Planter {
  readonly plants: Plant[] = [];
  private k = 1;

  plant(form: FormName, where: string): string {
    const { literal, needle } = FORMS[form](this.k++);
    this.plants.push({ form, literal, needle, where });
    return literal;
  }
}

// ---------------------------------------------------------------------------
// The scanner: finds a planted identifier however it was written down.

/** Separators that may sit between an identifier's digits, removed before the digits are searched. */
const SEPARATORS = /[\s\-–—()（）+.·_/]/g;

class Scanner {
  private readonly byLength = new Map<number, Map<string, Plant>>();
  private readonly emails = new Map<string, Plant>();

  constructor(plants: readonly Plant[]) {
    for (const p of plants) {
      if (p.form === 'email') {
        this.emails.set(p.needle, p);
        continue;
      }
      const m = this.byLength.get(p.needle.length) ?? new Map<string, Plant>();
      this.byLength.set(p.needle.length, m);
      m.set(p.needle, p);
    }
  }

  /** Every planted identifier found in the text: digits with separators removed (full-width folded), and e-mail addresses. */
  find(text: string): Plant[] {
    const found: Plant[] = [];
    const folded = text.normalize('NFKC');
    const compact = folded.replace(SEPARATORS, '').toUpperCase();
    for (const run of compact.match(/[0-9X]{10,}/g) ?? []) {
      for (const [length, needles] of this.byLength) {
        for (let i = 0; i + length <= run.length; i++) {
          const hit = needles.get(run.slice(i, i + length));
          if (hit) found.push(hit);
        }
      }
    }
    const lower = folded.toLowerCase();
    if (lower.includes('@')) {
      for (const address of lower.match(/[a-z0-9._%+-]+@[a-z0-9.-]+/g) ?? []) {
        const hit = this.emails.get(address);
        if (hit) found.push(hit);
      }
    }
    return found;
  }
}

// ---------------------------------------------------------------------------
// Batches: hostile rows (each column of each row an identifier in turn),
// malformed rows, and good rows, as CSV or JSON Lines, plain or gzip,
// UTF-8 or GBK.

type Row = Record<string, string>;

interface Hostile {
  file: string;
  feed: Entry['feed'];
  format: 'csv' | 'jsonl';
  gzip: boolean;
  encoding: 'utf-8' | 'gbk';
  columns: string[];
  lines: string[];
  /** Rows that must load, by the key they load under. */
  goodKeys: string[];
  quarantined: number;
}

const FEED_COLUMNS: Readonly<Record<Entry['feed'], readonly string[]>> = {
  social_insurance: ['uscc', 'name', 'region_code', 'industry_code', 'period', 'insured', 'hired', 'separated', 'arrears_months', 'wage_base_total', 'ui_claims', 'separated_transfer', 'separated_natural', 'separated_migrant', 'separated_graduate'],
  headcount: ['uscc', 'period', 'jobs_begin', 'jobs_end', 'jobs_lost', 'loss_reason', 'planned_layoffs', 'furloughed', 'dispatched'],
  regional: ['region_code', 'period', 'registered_unemployed', 'ui_new_claims', 'urban_new_jobs', 'surveyed_unemployment_rate'],
  layoff_filings: ['filing_id', 'uscc', 'filed_on', 'effective_on', 'planned_count', 'staff_total', 'reason'],
};
// A free-text column no feed defines: known column or not, it is checked.
const EXTRA = 'remark';
const KEY: Readonly<Record<Entry['feed'], string>> = { social_insurance: 'uscc', headcount: 'uscc', regional: 'region_code', layoff_filings: 'filing_id' };

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function csvLine(columns: readonly string[], row: Row): string {
  return columns.map((c) => csvCell(row[c] ?? '')).join(',');
}

function jsonLine(columns: readonly string[], row: Row): string {
  return JSON.stringify(Object.fromEntries(columns.map((c) => [c, row[c] ?? ''])));
}

/** The value an identifier takes in a column: inside words in a text column, alone in the others. */
function placed(column: string, identifier: string): string {
  if (column === 'name') return `四川${identifier}实业有限公司`;
  if (column === EXTRA) return `联系人 王伟 ${identifier}`;
  return identifier;
}

function buildBatch(
  planter: Planter,
  spec: { file: string; feed: Entry['feed']; encoding: 'utf-8' | 'gbk' },
  bases: readonly Row[],
  goods: readonly Row[],
): Hostile {
  const format = spec.file.includes('.jsonl') ? 'jsonl' : 'csv';
  const columns = [...FEED_COLUMNS[spec.feed], EXTRA];
  const line = (row: Row): string => (format === 'csv' ? csvLine(columns, row) : jsonLine(columns, row));
  const lines: string[] = [];
  let quarantined = 0;
  let b = 0;
  const base = (): Row => ({ ...(bases[b++ % bases.length] as Row), [EXTRA]: '' });
  // Every column, every form.
  for (const column of columns) {
    for (const form of FORM_NAMES) {
      const row = base();
      if (spec.feed === 'layoff_filings' && column !== 'filing_id') row['filing_id'] = `HX-${spec.file}-${lines.length}`;
      row[column] = placed(column, planter.plant(form, `${spec.file}: ${column} (${form})`));
      lines.push(line(row));
      quarantined++;
    }
  }
  const goodKeys = goods.map((g) => g[KEY[spec.feed]] as string);
  for (const g of goods) lines.push(line({ ...g, [EXTRA]: '' }));
  const first = goods[0] as Row;
  const where = (what: string): string => `${spec.file}: ${what}`;
  if (format === 'csv') {
    // A row with one field too many: an ID number in the name (the remark where there is no name), an e-mail address in the extra field.
    const text = columns.includes('name') ? 'name' : EXTRA;
    lines.push(`${line({ ...base(), [text]: placed(text, planter.plant('id18', where(`extra field, ${text}`))) })},${planter.plant('email', where('extra field'))}`);
    // The same key twice: the second is a duplicate.
    lines.push(line({ ...first, [EXTRA]: '' }));
    quarantined += 2;
  } else {
    lines.push(`{"${KEY[spec.feed]}": "x", "${EXTRA}": "${planter.plant('mobile spaced', where('invalid JSON'))}" oops}`);
    lines.push(`["${planter.plant('landline compact', where('not an object'))}", "${planter.plant('id15', where('not an object'))}", "${planter.plant('email', where('not an object'))}"]`);
    lines.push(JSON.stringify({ ...first, [EXTRA]: { phone: planter.plant('landline (028)', where('a nested value')) } }));
    // An identifier as a key (its column withheld: the row is refused as a duplicate of the first).
    lines.push(JSON.stringify({ ...first, [planter.plant('mobile', where('a key'))]: 'x' }));
    // A duplicate JSON key: the identifier in the value JSON.parse drops, and the row a duplicate of the first good one.
    const dup = jsonLine(columns, { ...first, [EXTRA]: '' });
    lines.push(`{"${EXTRA}": "${planter.plant('id18', where('duplicate JSON key'))}", ${dup.slice(1)}`);
    quarantined += 5;
  }
  if (format === 'csv') {
    // Last: a quote that never closes, a mobile inside it.
    lines.push(`${first[KEY[spec.feed]] as string},"未闭合 ${planter.plant('mobile +86 dashed', where('unclosed quote'))},x,y`);
    quarantined += 1;
  }
  return { ...spec, format, gzip: spec.file.endsWith('.gz'), columns, lines, goodKeys, quarantined };
}

function writeBatch(dir: string, h: Hostile): Record<string, unknown> {
  const text = (h.format === 'csv' ? [h.columns.join(','), ...h.lines] : h.lines).join('\n') + '\n';
  let bytes: Buffer = h.encoding === 'gbk' ? iconv.encode(text, 'gbk') : Buffer.from(text, 'utf8');
  if (h.gzip) bytes = gzipSync(bytes);
  writeFileSync(join(dir, h.file), bytes);
  return { file: h.file, feed: h.feed, period: PERIOD, sha256: createHash('sha256').update(bytes).digest('hex'), rows: h.lines.length, encoding: h.encoding };
}

// ---------------------------------------------------------------------------

let database: Database & { name: string };
let sink: SmtpSink;
let dir: string;
let sourceDir: string;
let configFile: string;
const planter = new Planter();
const hostile: Hostile[] = [];
let canary: { uscc: string; name: string };
/** Every command run: its arguments, standard output and standard error. */
const runs: { args: string[]; code: number; stdout: string; stderr: string }[] = [];

function ews(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        env: { PATH: process.env['PATH'] ?? '', EWS_CONFIG: configFile, LOG_LEVEL: 'debug', LOG_FORMAT: 'json', EWS_ENV: 'test' },
        timeout: 300_000,
        maxBuffer: 256 << 20,
      },
      (err, stdout, stderr) => {
        const r = { code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr };
        runs.push({ args, ...r });
        done(r);
      },
    );
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  sink = await startSmtpSink();
  dir = mkdtempSync(join(tmpdir(), 'ews-pii-'));
  const summary = await generateProvince({ outDir: join(dir, 'province'), employers: 300, months: 26, seed: 19, lastPeriod: PERIOD, defects: false });
  sourceDir = summary.sourceDir;
  const manifest = readManifest(sourceDir);
  const entry = (feed: Entry['feed']): Entry => manifest.batches.find((e) => e.feed === feed && e.period === PERIOD) as Entry;
  const rowsOf = (feed: Entry['feed']): Row[] => {
    const batch = readBatch(sourceDir, entry(feed));
    return batch.rows.map((r) => Object.fromEntries(FEED_COLUMNS[feed].map((c) => [c, r.get(c)])));
  };
  const si = rowsOf('social_insurance').sort((a, b) => Number(b['insured']) - Number(a['insured']));
  const regional = rowsOf('regional');
  expect(si.length).toBeGreaterThan(261); // bases, good rows and headcount reporters below are all different employers

  // The canary: the largest employer lays off half its staff this month under a
  // name that is not personal data. It must reach an e-mail, which shows the
  // e-mails are where a name that got through would have gone.
  const big = si[0] as Row;
  const cut = Math.floor(Number(big['insured']) / 2);
  canary = { uscc: big['uscc'] as string, name: '成都金丝雀精密制造有限公司' };
  const canaryRow: Row = { ...big, name: canary.name, insured: String(Number(big['insured']) - cut), hired: '0', separated: String(cut), separated_transfer: '0', separated_natural: '0', separated_migrant: '', separated_graduate: '' };

  const others = si.slice(1);
  // Headcount rows for employers of the social-insurance feed (any employer may report).
  const hc = others.slice(220, 260).map((r): Row => ({
    uscc: r['uscc'] as string, period: PERIOD, jobs_begin: r['insured'] as string, jobs_end: r['insured'] as string, jobs_lost: '0', loss_reason: '', planned_layoffs: '0', furloughed: '', dispatched: '',
  }));
  const goodSi = (i: number): Row[] => others.slice(200 + i * 3, 203 + i * 3);
  const filing = (i: number, j: number): Row => ({
    filing_id: `OK-${i}-${j}`, uscc: others[210 + i * 3 + j]?.['uscc'] as string, filed_on: `${PERIOD}-1${j}`, effective_on: '2026-11-20', planned_count: '25', staff_total: '300', reason: 'difficulty',
  });
  const filingBases = others.slice(0, 40).map((r, j) => ({ ...filing(9, 0), filing_id: `HB-${j}`, uscc: r['uscc'] as string }));

  const formats = [
    { suffix: 'a.csv', encoding: 'utf-8' },
    { suffix: 'b.jsonl.gz', encoding: 'utf-8' },
    { suffix: 'c.csv.gz', encoding: 'gbk' },
    { suffix: 'd.jsonl', encoding: 'gbk' },
  ] as const;
  formats.forEach((f, i) => {
    const at = (feed: string): { file: string; encoding: 'utf-8' | 'gbk' } => ({ file: `${feed}-${PERIOD}-hostile-${f.suffix}`, encoding: f.encoding });
    hostile.push(buildBatch(planter, { ...at('social_insurance'), feed: 'social_insurance' }, others.slice(0, 190), i === 0 ? [canaryRow, ...goodSi(i)] : goodSi(i)));
    hostile.push(buildBatch(planter, { ...at('headcount'), feed: 'headcount' }, hc.slice(0, 8), hc.slice(8 + i * 3, 11 + i * 3)));
    hostile.push(buildBatch(planter, { ...at('regional'), feed: 'regional' }, regional.slice(0, 8), regional.slice(8 + i * 3, 11 + i * 3)));
    hostile.push(buildBatch(planter, { ...at('layoff_filings'), feed: 'layoff_filings' }, filingBases, [0, 1, 2].map((j) => filing(i, j))));
  });

  const entries: Record<string, unknown>[] = hostile.map((h) => writeBatch(sourceDir, h));
  // A header that names an identifier twice: the batch is refused whole, and its reason must not carry it.
  const twice = planter.plant('mobile', 'social_insurance header, twice');
  const header = `${FEED_COLUMNS.social_insurance.join(',')},${twice},${twice}\n${csvLine(FEED_COLUMNS.social_insurance, si[5] as Row)},x,y\n`;
  writeFileSync(join(sourceDir, 'si-header.csv'), header);
  entries.push({ file: 'si-header.csv', feed: 'social_insurance', period: PERIOD, sha256: createHash('sha256').update(header).digest('hex'), rows: 1 });
  // A manifest entry whose file name holds an identifier: refused, and never named.
  entries.push({ file: `si-${planter.plant('landline dash', 'manifest file name')}.csv`, feed: 'social_insurance', period: PERIOD, sha256: 'ab'.repeat(32), rows: 1 });
  writeFileSync(join(sourceDir, 'manifest.json'), JSON.stringify({ ...manifest, batches: [...manifest.batches, ...entries] }, null, 2));

  configFile = join(dir, 'ews.config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      database: { url: databaseUrl(database.name), poolSize: 4 },
      dataDir: join(dir, 'data'),
      feeds: { sources: [{ name: 'exchange', url: `file://${sourceDir}/` }], retryBaseMs: 10 },
      scoring: { shards: 2, modelThreads: 1 },
      notify: {
        smtpUrl: sink.url,
        cities: Object.fromEntries(CITIES.map((c) => [c.code, [{ email: `dept-${c.code}@city.example` }]])),
        province: [{ email: 'office@province.example', levels: [1, 2] }],
      },
    }),
  );

  // The night, inline: poll, ingest, score, alerts, e-mail. It ends "partly failed" (3): the batch refused whole.
  const night = await ews(['nightly', '--period', PERIOD]);
  expect(night.code, night.stderr.slice(-2000)).toBe(3);
  expect(night.stderr).toContain('batch si-header.csv: rejected: header names column "[phone]" twice');
}, 600_000);

afterAll(async () => {
  await sink?.close();
  await database?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a feed full of personal data', () => {
  it('plants every form of identifier in every column of every feed, in every format, and the scanner finds each one in the files', () => {
    // 4 feeds × 4 formats × (columns + remark) × 14 forms, plus the broken rows' and the refused batches'.
    const columns = Object.values(FEED_COLUMNS).reduce((n, c) => n + c.length + 1, 0);
    const wellFormed = 4 * columns * FORM_NAMES.length;
    const broken = 4 * 2 * 3 + 4 * 2 * 7;
    expect(planter.plants.length).toBe(wellFormed + broken + 2);
    expect(planter.plants.length).toBe(2378);
    expect(new Set(planter.plants.map((p) => p.needle)).size).toBe(planter.plants.length);
    for (const form of FORM_NAMES) expect(planter.plants.filter((p) => p.form === form).length, form).toBeGreaterThanOrEqual(4 * 41);

    // The scanner is searched with every plant, and finds every one where it was written.
    const scanner = new Scanner(planter.plants);
    const inFiles = new Set<Plant>();
    for (const h of hostile) {
      const bytes = readFileSync(join(sourceDir, h.file));
      const raw = h.gzip ? gunzipSync(bytes) : bytes;
      const text = h.encoding === 'gbk' ? iconv.decode(raw, 'gbk') : raw.toString('utf8');
      for (const p of scanner.find(text)) inFiles.add(p);
    }
    inFiles.add(planter.plants.find((p) => p.where === 'social_insurance header, twice') as Plant);
    for (const p of scanner.find(readFileSync(join(sourceDir, 'manifest.json'), 'utf8'))) inFiles.add(p);
    const missed = planter.plants.filter((p) => !inFiles.has(p));
    expect(missed.map((p) => `${p.where}: ${p.literal}`)).toEqual([]);
  });

  it('loads the good rows beside them and quarantines every hostile and broken row', async () => {
    const batches = await database.db.selectFrom('batch').select(['batch_id', 'file', 'status', 'rows_loaded', 'rows_quarantined', 'reason']).execute();
    for (const h of hostile) {
      const b = batches.find((x) => x.file === h.file);
      expect(b, h.file).toBeDefined();
      expect({ file: h.file, status: b?.status, loaded: b?.rows_loaded, quarantined: b?.rows_quarantined }).toEqual({
        file: h.file, status: 'loaded', loaded: h.goodKeys.length, quarantined: h.quarantined,
      });
      const id = b?.batch_id as number;
      const loadedKeys = await loadedUnder(h.feed, id);
      expect(loadedKeys.sort(), h.file).toEqual([...h.goodKeys].sort());
    }
    const refused = batches.find((b) => b.file === 'si-header.csv');
    expect(refused?.status).toBe('rejected');
    expect(refused?.reason).toBe('header names column "[phone]" twice');
    expect(batches.some((b) => b.file.startsWith('si-0'))).toBe(false);

    // Quarantined rows keep their raw text, masked: the broken ones too.
    const q = await database.db.selectFrom('quarantine').select(['raw', 'reason', 'column_name']).execute();
    expect(q.length).toBe(hostile.reduce((n, h) => n + h.quarantined, 0));
    const raws = q.map((r) => r.raw).join('\n');
    for (const mask of ['[id-number]', '[phone]', '[email]']) expect(raws).toContain(mask);
    expect(q.filter((r) => r.reason.startsWith('row has ') && r.raw.includes('[id-number]') && r.raw.includes('[email]')).length).toBe(8);
    expect(q.filter((r) => r.reason.startsWith('a quoted field is never closed') && r.raw.includes('[phone]')).length).toBe(8);
    expect(q.filter((r) => r.reason.startsWith('not valid JSON') && r.raw.includes('[phone]')).length).toBe(8);
    expect(q.filter((r) => r.reason.startsWith('duplicate:') && r.raw.includes('[id-number]')).length).toBe(8);
    // An identifier as a column name withholds that column, not the row: here the row repeats the first good one's key.
    expect(q.filter((r) => r.reason.startsWith('duplicate:') && r.raw.includes('"[phone]"')).length).toBe(8);
    expect(q.filter((r) => r.column_name === '[phone]')).toEqual([]);
  });

  it('leaves no identifier in any table, log line, command output or e-mail', async () => {
    const scanner = new Scanner(planter.plants);
    const leaks: string[] = [];
    const search = (where: string, text: string): void => {
      for (const p of scanner.find(text)) leaks.push(`${where}: ${p.form} planted at ${p.where} (${p.literal})`);
    };

    // Every listing command, with and without --json.
    const [alerts, batches] = await Promise.all([
      database.db.selectFrom('alert').select('alert_id').orderBy('alert_id').execute(),
      database.db.selectFrom('batch').select('batch_id').where('rows_quarantined', '>', 0).execute(),
    ]);
    expect(alerts.length).toBeGreaterThan(0);
    const commands: string[][] = [
      ['ingest', '--retry-rejected'], ['ingest', '--json'],
      ['batches', '--limit', '1000'], ['batches', '--limit', '1000', '--json'],
      ['alerts', 'list', '--status', 'active'], ['alerts', 'list', '--json'],
      ['notify', 'list'], ['notify', 'list', '--json'],
      ['risk', 'list', '--period', PERIOD, '--limit', '1000'], ['risk', 'list', '--period', PERIOD, '--limit', '1000', '--json'],
      ['alerts', 'raise', '--period', PERIOD, '--json'], ['notify', 'send', '--json'],
      ...batches.flatMap((b) => [['quarantine', '--batch', String(b.batch_id)], ['quarantine', '--batch', String(b.batch_id), '--json']]),
      ...alerts.slice(0, 5).flatMap((a) => [['alerts', 'show', String(a.alert_id)], ['alerts', 'show', String(a.alert_id), '--json']]),
    ];
    for (let i = 0; i < commands.length; i += 4) await Promise.all(commands.slice(i, i + 4).map((c) => ews(c)));
    for (const r of runs) {
      // 3: "partly failed", for the manifest entry and the batch refused on purpose.
      expect([0, 3], `ews ${r.args.join(' ')}: ${r.stderr.slice(-500)}`).toContain(r.code);
      search(`ews ${r.args.join(' ')} (output)`, r.stdout);
      for (const line of r.stderr.split('\n')) search(`ews ${r.args.join(' ')} (log)`, line);
    }
    const logLines = runs.flatMap((r) => r.stderr.split('\n').filter((l) => l.startsWith('{')));
    expect(logLines.length).toBeGreaterThan(20);
    // The quarantine listings show the masked raw text.
    expect(runs.filter((r) => r.args[0] === 'quarantine').map((r) => r.stdout).join('\n')).toContain('[phone]');
    // The refused manifest entry is named in the log, masked.
    expect(logLines.some((l) => l.includes('manifest entry refused') && l.includes('si-[phone].csv'))).toBe(true);

    // Every row of every table, as text.
    const tables = await sql<{ table_name: string }>`
      SELECT DISTINCT c.table_name FROM information_schema.columns c
        JOIN pg_class k ON k.relname = c.table_name AND k.relnamespace = 'public'::regnamespace
       WHERE c.table_schema = 'public' AND NOT k.relispartition
       ORDER BY 1`.execute(database.db);
    expect(tables.rows.map((t) => t.table_name)).toEqual(expect.arrayContaining(['quarantine', 'batch', 'social_insurance', 'employer_risk', 'alert', 'notification']));
    let rowsScanned = 0;
    let canaryInDb = false;
    for (const { table_name } of tables.rows) {
      const rows = await sql<{ r: string }>`SELECT t::text AS r FROM ${sql.table(table_name)} t`.execute(database.db);
      rowsScanned += rows.rows.length;
      for (const { r } of rows.rows) {
        search(`table ${table_name}`, r);
        if (r.includes(canary.name)) canaryInDb = true;
      }
    }
    expect(rowsScanned).toBeGreaterThan(10_000);
    expect(canaryInDb).toBe(true);

    // Every e-mail received, decoded.
    const mails = sink.received;
    expect(mails.length).toBeGreaterThan(0);
    let canaryMailed = false;
    for (const m of mails) {
      const parsed = await simpleParser(m.raw);
      const texts = [m.raw.toString('utf8'), parsed.subject ?? '', parsed.text ?? '', typeof parsed.html === 'string' ? parsed.html : '', JSON.stringify([...parsed.headers])];
      for (const a of parsed.attachments) if (a.contentType.startsWith('text/')) texts.push(a.content.toString('utf8'));
      for (const t of texts) {
        search(`e-mail ${m.messageId ?? ''} to ${m.envelopeTo.join(',')}`, t);
        if (t.includes(canary.name)) canaryMailed = true;
      }
    }
    expect(canaryMailed).toBe(true);

    expect(leaks).toEqual([]);
  }, 900_000);
});

async function loadedUnder(feed: Entry['feed'], batchId: number): Promise<string[]> {
  switch (feed) {
    case 'social_insurance':
      return (await database.db.selectFrom('social_insurance').select('uscc').where('batch_id', '=', batchId).execute()).map((r) => r.uscc);
    case 'headcount':
      return (await database.db.selectFrom('headcount').select('uscc').where('batch_id', '=', batchId).execute()).map((r) => r.uscc);
    case 'regional':
      return (await database.db.selectFrom('regional').select('city_code').where('batch_id', '=', batchId).execute()).map((r) => r.city_code);
    case 'layoff_filings':
      return (await database.db.selectFrom('layoff_filing').select('filing_id').where('batch_id', '=', batchId).execute()).map((r) => r.filing_id);
  }
}

describe('the log', () => {
  it('masks every line whole: message, format arguments, merged and bound objects, errors; lines stay JSON', () => {
    const lines: string[] = [];
    const sinkStream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
        done();
      },
    });
    const p = new Planter();
    const log = createLogger({ log: { level: 'debug', format: 'json' }, env: 'test' }, sinkStream);
    const child = log.child({ file: `si-${p.plant('mobile', 'binding')}.csv`, [p.plant('email', 'binding key')]: 1 });
    child.info(`message ${p.plant('id18', 'message')}`);
    child.warn({ reason: `row ${p.plant('landline (028)', 'object')}`, nested: { list: [p.plant('landline spaced', 'nested')] }, n: Number(p.plant('mobile', 'number')) }, 'with object');
    log.info('format %s and %d', p.plant('id15', 'format'), 42);
    const err = new Error(`duplicate key (name)=(${p.plant('mobile +86 dashed', 'error')})`);
    log.error({ err }, 'failed');
    log.error(new Error(`plain ${p.plant('email', 'error alone')}`));
    log.info({ uscc: '91510100MA6C5XXXX1', rows: 13800, sha256: '9f2c13800138000ab13800138000cdef0123456789abcdef0123456789abcdef' }, 'clean line');
    expect(lines).toHaveLength(6);
    const scanner = new Scanner(p.plants);
    expect(lines.flatMap((l) => scanner.find(l).map((x) => x.where))).toEqual([]);
    for (const l of lines) expect(() => JSON.parse(l) as unknown).not.toThrow();
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed[1]).toMatchObject({ file: 'si-[phone].csv', '[email]': 1, reason: 'row [phone]', nested: { list: ['[phone]'] }, n: '[phone]' });
    expect(parsed[5]).toMatchObject({ uscc: '91510100MA6C5XXXX1', rows: 13800, sha256: '9f2c13800138000ab13800138000cdef0123456789abcdef0123456789abcdef', msg: 'clean line' });
  });
});

describe('migration 006 on personal data stored before', () => {
  it('masks quarantined raw text, reasons and names already stored, and leaves the rest as it was', async () => {
    const db = await createTestDatabase();
    try {
      const p = new Planter();
      const batch = await db.db
        .insertInto('batch')
        .values({ source: 's', source_url: 'file:///x/', file: 'old.csv', feed: 'social_insurance', period: '2026-09-01', sha256: 'cd'.repeat(32), declared_rows: 3, encoding: 'utf-8', order_key: 1, status: 'loaded', reason: `header names column "${p.plant('mobile', 'batch reason')}" twice` })
        .returning('batch_id')
        .executeTakeFirstOrThrow();
      const raws = FORM_NAMES.map((f) => `91510100MA6C5XXXX1,四川${p.plant(f, `raw ${f}`)}公司,510104,C39,2026-09,120`);
      await db.db
        .insertInto('quarantine')
        .values([
          ...raws.map((raw, i) => ({ batch_id: batch.batch_id, line_no: i + 2, column_name: 'name', reason: `insured "${p.plant('landline spaced', `reason ${i}`)}": must be a whole number`, raw })),
          { batch_id: batch.batch_id, line_no: 100, column_name: 'insured', reason: 'insured -3: must not be negative', raw: '91510100MA6C5XXXX1,（成都）测试有限公司,510104,C39,2026-09,-3,13800.00' },
        ])
        .execute();
      await sql`SELECT ews_ensure_month_partition('social_insurance', '2026-09-01'::date)`.execute(db.db);
      await db.db
        .insertInto('social_insurance')
        .values([
          { bucket: 1, uscc: '91510100MA6C5XXXX1', period: '2026-09-01', name: `成都${p.plant('landline (028)', 'name')}贸易有限公司`, region_code: '510104', city_code: '510100', industry_code: 'C39', insured: 1, hired: 0, separated: 0, arrears_months: 0, wage_base_total: '1.00', batch_id: batch.batch_id },
          { bucket: 2, uscc: '91510100MA6C5XXXX2', period: '2026-09-01', name: '成都（锦江）测试有限公司', region_code: '510104', city_code: '510100', industry_code: 'C39', insured: 1, hired: 0, separated: 0, arrears_months: 0, wage_base_total: '1.00', batch_id: batch.batch_id },
        ])
        .execute();
      // An e-mail still waiting, and the alert behind it, with an identifier in the employer's name; the recipient is left alone.
      const alertName = `成都${p.plant('mobile', 'alert evidence')}有限公司`;
      await db.db
        .insertInto('alert')
        .values({ subject_type: 'employer', subject: '91510100MA6C5XXXX1', kind: 'layoff', city_code: '510100', name: '成都测试有限公司', status: 'open', level: 2, peak_level: 2, first_period: '2026-09-01', last_period: '2026-09-01', last_run_id: 1, evidence: { name: alertName, hits: [{ rule: 'r', note: alertName }] } })
        .execute();
      await db.db
        .insertInto('notification')
        .values({
          dedupe_key: 'immediate:1:510100:dept@city.example', kind: 'immediate', run_id: 1, city_code: '510100', recipient: 'dept@city.example', message_id: '<m1@layoff-ews>', alert_ids: [1], raised_at: new Date(),
          payload: { kind: 'immediate', recipient: { email: 'dept@city.example', name: null }, employers: [{ name: `成都${p.plant('id18', 'payload')}有限公司`, insured: [120, 118] }] },
        })
        .execute();

      const migration = readFileSync(fileURLToPath(new URL('../sql/006_mask_personal_data.sql', import.meta.url)), 'utf8');
      const client = await db.pool.connect();
      try {
        await client.query(migration);
        await client.query(migration); // again: nothing more to do, no error
      } finally {
        client.release();
      }

      const scanner = new Scanner(p.plants);
      const q = await db.db.selectFrom('quarantine').select(['line_no', 'raw', 'reason']).orderBy('line_no').execute();
      const names = await db.db.selectFrom('social_insurance').select(['uscc', 'name']).orderBy('uscc').execute();
      const b = await db.db.selectFrom('batch').select('reason').executeTakeFirstOrThrow();
      const evidence = await db.db.selectFrom('alert').select('evidence').executeTakeFirstOrThrow();
      const payload = await db.db.selectFrom('notification').select('payload').executeTakeFirstOrThrow();
      expect(scanner.find(JSON.stringify([q, names, b, evidence, payload]))).toEqual([]);
      expect(evidence.evidence).toEqual({ name: '成都[phone]有限公司', hits: [{ rule: 'r', note: '成都[phone]有限公司' }] });
      expect(payload.payload).toEqual({ kind: 'immediate', recipient: { email: 'dept@city.example', name: null }, employers: [{ name: '成都[id-number]有限公司', insured: [120, 118] }] });
      expect(q.slice(0, FORM_NAMES.length).every((r) => /^91510100MA6C5XXXX1,四川\[(id-number|phone|email)\]公司,510104,C39,2026-09,120$/.test(r.raw))).toBe(true);
      expect(q.at(-1)).toEqual({ line_no: 100, reason: 'insured -3: must not be negative', raw: '91510100MA6C5XXXX1,（成都）测试有限公司,510104,C39,2026-09,-3,13800.00' });
      expect(names.map((n) => n.name)).toEqual(['成都[phone]贸易有限公司', '成都（锦江）测试有限公司']);
      expect(b.reason).toBe('header names column "[phone]" twice');
    } finally {
      await db.close();
    }
  });
});
