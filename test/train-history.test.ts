import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../services/db/database.js';
import { createTestDatabase } from './harness/db.js';
import { databaseUrl } from './harness/env.js';
import { ingestProvince } from './harness/province.js';

/**
 * A new deployment trains from the history it has: 16 months are enough
 * (windows shorter than the model's 24 months are padded), 13 are refused
 * with the minimum stated; the artifact says what it saw and carries the
 * feature reference its explanations are measured against.
 */

const BIN = fileURLToPath(new URL('../bin/ews.js', import.meta.url));
let sixteen: Database & { name: string };
let thirteen: Database & { name: string };
let dir: string;

beforeAll(async () => {
  sixteen = await createTestDatabase();
  thirteen = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'ews-train-history-'));
  await ingestProvince(sixteen, { employers: 4000, months: 16, seed: 5, lastPeriod: '2026-10', defects: false, separability: 1 });
  await ingestProvince(thirteen, { employers: 300, months: 13, seed: 5, lastPeriod: '2026-10', defects: false });
}, 180_000);

afterAll(async () => {
  await sixteen.close();
  await thirteen.close();
  rmSync(dir, { recursive: true, force: true });
});

function ews(database: Database & { name: string }, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: databaseUrl(database.name), EWS_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'silent', MODEL_THREADS: '1' }, timeout: 180_000, maxBuffer: 1 << 24 },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('training from the history a deployment has', () => {
  it('trains from 16 months: examples from the fourth month to three before the last, the window and reference in the artifact', async () => {
    const out = join(dir, 'sixteen');
    const run = await ews(sixteen, ['train', '--out', out, '--kind', 'logistic', '--epochs', '1', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as { window: { from: string; to: string }; examples: number; positives: number };
    // Data 2025-07..2026-10: 3 months of baseline, labels 3 months ahead.
    expect(summary.window).toEqual({ from: '2025-10', to: '2026-07' });
    expect(summary.positives).toBeGreaterThanOrEqual(10);
    const meta = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8')) as { featureSpec: { version: string; names: string[] }; reference: { mean: number[]; sd: number[] }; notes: string };
    expect(meta.featureSpec.version).toBe('v2');
    expect(meta.reference.mean).toHaveLength(meta.featureSpec.names.length);
    expect(meta.reference.sd.every((v) => v > 0)).toBe(true);
    expect(meta.notes).toContain('a layoff of at least 10 people');
  });

  it('refuses 13 months with the minimum stated', async () => {
    const run = await ews(thirteen, ['train', '--out', join(dir, 'thirteen'), '--kind', 'logistic', '--epochs', '1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'ews: training needs at least 16 months of social-insurance history (3 of baseline, 10 example months, 3 of labels); the database has 13 (2025-10..2026-10)\n',
    );
  });
});
