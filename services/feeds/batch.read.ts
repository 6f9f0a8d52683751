import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import iconv from 'iconv-lite';
import { parseCsv } from './csv.parse.js';
import { parseJsonl } from './jsonl.parse.js';
import { BatchFormatError, type ParsedRecord } from './record.js';

/**
 * A batch file on local disk → its records, streamed: bytes, then gunzip
 * for .gz, then UTF-8 (strict) or GBK decoding, then CSV or JSON Lines.
 * File-level defects throw BatchFormatError with the reason.
 */
export type Encoding = 'utf-8' | 'gbk';

export function batchFormat(file: string): { format: 'csv' | 'jsonl'; gzip: boolean } | undefined {
  const m = /\.(csv|jsonl)(\.gz)?$/.exec(file);
  if (!m) return undefined;
  return { format: m[1] as 'csv' | 'jsonl', gzip: m[2] !== undefined };
}

export function readBatchRecords(path: string, file: string, encoding: Encoding): AsyncGenerator<ParsedRecord> {
  const fmt = batchFormat(file);
  if (!fmt) throw new BatchFormatError(`file ${file}: name must end in .csv, .csv.gz, .jsonl or .jsonl.gz`);
  const text = decode(bytes(path, fmt.gzip), encoding);
  return fmt.format === 'csv' ? parseCsv(text) : parseJsonl(text);
}

async function* bytes(path: string, gzip: boolean): AsyncGenerator<Buffer> {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  if (!gzip) {
    yield* file as AsyncIterable<Buffer>;
    return;
  }
  const gunzip = file.pipe(createGunzip());
  file.once('error', (err) => gunzip.destroy(err));
  try {
    yield* gunzip as AsyncIterable<Buffer>;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'Z_BUF_ERROR') throw new BatchFormatError('gzip data is truncated (unexpected end of file)');
    if (e.code === 'Z_DATA_ERROR') throw new BatchFormatError(`not valid gzip data (${e.message})`);
    throw err;
  } finally {
    file.destroy();
  }
}

async function* decode(chunks: AsyncIterable<Buffer>, encoding: Encoding): AsyncGenerator<string> {
  if (encoding === 'gbk') {
    const decoder = iconv.getDecoder('gbk');
    for await (const chunk of chunks) yield decoder.write(chunk);
    const rest = decoder.end();
    if (rest) yield rest;
    return;
  }
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let lines = 1;
  let first = true;
  for await (const chunk of chunks) {
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      throw new BatchFormatError(notUtf8(lines + countNewlines(chunk.subarray(0, firstInvalidUtf8(chunk)))));
    }
    if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    first = false;
    lines += countNewlines(chunk);
    yield text;
  }
  try {
    const rest = decoder.decode();
    if (rest) yield rest;
  } catch {
    throw new BatchFormatError(notUtf8(lines));
  }
}

function notUtf8(aroundLine: number): string {
  return `not valid UTF-8 (by line ${aroundLine}); the manifest declares utf-8: if the file is GBK, its entry must say "encoding": "gbk"`;
}

/** Offset of the first byte that cannot be UTF-8 (a sequence cut at the chunk's start is passed over). */
function firstInvalidUtf8(buf: Buffer): number {
  let i = 0;
  while (i < 3 && i < buf.length && ((buf[i] as number) & 0xc0) === 0x80) i++;
  while (i < buf.length) {
    const b = buf[i] as number;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len === 0) return i;
    for (let k = 1; k < len; k++) {
      if (i + k >= buf.length) return buf.length;
      if (((buf[i + k] as number) & 0xc0) !== 0x80) return i;
    }
    i += len;
  }
  return buf.length;
}

function countNewlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return n;
}
