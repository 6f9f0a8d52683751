import { addMonths, monthsBetween } from '../domain/period.js';

/**
 * How well a warning method did against a generated province's ground
 * truth, replayed month by month. Pure: the replay hands in what each
 * method said each month, the truth hands in what happened.
 *
 * Definitions (kept in the report next to the table):
 * - A layoff is a ground-truth `layoff` or `closure` that is statutory
 *   (劳动合同法第四十一条 applied to its real size). A transfer is a
 *   `transfer` event (staff moved to a new employer code).
 * - An alert is an employer at level Ⅲ or above in a month; an alert onset
 *   is such a month when the month before was not.
 * - An onset is true when the employer has a layoff that starts within the
 *   next 3 months or is under way (start − 3 … end + 1); otherwise it is a
 *   false alert. Precision = true onsets / onsets; false alerts are counted
 *   per 1,000 employers scored per month. Only months whose next 3 months
 *   are in the data are judged.
 * - A layoff is caught when any month from 3 before its start to its end
 *   has an alert; lead = start − the first such month (0: in the month
 *   itself). Recall = caught / layoffs, over layoffs starting once the
 *   replay has 3 months behind it.
 * - PR-AUC ranks employer-months by each method's score against "a layoff
 *   starts within the next 3 months (this one included)", leaving out the
 *   months of a layoff already under way (start + 1 … end + 1), which say
 *   nothing about warning.
 */

export interface TruthEvent {
  type: 'layoff' | 'closure' | 'transfer' | 'distress' | 'shock';
  uscc: string;
  /** 'YYYY-MM' */
  period: string;
  end_period: string | null;
  statutory: boolean | null;
  sudden: boolean | null;
  /** 'YYYY-MM' the run-up (or a distress episode) began; null for a sudden event. */
  precursor_start?: string | null;
  /** Whether any precursor signal of the event showed in the feeds. */
  precursor_visible?: boolean;
  /** People separated (layoff, closure). */
  size?: number | null;
}

/** What one method said about the employers scored in one month. */
export interface MethodMonth {
  /** Higher = more at risk; ranks employer-months for PR-AUC. */
  score: Float64Array | Float32Array;
  /** 1: an alert at Ⅲ or above. */
  alert: Uint8Array;
  /** 1: a warning at Ⅳ or above (a watch); absent: the same as `alert`. */
  warn?: Uint8Array;
}

export interface ReplayMonth {
  /** 'YYYY-MM' */
  period: string;
  uscc: readonly string[];
  /** Each employer's workforce that month (for false alerts by size band); absent: not reported by band. */
  workforce?: ArrayLike<number>;
  methods: Readonly<Record<string, MethodMonth>>;
}

/** Employer size bands false alerts are reported by (insured staff). */
export const SIZE_BANDS = ['≤5', '6–99', '100–999', '1000+'] as const;
export type SizeBand = (typeof SIZE_BANDS)[number];

export function sizeBand(workforce: number): SizeBand {
  return workforce <= 5 ? '≤5' : workforce < 100 ? '6–99' : workforce < 1000 ? '100–999' : '1000+';
}

export interface EvaluateOptions {
  /** The 规模 minimum: layoffs smaller than this many people are not expected at Ⅲ+ (thresholds.scale.minJobs); default 0. */
  minJobs?: number;
}

export interface MethodResult {
  method: string;
  precision: number | null;
  recall: number | null;
  prAuc: number | null;
  medianLeadMonths: number | null;
  /** The median lead over caught layoffs that had precursors (a sudden one cannot be warned of). */
  medianLeadPrecursor: number | null;
  falseAlertsPer1000: number;
  recallSudden: number | null;
  recallPrecursor: number | null;
  transferAlerts: number;
  onsets: number;
  trueOnsets: number;
  layoffs: number;
  caught: number;
  /** Alert months (not onsets) followed by or within a layoff / all alert months judged. */
  monthPrecision: number | null;
  /** Median months from the first Ⅳ+ warning to the start, over the layoffs with precursors that had one (from 3 months before to the end). */
  medianLeadWarnPrecursor: number | null;
  /** Layoffs with precursors that had a Ⅲ+ alert 1–3 months before they started / all layoffs with precursors. */
  recallAhead: number | null;
  /** False onsets and employer-months per size band, and the rate per 1,000. */
  falseBySize: Record<SizeBand, { falseOnsets: number; employerMonths: number; per1000: number }>;
  /** Points of the precision-recall curve, by descending score. */
  curve: { recall: number; precision: number }[];
}

