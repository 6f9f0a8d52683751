/** The rule engine: pure functions over a SeriesBatch; see rules.ts and levels.ts. */
export type { RuleHit, RuleId, RuleKind, RuleWindow, Period } from './rule.types.js';
export { atLeast, clean, KIND_OF, makeHit } from './rule.types.js';
export { evaluateRules } from './rules.js';
export { employerLevel, LEVEL_NAMES, LEVEL_SEVERITY } from './levels.js';
export type { EmployerView } from './employer.view.js';
export { employerView } from './employer.view.js';
export type { Basis, EmployerHistory, MonthBaseline } from './separations.baseline.js';
export { analyseHistory, isScored, monthBaseline, noiseBand } from './separations.baseline.js';
export type { StatutoryTest } from './statutory.line.js';
export { statutoryLine } from './statutory.line.js';
export type { TransferMatch } from './transfer.match.js';
export { matchTransfer } from './transfer.match.js';
export type { CumulativeExcess, FilingMatch, StatutoryLayoff } from './layoff.rules.js';
export {
  closure600Rule,
  concentrated200Rule,
  cumulative12Rule,
  cumulativeExcess,
  cut300of600Rule,
  findFiling,
  law41Rule,
  layoffRules,
  silence,
  statutoryLayoff,
  transferMatchedRule,
  unreportedRule,
} from './layoff.rules.js';
export type { ClaimsWindow, DistressSignals } from './distress.rules.js';
export { arrearsRule, claimsWindow, distressRules, distressSignals, distressSignalsRule, plannedLayoffsRule, uiClaimsSurgeRule } from './distress.rules.js';
export { crosscheckRule, crosscheckRules, reportGapRule } from './crosscheck.rules.js';
export { dayNumber, formatOrdinal, periodOrdinal } from '../../domain/period.js';
export { peerDispersion, withPeers } from './dispersion.js';
