import { addMonths } from '../domain/period.js';
import { PACK_FORMAT } from './series.pack.js';

/**
 * Whether the scoring stage may start a shard from the pack the previous
 * period's run left (series_pack), and which months it must still read from
 * the fact tables. Pure: the repository reads the fingerprints and the
 * pack's state in its snapshot, asks here, and reads what the plan says.
 */

/** Per month 'YYYY-MM', the loaded batches of the two monthly feeds ("social_insurance:1,7;headcount:3"). */
export type Fingerprint = Record<string, string>;

/** More changed months than this and the facts are read whole: the pack would save too little. */
export const MAX_STALE_MONTHS = 8;

/** What the plan needs of the shard read. */
export interface PackPlanQuery {
  /** 'YYYY-MM' scored */
  period: string;
  /** Months of history including the scored one. */
  months: number;
  bucketFrom: number;
  bucketTo: number;
  city?: string;
  fromFacts?: boolean;
}

/** The previous period's pack state over the shard's buckets, one entry per distinct (months, fingerprint, format). */
export interface PackState {
  months: number;
  /** The layout its values were packed in (series.pack.ts PACK_FORMAT). */
  format: number;
  fingerprint: Fingerprint;
  /** Buckets of the shard that have this state. */
  buckets: number;
}

export type PackPlan =
  /** Read the pack (packMonths months, one month earlier), then the months in `stale` from the facts. */
  | { usable: true; packMonths: number; stale: string[] }
  /** Read every month from the facts, for this reason. */
  | { usable: false; why: string };

/** Why the pack is not even looked at (one city, a read from the facts asked for); null when it may be used. */
export function packRefused(q: PackPlanQuery): string | null {
  if (q.city !== undefined) return 'one city is scored';
  if (q.fromFacts === true) return 'asked to read the facts';
  return null;
}

/**
 * The plan for one shard. `window` is the months read, oldest first, ending
 * with the scored one; `now` the fingerprint of those months as they are;
 * `previous` the pack state of the period before over the shard's buckets.
 * The pack is used only when every bucket has one state, from one run, of
 * the same number of months, in this code's layout; the scored month and every month whose loaded
 * batches differ from the pack's (a restatement, a late feed) are read from
 * the facts, unless there are more than MAX_STALE_MONTHS of them.
 */
export function packPlan(q: PackPlanQuery, window: readonly string[], now: Fingerprint, previous: readonly PackState[]): PackPlan {
  const refused = packRefused(q);
  if (refused !== null) return { usable: false, why: refused };
  const before = addMonths(q.period, -1);
  const buckets = q.bucketTo - q.bucketFrom + 1;
  if (previous.length === 0) return { usable: false, why: `no pack of ${before}` };
  const only = previous[0];
  if (previous.length > 1 || only === undefined || only.buckets !== buckets) return { usable: false, why: `the pack of ${before} does not cover the shard's buckets from one run` };
  if (only.months !== q.months) return { usable: false, why: `the pack of ${before} holds ${only.months} months, not ${q.months}` };
  if (only.format !== PACK_FORMAT) return { usable: false, why: `the pack of ${before} is in layout ${only.format}, not ${PACK_FORMAT}` };
  // The pack's window ends a month earlier: every month it shares with this one must be unchanged.
  const stale = window.filter((p) => p === q.period || only.fingerprint[p] !== now[p]);
  if (stale.length > MAX_STALE_MONTHS) return { usable: false, why: `${stale.length} months changed since the pack of ${before}` };
  return { usable: true, packMonths: only.months, stale };
}