const HORIZON = 3;

export function evaluateMethods(months: readonly ReplayMonth[], events: readonly TruthEvent[], methods: readonly string[], options: EvaluateOptions = {}): MethodResult[] {
  if (months.length < 2) throw new Error('the replay needs at least two months');
  const periods = months.map((m) => m.period);
  const lastData = periods[periods.length - 1] as string;
  const judgedUntil = addMonths(lastData, -HORIZON);
  const firstJudged = periods[1] as string; // month 0 only gives "the month before"

  // Layoffs below the 规模 minimum are listed at Ⅳ by design: they are no layoff here, for precision, recall and lead alike.
  const minJobs = options.minJobs ?? 0;
  const layoffs = events.filter((e) => (e.type === 'layoff' || e.type === 'closure') && e.statutory === true && (e.size ?? Infinity) >= minJobs);
  const transfers = events.filter((e) => e.type === 'transfer');
  const layoffsOf = group(layoffs);
  const transfersOf = group(transfers);
  const within = (list: readonly TruthEvent[] | undefined, period: string, before: number, after: number): boolean =>
    list?.some((e) => period >= addMonths(e.period, -before) && period <= addMonths(e.end_period ?? e.period, after)) ?? false;

  // Layoffs whose 3 months of run-up are all replayed.
  const recallFrom = addMonths(firstJudged, HORIZON);
  const judgedLayoffs = layoffs.filter((e) => e.period >= recallFrom && e.period <= lastData);

  return methods.map((method) => {
    let onsets = 0;
    let trueOnsets = 0;
    let transferAlerts = 0;
    let employerMonths = 0;
    let alertMonthsJudged = 0;
    let trueAlertMonths = 0;
    const alertMonths = new Map<string, string[]>();
    const warnMonths = new Map<string, string[]>();
    const ranked: { score: number; label: number }[] = [];
    const bySize = Object.fromEntries(SIZE_BANDS.map((b) => [b, { falseOnsets: 0, employerMonths: 0, per1000: 0 }])) as MethodResult['falseBySize'];

    for (let t = 0; t < months.length; t++) {
      const month = months[t] as ReplayMonth;
      const said = month.methods[method];
      if (!said) throw new Error(`method "${method}" missing in ${month.period}`);
      const warn = said.warn ?? said.alert;
      for (let i = 0; i < month.uscc.length; i++) {
        const uscc = month.uscc[i] as string;
        if (said.alert[i] === 1) push(alertMonths, uscc, month.period);
        if (warn[i] === 1) push(warnMonths, uscc, month.period);
      }
      if (t === 0 || month.period > judgedUntil) continue;
      const before = new Set<string>();
      const prev = months[t - 1] as ReplayMonth;
      const prevSaid = prev.methods[method] as MethodMonth;
      for (let i = 0; i < prev.uscc.length; i++) if (prevSaid.alert[i] === 1) before.add(prev.uscc[i] as string);
      employerMonths += month.uscc.length;
      for (let i = 0; i < month.uscc.length; i++) {
        const uscc = month.uscc[i] as string;
        const own = layoffsOf.get(uscc);
        const band = month.workforce ? bySize[sizeBand(month.workforce[i] as number)] : null;
        if (band) band.employerMonths++;
        const near = within(own, month.period, HORIZON, 1);
        if (said.alert[i] === 1) {
          alertMonthsJudged++;
          if (near) trueAlertMonths++;
        }
        if (said.alert[i] === 1 && !before.has(uscc)) {
          onsets++;
          if (near) trueOnsets++;
          else {
            if (band) band.falseOnsets++;
            if (within(transfersOf.get(uscc), month.period, 1, 1)) transferAlerts++;
          }
        }
        const underWay = own?.some((e) => month.period > e.period && month.period <= addMonths(e.end_period ?? e.period, 1)) ?? false;
        if (underWay) continue;
        const label = own?.some((e) => e.period >= month.period && e.period <= addMonths(month.period, HORIZON)) ?? false;
        ranked.push({ score: said.score[i] as number, label: label ? 1 : 0 });
      }
    }

    let caught = 0;
    let ahead = 0;
    const leads: number[] = [];
    const precursorLeads: number[] = [];
    const warnLeads: number[] = [];
    const bySudden = { sudden: [0, 0], precursor: [0, 0] };
    for (const e of judgedLayoffs) {
      const from = addMonths(e.period, -HORIZON);
      const to = e.end_period ?? e.period;
      const inWindow = (list: readonly string[] | undefined): string[] => (list ?? []).filter((p) => p >= from && p <= to).sort();
      const hit = inWindow(alertMonths.get(e.uscc));
      const kind = e.sudden === true ? bySudden.sudden : bySudden.precursor;
      kind[1] = (kind[1] as number) + 1;
      if (e.sudden !== true) {
        const warned = inWindow(warnMonths.get(e.uscc));
        if (warned.length > 0) warnLeads.push(Math.max(0, monthsBetween(warned[0] as string, e.period)));
      }
      if (hit.length === 0) continue;
      caught++;
      kind[0] = (kind[0] as number) + 1;
      const lead = Math.max(0, monthsBetween(hit[0] as string, e.period));
      leads.push(lead);
      if (e.sudden !== true) {
        precursorLeads.push(lead);
        if (lead >= 1) ahead++;
      }
    }
    for (const band of Object.values(bySize)) band.per1000 = band.employerMonths > 0 ? (band.falseOnsets / band.employerMonths) * 1000 : 0;

    const { auc, curve } = precisionRecall(ranked);
    return {
      method,
      precision: onsets > 0 ? trueOnsets / onsets : null,
      recall: judgedLayoffs.length > 0 ? caught / judgedLayoffs.length : null,
      prAuc: auc,
      medianLeadMonths: leads.length > 0 ? medianOf(leads) : null,
      medianLeadPrecursor: precursorLeads.length > 0 ? medianOf(precursorLeads) : null,
      falseAlertsPer1000: employerMonths > 0 ? ((onsets - trueOnsets) / employerMonths) * 1000 : 0,
      recallSudden: share(bySudden.sudden),
      recallPrecursor: share(bySudden.precursor),
      transferAlerts,
      onsets,
      trueOnsets,
      layoffs: judgedLayoffs.length,
      caught,
      monthPrecision: alertMonthsJudged > 0 ? trueAlertMonths / alertMonthsJudged : null,
      medianLeadWarnPrecursor: warnLeads.length > 0 ? medianOf(warnLeads) : null,
      recallAhead: (bySudden.precursor[1] as number) > 0 ? ahead / (bySudden.precursor[1] as number) : null,
      falseBySize: bySize,
      curve,
    };
  });
}

