import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../services/db/database.js';
import { createTestDatabase } from './harness/db.js';
import { databaseUrl } from './harness/env.js';

const BIN = fileURLToPath(new URL('../bin/ews.js', import.meta.url));
let database: Database & { name: string };
let dir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'ews-evaluate-'));
});
afterAll(async () => {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

function ews(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: databaseUrl(database.name), EWS_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn', LOG_FORMAT: 'json', MODEL_THREADS: '1' }, timeout: 240_000, maxBuffer: 1 << 24 },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

interface Result {
  method: string;
  precision: number | null;
  recall: number | null;
  prAuc: number | null;
  falseAlertsPer1000: number;
  layoffs: number;
  caught: number;
  medianLeadPrecursor: number | null;
  transferAlerts: number;
}

describe('ews evaluate', () => {
  it('trains on one province, replays another, and writes the report with all four methods, the reference row and a PR picture', async () => {
    const report = join(dir, 'REPORT.md');
    const run = await ews(['evaluate', '--employers', '1500', '--months', '30', '--epochs', '1', '--out', report, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { report: string; results: Result[]; targets: { name: string; met: boolean | null }[] };
    expect(out.results.map((r) => r.method)).toEqual(['full', 'rules', 'logistic', 'seasonal', 'ceiling']);
    const rules = out.results[1] as Result;
    // The reference row only adds alerts to the full system's: it catches at least as many layoffs, at least as early.
    const [full, ceiling] = [out.results[0] as Result, out.results[4] as Result];
    expect(ceiling.caught).toBeGreaterThanOrEqual(full.caught);
    expect(ceiling.medianLeadPrecursor ?? 0).toBeGreaterThanOrEqual(full.medianLeadPrecursor ?? 0);
    // The replayed province has statutory layoffs, and the rules catch some of them in the month they happen.
    expect(rules.layoffs).toBeGreaterThan(0);
    expect(rules.caught).toBeGreaterThan(0);
    for (const r of out.results) {
      for (const v of [r.precision, r.recall, r.prAuc]) {
        if (v === null) continue;
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
      expect(r.layoffs).toBe(rules.layoffs);
    }
    expect(out.targets).toHaveLength(6);

    const md = readFileSync(report, 'utf8');
    expect(md).toContain('| method | precision at Ⅲ+ | recall at Ⅲ+ | PR-AUC | median lead (months) | median lead, layoffs with precursors | false alerts per 1,000 employers per month | recall, sudden layoffs | recall, layoffs with precursors | alerts on transfers |');
    for (const label of ['full system (rules + model)', 'rules only', 'logistic regression, same features', 'seasonal-naive z-score of net change']) expect(md).toContain(`| ${label} |`);
    expect(md).toContain('| *reference, reads the truth:* full system + every visible precursor |');
    expect(md).toContain('The reference row shows what perfect reading of the precursors would buy');
    expect(md).toContain('![Precision against recall for each method](REPORT-pr.svg)');
    const svg = readFileSync(join(dir, 'REPORT-pr.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline /g)?.length).toBeGreaterThanOrEqual(3);
  });

  it('refuses to judge a model on the province it was trained on', async () => {
    const run = await ews(['evaluate', '--train-seed', '3', '--test-seed', '3']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('ews: --train-seed and --test-seed must differ: the model is judged on a province it has not seen\n');
  });
});
