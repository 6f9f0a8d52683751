import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import iconv from 'iconv-lite';
import { usccCheckChar } from '../../services/domain/uscc.js';

/** Builds small feed sources on disk for tests, one batch at a time. */

export type Row = Record<string, string | number | null | undefined>;

export interface BatchSpec {
  file: string;
  feed: string;
  period: string;
  rows?: Row[];
  /** Literal file text instead of rows (for malformed files). */
  text?: string;
  encoding?: 'utf-8' | 'gbk';
  /** What the manifest declares, when it should differ from the truth. */
  declaredEncoding?: string;
  declaredRows?: number;
  declaredSha256?: string;
  /** Cut the written bytes to this length (after gzip). */
  truncateTo?: number;
}

export class FeedSourceBuilder {
  readonly dir: string;
  private readonly entries: Record<string, unknown>[] = [];
  private generatedAt = '2026-11-03T01:12:00+08:00';

  constructor(dir?: string) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), 'ews-feed-'));
    mkdirSync(this.dir, { recursive: true });
  }

  get url(): string {
    return `file://${this.dir}/`;
  }

  at(generatedAt: string): this {
    this.generatedAt = generatedAt;
    return this;
  }

  add(spec: BatchSpec): this {
    let text = spec.text ?? toText(spec.file, spec.rows ?? []);
    if (spec.text === undefined && spec.file.includes('.jsonl')) text = (spec.rows ?? []).map((r) => JSON.stringify(r)).join('\n') + ((spec.rows ?? []).length ? '\n' : '');
    let bytes: Buffer = spec.encoding === 'gbk' ? iconv.encode(text, 'gbk') : Buffer.from(text, 'utf8');
    if (spec.file.endsWith('.gz')) bytes = gzipSync(bytes);
    if (spec.truncateTo !== undefined) bytes = bytes.subarray(0, spec.truncateTo);
    writeFileSync(join(this.dir, spec.file), bytes);
    const entry: Record<string, unknown> = {
      file: spec.file,
      feed: spec.feed,
      period: spec.period,
      sha256: spec.declaredSha256 ?? createHash('sha256').update(bytes).digest('hex'),
      rows: spec.declaredRows ?? (spec.rows ?? []).length,
    };
    const enc = spec.declaredEncoding ?? spec.encoding;
    if (enc !== undefined) entry['encoding'] = enc;
    this.entries.push(entry);
    return this.write();
  }

  /** Writes manifest.json as it stands (or literal text). */
  write(literal?: string): this {
    writeFileSync(join(this.dir, 'manifest.json'), literal ?? JSON.stringify({ generated_at: this.generatedAt, batches: this.entries }, null, 2));
    return this;
  }
}

function toText(file: string, rows: Row[]): string {
  if (rows.length === 0) return 'uscc\n';
  const columns = Object.keys(rows[0] as Row);
  const cell = (v: Row[string]): string => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  void file;
  return [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

/** A valid USCC for a Sichuan region from a serial number. */
export function uscc(serial: number, region = '510100'): string {
  const org = `MA${String(serial).padStart(7, '0')}`;
  const first17 = `91${region}${org}`;
  return first17 + (usccCheckChar(first17) as string);
}

export function siRow(serial: number, overrides: Row = {}): Row {
  return {
    uscc: uscc(serial),
    name: `成都测试${serial}有限公司`,
    region_code: '510104',
    industry_code: 'C39',
    period: '2026-10',
    insured: 120,
    hired: 3,
    separated: 2,
    arrears_months: 0,
    wage_base_total: '720000.00',
    ui_claims: 0,
    separated_transfer: 0,
    separated_natural: 1,
    separated_migrant: 0,
    separated_graduate: 0,
    ...overrides,
  };
}
