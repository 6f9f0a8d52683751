import { maskPii } from '../domain/pii.js';
import { BatchFormatError, WITHHELD, type ParsedRecord, type SourceRecord } from './record.js';

/**
 * Streaming RFC 4180 CSV: comma separator, double-quote quoting ("" inside a
 * quoted field), CRLF or LF, quoted fields may span lines. Text arrives in
 * chunks of any size; records come out with the line they start on and their
 * raw text. Blank lines are skipped. A record whose quotes never close is
 * cut off after MAX_RECORD_LINES lines and reported, so one stray quote
 * cannot swallow the rest of the file.
 */
const MAX_RECORD_LINES = 50;

export async function* parseCsv(chunks: AsyncIterable<string>): AsyncGenerator<ParsedRecord> {
  let carry = '';
  let lineNo = 0;
  let header: Header | undefined;
  // Lines of a record whose quoted field is still open.
  let pending: string[] = [];
  let pendingStart = 0;
  let pendingQuotes = 0;

  const emit = (text: string, start: number): ParsedRecord | undefined => {
    if (header === undefined) {
      header = readHeader(text);
      return undefined;
    }
    return toRecord(header, text, start);
  };

  function* takeLine(rawLine: string): Generator<ParsedRecord> {
    lineNo += 1;
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (pending.length === 0) {
      if (line === '' || (header === undefined && line.trim() === '')) return;
      const quotes = countQuotes(line);
      if (quotes % 2 === 0) {
        const r = emit(lineNo === 1 ? stripBom(line) : line, lineNo);
        if (r) yield r;
        return;
      }
      pending = [line];
      pendingStart = lineNo;
      pendingQuotes = quotes;
      return;
    }
    pending.push(line);
    pendingQuotes += countQuotes(line);
    if (pendingQuotes % 2 === 0) {
      const text = pending.join('\n');
      const start = pendingStart;
      pending = [];
      const r = emit(start === 1 ? stripBom(text) : text, start);
      if (r) yield r;
    } else if (pending.length >= MAX_RECORD_LINES) {
      yield* flushUnterminated();
    }
  }

  // Report the opening line alone, then re-read the lines after it.
  function* flushUnterminated(): Generator<ParsedRecord> {
    const [first, ...rest] = pending;
    const start = pendingStart;
    pending = [];
    if (header === undefined) throw new BatchFormatError('header row has an unterminated quoted field');
    yield { ok: false, broken: { line: start, raw: first ?? '', problem: 'a quoted field is never closed (unbalanced ")' } };
    const resumeAt = lineNo;
    lineNo = start;
    for (const l of rest) yield* takeLine(l);
    lineNo = Math.max(lineNo, resumeAt);
  }

  for await (const chunk of chunks) {
    const text = carry + chunk;
    let from = 0;
    for (let nl = text.indexOf('\n', from); nl !== -1; nl = text.indexOf('\n', from)) {
      yield* takeLine(text.slice(from, nl));
      from = nl + 1;
    }
    carry = text.slice(from);
  }
  if (carry !== '') yield* takeLine(carry);
  while (pending.length > 0) yield* flushUnterminated();
  if (header === undefined) throw new BatchFormatError('file is empty: no header row');
}

interface Header {
  readonly names: readonly string[];
  readonly index: ReadonlyMap<string, number>;
}

function readHeader(text: string): Header {
  const names = splitFields(text).map((n) => n.trim());
  const index = new Map<string, number>();
  names.forEach((n, i) => {
    if (n === '') throw new BatchFormatError(`header column ${i + 1} has no name`);
    if (index.has(n)) throw new BatchFormatError(`header names column "${maskPii(n)}" twice`);
    index.set(n, i);
  });
  return { names, index };
}

function toRecord(header: Header, raw: string, line: number): ParsedRecord {
  const fields = splitFields(raw);
  if (fields.length !== header.names.length) {
    return { ok: false, broken: { line, raw, problem: `row has ${fields.length} fields, the header has ${header.names.length}` } };
  }
  return { ok: true, record: new CsvRecord(header, fields, line, raw) };
}

/** Methods on the prototype, not closures: a million of these are made per batch. */
class CsvRecord implements SourceRecord {
  constructor(
    private readonly header: Header,
    readonly fields: readonly string[],
    readonly line: number,
    readonly raw: string,
  ) {}

  get columns(): readonly string[] {
    return this.header.names;
  }

  get(column: string): string | undefined {
    const i = this.header.index.get(column);
    return i === undefined ? undefined : this.fields[i];
  }

  redacted(columns: ReadonlySet<string>): string {
    return this.header.names.map((n, i) => (columns.has(n) ? WITHHELD : quote(this.fields[i] ?? ''))).join(',');
  }
}

function countQuotes(s: string): number {
  let n = 0;
  for (let i = s.indexOf('"'); i !== -1; i = s.indexOf('"', i + 1)) n++;
  return n;
}

function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

/** Splits one complete record into fields. */
export function splitFields(text: string): string[] {
  if (!text.includes('"')) return text.split(',');
  const fields: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
    } else {
      field += c;
    }
    i++;
  }
  fields.push(field);
  return fields;
}

function quote(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
