import type pg from 'pg';
import { COPY_BINARY_SIGNATURE } from './copy.binary.js';

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
 *
 * The client's socket is read directly while the rows stream: each
 * CopyData message is scanned where it lies in the network chunk, its
 * 5-byte header stepped over, with no message objects, slices or copies
 * per row. The per-row framing of pg's parser or of pg-copy-streams costs
 * as much as parsing the fields: reading 1,559,800 history rows of the
 * score benchmark's database took 1.4–1.6 s of this process's CPU through
 * pg-copy-streams, 1.1–1.6 s through pg's parser, 0.9–1.05 s in place
 * (2026-12-07, three runs each). Anything other than copy data
 * (the end of the COPY, an error, a notice) hands the socket and the unread
 * bytes back to pg's own parser, which then finishes the query as usual;
 * rows that still arrive through it are scanned from its messages. Errors
 * from the server, a broken connection and an error thrown by the callback
 * all reject the promise; after the callback's error the rest of the rows
 * are drained unread, so the connection stays usable.
 */
export function copyScan(client: pg.PoolClient, query: string, onRow: (row: CopyFields) => void): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    client.query(new CopyOutScan(`COPY (${query}) TO STDOUT`, new TextRows(onRow), resolve, reject));
  });
}

/**
 * The same in COPY's binary format, for rows that are mostly raw bytes:
 * a bytea comes as its bytes, not as hex digits the server writes and this
 * process decodes (the packed history). The callback reads each field with
 * the method for its column's type (BinaryFields).
 */
export function copyScanBinary(client: pg.PoolClient, query: string, onRow: (row: BinaryFields) => void): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    client.query(new CopyOutScan(`COPY (${query}) TO STDOUT (FORMAT binary)`, new BinaryRows(onRow), resolve, reject));
  });
}

/** Turns the bytes of the CopyData messages, in order, into rows. */
interface RowSink {
  /** The payload of one CopyData message, buf[from, end); returns the rows it completed. */
  bytes(buf: Buffer, from: number, end: number): number;
  /** The COPY has ended; returns the rows still held back. */
  end(): number;
}

interface PgConnection {
  stream: NodeJS.EventEmitter;
  query(text: string): void;
}

const COPY_DATA = 0x64; // 'd'
const COPY_OUT_RESPONSE = 0x48; // 'H'
const LINE_END = Buffer.from('\n');

/** What pg's client asks of a submittable query during a COPY … TO STDOUT. */
class CopyOutScan implements pg.Submittable {
  private rows = 0;
  /** A message cut by the end of a network chunk. */
  private pending: Buffer | null = null;
  private failure: Error | null = null;
  private settled = false;
  private stream: NodeJS.EventEmitter | null = null;
  private pgListener: ((chunk: Buffer) => void) | null = null;

  constructor(
    private readonly text: string,
    private readonly sink: RowSink,
    private readonly resolve: (rows: number) => void,
    private readonly reject: (err: Error) => void,
  ) {}

  submit(pgConnection: pg.Connection): void {
    // pg's Connection type does not declare its socket; the object has it (pg-copy-streams relies on the same).
    const connection = pgConnection as unknown as PgConnection;
    const listeners = connection.stream.listeners('data');
    // Take over only a connection laid out as expected; otherwise pg's parser frames every row (slower, same rows).
    if (listeners.length === 1) {
      this.stream = connection.stream;
      this.pgListener = listeners[0] as (chunk: Buffer) => void;
      this.stream.removeListener('data', this.pgListener);
      this.stream.on('data', this.onData);
    }
    connection.query(this.text);
  }

  /** Network chunks while the COPY streams: CopyData scanned in place, everything else handed back to pg. */
  private readonly onData = (chunk: Buffer): void => {
    let buf = chunk;
    if (this.pending !== null) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let p = 0;
    while (p + 5 <= buf.length) {
      const code = buf[p] as number;
      if (code !== COPY_DATA && code !== COPY_OUT_RESPONSE) {
        this.giveBack(buf.subarray(p));
        return;
      }
      const end = p + 1 + buf.readUInt32BE(p + 1);
      if (end > buf.length) break;
      if (code === COPY_DATA) this.rowBytes(buf, p + 5, end);
      p = end;
    }
    // Copied: the socket may reuse its chunk.
    if (p < buf.length) this.pending = Buffer.from(buf.subarray(p));
  };

