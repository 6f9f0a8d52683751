import { SIZE_BANDS, type MethodResult } from './metrics.js';

/** What the report says about how the evaluation was run. */
export interface ReportContext {
  command: string;
  generatedOn: string;
  seconds: number;
  /** The 规模 minimum (thresholds.scale.minJobs) layoffs are judged against. */
  minJobs: number;
  /** One replay per generator setting, the justified one first. */
  runs: readonly ReportRun[];
}

export interface ReportRun {
  /** Generator settings of both provinces (services/synth/README.md). */
  separability: number;
  churnDispersion: number;
  /** Why this setting: shown under its heading. */
  note: string;
  train: { seed: number; employers: number; months: number; window: { from: string; to: string }; examples: number; positives: number; epochs: number; model: string };
  test: { seed: number; employers: number; months: number; replay: { from: string; to: string }; scoredPerMonth: number };
  /** Episodes of the replayed months whose precursor signals showed (metrics.visibleEpisodes). */
  episodes?: { runUps: number; distress: number };
  results: readonly MethodResult[];
  picture: string;
}

/** The reference row (metrics.withPrecursorOracle over the full system): it reads the ground truth, so it is no method and no baseline. */
export const CEILING = 'ceiling';

export const METHOD_LABELS: Readonly<Record<string, string>> = {
  full: 'full system (rules + model)',
  rules: 'rules only',
  logistic: 'logistic regression, same features',
  boosting: 'gradient-boosted trees, last month\'s features',
  seasonal: 'seasonal-naive z-score of net change',
  [CEILING]: '*reference, reads the truth:* full system + every visible precursor',
};

const COLORS: Readonly<Record<string, string>> = { full: '#c0392b', rules: '#2c7fb8', logistic: '#7b3294', boosting: '#1b9e77', seasonal: '#e69f00', [CEILING]: '#999999' };

export interface Target {
  name: string;
  met: boolean | null;
  value: string;
}

/** The issue's targets for the full system, judged honestly (null: not measurable on this data). */
export function judgeTargets(results: readonly MethodResult[]): Target[] {
  const full = results.find((r) => r.method === 'full');
  const rules = results.find((r) => r.method === 'rules');
  if (!full) throw new Error('no result for the full system');
  const others = results.filter((r) => r.method !== 'full' && r.method !== CEILING);
  const bestOther = others.reduce<MethodResult | null>((best, r) => ((r.prAuc ?? 0) > (best?.prAuc ?? -1) ? r : best), null);
  const fmt = (v: number | null, digits = 2): string => (v === null ? 'n/a' : v.toFixed(digits));
  const atLeast = (v: number | null, min: number): boolean | null => (v === null ? null : v >= min);
  const ahead = full.recallAhead !== null && rules?.recallAhead != null ? full.recallAhead - rules.recallAhead : null;
  return [
    { name: 'precision ≥ 0.85 at Ⅲ+', met: atLeast(full.precision, 0.85), value: fmt(full.precision) },
    { name: 'recall ≥ 0.9 on layoffs with precursors', met: atLeast(full.recallPrecursor, 0.9), value: fmt(full.recallPrecursor) },
    { name: 'median lead ≥ 2 months at Ⅳ+ (layoffs with precursors)', met: atLeast(full.medianLeadWarnPrecursor, 2), value: fmt(full.medianLeadWarnPrecursor, 1) },
    { name: 'median lead ≥ 1 month at Ⅲ+ (layoffs with precursors)', met: atLeast(full.medianLeadPrecursor, 1), value: fmt(full.medianLeadPrecursor, 1) },
    { name: 'fewer than 0.5 false Ⅲ+ alerts per 1,000 employers per month', met: full.falseAlertsPer1000 < 0.5, value: fmt(full.falseAlertsPer1000) },
    { name: 'no alert raised on a transfer', met: full.transferAlerts === 0, value: String(full.transferAlerts) },
    {
      name: 'recall at lead ≥ 1 month ahead of rules-only by ≥ 0.30, precision no lower',
      met: ahead === null || full.precision === null || rules?.precision == null ? null : ahead >= 0.3 && full.precision >= rules.precision - 0.005,
      value: `${fmt(full.recallAhead)} vs ${fmt(rules?.recallAhead ?? null)} (precision ${fmt(full.precision)} vs ${fmt(rules?.precision ?? null)})`,
    },
    {
      name: 'PR-AUC above every baseline',
      met: full.prAuc === null || bestOther === null ? null : full.prAuc > (bestOther.prAuc ?? 0),
      value: `${fmt(full.prAuc, 3)} vs best baseline ${fmt(bestOther?.prAuc ?? null, 3)} (${bestOther?.method ?? 'none'})`,
    },
  ];
}

