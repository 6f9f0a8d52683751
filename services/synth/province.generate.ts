import { mkdir, writeFile } from 'node:fs/promises';
import type { FeedName } from '../../sql/schema.js';
import type { ManifestEntry as ReadManifestEntry } from '../feeds/manifest.js';
import { join, resolve } from 'node:path';
import { BatchWriter } from './batch.writer.js';
import { DefectInjector } from './defects.inject.js';
import { buildPopulation } from './employer.population.js';
import { EmployerState } from './employer.state.js';
import { shockIntensity } from './event.model.js';
import { planEvents, planShock } from './events.plan.js';
import { FILINGS_HEADER, FilingCollector } from './filings.collect.js';
import { HC_HEADER, HC_HEADER_NAMED, ProvinceSimulator, SI_HEADER } from './month.simulate.js';
import { validateOptions } from './options.validate.js';
import { formatOrdinal } from '../domain/period.js';
import { Rng } from './random.js';
import { applySeparability } from './realism.js';
import { RegionalModel } from './regional.simulate.js';
import { buildCalendar } from './season.calendar.js';
import { eventRecords, writeEmployers, writeEvents } from './truth.write.js';

/**
 * A synthetic Sichuan, month by month: a feed source (manifest.json and
 * the four feeds' batches, exactly as ../shared/FEEDS.md describes) and,
 * apart from it, the ground truth it was drawn from. Deterministic: the
 * same seed and options give the same bytes.
 */
export interface GenerateOptions {
  /** Writes <outDir>/feeds/ (a feed source) and <outDir>/truth/ (ground truth). */
  outDir: string;
  /** >= 1 */
  employers: number;
  /** >= 1 */
  months: number;
  /** Same seed + options => byte-identical output. */
  seed: number;
  /** 'YYYY-MM' of the last month generated; default '2026-10'. */
  lastPeriod?: string;
  /** Default true: inject the data defects (truth/defects.jsonl lists them). */
  defects?: boolean;
  /**
   * 0–5, default 0: how far a layoff's or closure's precursor run-up differs
   * (in degree) from distress that recovers; 0 = the same distributions (README "Realism knobs").
   */
  separability?: number;
  /** 0–0.5, default 0.03: share of micro employers (< 10 staff) closing per year. */
  microClosureRate?: number;
  /** 0–5, default 0 (Poisson): over-dispersion of ordinary monthly quits, variance = mean + dispersion·mean². */
  churnDispersion?: number;
  onProgress?: (monthsDone: number, monthsTotal: number) => void;
}

export type { FeedName };

export interface GenerateSummary {
  sourceDir: string;
  truthDir: string;
  employers: number;
  months: number;
  firstPeriod: string;
  lastPeriod: string;
  batches: number;
  rows: Record<FeedName, number>;
  events: Record<string, number>;
  defects: Record<string, number>;
}

/** A manifest entry as written (the reader adds its order key). */
export type ManifestEntry = Omit<ReadManifestEntry, 'orderKey'>;

