import type { Value } from './feed.spec.js';

/** One row in PostgreSQL COPY text format: tab-separated, \N for null, backslash escapes; `more` is appended. */
export function copyLine(values: readonly Value[], more: readonly Value[] = []): string {
  let line = '';
  for (let i = 0; i < values.length; i++) line += (i > 0 ? '\t' : '') + copyValue(values[i]);
  for (let i = 0; i < more.length; i++) line += (values.length + i > 0 ? '\t' : '') + copyValue(more[i]);
  return `${line}\n`;
}

function copyValue(v: Value | undefined): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'number') return String(v);
  return escapeText(v);
}

const SPECIAL = /[\\\t\n\r]/;

function escapeText(s: string): string {
  if (!SPECIAL.test(s)) return s;
  return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/**
 * Collects COPY lines as UTF-8 bytes in large Buffers. Each line's string
 * dies at once, so the garbage stays young and the heap small; the bytes
 * live outside the heap until the segment is sent.
 */
const CHUNK_BYTES = 1 << 20;

export class CopyBytes {
  private chunks: Buffer[] = [];
  private current = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  private total = 0;

  push(line: string): void {
    // A UTF-16 unit is at most 3 UTF-8 bytes.
    if (this.used + line.length * 3 > this.current.length) {
      this.seal();
      if (line.length * 3 > this.current.length) this.current = Buffer.allocUnsafe(line.length * 3);
    }
    this.used += this.current.write(line, this.used, 'utf8');
  }

  get bytes(): number {
    return this.total + this.used;
  }

  /** The bytes collected so far, and a fresh start. */
  take(): Buffer[] {
    this.seal();
    const out = this.chunks;
    this.chunks = [];
    this.total = 0;
    return out;
  }

  private seal(): void {
    if (this.used > 0) {
      this.chunks.push(this.current.subarray(0, this.used));
      this.total += this.used;
      this.current = Buffer.allocUnsafe(CHUNK_BYTES);
      this.used = 0;
    }
  }
}
