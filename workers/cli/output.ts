import { maskPii, maskPiiDeep } from '../../services/domain/pii.js';
import { UsageError } from '../usage.error.js';

/**
 * Plain aligned tables for people, JSON for scripts. Both are the last line
 * of defence for personal data: every cell, string, key and long number
 * passes through maskPii before it is printed (the JSON stays valid JSON).
 */
export function printTable(items: readonly object[], columns: readonly string[]): void {
  const rows = items as readonly Record<string, unknown>[];
  if (rows.length === 0) {
    console.log('(none)');
    return;
  }
  const text = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    if (v instanceof Date) return v.toISOString();
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    return JSON.stringify(v);
  };
  const header = columns.map(maskPii);
  const cells = rows.map((r) => columns.map((c) => maskPii(text(r[c]))));
  const widths = header.map((h, i) => Math.max(width(h), ...cells.map((row) => width(row[i] ?? ''))));
  const line = (values: string[]): string => values.map((v, i) => v + ' '.repeat(Math.max(0, (widths[i] ?? 0) - width(v)))).join('  ').trimEnd();
  console.log(line(header));
  for (const row of cells) console.log(line(row));
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(maskPiiDeep(value), null, 2));
}

/** A line of text for people, masked like the tables. */
export function printLine(text: string): void {
  console.log(maskPii(text));
}

/** Display width: CJK characters take two columns. */
function width(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return w;
}

/** A whole number option, or a one-line reason. */
export function intOption(name: string, value: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined || !/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got ${value === undefined ? 'nothing' : `"${value}"`}`);
  }
  return Number(value);
}

export { UsageError };
