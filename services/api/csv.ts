/**
 * CSV for offices that report upward in spreadsheets: UTF-8 with a byte
 * order mark (so Excel opens Chinese text correctly), CRLF line ends, every
 * field quoted when it needs to be, and any text that a spreadsheet would
 * run as a formula (starting with = + - @, a tab or a carriage return)
 * prefixed with an apostrophe, so it is shown, never evaluated.
 */

export const CSV_BOM = '\uFEFF';

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text: string;
  if (value instanceof Date) text = value.toISOString();
  else if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  else if (typeof value === 'boolean') return value ? 'true' : 'false';
  else if (typeof value === 'string') text = value;
  else if (typeof value === 'bigint') return value.toString();
  else text = JSON.stringify(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: readonly unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}
