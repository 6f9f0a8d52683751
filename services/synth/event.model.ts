/**
 * Planned events of the synthetic province. Planned up front (so filings
 * can precede the layoff they announce), completed during the simulation
 * with what actually happened (size, signals emitted, filing details), then
 * written as ground truth.
 */

/** Precursor signals as bits; the order matches SIGNAL_NAMES. */
export const SIG_ARREARS = 1;
export const SIG_FREEZE = 2;
export const SIG_WAGE = 4;
export const SIG_FURLOUGH = 8;
export const SIG_PLANNED = 16;
export const SIG_CLAIMS = 32;
export const SIGNAL_NAMES = ['arrears', 'hiring_freeze', 'wage_drop', 'furlough', 'planned_layoffs', 'ui_claims'] as const;

export function signalNames(bits: number): string[] {
  return SIGNAL_NAMES.filter((_, i) => (bits & (1 << i)) !== 0);
}

export type EventKind = 'layoff' | 'closure' | 'transfer' | 'distress';
export type FilingReason = 'bankruptcy' | 'difficulty' | 'restructuring' | 'circumstances';
export type LossReason = 'orders' | 'difficulty' | 'closure' | 'restructuring' | 'relocation' | 'seasonal' | 'other';

export interface PlannedEvent {
  readonly id: number;
  kind: EventKind;
  readonly employer: number;
  /** First month the event touches anything (signals or its filing). */
  first: number;
  /** Start of the precursor or of the distress episode (= effective when sudden). */
  start: number;
  /** Month the layoff, closure or transfer takes effect; for distress, its start. */
  effective: number;
  /** Months over which separations are spread. */
  spread: number;
  /** distress: last month of the episode; otherwise effective + spread − 1. */
  end: number;
  /** Last month with any effect (post-event hiring restraint, arrears paid back). */
  last: number;
  /** Share of staff affected (layoff, transfer). */
  fraction: number;
  sudden: boolean;
  /** Planned precursor signals (bits) and the month each starts. */
  signals: number;
  readonly onset: number[];
  wageDrop: number;
  furloughShare: number;
  involRate: number;
  freezeResidual: number;
  /** Bit k set: arrears are paid back in month start + k (distress under separability; 0 otherwise). */
  arrearsPaid: number;
  claimRate: number;
  /** Share of a two-month layoff that leaves in the first month. */
  firstShare: number;
  /** Part of the shock episode. */
  shock: boolean;
  lossReason: LossReason;
  // Art. 41 filing (layoffs only)
  filed: boolean;
  filingReason: FilingReason;
  effectiveDayNo: number;
  filedDayNo: number;
  filedMonth: number;
  /** > 0: the layoff ends up this fraction of what was filed. */
  smaller: number;
  // transfers
  target: number;
  reportTransfer: boolean;
  // outcomes, filled in by the simulation
  workforce: number;
  size: number;
  intended: number;
  emitted: number;
  plannedCount: number;
  staffAtFiling: number;
  filingId: string;
  filingInFeed: boolean;
  peakFurloughed: number;
}

export function newEvent(id: number, kind: EventKind, employer: number, effective: number): PlannedEvent {
  return {
    id, kind, employer, first: effective, start: effective, effective, spread: 1, end: effective, last: effective,
    fraction: 0, sudden: true, signals: 0, onset: [0, 0, 0, 0, 0, 0], wageDrop: 0, furloughShare: 0, involRate: 0,
    freezeResidual: 0, arrearsPaid: 0, claimRate: 0, firstShare: 1, shock: false, lossReason: 'other', filed: false,
    filingReason: 'difficulty', effectiveDayNo: 0, filedDayNo: 0, filedMonth: -1, smaller: 0, target: -1,
    reportTransfer: false, workforce: 0, size: 0, intended: 0, emitted: 0, plannedCount: 0, staffAtFiling: 0,
    filingId: '', filingInFeed: false, peakFurloughed: 0,
  };
}

/** One industry downturn in one city. */
export interface Shock {
  readonly city: number;
  readonly cityCode: string;
  readonly section: string;
  readonly start: number;
  /** Last month, inclusive. */
  readonly end: number;
  readonly peak: number;
}

/** 0 outside the shock; a rise-and-fall shape inside, peaking at `peak`. */
export function shockIntensity(shock: Shock, t: number): number {
  if (t < shock.start || t > shock.end) return 0;
  const len = shock.end - shock.start + 1;
  return shock.peak * Math.sin((Math.PI * (t - shock.start + 0.5)) / len);
}
