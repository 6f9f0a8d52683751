import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import iconv from 'iconv-lite';
import { checkIndustry } from '../domain/industry.js';
import { findPii } from '../domain/pii.js';
import { cityOfRegion } from '../domain/region.js';
import { checkUscc } from '../domain/uscc.js';
import { CITY_BY_CODE } from '../../config/cities.js';

/**
 * Test helpers: read a generated feed source back and check rows against
 * ../shared/FEEDS.md, independently of the generator's own code.
 */
export interface Entry {
  file: string;
  feed: 'social_insurance' | 'headcount' | 'regional' | 'layoff_filings';
  period: string;
  sha256: string;
  rows: number;
  encoding: 'utf-8' | 'gbk';
}

export interface Manifest {
  generated_at: string;
  batches: Entry[];
}

export interface Row {
  /** Physical line (CSV header is line 1). */
  line: number;
  raw: string;
  get(column: string): string;
}

export interface Batch {
  entry: Entry;
  bytes: Buffer;
  text: string;
  header: string[];
  rows: Row[];
}

/** RFC 4180 fields of one physical line (the generator never writes line breaks inside fields). */
export function splitCsv(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new Error(`unterminated quote in ${line}`);
        v += line.slice(i, q);
        if (line[q + 1] === '"') {
          v += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(v);
    } else {
      const c = line.indexOf(',', i);
      out.push(c < 0 ? line.slice(i) : line.slice(i, c));
      i = c < 0 ? line.length : c;
    }
    if (i >= line.length) break;
    i++; // the comma
    if (i === line.length) {
      out.push('');
      break;
    }
  }
  return out;
}

export function readManifest(sourceDir: string): Manifest {
  return JSON.parse(readFileSync(join(sourceDir, 'manifest.json'), 'utf8')) as Manifest;
}

export function decode(bytes: Buffer, entry: Entry): string {
  const raw = entry.file.endsWith('.gz') ? gunzipSync(bytes) : bytes;
  return entry.encoding === 'gbk' ? iconv.decode(raw, 'gbk') : new TextDecoder('utf-8', { fatal: true }).decode(raw);
}

export function readBatch(sourceDir: string, entry: Entry): Batch {
  const bytes = readFileSync(join(sourceDir, entry.file));
  const text = decode(bytes, entry);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (entry.file.includes('.jsonl')) {
    const rows = lines.map((raw, i) => {
      const obj = JSON.parse(raw) as Record<string, unknown>;
      const get = (c: string): string => {
        const v = obj[c];
        return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
      };
      return { line: i + 1, raw, get };
    });
    return { entry, bytes, text, header: [], rows };
  }
  const header = splitCsv(lines[0] ?? '');
  const rows = lines.slice(1).map((raw, i) => {
    const fields = splitCsv(raw);
    const map = new Map(header.map((h, k) => [h, fields[k] ?? '']));
    if (fields.length !== header.length) throw new Error(`${entry.file}:${i + 2}: ${fields.length} fields, header has ${header.length}`);
    return { line: i + 2, raw, get: (c: string) => map.get(c) ?? '' };
  });
  return { entry, bytes, text, header, rows };
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const INT = /^\d+$/;
const DECIMAL = /^\d+(\.\d+)?$/;
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const LOSS = ['orders', 'difficulty', 'closure', 'restructuring', 'relocation', 'seasonal', 'other'];
const FILING = ['bankruptcy', 'difficulty', 'restructuring', 'circumstances'];

/** Problems of one row by the feed contract; [] when it is valid. */
export function rowProblems(feed: Entry['feed'], period: string, r: Row): string[] {
  const p: string[] = [];
  const int = (c: string, required: boolean): number | undefined => {
    const v = r.get(c);
    if (v === '') {
      if (required) p.push(`${c} missing`);
      return undefined;
    }
    if (!INT.test(v)) p.push(`${c} "${v}" not a whole number >= 0`);
    return Number(v);
  };
  const uscc = (c = 'uscc') => {
    const problem = checkUscc(r.get(c));
    if (problem) p.push(`${c} ${r.get(c)}: ${problem.kind}`);
  };
  for (const field of r.raw.split(',')) if (findPii(field)) p.push(`looks like personal data: ${field}`);
  switch (feed) {
    case 'social_insurance': {
      uscc();
      const name = r.get('name');
      if (name === '' || [...name].length > 200) p.push('name empty or too long');
      const region = cityOfRegion(r.get('region_code'));
      if (!region.ok) p.push(region.reason);
      const ind = checkIndustry(r.get('industry_code'));
      if (ind) p.push(ind);
      if (r.get('period') !== period) p.push(`period ${r.get('period')} != ${period}`);
      for (const c of ['insured', 'hired', 'arrears_months']) int(c, true);
      const separated = int('separated', true) ?? 0;
      if (!DECIMAL.test(r.get('wage_base_total'))) p.push(`wage_base_total ${r.get('wage_base_total')}`);
      int('ui_claims', false);
      const parts = ['separated_transfer', 'separated_natural', 'separated_migrant', 'separated_graduate'].map((c) => {
        const v = int(c, false);
        if (v !== undefined && v > separated) p.push(`${c} ${v} > separated ${separated}`);
        return v ?? 0;
      });
      if ((parts[0] ?? 0) + (parts[1] ?? 0) > separated) p.push('transfer + natural > separated');
      break;
    }
    case 'headcount': {
      uscc();
      if (r.get('period') !== period) p.push('period');
      const begin = int('jobs_begin', true) ?? 0;
      const end = int('jobs_end', true) ?? 0;
      const lost = int('jobs_lost', true) ?? 0;
      int('planned_layoffs', true);
      int('furloughed', false);
      int('dispatched', false);
      const reason = r.get('loss_reason');
      if (lost > begin) p.push('jobs_lost > jobs_begin');
      if (end < begin - lost) p.push('jobs_end < jobs_begin - jobs_lost');
      if (lost === 0 && reason !== '') p.push('loss_reason given with no loss');
      if (lost > 0 && !LOSS.includes(reason)) p.push(`loss_reason "${reason}"`);
      break;
    }
    case 'regional': {
      if (!CITY_BY_CODE.has(r.get('region_code'))) p.push(`region_code ${r.get('region_code')} is not a city`);
      if (r.get('period') !== period) p.push('period');
      for (const c of ['registered_unemployed', 'ui_new_claims', 'urban_new_jobs']) int(c, true);
      const rate = r.get('surveyed_unemployment_rate');
      if (rate !== '' && (!DECIMAL.test(rate) || Number(rate) > 100)) p.push(`rate ${rate}`);
      break;
    }
    case 'layoff_filings': {
      if (r.get('filing_id') === '') p.push('filing_id empty');
      uscc();
      const filed = r.get('filed_on');
      const effective = r.get('effective_on');
      if (!DATE.test(filed) || !filed.startsWith(`${period}-`)) p.push(`filed_on ${filed} not in ${period}`);
      if (!DATE.test(effective) || effective < filed) p.push(`effective_on ${effective}`);
      const planned = int('planned_count', true) ?? 0;
      const staff = int('staff_total', true) ?? 0;
      if (planned < 1 || staff < planned) p.push('planned_count / staff_total');
      if (!FILING.includes(r.get('reason'))) p.push(`reason ${r.get('reason')}`);
      break;
    }
    default:
      feed satisfies never;
  }
  if (!MONTH.test(period)) p.push('batch period');
  return p;
}
