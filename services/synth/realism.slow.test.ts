import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIG_ARREARS, SIG_CLAIMS, SIG_FREEZE, SIG_FURLOUGH, SIG_PLANNED, SIG_WAGE } from './event.model.js';
import { splitCsv } from './feed.read.testkit.js';
import { generateProvince } from './province.generate.js';
import type { GenerateOptions } from './province.generate.js';
import { Rng } from './random.js';
import { dispersedMean, separateSignals } from './realism.js';
import type { EpisodeContext, SignalShape } from './realism.js';

const root = mkdtempSync(join(tmpdir(), 'synth-realism-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function generate(name: string, opts: Partial<GenerateOptions>): Promise<string> {
  const outDir = join(root, name);
  await generateProvince({ outDir, employers: 4000, months: 36, seed: 20261, defects: false, ...opts });
  return outDir;
}

interface Manifest {
  generated_at: string;
  batches: { file: string; feed: string; period: string; rows: number; encoding: string }[];
}

/** Every delivered byte (gzip undone, so a different zlib cannot change it) and the ground truth, apart from summary.json. */
function contentDigest(dir: string): string {
  const h = createHash('sha256');
  const manifest = JSON.parse(readFileSync(join(dir, 'feeds', 'manifest.json'), 'utf8')) as Manifest;
  h.update(manifest.generated_at);
  for (const b of manifest.batches) {
    h.update(`\n${b.file},${b.feed},${b.period},${b.rows},${b.encoding}\n`);
    const raw = readFileSync(join(dir, 'feeds', b.file));
    h.update(b.file.endsWith('.gz') ? gunzipSync(raw) : raw);
  }
  for (const f of ['employers.csv', 'events.jsonl', 'defects.jsonl']) h.update(readFileSync(join(dir, 'truth', f)));
  return h.digest('hex');
}

interface SiRow {
  insured: number;
  hired: number;
  separated: number;
  arrears: number;
  wageTotal: number;
}

/** Social-insurance rows by employer, then period. */
function socialInsurance(dir: string): Map<string, Map<string, SiRow>> {
  const manifest = JSON.parse(readFileSync(join(dir, 'feeds', 'manifest.json'), 'utf8')) as Manifest;
  const out = new Map<string, Map<string, SiRow>>();
  for (const b of manifest.batches.filter((x) => x.feed === 'social_insurance')) {
    const [head, ...lines] = gunzipSync(readFileSync(join(dir, 'feeds', b.file))).toString('utf8').split('\n').filter((l) => l !== '');
    const cols = splitCsv(head ?? '');
    const at = (f: string[], name: string): string => f[cols.indexOf(name)] ?? '';
    for (const line of lines) {
      const f = splitCsv(line);
      const uscc = at(f, 'uscc');
      let m = out.get(uscc);
      if (!m) out.set(uscc, (m = new Map<string, SiRow>()));
      m.set(at(f, 'period'), {
        insured: Number(at(f, 'insured')), hired: Number(at(f, 'hired')), separated: Number(at(f, 'separated')),
        arrears: Number(at(f, 'arrears_months')), wageTotal: Number(at(f, 'wage_base_total')),
      });
    }
  }
  return out;
}

interface TruthEvent {
  type: string;
  uscc: string;
  period: string;
  end_period: string;
  sudden: boolean;
  precursor_start: string | null;
  signals: string[];
  planned_signals: string[];
}

function truthEvents(dir: string): TruthEvent[] {
  return readFileSync(join(dir, 'truth', 'events.jsonl'), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as TruthEvent);
}

function addMonths(period: string, n: number): string {
  const [y, m] = period.split('-').map(Number) as [number, number];
  const o = y * 12 + m - 1 + n;
  const yy = Math.floor(o / 12);
  return `${yy}-${String(o - yy * 12 + 1).padStart(2, '0')}`;
}

const mean = (xs: readonly number[]): number => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

interface EpisodeStats {
  episodes: number;
  /** Signals planned per episode. */
  signals: number;
  /** Highest arrears_months in the episode, where arrears showed. */
  peakArrears: number;
  /** Share of arrears episodes whose arrears went back to 0 before the episode ended. */
  arrearsPaidBack: number;
  /** Wage base per head, last episode month against the month before, where a wage drop showed. */
  wageDrop: number;
}

/** Run-ups (precursor months of warned layoffs and closures) against distress episodes, as the data shows them. */
function episodeStats(dir: string): { runUp: EpisodeStats; distress: EpisodeStats } {
  const si = socialInsurance(dir);
  const stats = (events: TruthEvent[]): EpisodeStats => {
    const peak: number[] = [];
    const paid: number[] = [];
    const drop: number[] = [];
    for (const e of events) {
      const from = e.precursor_start ?? e.period;
      const to = e.type === 'distress' ? e.end_period : addMonths(e.period, -1);
      const rows = si.get(e.uscc);
      const window: SiRow[] = [];
      for (let p = from; p <= to; p = addMonths(p, 1)) {
        const r = rows?.get(p);
        if (r) window.push(r);
      }
      if (e.signals.includes('arrears') && window.length > 0) {
        peak.push(Math.max(...window.map((r) => r.arrears)));
        const first = window.findIndex((r) => r.arrears > 0);
        paid.push(first >= 0 && window.slice(first).some((r) => r.arrears === 0) ? 1 : 0);
      }
      const before = rows?.get(addMonths(from, -1));
      const last = window[window.length - 1];
      if (e.signals.includes('wage_drop') && before && last && before.insured > 0 && last.insured > 0) {
        drop.push(1 - last.wageTotal / last.insured / (before.wageTotal / before.insured));
      }
    }
    return { episodes: events.length, signals: mean(events.map((e) => e.planned_signals.length)), peakArrears: mean(peak), arrearsPaidBack: mean(paid), wageDrop: mean(drop) };
  };
  const events = truthEvents(dir);
  return {
    runUp: stats(events.filter((e) => (e.type === 'layoff' || e.type === 'closure') && !e.sudden && e.precursor_start !== null)),
    distress: stats(events.filter((e) => e.type === 'distress')),
  };
}

describe('realism knobs: validation', () => {
  it.each([
    [{ separability: -1 }, 'generateProvince: separability must be a number from 0 to 5, got -1'],
    [{ separability: 5.5 }, 'generateProvince: separability must be a number from 0 to 5, got 5.5'],
    [{ separability: Number.NaN }, 'generateProvince: separability must be a number from 0 to 5, got NaN'],
    [{ separability: '1' as unknown as number }, 'generateProvince: separability must be a number from 0 to 5, got "1"'],
    [{ microClosureRate: 0.6 }, 'generateProvince: microClosureRate must be a number from 0 to 0.5, got 0.6'],
    [{ microClosureRate: -0.01 }, 'generateProvince: microClosureRate must be a number from 0 to 0.5, got -0.01'],
    [{ churnDispersion: Number.POSITIVE_INFINITY }, 'generateProvince: churnDispersion must be a number from 0 to 5, got Infinity'],
    [{ churnDispersion: -0.1 }, 'generateProvince: churnDispersion must be a number from 0 to 5, got -0.1'],
  ])('refuses %o', async (bad, message) => {
    await expect(generateProvince({ outDir: join(root, 'bad'), employers: 10, months: 2, seed: 1, ...bad })).rejects.toThrow(message);
  });
});

describe('realism knobs at their defaults', () => {
  // Pinned from the generator as it was before the knobs existed (400 employers × 14 months, seed 7, defects on).
  // Change it only when the default province is changed on purpose. Last changed: 攀枝花's counties name
  // 510421 米易县 instead of 510423, a code that never existed (the random draws are the same; only that code text differs).
  const BEFORE_THE_KNOBS = '4e4c62668b5b70111b2d52ac70ae2a1a706549b0ed7c86ddf4e2c9d3242cbb1f';

  it('reproduce the province byte for byte, left out or given, and say so in summary.json', async () => {
    const small = { employers: 400, months: 14, seed: 7, defects: true };
    const omitted = await generate('default-omitted', small);
    const given = await generate('default-given', { ...small, separability: 0, microClosureRate: 0.03, churnDispersion: 0 });
    expect(contentDigest(omitted)).toBe(BEFORE_THE_KNOBS);
    expect(contentDigest(given)).toBe(BEFORE_THE_KNOBS);
    const summary = JSON.parse(readFileSync(join(omitted, 'truth', 'summary.json'), 'utf8')) as { options: Record<string, unknown> };
    expect(summary.options).toEqual({ employers: 400, months: 14, seed: 7, lastPeriod: '2026-10', defects: true, separability: 0, microClosureRate: 0.03, churnDispersion: 0 });
  });
});

describe('separateSignals', () => {
  const shape: SignalShape = { signals: SIG_ARREARS | SIG_FREEZE | SIG_WAGE, onset: [13, 12, 11, 14, 15, 14], wageDrop: 0.15, freezeResidual: 0.2, arrearsPaid: 0 };
  const episode = (runUp: boolean): EpisodeContext => ({ runUp, start: 10, sigEnd: 15, monitored: false, staff: 120 });

  it('leaves an episode as it was at s = 0, with the same draws as at any s', () => {
    const a = new Rng(5, 'x');
    const b = new Rng(5, 'x');
    expect(separateSignals(shape, episode(true), 0, a)).toBe(shape);
    separateSignals(shape, episode(false), 3, b);
    expect(a.uint32()).toBe(b.uint32());
  });

  it('moves run-ups and recovering distress apart in degree, further as s grows', () => {
    const pull = (runUp: boolean, s: number) => {
      const rng = new Rng(17, 'episodes');
      const out = { wage: 0, residual: 0, signals: 0, arrearsOnset: 0, paidMonths: 0 };
      for (let i = 0; i < 2000; i++) {
        const r = separateSignals(shape, episode(runUp), s, rng);
        out.wage += r.wageDrop / 2000;
        out.residual += r.freezeResidual / 2000;
        out.signals += [1, 2, 4, 8, 16, 32].filter((bit) => (r.signals & bit) !== 0).length / 2000;
        out.arrearsOnset += ((r.onset[0] ?? 0) - 10) / 2000;
        for (let k = 0; k < 32; k++) out.paidMonths += ((r.arrearsPaid >>> k) & 1) / 2000;
        // Furloughs and planned layoffs never appear where the headcount feed cannot show them.
        expect(r.signals & (SIG_FURLOUGH | SIG_PLANNED)).toBe(0);
        expect(r.signals).not.toBe(0);
      }
      return out;
    };
    const [r0, r1, r2] = [0, 1, 2].map((s) => pull(true, s)) as [ReturnType<typeof pull>, ReturnType<typeof pull>, ReturnType<typeof pull>];
    const [d0, d1, d2] = [0, 1, 2].map((s) => pull(false, s)) as [ReturnType<typeof pull>, ReturnType<typeof pull>, ReturnType<typeof pull>];
    expect(r0).toEqual(d0);
    expect(r0.wage).toBeCloseTo(0.15, 10);
    // Run-ups: deeper cuts, complete freezes, earlier arrears, more signals, arrears never paid back.
    expect(r1.wage).toBeCloseTo(0.225, 10);
    expect(r2.wage).toBeCloseTo(0.3, 10);
    expect(r1.residual).toBeLessThan(r0.residual);
    expect(r2.residual).toBeLessThan(r1.residual);
    expect(r1.arrearsOnset).toBeLessThan(r0.arrearsOnset);
    expect(r2.signals).toBeGreaterThan(r1.signals);
    expect(r1.signals).toBeGreaterThan(r0.signals);
    expect(r2.paidMonths).toBe(0);
    // Distress that recovers: shallower cuts, hiring slowed rather than stopped, fewer signals, arrears paid back some months.
    expect(d1.wage).toBeCloseTo(0.1, 10);
    expect(d1.residual).toBeGreaterThan(d0.residual);
    expect(d2.residual).toBeGreaterThan(d1.residual);
    expect(d2.signals).toBeLessThan(d1.signals);
    expect(d1.signals).toBeLessThan(d0.signals);
    expect(d0.paidMonths).toBe(0);
    expect(d2.paidMonths).toBeGreaterThan(d1.paidMonths);
    expect(d1.paidMonths).toBeGreaterThan(0.5);
  });

  it('keeps a small firm a sign it can show when distress drops signals', () => {
    const rng = new Rng(3, 'small');
    const small: EpisodeContext = { runUp: false, start: 0, sigEnd: 4, monitored: false, staff: 8 };
    for (let i = 0; i < 500; i++) {
      const r = separateSignals({ ...shape, signals: SIG_ARREARS | SIG_FREEZE | SIG_CLAIMS }, small, 5, rng);
      expect(r.signals & ~(SIG_ARREARS | SIG_FREEZE | SIG_CLAIMS)).toBe(0);
      expect(r.signals & SIG_ARREARS).toBe(SIG_ARREARS);
    }
  });
});

describe('separability in a generated province', () => {
  let stats: ReturnType<typeof episodeStats>[] = [];

  beforeAll(async () => {
    stats = [];
    for (const s of [0, 1, 2]) stats.push(episodeStats(await generate(`separability-${s}`, { separability: s })));
  }, 120_000);

  it('makes run-ups and recovering distress more different as s grows, in the data itself', () => {
    const [s0, s1, s2] = stats as [ReturnType<typeof episodeStats>, ReturnType<typeof episodeStats>, ReturnType<typeof episodeStats>];
    for (const s of stats) {
      expect(s.runUp.episodes).toBeGreaterThan(100);
      expect(s.distress.episodes).toBeGreaterThan(100);
    }
    const gap = (s: ReturnType<typeof episodeStats>, k: 'signals' | 'peakArrears' | 'wageDrop') => s.runUp[k] - s.distress[k];
    // At 0 the two draw from the same distributions: wage cuts alike, arrears paid back in neither.
    expect(Math.abs(gap(s0, 'wageDrop'))).toBeLessThan(0.03);
    expect(s0.runUp.arrearsPaidBack).toBe(0);
    expect(s0.distress.arrearsPaidBack).toBe(0);
    for (const k of ['signals', 'peakArrears', 'wageDrop'] as const) {
      expect(gap(s1, k), k).toBeGreaterThan(gap(s0, k));
      expect(gap(s2, k), k).toBeGreaterThan(gap(s1, k));
    }
    expect(gap(s1, 'wageDrop')).toBeGreaterThan(0.08);
    expect(gap(s1, 'peakArrears')).toBeGreaterThan(0.2);
    // Run-up arrears persist to the layoff; distress arrears become intermittent.
    expect(s1.runUp.arrearsPaidBack).toBe(0);
    expect(s2.runUp.arrearsPaidBack).toBe(0);
    expect(s1.distress.arrearsPaidBack).toBeGreaterThan(0.2);
    expect(s2.distress.arrearsPaidBack).toBeGreaterThan(s1.distress.arrearsPaidBack);
  });
});

describe('microClosureRate', () => {
  /** Closures of micro employers per micro employer-year of trading. */
  function microClosureRate(dir: string): number {
    const [head, ...lines] = readFileSync(join(dir, 'truth', 'employers.csv'), 'utf8').split('\n').filter((l) => l !== '');
    const cols = splitCsv(head ?? '');
    const ord = (p: string) => Number(p.slice(0, 4)) * 12 + Number(p.slice(5, 7));
    const micro = new Set<string>();
    let years = 0;
    for (const line of lines) {
      const e: Record<string, string> = Object.fromEntries(splitCsv(line).map((v, i) => [cols[i] ?? '', v]));
      if (e.parent_uscc !== '' || Number(e.base_size) >= 10) continue;
      micro.add(e.uscc ?? '');
      years += ((e.last_period ? ord(e.last_period) : ord('2026-10')) - ord(e.first_period ?? '') + 1) / 12;
    }
    return truthEvents(dir).filter((e) => e.type === 'closure' && micro.has(e.uscc)).length / years;
  }

  it('sets how many micro employers close a year', async () => {
    const base = microClosureRate(await generate('closure-default', { seed: 3 }));
    const high = microClosureRate(await generate('closure-high', { seed: 3, microClosureRate: 0.12 }));
    expect(base).toBeGreaterThan(0.022);
    expect(base).toBeLessThan(0.038);
    expect(high).toBeGreaterThan(0.1);
    expect(high).toBeLessThan(0.135);
  }, 60_000);
});

describe('churnDispersion', () => {
  it('mixes the quit rate over a gamma: mean kept, variance mean + dispersion·mean²', () => {
    const rng = new Rng(9, 'nb');
    for (const [m, k] of [[5, 0.5], [40, 0.1], [0.3, 2]] as const) {
      let s = 0;
      let s2 = 0;
      const n = 60_000;
      for (let i = 0; i < n; i++) {
        const x = rng.poisson(dispersedMean(m, k, rng));
        s += x;
        s2 += x * x;
      }
      const mu = s / n;
      const variance = s2 / n - mu * mu;
      expect(Math.abs(mu - m) / m).toBeLessThan(0.03);
      expect(Math.abs(variance - (m + k * m * m)) / (m + k * m * m)).toBeLessThan(0.08);
    }
    // Dispersion 0 draws nothing: the Poisson stream is untouched.
    const a = new Rng(1, 'a');
    expect(dispersedMean(7, 0, a)).toBe(7);
    expect(a.uint32()).toBe(new Rng(1, 'a').uint32());
  });

  it('over-disperses monthly separations of employers with no event, keeping their mean', async () => {
    const dispersion = async (name: string, churnDispersion: number) => {
      const dir = await generate(name, { seed: 3, months: 24, churnDispersion });
      const touched = new Set(truthEvents(dir).map((e) => e.uscc));
      const ratios: number[] = [];
      let total = 0;
      for (const [uscc, rows] of socialInsurance(dir)) {
        const sep = [...rows.values()].map((r) => r.separated);
        if (touched.has(uscc) || sep.length < 24 || ([...rows.values()][0]?.insured ?? 0) < 50) continue;
        const m = mean(sep);
        total += m;
        if (m > 0) ratios.push(sep.reduce((a, x) => a + (x - m) ** 2, 0) / (sep.length - 1) / m);
      }
      ratios.sort((a, b) => a - b);
      return { median: ratios[Math.floor(ratios.length / 2)] ?? 0, total };
    };
    const poisson = await dispersion('churn-0', 0);
    const dispersed = await dispersion('churn-1', 1);
    expect(poisson.median).toBeLessThan(1.6);
    expect(dispersed.median).toBeGreaterThan(2 * poisson.median);
    expect(Math.abs(dispersed.total / poisson.total - 1)).toBeLessThan(0.05);
  }, 60_000);
});
