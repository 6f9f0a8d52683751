import { SIG_ARREARS, SIG_FURLOUGH, SIG_PLANNED, SIG_WAGE } from './event.model.js';
import type { PlannedEvent } from './event.model.js';
import type { Rng } from './random.js';

/**
 * Realism knobs of the synthetic province (README "Realism knobs"). Each
 * default reproduces the province as it was before the knob existed, byte
 * for byte: the knobs draw their random numbers from streams of their own,
 * and only when they are set.
 */

/** How far a layoff's or closure's run-up differs from distress that recovers; 0 = not at all. */
export const DEFAULT_SEPARABILITY = 0;
export const MAX_SEPARABILITY = 5;
/** Share of micro employers (< 10 staff) closing per year. */
export const DEFAULT_MICRO_CLOSURE_RATE = 0.03;
export const MAX_MICRO_CLOSURE_RATE = 0.5;
/** Over-dispersion of ordinary monthly quits (variance = mean + dispersion·mean²); 0 = Poisson. */
export const DEFAULT_CHURN_DISPERSION = 0;
export const MAX_CHURN_DISPERSION = 5;

/** Deepest wage-base cut a run-up reaches at any separability. */
const MAX_WAGE_DROP = 0.6;
/** Months of an episode whose arrears can be paid back (episodes are at most 6 months). */
const PAY_MONTHS = 8;
/** Uniforms drawn per episode, whatever its signals: one per signal bit, two for the freeze, one per month. */
const DRAWS = 6 + 2 + PAY_MONTHS;

/** The signal parameters of one episode that separability reshapes. */
export interface SignalShape {
  readonly signals: number;
  /** Month each signal starts (index as SIGNAL_NAMES). */
  readonly onset: readonly number[];
  readonly wageDrop: number;
  readonly freezeResidual: number;
  /** Bit k set: arrears are paid back in month start + k instead of growing. */
  readonly arrearsPaid: number;
}

export interface EpisodeContext {
  /** true: the run-up to a layoff or closure; false: distress that recovers. */
  readonly runUp: boolean;
  /** First and last month with signals. */
  readonly start: number;
  readonly sigEnd: number;
  /** Monitored enterprises can show furloughs and planned layoffs (headcount feed). */
  readonly monitored: boolean;
  readonly staff: number;
}

/**
 * Separability `s` turns one shared distribution of precursor signals into
 * two that differ in degree, as the arrears literature describes (README).
 * With q = s / (1 + s) (0, ½, ⅔ … → 1):
 *
 * - a run-up: arrears start earlier (their delay after the run-up's start
 *   divided by 1 + s) and are never paid back before the layoff; the wage
 *   cut deepens (× (1 + s/2), at most 60%); a partial hiring freeze becomes
 *   complete with probability q; each signal it lacks is added with
 *   probability q / 2;
 * - distress that recovers: arrears are paid back in a month with
 *   probability 0.6·q (intermittent); the wage cut is shallower (÷ (1 + s/2));
 *   with probability q hiring only slows (30–60% of hires go ahead); each
 *   signal beyond the first is dropped with probability q / 2 (a small
 *   firm keeps arrears or a wage cut, the only signs it can show).
 *
 * Pure apart from `rng`, which gives every episode the same number of
 * draws, so an episode reshaped at some s is reshaped at every larger s.
 */
export function separateSignals(shape: SignalShape, ep: EpisodeContext, s: number, rng: Rng): SignalShape {
  const u: number[] = [];
  for (let i = 0; i < DRAWS; i++) u.push(rng.next());
  if (!(s > 0)) return shape;
  const q = s / (1 + s);
  const draw = (i: number): number => u[i] ?? 1;
  const onset = [...shape.onset];
  let signals = shape.signals;
  let freezeResidual = shape.freezeResidual;
  let arrearsPaid = 0;
  // Wage cuts move apart by a factor of 1 + s/2 each way (s = 1: 1.5× deeper, 1.5× shallower, still overlapping).
  const wage = 1 + s / 2;
  let wageDrop: number;
  if (ep.runUp) {
    for (let i = 0; i < 6; i++) {
      const bit = 1 << i;
      const visible = ep.monitored || (bit !== SIG_FURLOUGH && bit !== SIG_PLANNED);
      if (visible && (signals & bit) === 0 && draw(i) < q / 2) signals |= bit;
    }
    onset[0] = ep.start + Math.floor(((onset[0] ?? ep.start) - ep.start) / (1 + s));
    wageDrop = Math.min(MAX_WAGE_DROP, shape.wageDrop * wage);
    if (freezeResidual > 0 && draw(6) < q) freezeResidual = 0;
  } else {
    for (let i = 0; i < 6; i++) {
      const bit = 1 << i;
      if ((signals & bit) === 0 || (signals & ~bit) === 0 || draw(i) >= q / 2) continue;
      // A small firm hires and loses too few people for the other signs to show (as chooseSignals).
      if (ep.staff < 30 && (signals & ~bit & (SIG_ARREARS | SIG_WAGE)) === 0) continue;
      signals &= ~bit;
    }
    wageDrop = shape.wageDrop / wage;
    if (draw(6) < q) freezeResidual = Math.max(freezeResidual, 0.3 + 0.3 * draw(7));
    const from = (onset[0] ?? ep.start) - ep.start;
    for (let k = from + 1; k <= ep.sigEnd - ep.start && k < PAY_MONTHS; k++) if (draw(8 + k) < 0.6 * q) arrearsPaid |= 1 << k;
  }
  return { signals, onset, wageDrop, freezeResidual, arrearsPaid };
}

/** Applies separateSignals to every planned episode with signals, in plan order. */
export function applySeparability(events: readonly PlannedEvent[], monitored: ArrayLike<number>, staff: ArrayLike<number>, s: number, rng: Rng): void {
  for (const ev of events) {
    if (ev.sudden || ev.kind === 'transfer') continue;
    const runUp = ev.kind !== 'distress';
    const ep: EpisodeContext = {
      runUp,
      start: ev.start,
      sigEnd: runUp ? ev.effective - 1 : ev.end,
      monitored: monitored[ev.employer] === 1,
      staff: staff[ev.employer] ?? 0,
    };
    const shaped = separateSignals(ev, ep, s, rng);
    ev.signals = shaped.signals;
    shaped.onset.forEach((m, i) => (ev.onset[i] = m));
    ev.wageDrop = shaped.wageDrop;
    ev.freezeResidual = shaped.freezeResidual;
    ev.arrearsPaid = shaped.arrearsPaid;
  }
}

/**
 * The month's expected ordinary quits, mixed over a gamma of mean `mean`
 * and shape 1 / dispersion: a Poisson draw around it is negative binomial
 * with variance mean + dispersion·mean². Dispersion 0 returns `mean` and draws nothing.
 */
export function dispersedMean(mean: number, dispersion: number, rng: Rng): number {
  if (!(dispersion > 0) || !(mean > 0)) return mean;
  return rng.gamma(1 / dispersion, dispersion * mean);
}
