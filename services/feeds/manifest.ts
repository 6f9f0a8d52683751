import { z } from 'zod';
import type { FeedName } from '../../sql/schema.js';
import { batchFormat } from './batch.read.js';
import { isMonth } from './feed.spec.js';
import { jsonProblem } from './json.problem.js';
import { findPii, maskPii } from '../domain/pii.js';

/**
 * manifest.json at a source's root (../shared/FEEDS.md). A manifest that is
 * not JSON or not an object with a batches array is refused whole; a bad
 * entry is refused alone, with the reason, and the others still go through.
 */

export interface ManifestEntry {
  readonly file: string;
  readonly feed: FeedName;
  /** YYYY-MM */
  readonly period: string;
  readonly sha256: string;
  readonly rows: number;
  readonly encoding: 'utf-8' | 'gbk';
  /** Order among batches of one feed-period: later restates earlier. */
  readonly orderKey: number;
}

export interface Manifest {
  readonly generatedAt: string | undefined;
  readonly entries: readonly ManifestEntry[];
  readonly refused: readonly { index: number; file: string | undefined; reason: string }[];
}

export class ManifestError extends Error {
  override name = 'ManifestError';
}

const entrySchema = z.object({
  file: z
    .string()
    .min(1)
    .refine((f) => !f.split('/').some((p) => p === '..' || p === '') && !f.includes('\\'), 'must be a relative path inside the source')
    .refine((f) => batchFormat(f) !== undefined, 'must end in .csv, .csv.gz, .jsonl or .jsonl.gz')
    // The name is stored with the batch and shown in logs and listings.
    .refine((f) => findPii(f) === undefined, 'looks like it holds personal data (an ID, phone number or e-mail address)'),
  feed: z.enum(['social_insurance', 'headcount', 'regional', 'layoff_filings']),
  period: z.string().refine(isMonth, 'must be a month YYYY-MM'),
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits'),
  rows: z.number().int().nonnegative(),
  encoding: z
    .string()
    .transform((e) => e.toLowerCase().replace(/^utf8$/, 'utf-8'))
    .pipe(z.enum(['utf-8', 'gbk']))
    .optional(),
});

export function parseManifest(text: string, where: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(`${where}: manifest.json is not valid JSON (${jsonProblem(err)})`);
  }
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { batches?: unknown }).batches)) {
    throw new ManifestError(`${where}: manifest.json must be an object with a "batches" array`);
  }
  const raw = value as { generated_at?: unknown; batches: unknown[] };
  const generatedAt = typeof raw.generated_at === 'string' ? raw.generated_at : undefined;
  const stamp = generatedAt !== undefined ? Date.parse(generatedAt) : NaN;
  if (generatedAt !== undefined && Number.isNaN(stamp)) {
    throw new ManifestError(`${where}: manifest.json generated_at "${maskPii(generatedAt).slice(0, 40)}" is not a date-time`);
  }
  // Seconds × 10,000 + position stays exact in a double and in bigint.
  const base = Number.isNaN(stamp) ? 0 : Math.floor(stamp / 1000) * 10_000;
  const entries: ManifestEntry[] = [];
  const refused: { index: number; file: string | undefined; reason: string }[] = [];
  raw.batches.forEach((item, index) => {
    const parsed = entrySchema.safeParse(item);
    if (!parsed.success) {
      const given = (item as { file?: unknown } | null)?.file;
      const file = typeof given === 'string' ? maskPii(given) : undefined;
      const reason = parsed.error.issues.map((i) => `${i.path.join('.') || 'entry'}: ${i.message}`).join('; ');
      refused.push({ index, file, reason: `batches[${index}]${file !== undefined ? ` (${file})` : ''}: ${reason}` });
      return;
    }
    const e = parsed.data;
    entries.push({
      file: e.file,
      feed: e.feed,
      period: e.period,
      sha256: e.sha256.toLowerCase(),
      rows: e.rows,
      encoding: e.encoding ?? 'utf-8',
      orderKey: base + Math.min(index, 9_999),
    });
  });
  return { generatedAt, entries, refused };
}