function resultsTable(results: readonly MethodResult[]): string {
  const f = (v: number | null, d = 2): string => (v === null ? 'n/a' : v.toFixed(d));
  const rows = results.map((r) =>
    [
      METHOD_LABELS[r.method] ?? r.method,
      `${f(r.precision)} (${r.trueOnsets}/${r.onsets})`,
      f(r.monthPrecision),
      `${f(r.recall)} (${r.caught}/${r.layoffs})`,
      f(r.recallPrecursor),
      f(r.recallSudden),
      f(r.recallAhead),
      f(r.medianLeadWarnPrecursor, 1),
      f(r.medianLeadPrecursor, 1),
      f(r.falseAlertsPer1000),
      r.prAuc === null ? 'n/a' : r.prAuc.toFixed(3),
      String(r.transferAlerts),
    ].join(' | '),
  );
  return `| method | precision at Ⅲ+ (onsets) | precision at Ⅲ+ (months) | recall at Ⅲ+ | recall, with precursors | recall, sudden | recall at lead ≥ 1 month | median lead at Ⅳ+, with precursors | median lead at Ⅲ+, with precursors | false Ⅲ+ alerts per 1,000 employers per month | PR-AUC | alerts on transfers |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.map((r) => `| ${r} |`).join('\n')}`;
}

function sizeTable(results: readonly MethodResult[]): string {
  const bands = SIZE_BANDS;
  const rows = results.map((r) => `| ${METHOD_LABELS[r.method] ?? r.method} | ${bands.map((b) => `${r.falseBySize[b].per1000.toFixed(2)} (${r.falseBySize[b].falseOnsets})`).join(' | ')} |`);
  return `| method | ${bands.map((b) => `${b} staff`).join(' | ')} |
| --- | ${bands.map(() => '---:').join(' | ')} |
${rows.join('\n')}`;
}

export function renderReport(ctx: ReportContext): string {
  const sections = ctx.runs.map((run) => {
    const targets = judgeTargets(run.results);
    const full = run.results.find((r) => r.method === 'full') as MethodResult;
    return `## Separability ${run.separability}${run.churnDispersion > 0 ? `, churn dispersion ${run.churnDispersion}` : ''}

${run.note}

- **Trained on** the generated province with seed ${run.train.seed} (${run.train.employers.toLocaleString('en')} employers × ${run.train.months} months): ${run.train.model}, the logistic regression and the gradient-boosted trees on features as of ${run.train.window.from} … ${run.train.window.to} (${run.train.examples.toLocaleString('en')} examples, ${run.train.positives.toLocaleString('en')} positive, ${run.train.epochs} epochs). Labels come from the rules as the deployment sees its history (a layoff of at least ${ctx.minJobs} people within 3 months), as in \`npx ews train\`.
- **Scored on** a different province (seed ${run.test.seed}, same settings), replayed month by month from ${run.test.replay.from} to ${run.test.replay.to} as the nightly run would score it (about ${run.test.scoredPerMonth.toLocaleString('en')} employers a month), and judged against that province's ground truth (\`truth/events.jsonl\`), which neither the rules nor the models see.

${resultsTable(run.results)}

False Ⅲ+ alerts per 1,000 employer-months by employer size (count in brackets):

${sizeTable(run.results)}

![Precision against recall for each method](${run.picture})

Against the targets (full system):

| target | reached | value |
| --- | --- | --- |
${targets.map((t) => `| ${t.name} | ${t.met === null ? 'not measurable' : t.met ? 'yes' : '**no**'} | ${t.value} |`).join('\n')}

${readingOf(full, targets, run.results.find((r) => r.method === CEILING), run.episodes)}`;
  });
  return `# Evaluation: rules and model against a province's ground truth

Written by \`${ctx.command}\` on ${ctx.generatedOn} (${Math.round(ctx.seconds)} s). Every figure below comes from that run; run it again to reproduce them.

Each section trains on one generated province and replays another; the generator's realism settings (services/synth/README.md) are named in its heading. **Separability** is how much a layoff's run-up differs from distress that recovers (arrears that accumulate and persist, wage cuts that deepen, hiring that stops); at 0 they are drawn alike, so no method can tell them apart.

${sections.join('\n\n')}

## How the figures are defined

- **Layoff**: a ground-truth \`layoff\` or \`closure\` that is statutory (劳动合同法第四十一条 applied to its real size) and of at least ${ctx.minJobs} people (the 规模 minimum, \`scoring.thresholds.scale.minJobs\`: smaller ones are listed at Ⅳ by design). **Transfer**: a \`transfer\` event (staff moved to a new employer code).
- **Alert**: an employer at level Ⅲ黄 or above in a month; **warning**: Ⅳ蓝 or above. **Onset**: an alert month when the month before had none; that is what reaches an official.
- **Precision (onsets)** = onsets followed by a statutory layoff of that employer (starting within 3 months, or under way) / all onsets; **precision (months)** counts alert months the same way. **False alerts** are the other onsets, per 1,000 employers scored per month, also by the employer's size that month; those within a month of the employer's transfer are also counted under **alerts on transfers**. Only months whose next 3 months are in the data are judged.
- **Recall** = layoffs with an alert for that employer between 3 months before the start and the end / all layoffs starting once the replay has 3 months behind it; **with precursors** and **sudden** split them by whether the generator planned a run-up. **Recall at lead ≥ 1 month**: layoffs with precursors alerted at Ⅲ+ 1–3 months before they started. **Lead** = months from the first alert (Ⅲ+) or warning (Ⅳ+) in that window to the start (0: the month itself), over the layoffs with precursors.
- **PR-AUC** (average precision) ranks employer-months by each method's score (the full system: level, then probability; rules only: level, then excess separations; logistic and boosting: probability; seasonal: −z) against "a layoff starts within the next 3 months", leaving out months of a layoff already under way.
- The **reference row** is not a method: it reads the ground truth. On top of the full system it raises an alert in every month of a layoff's or closure's run-up (from its precursor start to the month before it) and of a distress episode, whenever any of their precursor signals showed in the feeds: a reader of the signals that misses none, but cannot tell a run-up that ends in a layoff from distress that ends without one.
- The baselines get the same data: the logistic regression is trained on the same examples and features as the sequence model, the gradient-boosted trees (services/evaluation/boosting.ts, no dependency) on the last month of the same windows; both are mapped to levels the same way as the model, without the rules. The seasonal-naive method compares each month's net change in insured staff with the same month a year before and alerts at z ≤ −3.
`;
}

