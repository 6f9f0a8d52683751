import type { Thresholds } from '../../../config/thresholds.schema.js';
import type { NewEmployerIntake, ScoringContext } from '../series.js';
import type { EmployerView } from './employer.view.js';
import { median, periodOf } from './employer.view.js';

/**
 * Staff moved to another employer of the same group (参保关系转出, a
 * restructuring) reappear under a new employer code. An excess that a new
 * code in the same city takes up, in the same month or the next, is a
 * transfer, not a layoff (攀枝花 2023-03: 1,300 staff moved to a new company).
 */
export interface TransferMatch {
  readonly intake: NewEmployerIntake;
  /** The intake's figure that matched (insured or hired). */
  readonly matched: number;
}

/** The new code, among months `from`..`to` (inclusive), whose first-month insured or hired is closest to `amount` within the tolerance. */
export function matchTransfer(
  v: EmployerView,
  ctx: ScoringContext,
  amount: number,
  from: number,
  to: number,
  t: Thresholds,
): TransferMatch | null {
  if (!(amount >= t.transfer.minBlock) || v.cityCode === '') return null;
  if (claimsSayDismissed(v, amount, from, to, t)) return null;
  const tolerance = t.transfer.tolerance * amount;
  let best: TransferMatch | null = null;
  let bestGap = Infinity;
  for (let m = from; m <= to; m++) {
    for (const intake of ctx.newIntakes(v.cityCode, periodOf(v, m))) {
      if (intake.uscc === v.uscc) continue;
      if (t.transfer.sameSection && v.section !== '' && intake.industryCode.charAt(0) !== v.section) continue;
      for (const figure of [intake.insured, intake.hired]) {
        const gap = Math.abs(figure - amount);
        if (Number.isFinite(gap) && gap <= tolerance && gap < bestGap) {
          best = { intake, matched: figure };
          bestGap = gap;
        }
      }
    }
  }
  return best;
}

/**
 * Transferred staff keep their jobs and do not claim unemployment
 * insurance; dismissed staff do (社会保险法第四十五条: only 非因本人意愿
 * 中断就业). Former staff's claims above their usual level in the months of
 * the block (more than max(2, maxClaimShare × the block)) say it was a
 * layoff, whatever new code happens to have the same size.
 */
function claimsSayDismissed(v: EmployerView, amount: number, from: number, to: number, t: Thresholds): boolean {
  let claims = 0;
  let known = 0;
  for (let m = Math.max(0, from); m <= Math.min(to, v.months - 1); m++) {
    const c = v.uiClaims[m] ?? -1;
    if (v.present[m] === 1 && c >= 0) {
      claims += c;
      known++;
    }
  }
  if (known === 0) return false;
  const usual: number[] = [];
  for (let m = from - 1; m >= 0 && usual.length < 12; m--) {
    const c = v.uiClaims[m] ?? -1;
    if (v.present[m] === 1 && c >= 0) usual.push(c);
  }
  return claims - median(usual) * known > Math.max(2, t.transfer.maxClaimShare * amount);
}
