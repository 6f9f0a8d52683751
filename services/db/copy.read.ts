import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

/**
 * Streams a query's rows through COPY … TO STDOUT (text format), the
 * fastest way out of PostgreSQL: several times the rate of a cursor for
 * wide, numeric rows. COPY takes no bind parameters, so callers pass values
 * through pg's escapeLiteral.
 *
 * Rows are not split into strings: the callback reads its fields in order
 * straight from the bytes with a CopyFields cursor (numbers parsed in
 * place, text decoded only where asked), which is what makes reading a
 * million employers' history cheap.
 */
export async function copyScan(client: pg.PoolClient, query: string, onRow: (row: CopyFields) => void): Promise<number> {
  const row = new CopyFields();
  let carry: Buffer | null = null;
  let rows = 0;
  for await (const chunk of client.query(copyTo(`COPY (${query}) TO STDOUT`)) as AsyncIterable<Buffer>) {
    const buf: Buffer = carry !== null ? Buffer.concat([carry, chunk]) : chunk;
    const last = buf.lastIndexOf(NL);
    if (last === -1) {
      carry = buf;
      continue;
    }
    rows += row.scan(buf, last + 1, onRow);
    carry = last + 1 < buf.length ? buf.subarray(last + 1) : null;
  }
  if (carry !== null && carry.length > 0) {
    // COPY ends every row with a newline; a tail without one is still a row.
    rows += row.scan(Buffer.concat([carry, Buffer.from([NL])]), carry.length + 1, onRow);
  }
  return rows;
}

const TAB = 9;
const NL = 10;
const BACKSLASH = 92;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;

/** A cursor over one COPY text row: each call reads the next field and steps past its delimiter. */
export class CopyFields {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private lineEnd = 0;

  /** Calls onRow once per complete line in buf[0, end); returns the number of rows. */
  scan(buf: Buffer, end: number, onRow: (row: CopyFields) => void): number {
    this.buf = buf;
    let rows = 0;
    let start = 0;
    while (start < end) {
      const nl = buf.indexOf(NL, start);
      this.pos = start;
      this.lineEnd = nl;
      onRow(this);
      rows++;
      start = nl + 1;
    }
    return rows;
  }

  /** True when the field is NULL (\N); does not move. */
  isNull(): boolean {
    return this.buf[this.pos] === BACKSLASH && this.buf[this.pos + 1] === 78;
  }

  /** An integer field; `ifNull` for NULL. */
  int(ifNull = -1): number {
    const b = this.buf;
    let p = this.pos;
    if (b[p] === BACKSLASH) {
      this.pos = this.fieldEnd(p) + 1;
      return ifNull;
    }
    let neg = false;
    if (b[p] === MINUS) {
      neg = true;
      p++;
    }
    let v = 0;
    for (let c = b[p] as number; c >= ZERO && c <= ZERO + 9; c = b[++p] as number) v = v * 10 + (c - ZERO);
    if (b[p] !== TAB && p !== this.lineEnd) throw new Error(`COPY field is not an integer: "${this.buf.toString('utf8', this.pos, this.fieldEnd(this.pos))}"`);
    this.pos = p + 1;
    return neg ? -v : v;
  }

  /** A decimal field (numeric, float); `ifNull` for NULL. */
  num(ifNull = Number.NaN): number {
    const b = this.buf;
    const from = this.pos;
    const end = this.fieldEnd(from);
    this.pos = end + 1;
    if (b[from] === BACKSLASH) return ifNull;
    let p = from;
    let neg = false;
    if (b[p] === MINUS) {
      neg = true;
      p++;
    }
    let v = 0;
    let scale = 1;
    let frac = false;
    for (; p < end; p++) {
      const c = b[p] as number;
      if (c === DOT && !frac) frac = true;
      else if (c >= ZERO && c <= ZERO + 9) {
        v = v * 10 + (c - ZERO);
        if (frac) scale *= 10;
      } else return Number(b.toString('latin1', from, end)); // exponents, NaN, Infinity
    }
    return (neg ? -v : v) / scale;
  }

  /** A text field, with COPY's escapes undone; null for NULL. */
  text(): string | null {
    const from = this.pos;
    const end = this.fieldEnd(from);
    this.pos = end + 1;
    if (this.buf[from] === BACKSLASH && this.buf[from + 1] === 78 && end === from + 2) return null;
    const s = this.buf.toString('utf8', from, end);
    const escape = this.buf.indexOf(BACKSLASH, from);
    return escape !== -1 && escape < end ? unescape(s) : s;
  }

  /** An ASCII field (codes, dates) without escapes; '' for NULL. */
  ascii(): string {
    const from = this.pos;
    const end = this.fieldEnd(from);
    this.pos = end + 1;
    if (this.buf[from] === BACKSLASH) return '';
    return this.buf.toString('latin1', from, end);
  }

  /**
   * True, and past the field, when the field is exactly the ASCII string s;
   * false, and not moved, otherwise. Matches a key without making a string.
   */
  skipIf(s: string): boolean {
    const b = this.buf;
    const from = this.pos;
    const n = s.length;
    const end = from + n;
    if (end > this.lineEnd || (b[end] !== TAB && end !== this.lineEnd)) return false;
    for (let k = 0; k < n; k++) if (b[from + k] !== s.charCodeAt(k)) return false;
    this.pos = end + 1;
    return true;
  }

  /** A date field 'YYYY-MM-DD' as a month number (year × 12 + month − 1); NaN for NULL. */
  month(): number {
    const b = this.buf;
    const p = this.pos;
    this.pos = this.fieldEnd(p) + 1;
    if (b[p] === BACKSLASH) return Number.NaN;
    const year = ((b[p] as number) - ZERO) * 1000 + ((b[p + 1] as number) - ZERO) * 100 + ((b[p + 2] as number) - ZERO) * 10 + ((b[p + 3] as number) - ZERO);
    const month = ((b[p + 5] as number) - ZERO) * 10 + ((b[p + 6] as number) - ZERO);
    return year * 12 + month - 1;
  }

  private fieldEnd(from: number): number {
    const tab = this.buf.indexOf(TAB, from);
    return tab === -1 || tab > this.lineEnd ? this.lineEnd : tab;
  }
}

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

function unescape(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => ESCAPES[c] ?? c);
}
