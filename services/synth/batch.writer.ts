import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { ZlibOptions } from 'node:zlib';
import iconv from 'iconv-lite';

/**
 * One output file written as a stream: text is collected into chunks,
 * encoded (UTF-8 or GBK), optionally gzipped, hashed as the bytes land on
 * disk (the manifest's sha256 covers the file as delivered) and written
 * with backpressure respected, so no file is ever held whole in memory.
 */
export interface WriterOptions {
  readonly gzip?: boolean;
  readonly encoding?: 'utf-8' | 'gbk';
  /** zlib level; low levels keep compression off the critical path. */
  readonly level?: number;
}

export interface WrittenFile {
  readonly sha256: string;
  readonly bytes: number;
}

/** Bytes collected before handing a chunk to the stream. */
const CHUNK_BYTES = 1 << 20;

export class BatchWriter {
  // UTF-8 rows are encoded straight into a byte chunk: cheaper than growing a string and converting it.
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  private readonly ready: Buffer[] = [];
  // GBK goes through iconv-lite, which wants text; those files are small.
  private text = '';
  private readonly head: Writable;
  private readonly done: Promise<void>;
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private failure: unknown;
  /** Data rows written (the caller says which lines are rows). */
  rows = 0;
  /** Physical lines written so far. */
  lines = 0;

  constructor(
    readonly path: string,
    private readonly options: WriterOptions = {},
  ) {
    const file = createWriteStream(path, { highWaterMark: 1 << 20 });
    const tap = new Transform({
      transform: (chunk: Buffer, _enc, callback) => {
        this.hash.update(chunk);
        this.bytes += chunk.length;
        callback(null, chunk);
      },
    });
    if (options.gzip) {
      // A deep write buffer lets zlib compress on the thread pool while the caller formats the next rows.
      const zopts: ZlibOptions & { writableHighWaterMark: number } = { level: options.level ?? 1, chunkSize: 256 << 10, memLevel: 9, writableHighWaterMark: 4 << 20 };
      const gzip = createGzip(zopts);
      this.head = gzip;
      this.done = pipeline(gzip, tap, file);
    } else {
      this.head = tap;
      this.done = pipeline(tap, file);
    }
    this.done.catch((err: unknown) => {
      this.failure = err;
    });
  }

  /** Appends one physical line (without its line break); true when the caller should await flush(). */
  line(text: string): boolean {
    this.lines++;
    if (this.options.encoding === 'gbk') {
      this.text += text;
      this.text += '\n';
      return this.text.length >= CHUNK_BYTES / 2;
    }
    // A UTF-8 character takes at most three bytes per UTF-16 unit.
    const need = text.length * 3 + 1;
    if (this.chunk.length - this.used < need) this.seal(need);
    this.used += this.chunk.write(text, this.used, 'utf8');
    this.chunk[this.used++] = 10;
    return this.used >= CHUNK_BYTES - 4096;
  }

  /** A data row: a line that counts towards the manifest's rows. */
  row(text: string): boolean {
    this.rows++;
    return this.line(text);
  }

  /**
   * A data row made of bytes already encoded (`from[start, end)`) followed by
   * ASCII text; `patch` replaces the byte at offset 17 (a uscc check character).
   */
  rowFrom(from: Buffer, start: number, end: number, ascii: string, patch = -1): boolean {
    if (this.options.encoding === 'gbk') throw new Error('BatchWriter.rowFrom: UTF-8 files only');
    this.rows++;
    this.lines++;
    const need = end - start + ascii.length + 1;
    if (this.chunk.length - this.used < need) this.seal(need);
    // Plain loops: for rows of ~100 bytes, Buffer.copy and Buffer.write cost more in call overhead than they save.
    const chunk = this.chunk;
    let at = this.used;
    for (let i = start; i < end; i++) chunk[at++] = from[i] as number;
    if (patch >= 0) chunk[this.used + 17] = patch;
    for (let i = 0; i < ascii.length; i++) chunk[at++] = ascii.charCodeAt(i);
    chunk[at++] = 10;
    this.used = at;
    return at >= CHUNK_BYTES - 4096;
  }

  get needsFlush(): boolean {
    return this.ready.length > 0 || this.used >= CHUNK_BYTES - 4096 || this.text.length >= CHUNK_BYTES / 2;
  }

  /** Closes the current chunk; the next line starts a fresh one (the stream may still hold the old). */
  private seal(need: number): void {
    if (this.used > 0) this.ready.push(this.chunk.subarray(0, this.used));
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, need));
    this.used = 0;
  }

  async flush(): Promise<void> {
    if (this.failure !== undefined) throw this.failure instanceof Error ? this.failure : new Error(`writing ${this.path} failed`);
    if (this.text.length > 0) {
      this.ready.push(iconv.encode(this.text, 'gbk'));
      this.text = '';
    }
    if (this.used > 0) this.seal(0);
    while (this.ready.length > 0) {
      const bytes = this.ready.shift() as Buffer;
      if (this.head.write(bytes)) {
        // Yield once per chunk: zlib hands each finished piece back on this thread, and
        // only then starts the next, so a producer that never yields leaves it idle.
        if (this.options.gzip) await new Promise<void>((resolveNow) => setImmediate(resolveNow));
        continue;
      }
      const drained = once(this.head, 'drain');
      // A failed pipeline also rejects `drained`; the race below reports it through `done`.
      drained.catch(() => undefined);
      await Promise.race([drained, this.done]);
    }
  }

  async close(): Promise<WrittenFile> {
    await this.flush();
    this.head.end();
    await this.done;
    return { sha256: this.hash.digest('hex'), bytes: this.bytes };
  }
}