/**
 * A reference point, not a method: what a reader of the precursor signals
 * who never misses one, and cannot tell a layoff's run-up from a distress
 * episode that ends without one, would add to a method. It reads the ground
 * truth: every month of the run-up of a layoff or closure whose signals
 * showed (precursor start … the month before it), and every month of a
 * distress episode whose signals showed, is an alert on top of what `base`
 * said. Appended to each month as method `name`; its score is the base's,
 * raised above every level where the oracle alerts.
 */
export function withPrecursorOracle(months: readonly ReplayMonth[], events: readonly TruthEvent[], base: string, name: string): ReplayMonth[] {
  const phases = new Map<string, { from: string; to: string }[]>();
  for (const e of events) {
    const phase = visiblePhase(e);
    if (phase === null) continue;
    const list = phases.get(e.uscc) ?? [];
    list.push(phase);
    phases.set(e.uscc, list);
  }
  return months.map((m) => {
    const said = m.methods[base];
    if (!said) throw new Error(`method "${base}" missing in ${m.period}`);
    const n = m.uscc.length;
    const alert = new Uint8Array(n);
    const warn = new Uint8Array(n);
    const score = new Float64Array(n);
    const baseWarn = said.warn ?? said.alert;
    for (let i = 0; i < n; i++) {
      const inPhase = phases.get(m.uscc[i] as string)?.some((p) => m.period >= p.from && m.period <= p.to) ?? false;
      alert[i] = inPhase ? 1 : (said.alert[i] as number);
      warn[i] = inPhase ? 1 : (baseWarn[i] as number);
      score[i] = (said.score[i] as number) + (inPhase ? ORACLE_BOOST : 0);
    }
    return { ...m, methods: { ...m.methods, [name]: { alert, warn, score } } };
  });
}

