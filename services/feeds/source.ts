import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SourceConfig } from '../../config/config.schema.js';
import { parseManifest, type Manifest } from './manifest.js';
import { TransientError, withRetry } from './retry.js';

/**
 * A feed source: a file:// directory or an http(s):// base URL with an
 * optional bearer token. Batch files are brought to local disk (HTTP bodies
 * are spooled under <dataDir>/spool) and hashed on the way, so the sha256
 * is verified before any row is loaded and a load retry re-reads the disk,
 * not the network.
 */

export interface LocalBatch {
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
  release(): Promise<void>;
}

export interface FeedSource {
  readonly name: string;
  /** The URL without credentials, for records and messages. */
  readonly url: string;
  readManifest(): Promise<Manifest>;
  fetchBatch(file: string): Promise<LocalBatch>;
}

/** A source problem retrying will not fix (404, 401, a missing directory). */
export class SourceError extends Error {
  override name = 'SourceError';
}

export interface SourceOptions {
  timeoutMs: number;
  retries: number;
  retryBaseMs: number;
  spoolDir: string;
  onRetry?: (what: string, err: unknown, attempt: number, delayMs: number) => void;
}

export function openSource(config: SourceConfig, options: SourceOptions): FeedSource {
  const url = new URL(config.url.endsWith('/') ? config.url : `${config.url}/`);
  return url.protocol === 'file:' ? fileSource(config.name, url) : httpSource(config.name, url, config.token, options);
}

export function publicUrl(url: URL | string): string {
  const u = new URL(url.toString());
  u.username = '';
  u.password = '';
  u.search = '';
  return u.toString();
}

function fileSource(name: string, root: URL): FeedSource {
  const dir = fileURLToPath(root);
  const inside = (file: string): string => {
    const path = resolve(dir, file);
    if (!path.startsWith(dir.endsWith(sep) ? dir : dir + sep)) throw new SourceError(`${file}: outside the source directory`);
    return path;
  };
  return {
    name,
    url: publicUrl(root),
    async readManifest() {
      let text: string;
      try {
        text = await readFile(inside('manifest.json'), 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw new SourceError(`${publicUrl(root)}: no manifest.json (is the source directory right?)`);
        throw err;
      }
      return parseManifest(text, publicUrl(root));
    },
    async fetchBatch(file) {
      const path = inside(file);
      try {
        await stat(path);
      } catch {
        // The manifest may be written before the file lands: worth a retry.
        throw new TransientError(`${file}: listed in the manifest but not in ${publicUrl(root)}`);
      }
      const { sha256, bytes } = await hashFile(path);
      return { path, sha256, bytes, release: () => Promise.resolve() };
    },
  };
}

async function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

function httpSource(name: string, base: URL, token: string | undefined, options: SourceOptions): FeedSource {
  const shown = publicUrl(base);
  const headers: Record<string, string> = { 'user-agent': 'layoff-ews' };
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;

  const retrying = <T>(what: string, fn: () => Promise<T>): Promise<T> =>
    withRetry(fn, {
      attempts: options.retries + 1,
      baseMs: options.retryBaseMs,
      onRetry: (err, attempt, delay) => options.onRetry?.(what, err, attempt, delay),
    }).catch((err: unknown) => {
      if (err instanceof TransientError && options.retries > 0) {
        throw new TransientError(`${err.message} (gave up after ${options.retries + 1} attempts)`);
      }
      throw err;
    });

  return {
    name,
    url: shown,
    readManifest() {
      const url = new URL('manifest.json', base);
      return retrying('manifest', async () => {
        const chunks: Buffer[] = [];
        let size = 0;
        await get(url, headers, options.timeoutMs, (chunk) => {
          size += chunk.length;
          if (size > 64 << 20) throw new SourceError(`${publicUrl(url)}: manifest larger than 64 MiB`);
          chunks.push(chunk);
        });
        return parseManifest(Buffer.concat(chunks).toString('utf8'), shown);
      });
    },
    fetchBatch(file) {
      const url = new URL(file.split('/').map(encodeURIComponent).join('/'), base);
      mkdirSync(options.spoolDir, { recursive: true });
      return retrying(file, async () => {
        const path = resolve(options.spoolDir, `${randomUUID()}.part`);
        const hash = createHash('sha256');
        let bytes = 0;
        const out = createWriteStream(path);
        try {
          await get(url, headers, options.timeoutMs, async (chunk) => {
            hash.update(chunk);
            bytes += chunk.length;
            if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
          });
          await new Promise<void>((ok, fail) => out.end((err?: Error | null) => (err ? fail(err) : ok())));
        } catch (err) {
          // The file is opened asynchronously: wait until the stream is closed (and so the file
          // created) before removing it, or a failure before the open leaves an empty .part behind.
          const closed = new Promise<void>((done) => (out.closed ? done() : out.once('close', () => done())));
          out.destroy();
          await closed;
          await rm(path, { force: true });
          throw err;
        }
        const done = `${path.slice(0, -'.part'.length)}.batch`;
        await rename(path, done);
        return { path: done, sha256: hash.digest('hex'), bytes, release: () => rm(done, { force: true }) };
      });
    },
  };
}

/** One GET: the body goes to onChunk; the timeout covers the wait for headers and every pause in the body. */
async function get(url: URL, headers: Record<string, string>, timeoutMs: number, onChunk: (chunk: Buffer) => void | Promise<void>): Promise<void> {
  const shown = publicUrl(url);
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(), timeoutMs);
  const touch = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), timeoutMs);
  };
  try {
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: controller.signal, redirect: 'follow' });
    } catch (err) {
      throw controller.signal.aborted ? new TransientError(`GET ${shown} timed out after ${timeoutMs} ms`) : new TransientError(`GET ${shown} failed: ${describe(err)}`);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      const what = `GET ${shown} answered HTTP ${res.status}`;
      if (res.status >= 500 || res.status === 429 || res.status === 408) throw new TransientError(what);
      if (res.status === 401 || res.status === 403) throw new SourceError(`${what}: check the source's bearer token (FEED_TOKEN_<NAME>)`);
      throw new SourceError(what);
    }
    if (!res.body) return;
    touch();
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
        if (done || value === undefined) break;
        touch();
        await onChunk(Buffer.from(value));
      }
    } catch (err) {
      if (err instanceof SourceError) throw err;
      throw controller.signal.aborted
        ? new TransientError(`GET ${shown}: body stalled for ${timeoutMs} ms`)
        : new TransientError(`GET ${shown}: body broken off: ${describe(err)}`);
    }
  } finally {
    clearTimeout(timer);
  }
}

function describe(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}
