import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { CITIES } from '../../config/cities.js';
import type { Config } from '../../config/config.schema.js';
import { redactUrl } from '../../services/db/database.js';
import { runNightInline } from '../../services/nightly/nightly.service.js';
import type { CliContext } from './context.js';
import { generateCommand } from './generate.command.js';
import { printNight } from './ops.commands.js';
import { intOption, printTable, printLine } from './output.js';
import { stageLine } from './progress.js';
import { openModel, riskListCommand } from './scoring.commands.js';
import { nightShortfalls, type Shortfall } from './shortfall.js';
import { AlertRepository } from '../../services/alerts/alert.repository.js';

/**
 * The main job on the embedded default: a generated province (made once and
 * reused) as the feed source, then the full night inline — poll and ingest,
 * score the latest month with the shipped model, raise alerts, write the
 * e-mails as .eml files — and a short summary.
 */
export async function demoCommand(ctx: CliContext, opts: { out: string; employers: string; months: string; seed: string }): Promise<Shortfall[]> {
  const employers = intOption('employers', opts.employers, 1, 10_000_000);
  const months = intOption('months', opts.months, 1, 240);
  const seed = intOption('seed', opts.seed, 0, 2 ** 31 - 1);
  const out = resolve(opts.out, `province-${employers}x${months}-seed${seed}`);
  const started = Date.now();
  if (!existsSync(resolve(out, 'truth', 'summary.json'))) {
    printLine(`generating a province of ${employers} employers × ${months} months into ${out}`);
    await generateCommand(ctx, { out, employers: String(employers), months: String(months), seed: String(seed), lastPeriod: '2026-10', defects: true });
  } else {
    printLine(`using the province already generated in ${out}`);
  }
  const database = await ctx.db();
  printLine(`database: ${ctx.config.database.url !== undefined ? redactUrl(database.url) : `embedded PostgreSQL under ${resolve(ctx.config.dataDir, 'pg')}`}`);
  printLine('');

  // The generated province is the night's feed source.
  const config: Config = { ...ctx.config, feeds: { ...ctx.config.feeds, sources: [{ name: 'demo', url: `file://${resolve(out, 'feeds')}/` }] } };
  const setup = await openModel(ctx);
  const line = stageLine('nightly');
  const night = await runNightInline({ config, database, log: ctx.log }, setup, {
    onStage: (s) => line.stage(s),
  });
  line.stop();
  printNight(ctx, night);
  const shortfalls = nightShortfalls(night);
  if (night.period === null) return shortfalls;

  const byCity = await new AlertRepository(database).openEmployersByCityLevel();
  const rows = CITIES.map((c) => {
    const mine = byCity.filter((r) => r.city_code === c.code);
    const at = (l: number): number => mine.find((r) => r.level === l)?.n ?? 0;
    return { city: c.name, 'Ⅰ': at(1), 'Ⅱ': at(2), 'Ⅲ': at(3), 'Ⅳ': at(4), data: night.dataMissing.includes(c.code) ? '数据缺失' : '' };
  }).filter((r) => r['Ⅰ'] + r['Ⅱ'] + r['Ⅲ'] + r['Ⅳ'] > 0 || r.data !== '');
  printLine('');
  printLine('employers with an open alert, by city and level:');
  printTable(rows, ['city', 'Ⅰ', 'Ⅱ', 'Ⅲ', 'Ⅳ', 'data']);
  printLine('');
  await riskListCommand(ctx, { period: night.period, level: '3', limit: '10', employersOnly: true });
  const outbox = resolve(ctx.config.notify.outboxDir);
  if (ctx.config.notify.smtpUrl === undefined && existsSync(outbox)) {
    printLine('');
    printLine(`e-mails: ${readdirSync(outbox).filter((f) => f.endsWith('.eml')).length} .eml files in ${outbox} (open them with any mail client)`);
  }
  printLine(`done in ${((Date.now() - started) / 1000).toFixed(1)} s; next: \`npx ews alerts list\`, \`npx ews alerts show <id>\`, \`npx ews batches\``);
  printLine('the console: `npx ews users add --role province --email <your address>` (prints a password), then `npx ews serve --role api` and open http://127.0.0.1:3000/');
  return shortfalls;
}
