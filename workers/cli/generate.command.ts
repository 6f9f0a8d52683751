import { resolve } from 'node:path';
import type { CliContext } from './context.js';
import { intOption, printJson, UsageError, printLine } from './output.js';
import { progressBar } from './progress.js';

export async function generateCommand(
  ctx: CliContext,
  opts: {
    out: string; employers: string; months: string; seed: string; lastPeriod: string; defects: boolean;
    separability?: string; microClosureRate?: string; churnDispersion?: string; json?: boolean;
  },
): Promise<void> {
  const employers = intOption('employers', opts.employers, 1, 10_000_000);
  const months = intOption('months', opts.months, 1, 240);
  const seed = intOption('seed', opts.seed, 0, 2 ** 31 - 1);
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(opts.lastPeriod)) throw new UsageError(`--last-period must be YYYY-MM, got "${opts.lastPeriod}"`);
  // Ranges and defaults as services/synth/realism.ts (its README: what each knob does).
  const separability = numberOption('separability', opts.separability, 5, 0);
  const microClosureRate = numberOption('micro-closure-rate', opts.microClosureRate, 0.5, 0.03);
  const churnDispersion = numberOption('churn-dispersion', opts.churnDispersion, 5, 0);
  // Loaded on demand: the generator is not needed by any other command.
  const { generateProvince } = await import('../../services/synth/province.generate.js');
  const bar = progressBar('generating', 'months', { json: opts.json });
  const started = Date.now();
  const summary = await generateProvince({
    outDir: resolve(opts.out),
    employers,
    months,
    seed,
    lastPeriod: opts.lastPeriod,
    defects: opts.defects,
    separability,
    microClosureRate,
    churnDispersion,
    onProgress: (done: number, total: number) => bar.update(done, total),
  });
  bar.stop();
  ctx.log.debug({ seconds: (Date.now() - started) / 1000 }, 'province generated');
  if (opts.json) {
    printJson(summary);
    return;
  }
  const rows = Object.entries(summary.rows).map(([f, n]) => `${f} ${n}`).join(', ');
  printLine(`feed source: ${summary.sourceDir} (${summary.batches} batches; ${rows})`);
  printLine(`ground truth: ${summary.truthDir}`);
  printLine(`periods ${summary.firstPeriod} to ${summary.lastPeriod}; events ${JSON.stringify(summary.events)}; defects ${JSON.stringify(summary.defects)}`);
  printLine(`realism: separability ${separability}, micro closure rate ${microClosureRate}, churn dispersion ${churnDispersion}`);
}

/** A decimal number from 0 to max (intOption's counterpart; `fallback` when not given), or a one-line reason. */
function numberOption(name: string, value: string | undefined, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 0 && n <= max)) throw new UsageError(`--${name} must be a number from 0 to ${max}, got "${value}"`);
  return n;
}
