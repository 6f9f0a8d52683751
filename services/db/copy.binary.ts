/**
 * Rows for COPY … FROM STDIN (FORMAT binary), written straight into large
 * Buffers. For rows that are mostly numbers and raw bytes this spares both
 * sides the text form: no number is printed here and parsed there, and a
 * bytea goes as its bytes, not as twice as many hex digits that the server
 * decodes again (the packed history, services/scoring/series.pack.ts).
 *
 * The format: an 11-byte signature, flags and header-extension length;
 * per row a 16-bit field count, then per field a 32-bit length (−1: NULL)
 * and the value in the type's binary form; a 16-bit −1 at the end. Every
 * value is big-endian. The caller writes each row's fields in the order of
 * the COPY's column list, with the method for its column's type.
 */

/** What every COPY binary stream starts with (copy.read.ts checks it on the way in). */
export const COPY_BINARY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const CHUNK_BYTES = 1 << 20;
/** Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01. */
const PG_EPOCH_DAYS = 10_957;
const TEXT_OID = 25;
const JSONB_VERSION = 1;

export class BinaryCopyRows {
  private chunks: Buffer[] = [];
  private buf = Buffer.allocUnsafe(CHUNK_BYTES);
  private len = 0;

  constructor() {
    this.header();
  }

  /** Starts a row of `fields` fields. */
  row(fields: number): void {
    this.room(2);
    this.buf.writeInt16BE(fields, this.len);
    this.len += 2;
  }

  /** A smallint. */
  int16(v: number): void {
    if (!Number.isInteger(v) || v < -32_768 || v > 32_767) throw new RangeError(`binary COPY: ${v} is not a smallint`);
    this.room(6);
    this.buf.writeInt32BE(2, this.len);
    this.buf.writeInt16BE(v, this.len + 4);
    this.len += 6;
  }

  /** An integer. */
  int32(v: number): void {
    if (!Number.isInteger(v) || v < -2_147_483_648 || v > 2_147_483_647) throw new RangeError(`binary COPY: ${v} is not an integer`);
    this.room(8);
    this.buf.writeInt32BE(4, this.len);
    this.buf.writeInt32BE(v, this.len + 4);
    this.len += 8;
  }

  /** A bigint, from a safe integer. */
  int64(v: number): void {
    if (!Number.isSafeInteger(v)) throw new RangeError(`binary COPY: ${v} is not a safe integer for a bigint`);
    const high = Math.floor(v / 2 ** 32);
    this.room(12);
    this.buf.writeInt32BE(8, this.len);
    this.buf.writeInt32BE(high, this.len + 4);
    this.buf.writeUInt32BE(v - high * 2 ** 32, this.len + 8);
    this.len += 12;
  }

  /** A real (float4). */
  float4(v: number): void {
    this.room(8);
    this.buf.writeInt32BE(4, this.len);
    this.buf.writeFloatBE(v, this.len + 4);
    this.len += 8;
  }

  /** A text[] of one dimension (no NULL elements): PostgreSQL's array header, then each element as text. */
  textArray(values: readonly string[]): void {
    // Room for the whole field first: its length is written at its start once the elements are in.
    let most = 24;
    for (const v of values) most += 4 + v.length * 3;
    this.room(most);
    const at = this.len;
    this.len += 4;
    this.buf.writeInt32BE(values.length === 0 ? 0 : 1, this.len); // dimensions
    this.buf.writeInt32BE(0, this.len + 4); // no NULLs
    this.buf.writeInt32BE(TEXT_OID, this.len + 8);
    this.len += 12;
    if (values.length > 0) {
      this.buf.writeInt32BE(values.length, this.len);
      this.buf.writeInt32BE(1, this.len + 4); // lower bound
      this.len += 8;
    }
    for (const v of values) this.text(v); // finds its room already there: the field stays in one buffer
    this.buf.writeInt32BE(this.len - at - 4, at);
  }

  /** A jsonb: its version byte, then the JSON text. */
  jsonb(json: string): void {
    this.room(5 + json.length * 3);
    const at = this.len;
    this.buf[at + 4] = JSONB_VERSION;
    const n = this.buf.write(json, this.len + 5, 'utf8');
    this.buf.writeInt32BE(n + 1, at);
    this.len += 5 + n;
  }

  /** A date, given as days since 1970-01-01 (what `dayNumber` of services/domain/period.ts gives). */
  date(unixDays: number): void {
    if (!Number.isInteger(unixDays)) throw new RangeError(`binary COPY: ${unixDays} is not a day number`);
    this.int32(unixDays - PG_EPOCH_DAYS);
  }

  /** text, varchar or char(n): the string's UTF-8 bytes. */
  text(s: string): void {
    this.room(4 + s.length * 3);
    const n = this.buf.write(s, this.len + 4, 'utf8');
    this.buf.writeInt32BE(n, this.len);
    this.len += 4 + n;
  }

  /** A bytea: the bytes as they are. */
  bytes(b: Uint8Array): void {
    this.room(4 + b.length);
    this.buf.writeInt32BE(b.length, this.len);
    this.buf.set(b, this.len + 4);
    this.len += 4 + b.length;
  }

  null(): void {
    this.room(4);
    this.buf.writeInt32BE(-1, this.len);
    this.len += 4;
  }

  /** Every byte written, with the end marker; the writer starts over, header included. */
  take(): Buffer[] {
    this.room(2);
    this.buf.writeInt16BE(-1, this.len);
    this.len += 2;
    this.seal();
    const out = this.chunks;
    this.chunks = [];
    this.header();
    return out;
  }

  private header(): void {
    this.room(COPY_BINARY_SIGNATURE.length + 8);
    COPY_BINARY_SIGNATURE.copy(this.buf, this.len);
    this.len += COPY_BINARY_SIGNATURE.length;
    this.buf.writeInt32BE(0, this.len); // flags: no OIDs
    this.buf.writeInt32BE(0, this.len + 4); // no header extension
    this.len += 8;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    this.seal();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(n, CHUNK_BYTES));
  }

  private seal(): void {
    if (this.len === 0) return;
    this.chunks.push(this.buf.subarray(0, this.len));
    this.buf = Buffer.allocUnsafe(CHUNK_BYTES);
    this.len = 0;
  }
}
