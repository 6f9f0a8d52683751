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
  monthPrecision: number | null;
  recall: number | null;
  recallAhead: number | null;
  prAuc: number | null;
  falseAlertsPer1000: number;
  falseBySize: Record<string, { falseOnsets: number; employerMonths: number; per1000: number }>;
  layoffs: number;
  caught: number;
  medianLeadPrecursor: number | null;
  medianLeadWarnPrecursor: number | null;
  transferAlerts: number;
}

describe('ews evaluate', () => {
  it('trains and replays at each generator setting, and writes the report with every method, size bands, the reference row and a PR picture per setting', async () => {
    const report = join(dir, 'REPORT.md');
    const run = await ews(['evaluate', '--employers', '1500', '--months', '30', '--epochs', '1', '--separability', '1,0', '--out', report, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { report: string; runs: { separability: number; churnDispersion: number; results: Result[]; targets: { name: string; met: boolean | null }[] }[] };
    expect(out.runs.map((r) => [r.separability, r.churnDispersion])).toEqual([[1, 0.2], [0, 0.2]]);
    for (const setting of out.runs) {
      expect(setting.results.map((r) => r.method)).toEqual(['full', 'rules', 'logistic', 'boosting', 'seasonal', 'ceiling']);
      const rules = setting.results[1] as Result;
      // The reference row only adds alerts to the full system's: it catches at least as many layoffs, at least as early.
      const [full, ceiling] = [setting.results[0] as Result, setting.results[5] as Result];
      expect(ceiling.caught).toBeGreaterThanOrEqual(full.caught);
      expect(ceiling.medianLeadPrecursor ?? 0).toBeGreaterThanOrEqual(full.medianLeadPrecursor ?? 0);
      // A watch (Ⅳ+) comes no later than a warning (Ⅲ+).
      expect(full.medianLeadWarnPrecursor ?? 0).toBeGreaterThanOrEqual(full.medianLeadPrecursor ?? 0);
      // The replayed province has statutory layoffs of 规模, and the rules catch some of them in the month they happen.
      expect(rules.layoffs).toBeGreaterThan(0);
      expect(rules.caught).toBeGreaterThan(0);
      for (const r of setting.results) {
        for (const v of [r.precision, r.monthPrecision, r.recall, r.recallAhead, r.prAuc]) {
          if (v === null) continue;
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
        }
        expect(r.layoffs).toBe(rules.layoffs);
        // Every employer-month falls in one size band; the bands' false onsets add up to the total.
        const bands = Object.values(r.falseBySize);
        expect(Object.keys(r.falseBySize)).toEqual(['≤5', '6–99', '100–999', '1000+']);
        const months = bands.reduce((a, b) => a + b.employerMonths, 0);
        expect(bands.reduce((a, b) => a + b.falseOnsets, 0) / months * 1000).toBeCloseTo(r.falseAlertsPer1000, 6);
      }
      expect(setting.targets).toHaveLength(8);
    }

    const md = readFileSync(report, 'utf8');
    expect(md).toContain('## Separability 1, churn dispersion 0.2');
    expect(md).toContain('## Separability 0, churn dispersion 0.2');
    expect(md).toContain('| method | precision at Ⅲ+ (onsets) | precision at Ⅲ+ (months) | recall at Ⅲ+ | recall, with precursors | recall, sudden | recall at lead ≥ 1 month | median lead at Ⅳ+, with precursors | median lead at Ⅲ+, with precursors | false Ⅲ+ alerts per 1,000 employers per month | PR-AUC | alerts on transfers |');
    expect(md).toContain('| method | ≤5 staff | 6–99 staff | 100–999 staff | 1000+ staff |');
    for (const label of ['full system (rules + model)', 'rules only', 'logistic regression, same features', "gradient-boosted trees, last month's features", 'seasonal-naive z-score of net change']) expect(md).toContain(`| ${label} |`);
    expect(md).toContain('| *reference, reads the truth:* full system + every visible precursor |');
    expect(md).toContain('The reference row shows what perfect reading of the precursors would buy');
    for (const s of [1, 0]) {
      expect(md).toContain(`![Precision against recall for each method](REPORT-pr-s${s}.svg)`);
      const svg = readFileSync(join(dir, `REPORT-pr-s${s}.svg`), 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg.match(/<polyline /g)?.length).toBeGreaterThanOrEqual(3);
    }
  }, 240_000);

  it('refuses a separability outside 0–5 or listed twice, naming the option', async () => {
    const bad = await ews(['evaluate', '--separability', '1,-1']);
    expect(bad).toMatchObject({ code: 2, stderr: 'ews: --separability takes numbers from 0 to 5 separated by commas, got "1,-1"\n' });
    const twice = await ews(['evaluate', '--separability', '1,1']);
    expect(twice).toMatchObject({ code: 2, stderr: 'ews: --separability lists a setting twice: "1,1"\n' });
  });

  it('refuses to judge a model on the province it was trained on', async () => {
    const run = await ews(['evaluate', '--train-seed', '3', '--test-seed', '3']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('ews: --train-seed and --test-seed must differ: the model is judged on a province it has not seen\n');
  });
});
