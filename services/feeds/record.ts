/**
 * One data row as read from a batch file, before validation: where it was
 * (physical line of its first character; the CSV header is line 1), its raw
 * text, and its fields by column name. CSV and JSON Lines both produce these.
 */
export interface SourceRecord {
  readonly line: number;
  readonly raw: string;
  /** Column names present in this record, in file order. */
  readonly columns: readonly string[];
  /** Their values, aligned with columns (undefined for a JSON null). */
  readonly fields: readonly (string | undefined)[];
  get(column: string): string | undefined;
  /** The raw text with the named columns' values replaced by [withheld]. */
  redacted(columns: ReadonlySet<string>): string;
}

/** A row that cannot even be split into fields (bad JSON, wrong field count). */
export interface BrokenRecord {
  readonly line: number;
  readonly raw: string;
  readonly problem: string;
}

export type ParsedRecord = { ok: true; record: SourceRecord } | { ok: false; broken: BrokenRecord };

/** A defect of the whole file: the batch is rejected with this reason. */
export class BatchFormatError extends Error {
  override name = 'BatchFormatError';
}

export const WITHHELD = '[withheld]';