/** Episodes whose precursor signals showed and whose run-up overlaps [from, to]: layoff or closure run-ups against distress. */
export function visibleEpisodes(events: readonly TruthEvent[], from: string, to: string): { runUps: number; distress: number } {
  let runUps = 0;
  let distress = 0;
  for (const e of events) {
    const phase = visiblePhase(e);
    if (phase === null || phase.to < from || phase.from > to) continue;
    if (e.type === 'distress') distress++;
    else runUps++;
  }
  return { runUps, distress };
}

/** The months an event's precursor signals could be seen: a layoff's or closure's run-up (to the month before it), a distress episode whole; null if none showed. */
function visiblePhase(e: TruthEvent): { from: string; to: string } | null {
  if (e.precursor_visible !== true || e.sudden === true || e.precursor_start == null) return null;
  let to: string;
  if (e.type === 'distress') to = e.end_period ?? e.period;
  else if (e.type === 'layoff' || e.type === 'closure') to = addMonths(e.period, -1);
  else return null;
  return to < e.precursor_start ? null : { from: e.precursor_start, to };
}

/** Above any level score a method gives (levels score 1–4 plus a fraction). */
const ORACLE_BOOST = 10;

/** Average precision (the step-wise area under the PR curve) and the curve, thinned to ≤ 200 points. */
export function precisionRecall(ranked: readonly { score: number; label: number }[]): { auc: number | null; curve: { recall: number; precision: number }[] } {
  const positives = ranked.reduce((n, r) => n + r.label, 0);
  if (positives === 0) return { auc: null, curve: [] };
  const sorted = [...ranked].sort((a, b) => b.score - a.score);
  let tp = 0;
  let seen = 0;
  let auc = 0;
  let prevRecall = 0;
  const points: { recall: number; precision: number }[] = [];
  for (let k = 0; k < sorted.length; ) {
    // Ties share one threshold.
    const s = (sorted[k] as { score: number }).score;
    while (k < sorted.length && (sorted[k] as { score: number }).score === s) {
      tp += (sorted[k] as { label: number }).label;
      seen++;
      k++;
    }
    const recall = tp / positives;
    const precision = tp / seen;
    auc += (recall - prevRecall) * precision;
    prevRecall = recall;
    points.push({ recall, precision });
  }
  const step = Math.max(1, Math.ceil(points.length / 200));
  const curve = points.filter((_, i) => i % step === 0 || i === points.length - 1);
  return { auc, curve };
}

function push(into: Map<string, string[]>, key: string, value: string): void {
  const list = into.get(key);
  if (list) list.push(value);
  else into.set(key, [value]);
}

function group(events: readonly TruthEvent[]): Map<string, TruthEvent[]> {
  const out = new Map<string, TruthEvent[]>();
  for (const e of events) {
    const list = out.get(e.uscc) ?? [];
    list.push(e);
    out.set(e.uscc, list);
  }
  return out;
}

function medianOf(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function share([hit, all]: number[]): number | null {
  return (all as number) > 0 ? (hit as number) / (all as number) : null;
}