function readingOf(full: MethodResult, targets: readonly Target[], ceiling: MethodResult | undefined, episodes: ReportRun['episodes']): string {
  const missed = targets.filter((t) => t.met === false).map((t) => t.name);
  const lines: string[] = [];
  if (missed.length === 0) lines.push('The full system reached every target on this data.');
  else lines.push(`The full system did **not** reach: ${missed.join('; ')}. The table shows where it stands; it is reported as measured.`);
  if (ceiling) {
    const f = (v: number | null, d = 2): string => (v === null ? 'n/a' : v.toFixed(d));
    lines.push(
      '',
      `The reference row shows what perfect reading of the precursors would buy: a median lead of ${f(ceiling.medianLeadPrecursor, 1)} months at Ⅲ+ on layoffs with precursors, at a precision of ${f(ceiling.precision)} (${ceiling.trueOnsets}/${ceiling.onsets} onsets) and ${f(ceiling.falseAlertsPer1000)} false alerts per 1,000 employers per month. ` +
        (episodes ? `In the replayed months ${episodes.runUps} layoffs or closures had a run-up whose signals showed, and ${episodes.distress} distress episodes showed signals and ended without a layoff.` : ''),
    );
  }
  return lines.join('\n');
}

/** The precision-recall curves as an SVG picture. */
export function renderPrCurves(results: readonly MethodResult[]): string {
  const W = 640;
  const H = 440;
  const m = { left: 56, right: 200, top: 24, bottom: 48 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const x = (r: number): number => m.left + r * pw;
  const y = (p: number): number => m.top + (1 - p) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  for (let t = 0; t <= 10; t += 2) {
    const v = t / 10;
    parts.push(`<line x1="${x(v)}" y1="${y(0)}" x2="${x(v)}" y2="${y(1)}" stroke="#eee"/><line x1="${x(0)}" y1="${y(v)}" x2="${x(1)}" y2="${y(v)}" stroke="#eee"/>`);
    parts.push(`<text x="${x(v)}" y="${y(0) + 16}" text-anchor="middle">${v.toFixed(1)}</text><text x="${x(0) - 8}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(1)}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${x(0.5)}" y="${H - 10}" text-anchor="middle">recall</text>`);
  parts.push(`<text transform="translate(16 ${y(0.5)}) rotate(-90)" text-anchor="middle">precision</text>`);
  results.forEach((r, k) => {
    const color = COLORS[r.method] ?? '#555';
    if (r.curve.length > 0) {
      // Step from the first point's precision at recall 0 so each curve starts at the axis.
      const pts = [{ recall: 0, precision: r.curve[0]?.precision ?? 0 }, ...r.curve].map((p) => `${x(p.recall).toFixed(1)},${y(p.precision).toFixed(1)}`);
      parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>`);
    }
    const ly = m.top + 12 + k * 34;
    parts.push(`<line x1="${W - m.right + 12}" y1="${ly}" x2="${W - m.right + 36}" y2="${ly}" stroke="${color}" stroke-width="3"/>`);
    parts.push(`<text x="${W - m.right + 42}" y="${ly + 4}">${escapeXml(r.method)}</text>`);
    parts.push(`<text x="${W - m.right + 42}" y="${ly + 18}" fill="#555">PR-AUC ${r.prAuc === null ? 'n/a' : r.prAuc.toFixed(3)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] ?? c);
}