export async function generateProvince(opts: GenerateOptions): Promise<GenerateSummary> {
  const o = validateOptions(opts);
  const sourceDir = resolve(o.outDir, 'feeds');
  const truthDir = resolve(o.outDir, 'truth');
  await mkdir(sourceDir, { recursive: true });
  await mkdir(truthDir, { recursive: true });
  const { employers, months, seed, firstOrdinal } = o;

  const years = Math.max(1, months / 12);
  const reserve = Math.ceil(employers * 0.002 * years) + 32;
  const { pop, ctx } = buildPopulation(employers, months, reserve, new Rng(seed, 'population'));
  const planRng = new Rng(seed, 'plan');
  const shock = planShock(months, planRng);
  const plan = planEvents(pop, ctx, shock, firstOrdinal, planRng, o.microClosureRate);
  // Separate streams, drawn from only when a knob is set: the default province stays byte-identical.
  if (o.separability > 0) applySeparability(plan.events, pop.monitored, pop.baseSize, o.separability, new Rng(seed, 'separability'));
  const churn = o.churnDispersion > 0 ? { dispersion: o.churnDispersion, rng: new Rng(seed, 'churn') } : undefined;
  const simRng = new Rng(seed, 'simulate');
  const state = new EmployerState(pop, simRng);
  const cal = buildCalendar(firstOrdinal, months);
  const defects = new DefectInjector(o.defects, new Rng(seed, 'defects'), new BatchWriter(join(truthDir, 'defects.jsonl')), pop, months, employers);
  const regional = new RegionalModel(new Rng(seed, 'regional'));
  const filings = new FilingCollector();
  const sim = new ProvinceSimulator(pop, plan, state, cal, simRng, defects, regional, filings, churn);

  const manifest: ManifestEntry[] = [];
  let restatement: ManifestEntry | undefined;
  let restatementDue = -1;
  for (let t = 0; t < months; t++) {
    const period = cal.period[t] ?? formatOrdinal(firstOrdinal + t);
    const siFile = `social_insurance-${period}.csv.gz`;
    const si = new BatchWriter(join(sourceDir, siFile), { gzip: true, level: 1 });
    si.line(SI_HEADER);
    defects.beginSocialInsurance(siFile, period, t === months - 1);
    const gbk = t === defects.gbkMonth;
    const hcFile = `headcount-${period}.csv`;
    const hc = new BatchWriter(join(sourceDir, hcFile), { encoding: gbk ? 'gbk' : 'utf-8' });
    hc.line(gbk ? HC_HEADER_NAMED : HC_HEADER);
    await sim.month(t, { si, siFile, hc, hcNamed: gbk });
    const siWritten = await si.close();
    const hcWritten = await hc.close();
    manifest.push({ file: siFile, feed: 'social_insurance', period, sha256: siWritten.sha256, rows: si.rows, encoding: 'utf-8' });
    manifest.push({ file: hcFile, feed: 'headcount', period, sha256: hcWritten.sha256, rows: hc.rows, encoding: gbk ? 'gbk' : 'utf-8' });
    if (gbk) defects.recordGbk(hcFile, period);

    const regionalFile = `regional-${period}.jsonl`;
    const rw = new BatchWriter(join(sourceDir, regionalFile));
    for (const row of regional.rows(period, cal.moy[t] ?? 0, (c) => (c === shock.city ? shockIntensity(shock, t) : 0))) rw.row(row);
    manifest.push({ file: regionalFile, feed: 'regional', period, sha256: (await rw.close()).sha256, rows: rw.rows, encoding: 'utf-8' });

    const filingsFile = `layoff_filings-${period}.csv`;
    const fw = new BatchWriter(join(sourceDir, filingsFile));
    fw.line(FILINGS_HEADER);
    for (const row of filings.take(period)) if (fw.row(row)) await fw.flush();
    manifest.push({ file: filingsFile, feed: 'layoff_filings', period, sha256: (await fw.close()).sha256, rows: fw.rows, encoding: 'utf-8' });

    if (t === defects.restateMonth) {
      restatement = await writeRestatement(sourceDir, period, siFile, defects);
      // A correction arrives with the next month's delivery (or at once if this is the last month).
      restatementDue = Math.min(t + 1, months - 1);
    }
    if (restatement && t === restatementDue) {
      manifest.push(restatement);
      restatement = undefined;
    }
    await defects.flush();
    opts.onProgress?.(t + 1, months);
  }

  await defects.sinkClose();
  await writeEmployers(truthDir, pop, firstOrdinal);
  const truthEvents = eventRecords(plan, pop, firstOrdinal);
  await writeEvents(truthDir, truthEvents);

  const generatedAt = `${formatOrdinal(o.lastOrdinal + 1)}-03T01:12:00+08:00`;
  await writeFile(join(sourceDir, 'manifest.json'), `${JSON.stringify({ generated_at: generatedAt, batches: manifest }, null, 2)}\n`);

  const rows: Record<FeedName, number> = { social_insurance: 0, headcount: 0, regional: 0, layoff_filings: 0 };
  for (const b of manifest) rows[b.feed] += b.rows;
  const events: Record<string, number> = { layoff: 0, closure: 0, transfer: 0, distress: 0, shock: 0 };
  for (const ev of truthEvents) events[ev.type] = (events[ev.type] ?? 0) + 1;
  const summary: GenerateSummary = {
    sourceDir, truthDir, employers, months,
    firstPeriod: formatOrdinal(firstOrdinal), lastPeriod: o.lastPeriod, batches: manifest.length,
    rows, events, defects: { ...defects.counts },
  };
  const options = {
    employers, months, seed, lastPeriod: o.lastPeriod, defects: o.defects,
    separability: o.separability, microClosureRate: o.microClosureRate, churnDispersion: o.churnDispersion,
  };
  await writeFile(join(truthDir, 'summary.json'), `${JSON.stringify({ ...summary, options }, null, 2)}\n`);
  return summary;
}

/** The second social-insurance batch for a month, carrying the corrected rows. */
async function writeRestatement(sourceDir: string, period: string, originalFile: string, defects: DefectInjector): Promise<ManifestEntry> {
  const file = `social_insurance-${period}-r1.csv.gz`;
  const w = new BatchWriter(join(sourceDir, file), { gzip: true, level: 1 });
  w.line(SI_HEADER);
  await defects.writeRestated(w, file, period, originalFile);
  const written = await w.close();
  return { file, feed: 'social_insurance', period, sha256: written.sha256, rows: w.rows, encoding: 'utf-8' };
}