  private giveBack(rest: Buffer): void {
    const stream = this.stream;
    const pg = this.pgListener;
    if (stream === null || pg === null) return;
    this.stream = null;
    this.pgListener = null;
    stream.removeListener('data', this.onData);
    stream.on('data', pg);
    if (rest.length > 0) pg(rest);
  }

  private rowBytes(source: Buffer, from: number, end: number): void {
    if (this.failure !== null || end <= from) return;
    try {
      this.rows += this.sink.bytes(source, from, end);
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
    }
  }

  /** Rows framed by pg's parser: after a notice mid-COPY, or when the socket could not be taken over. */
  handleCopyData(message: { chunk: Buffer }): void {
    this.rowBytes(message.chunk, 0, message.chunk.length);
  }

  handleCommandComplete(): void {
    if (this.failure !== null) return;
    try {
      this.rows += this.sink.end();
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
    }
  }

  /** A server error, or the connection lost: settles at once (pg keeps the client's own state). */
  handleError(err: Error): void {
    this.failure ??= err;
    this.giveBack(Buffer.alloc(0));
    this.settle();
  }

  handleReadyForQuery(): void {
    this.settle();
  }

  // Messages a COPY … TO does not send; pg calls them for other statements.
  handleRowDescription(): void {
    this.failure ??= new Error('copyScan: the statement returned rows instead of COPY data');
  }

  handleDataRow(): void {}

  handleEmptyQuery(): void {
    this.failure ??= new Error('copyScan: empty statement');
  }

  handlePortalSuspended(): void {}

  handleCopyInResponse(connection: { sendCopyFail(message: string): void }): void {
    connection.sendCopyFail('copyScan reads only');
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    if (this.failure !== null) this.reject(this.failure);
    else this.resolve(this.rows);
  }
}

/** COPY text: whole lines, a line cut at the end of a message kept for the next. */
class TextRows implements RowSink {
  private readonly fields = new CopyFields();
  /** The start of a row whose message did not end it (never seen from PostgreSQL, handled all the same). */
  private carry: Buffer | null = null;

  constructor(private readonly onRow: (row: CopyFields) => void) {}

  bytes(source: Buffer, from: number, end: number): number {
    let buf = source;
    let start = from;
    let stop = end;
    if (this.carry !== null) {
      buf = Buffer.concat([this.carry, source.subarray(from, end)]);
      this.carry = null;
      start = 0;
      stop = buf.length;
    }
    const last = buf[stop - 1] === NL ? stop : buf.lastIndexOf(NL, stop - 1) + 1;
    const rows = last > start ? this.fields.scan(buf, last, this.onRow, start) : 0;
    if (last < stop) this.carry = Buffer.from(buf.subarray(Math.max(last, start), stop));
    return rows;
  }

  end(): number {
    // COPY ends every row with a newline; a tail without one is still a row.
    return this.carry === null ? 0 : this.bytes(LINE_END, 0, 1);
  }
}

/** Signature, flags, header-extension length. */
const HEADER_BYTES = COPY_BINARY_SIGNATURE.length + 8;

/**
 * COPY binary: the header once, then rows of a 16-bit field count and per
 * field a 32-bit length (−1: NULL) and its bytes, then a count of −1. A
 * row cut at the end of a message is kept for the next.
 */
export class BinaryRows implements RowSink {
  private readonly fields = new BinaryFields();
  private carry: Buffer | null = null;
  private header = true;
  private ended = false;

  constructor(private readonly onRow: (row: BinaryFields) => void) {}

  bytes(source: Buffer, from: number, end: number): number {
    let buf = source;
    let p = from;
    let stop = end;
    if (this.carry !== null) {
      buf = Buffer.concat([this.carry, source.subarray(from, end)]);
      this.carry = null;
      p = 0;
      stop = buf.length;
    }
    let rows = 0;
    if (this.header) {
      if (stop - p < HEADER_BYTES || stop - p < HEADER_BYTES + buf.readUInt32BE(p + HEADER_BYTES - 4)) {
        this.carry = Buffer.from(buf.subarray(p, stop));
        return 0;
      }
      if (!buf.subarray(p, p + COPY_BINARY_SIGNATURE.length).equals(COPY_BINARY_SIGNATURE)) throw new Error('COPY binary data does not start with its signature');
      p += HEADER_BYTES + buf.readUInt32BE(p + HEADER_BYTES - 4);
      this.header = false;
    }
    while (p + 2 <= stop) {
      if (this.ended) throw new Error('COPY binary data goes on after its end marker');
      const count = buf.readInt16BE(p);
      if (count === -1) {
        this.ended = true;
        p += 2;
        continue;
      }
      // The row's end, if the message holds all of it.
      let q = p + 2;
      for (let k = 0; k < count && q <= stop; k++) q = q + 4 > stop ? stop + 1 : q + 4 + Math.max(0, buf.readInt32BE(q));
      if (q > stop) break;
      this.fields.start(buf, p + 2, q);
      this.onRow(this.fields);
      rows++;
      p = q;
    }
    if (p < stop) this.carry = Buffer.from(buf.subarray(p, stop));
    return rows;
  }

  end(): number {
    if (this.carry !== null || this.header) throw new Error('COPY binary data ended inside a row');
    if (!this.ended) throw new Error('COPY binary data ended without its end marker');
    return 0;
  }
}

/**
 * A cursor over one COPY binary row: each call reads the next field, in
 * the binary form of its column's type, and steps past it.
 */
export class BinaryFields {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private end = 0;

  /** The row's fields are buf[from, end). */
  start(buf: Buffer, from: number, end: number): void {
    this.buf = buf;
    this.pos = from;
    this.end = end;
  }

  /** The next field's length (−1: NULL), stepped past. */
  private field(): number {
    if (this.pos + 4 > this.end) throw new Error('COPY binary row has fewer fields than read');
    const n = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return n;
  }

  /** A smallint, integer or bigint (up to 2^53); `ifNull` for NULL. */
  int(ifNull = -1): number {
    const n = this.field();
    const p = this.pos;
    this.pos += Math.max(0, n);
    if (n === -1) return ifNull;
    if (n === 2) return this.buf.readInt16BE(p);
    if (n === 4) return this.buf.readInt32BE(p);
    if (n === 8) return this.buf.readInt32BE(p) * 2 ** 32 + this.buf.readUInt32BE(p + 4);
    throw new Error(`COPY binary field of ${n} bytes is not an integer`);
  }

  /** A text, varchar or char field; null for NULL. */
  text(): string | null {
    const n = this.field();
    if (n === -1) return null;
    const p = this.pos;
    this.pos += n;
    return this.buf.toString('utf8', p, p + n);
  }

  /** An ASCII field (codes); '' for NULL. */
  ascii(): string {
    const n = this.field();
    if (n === -1) return '';
    const p = this.pos;
    this.pos += n;
    return this.buf.toString('latin1', p, p + n);
  }

  /** A bytea field as a view of the row's bytes (valid only while the row is read); null for NULL. */
  bytea(): Buffer | null {
    const n = this.field();
    if (n === -1) return null;
    const p = this.pos;
    this.pos += n;
    return this.buf.subarray(p, p + n);
  }

  /** Steps past the next n fields unread. */
  skip(n = 1): void {
    for (let k = 0; k < n; k++) this.pos += Math.max(0, this.field());
  }
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

  /** Calls onRow once per complete line in buf[from, end); returns the number of rows. */
  scan(buf: Buffer, end: number, onRow: (row: CopyFields) => void, from = 0): number {
    this.buf = buf;
    let rows = 0;
    let start = from;
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

  /** Steps past the next n fields unread. */
  skip(n = 1): void {
    for (let k = 0; k < n; k++) this.pos = this.fieldEnd(this.pos) + 1;
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
