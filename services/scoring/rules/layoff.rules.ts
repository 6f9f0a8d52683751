import type { Thresholds } from '../../../config/thresholds.schema.js';
import type { Filing, ScoringContext } from '../series.js';
import type { EmployerView } from './employer.view.js';
import { periodOf } from './employer.view.js';
import { dayMonthOrdinal, dayNumber } from '../../domain/period.js';
import type { RuleHit } from './rule.types.js';
import { atLeast, makeHit, people, percent } from './rule.types.js';
import type { EmployerHistory, MonthBaseline } from './separations.baseline.js';
import { isScored, noiseBand } from './separations.baseline.js';
import { closureLine, meetsStatutoryLine, statutoryLine } from './statutory.line.js';
import type { StatutoryTest } from './statutory.line.js';
import { matchTransfer } from './transfer.match.js';

/**
 * Layoff rules for month m (the period scored): the statutory layoff
 * (劳动合同法第四十一条), the larger tiers of local plans, cumulative
 * layoffs, closures, and the unreported layoff. Each works on the
 * employer's excess over its own baseline (separations.baseline.ts).
 */

const LAW41 = '劳动合同法第四十一条';

/** The statutory layoff ending in month m, if any: one month, or two when it straddles a month end. */
export interface StatutoryLayoff {
  readonly from: number;
  readonly to: number;
  readonly separated: number;
  readonly transferReported: number;
  readonly natural: number;
  readonly caused: number;
  readonly expected: number;
  readonly excess: number;
  readonly workforce: number;
  readonly band: number;
  readonly test: StatutoryTest;
  readonly months: readonly MonthBaseline[];
}

export function statutoryLayoff(v: EmployerView, h: EmployerHistory, m: number, t: Thresholds): StatutoryLayoff | null {
  if (m === v.firstPresent) return null;
  const closedFrom = h.single[m] === 1 || h.pair[m] === 1 ? -1 : closureStart(v, h, m, t);
  const from = h.single[m] === 1 ? m : h.pair[m] === 1 ? m - 1 : closedFrom;
  if (from < 0) return null;
  const months: MonthBaseline[] = [];
  let separated = 0;
  let transferReported = 0;
  let natural = 0;
  for (let j = from; j <= m; j++) {
    const b = h.baseline[j];
    if (b === undefined) return null;
    months.push(b);
    separated += v.separated[j] ?? 0;
    transferReported += Math.max(0, v.transfer[j] ?? 0);
    natural += Math.max(0, v.natural[j] ?? 0);
  }
  const first = months[0] as MonthBaseline;
  const caused = months.reduce((s, b) => s + b.caused, 0);
  const expected = months.reduce((s, b) => s + b.expected, 0);
  const excess = months.reduce((s, b) => s + b.excess, 0);
  const band = months.length === 1 ? first.band : noiseBand(expected, 0, t, first.dispersion);
  const test = closedFrom >= 0 ? closureLine(caused, first.workforce) : statutoryLine(excess, first.workforce, band, t);
  return { from, to: m, separated, transferReported, natural, caused, expected, excess, workforce: first.workforce, band, test, months };
}

/**
 * The first month of a closure ending in month m, or −1: insured staff fell
 * to zero this month, and the employer's own separations since a month
 * (at most closureMonths back, over months that each lost someone) took at
 * least closureShare of the workforce it had then. From closureMinWorkforce
 * staff that is a closure on its own; from fewer (down to
 * corroboratedClosureMinWorkforce) only with corroboration in those months
 * (closureCorroboration). Months whose excess went to a new employer code
 * are a transfer, not a closure.
 */
export function closureStart(v: EmployerView, h: EmployerHistory, m: number, t: Thresholds): number {
  const cfg = t.law41;
  // Only the month the count reaches zero: the months after it are the closure's aftermath, not new layoffs.
  if (v.present[m] !== 1 || (v.insured[m] ?? 0) !== 0 || !((v.workforce[m] ?? 0) > 0)) return -1;
  let caused = 0;
  let start = -1;
  for (let s = m; s > v.firstPresent && s > m - cfg.closureMonths; s--) {
    if (v.present[s] !== 1 || h.transfer[s] !== null || !isScored(h.baseline[s])) break;
    // The run-down starts after the last month nobody left.
    if (s < m && !((v.caused[s] ?? 0) > 0)) break;
    caused += v.caused[s] ?? 0;
    const workforce = v.workforce[s] ?? 0;
    if (workforce < cfg.corroboratedClosureMinWorkforce || !atLeast(caused, cfg.closureShare * workforce)) continue;
    if (workforce >= cfg.closureMinWorkforce || closureCorroboration(v, s, m) !== null) start = s;
  }
  return start;
}

/**
 * What shows that a very small employer's fall to zero in months from..to
 * was not ordinary turnover: social-insurance arrears (the employer stopped
 * paying), or former staff claiming unemployment insurance, which is paid
 * only to those who lost their job against their will (失业保险条例第十四条).
 * Null when neither was reported.
 */
export function closureCorroboration(v: EmployerView, from: number, to: number): { arrearsMonths: number; uiClaims: number } | null {
  let arrearsMonths = 0;
  let uiClaims = 0;
  for (let s = from; s <= to; s++) {
    if (v.present[s] !== 1) continue;
    arrearsMonths = Math.max(arrearsMonths, v.arrears[s] ?? 0);
    uiClaims += Math.max(0, v.uiClaims[s] ?? 0);
  }
  return arrearsMonths > 0 || uiClaims > 0 ? { arrearsMonths, uiClaims } : null;
}

/** The Art. 41 report that covers a layoff in months from..to, if one was received in time. */
export interface FilingMatch {
  readonly filing: Filing;
  /** Days between filed_on and effective_on. */
  readonly noticeDays: number;
}

export function findFiling(v: EmployerView, from: number, to: number, t: Thresholds): FilingMatch | null {
  if (v.firstOrdinal === null) return null;
  const fromOrd = v.firstOrdinal + from;
  const toOrd = v.firstOrdinal + to;
  const margin = t.unreported.marginMonths;
  let best: FilingMatch | null = null;
  let bestGap = Infinity;
  for (const filing of v.filings) {
    const eff = dayMonthOrdinal(filing.effectiveOn);
    const filed = dayMonthOrdinal(filing.filedOn);
    const effDay = dayNumber(filing.effectiveOn);
    const filedDay = dayNumber(filing.filedOn);
    if (eff === null || filed === null || effDay === null || filedDay === null) continue;
    if (eff < fromOrd - margin || eff > toOrd + margin || filed > toOrd) continue;
    const gap = eff < fromOrd ? fromOrd - eff : eff > toOrd ? eff - toOrd : 0;
    if (gap < bestGap) {
      best = { filing, noticeDays: effDay - filedDay };
      bestGap = gap;
    }
  }
  return best;
}

function windowOf(v: EmployerView, from: number, to: number): { from: string; to: string } {
  return { from: periodOf(v, from), to: periodOf(v, to) };
}

/** law41: excess over the employer's own baseline meets the statutory line, in one month or across two. */
export function law41Rule(v: EmployerView, h: EmployerHistory, m: number, t: Thresholds): RuleHit | null {
  const s = statutoryLayoff(v, h, m, t);
  if (!s) return null;
  const last = s.months[s.months.length - 1] as MonthBaseline;
  const filed = findFiling(v, s.from, s.to, t);
  const numbers: Record<string, number> = {
    separated: s.separated,
    transferReported: s.transferReported,
    natural: s.natural,
    employerCaused: s.caused,
    expected: s.expected,
    baselineLevel: s.months.reduce((sum, b) => sum + b.level, 0),
    seasonalFactor: last.seasonal,
    festivalAllowance: s.months.reduce((sum, b) => sum + b.allowance, 0),
    excess: s.excess,
    workforce: s.workforce,
    threshold: s.test.threshold,
    noiseBand: s.band,
    historyMonths: last.historyMonths,
    months: s.months.length,
    filed: filed ? 1 : 0,
  };
  let note = '';
  if (filed) {
    numbers['noticeDays'] = filed.noticeDays;
    numbers['plannedCount'] = filed.filing.plannedCount;
    numbers['shortNotice'] = filed.noticeDays < t.unreported.noticeDays ? 1 : 0;
    note =
      filed.noticeDays < t.unreported.noticeDays
        ? `；已报告裁员方案，但距实施仅 ${filed.noticeDays} 天，不足 ${t.unreported.noticeDays} 日`
        : `；已于实施前 ${filed.noticeDays} 天报告裁员方案`;
  }
  const when = s.months.length === 1 ? '本月' : s.months.length === 2 ? '近两月' : `近 ${s.months.length} 个月`;
  const closure = s.test.branch === 'closure';
  let corroborated = '';
  if (closure) {
    numbers['closure'] = 1;
    const evidence = s.workforce < t.law41.closureMinWorkforce ? closureCorroboration(v, s.from, s.to) : null;
    if (evidence !== null) {
      numbers['arrearsMonths'] = evidence.arrearsMonths;
      numbers['uiClaims'] = evidence.uiClaims;
      const parts = [evidence.arrearsMonths > 0 ? `欠缴社保 ${people(evidence.arrearsMonths)} 个月` : '', evidence.uiClaims > 0 ? `前职工申领失业保险 ${people(evidence.uiClaims)} 人` : ''];
      corroborated = `，${parts.filter((x) => x !== '').join('，')}`;
    }
  }
  const shareText = s.test.branch === 'share' ? `，职工 ${people(s.workforce)} 人的 ${percent(t.law41.smallShare)}` : '';
  return makeHit('law41', periodOf(v, m), windowOf(v, s.from, s.to), numbers, {
    threshold: closure ? s.test.text : `超出自身基线 ${s.test.text}${s.months.length === 2 ? '（跨月合计）' : ''}`,
    source: LAW41,
    summary: closure
      ? `${when}职工 ${people(s.workforce)} 人全部减员，参保人数降至 0（疑似关停${corroborated}），较自身基线多 ${people(s.excess)} 人${note}`
      : `${when}减员 ${people(s.separated)} 人，较自身基线多 ${people(s.excess)} 人（阈值 ${people(Math.ceil(s.test.threshold - 1e-9))} 人${shareText}）${note}`,
  });
}

/** unreported: a statutory layoff with no Art. 41 report received before it (未报告经济性裁员). */
export function unreportedRule(v: EmployerView, h: EmployerHistory, m: number, t: Thresholds): RuleHit | null {
  const s = statutoryLayoff(v, h, m, t);
  if (!s) return null;
  if (t.unreported.skipClosures && (v.insured[m] ?? 0) === 0) return null;
  // Without readable periods no filing can be placed in time: say nothing rather than accuse.
  if (v.firstOrdinal === null) return null;
  if (findFiling(v, s.from, s.to, t)) return null;
  return makeHit('unreported', periodOf(v, m), windowOf(v, s.from, s.to), {
    excess: s.excess,
    workforce: s.workforce,
    threshold: s.test.threshold,
    filingsOnRecord: v.filings.length,
  }, {
    threshold: `达到法定裁员规模且实施前（生效日在 ${periodOf(v, s.from - t.unreported.marginMonths)} 至 ${periodOf(v, s.to + t.unreported.marginMonths)}，且于 ${periodOf(v, s.to)} 月底前）未收到裁员方案报告`,
    source: `${LAW41}；企业经济性裁减人员规定（劳部发〔1994〕447号）第四条`,
    summary: `疑似经济性裁员 ${people(s.excess)} 人，但未收到提前 ${t.unreported.noticeDays} 日的裁员方案报告（未报告经济性裁员）`,
  });
}

/** concentrated200: one month's excess of 200 or more (山东). */
export function concentrated200Rule(v: EmployerView, h: EmployerHistory, m: number, t: Thresholds): RuleHit | null {
  const b = h.baseline[m];
  if (h.single[m] !== 1 || m === v.firstPresent || b === undefined || !atLeast(b.excess, t.concentrated200.minExcess)) return null;
  return makeHit('concentrated200', periodOf(v, m), windowOf(v, m, m), { excess: b.excess, expected: b.expected, workforce: b.workforce, threshold: t.concentrated200.minExcess }, {
    threshold: `单月超出基线 ≥ ${t.concentrated200.minExcess} 人`,
    source: '山东省失业预警：单个企业集中裁员 200 人以上',
    summary: `本月集中减员较基线多 ${people(b.excess)} 人（阈值 ${t.concentrated200.minExcess} 人）`,
  });
}

/** cut300of600: an employer of 600 or more cutting 300 or more at once (杭州 一级). */
export function cut300of600Rule(v: EmployerView, h: EmployerHistory, m: number, t: Thresholds): RuleHit | null {
  const b = h.baseline[m];
  const cfg = t.cut300of600;
  if (h.single[m] !== 1 || m === v.firstPresent || b === undefined || !atLeast(b.excess, cfg.minExcess) || !atLeast(b.workforce, cfg.minWorkforce)) return null;
  return makeHit('cut300of600', periodOf(v, m), windowOf(v, m, m), {
    excess: b.excess, expected: b.expected, workforce: b.workforce, threshold: cfg.minExcess, minWorkforce: cfg.minWorkforce,
  }, {
    threshold: `职工 ≥ ${cfg.minWorkforce} 人且单月超出基线 ≥ ${cfg.minExcess} 人`,
    source: '杭州市失业应急预案 一级：从业 600 人以上的企业一次性裁员 300 人以上',
    summary: `职工 ${people(b.workforce)} 人的单位本月减员较基线多 ${people(b.excess)} 人（阈值 ${cfg.minExcess} 人）`,
  });
}

/** The cumulative excess of the months ending at j, against the baseline as it stood at the window's start. */
export interface CumulativeExcess {
  readonly from: number;
  readonly excess: number;
  readonly expected: number;
  readonly workforce: number;
  readonly netDecline: number;
  readonly threshold: number;
  readonly declineThreshold: number;
  readonly meets: boolean;
}

/**
 * Measured against the rate at the window's start, so that a slow run-down
 * cannot become its own baseline; and it needs the workforce to have
 * actually shrunk by the line (裁员率 of 稳岗返还: 年初与年末参保人数之差),
 * so that rising voluntary quits replaced by hires do not count.
 */
export function cumulativeExcess(v: EmployerView, h: EmployerHistory, j: number, t: Thresholds): CumulativeExcess | null {
  if (j < 0 || v.present[j] !== 1) return null;
  const cfg = t.cumulative12;
  let from = -1;
  for (let i = Math.max(0, j - cfg.months + 1); i <= j; i++) {
    const b = h.baseline[i];
    if (b !== undefined && b.basis !== 'none' && b.workforce > 0) {
      from = i;
      break;
    }
  }
  if (from < 0) return null;
  const start = h.baseline[from] as MonthBaseline;
  let excess = 0;
  let expected = 0;
  for (let i = from; i <= j; i++) {
    const b = h.baseline[i];
    if (b === undefined || !isScored(b) || h.transfer[i] !== null) continue;
    const e = start.levelRate * b.workforce * b.seasonal + b.allowance;
    expected += e;
    excess += b.caused - e;
  }
  excess = Math.max(0, excess);
  const declineThreshold = Math.max(cfg.share * start.workforce, cfg.floor);
  const threshold = Math.max(declineThreshold, noiseBand(expected, 0, t, start.dispersion));
  const netDecline = Math.max(0, start.workforce - (v.insured[j] ?? 0));
  return {
    from,
    excess,
    expected,
    workforce: start.workforce,
    netDecline,
    threshold,
    declineThreshold,
    meets: atLeast(excess, threshold) && atLeast(netDecline, declineThreshold),
  };
}

/** cumulative12: 10% of the workforce within 12 months (威海), reported in the month the line is crossed by a creeping run-down. */
export function cumulative12Rule(v: EmployerView, h: EmployerHistory, m: number, t: Thresholds): RuleHit | null {
  if (m === v.firstPresent || h.layoff[m] === 1 || h.transfer[m] !== null || (h.baseline[m]?.excess ?? 0) <= 0) return null;
  const now = cumulativeExcess(v, h, m, t);
  if (!now?.meets) return null;
  if (cumulativeExcess(v, h, m - 1, t)?.meets === true) return null;
  const cfg = t.cumulative12;
  return makeHit('cumulative12', periodOf(v, m), windowOf(v, now.from, m), {
    cumulativeExcess: now.excess,
    excess: now.excess,
    expected: now.expected,
    workforce: now.workforce,
    insured: v.insured[m] ?? 0,
    netDecline: now.netDecline,
    threshold: now.threshold,
    months: m - now.from + 1,
  }, {
    threshold: `${cfg.months} 个月内累计超出基线 ≥ 期初职工的 ${percent(cfg.share)}，且 ≥ ${cfg.floor} 人，在册人数同样减少`,
    source: '威海市 2008 年规定：一个年度内累计裁员占职工总数 10% 以上',
    summary: `近 ${m - now.from + 1} 个月累计减员较基线多 ${people(now.excess)} 人，占期初职工 ${people(now.workforce)} 人的 ${percent(now.workforce > 0 ? now.excess / now.workforce : 0)}（阈值 ${people(Math.ceil(now.threshold - 1e-9))} 人）`,
  });
}

/** Consecutive months without a row ending at m, and the last month with one (-1 if none). */
export function silence(v: EmployerView, m: number): { run: number; last: number } {
  let j = m;
  while (j >= 0 && v.present[j] !== 1) j--;
  return { run: m - j, last: j };
}

/** closure600: an employer that had 600+ insured drops to 0 with 600+ employer-caused separations, or falls silent (杭州 一级). */
export function closure600Rule(v: EmployerView, h: EmployerHistory, ctx: ScoringContext, m: number, t: Thresholds): RuleHit[] {
  const cfg = t.closure600;
  const source = '杭州市失业应急预案 一级：单个企业关停破产 600 人以上失业';
  if (v.present[m] === 1) {
    const b = h.baseline[m];
    if (m === v.firstPresent || b === undefined || (v.insured[m] ?? 0) !== 0 || !(b.workforce > 0)) return [];
    let peak = -1;
    let peakAt = m;
    for (let j = Math.max(0, m - cfg.lookbackMonths + 1); j <= m; j++) {
      const w = h.baseline[j]?.workforce ?? 0;
      // The last month at the peak: the wind-down starts there.
      if (v.present[j] === 1 && w >= peak) {
        peak = w;
        peakAt = j;
      }
    }
    let jobsLost = 0;
    for (let j = peakAt; j <= m; j++) if (v.present[j] === 1 && h.transfer[j] === null) jobsLost += v.caused[j] ?? 0;
    if (!atLeast(peak, cfg.minJobs) || !atLeast(jobsLost, cfg.minJobs)) return [];
    return [
      makeHit('closure600', periodOf(v, m), windowOf(v, peakAt, m), { peakInsured: peak, insured: 0, jobsLost, excess: jobsLost, threshold: cfg.minJobs, months: m - peakAt + 1 }, {
        threshold: `原参保 ≥ ${cfg.minJobs} 人的单位参保人数降为 0，单位原因减员 ≥ ${cfg.minJobs} 人`,
        source,
        summary: `单位参保人数由 ${people(peak)} 人降为 0，关停减员 ${people(jobsLost)} 人（阈值 ${cfg.minJobs} 人）`,
      }),
    ];
  }
  const { run, last } = silence(v, m);
  const lastInsured = last >= 0 ? (v.insured[last] ?? 0) : 0;
  if (last < 0 || run !== cfg.silentMonths || lastInsured < cfg.minJobs) return [];
  const moved = matchTransfer(v, ctx, lastInsured, last + 1, m + 1, t);
  if (moved) {
    return [
      makeHit('transferMatched', periodOf(v, m), windowOf(v, last + 1, m), {
        lastInsured, intakeInsured: moved.intake.insured, intakeHired: moved.intake.hired, tolerance: t.transfer.tolerance,
      }, {
        threshold: `同市新参保单位首月参保或增员人数与停报前参保人数相差不超过 ${percent(t.transfer.tolerance)}`,
        source: '参保关系转移不计为裁员（攀枝花 2023-03 误报）',
        summary: `单位已连续 ${run} 个月未报参保数据（停报前 ${people(lastInsured)} 人），同市新参保单位 ${moved.intake.uscc} 首月参保 ${people(moved.intake.insured)} 人，按整体转移处理，未计为关停`,
      }),
    ];
  }
  return [
    makeHit('closure600', periodOf(v, m), windowOf(v, last + 1, m), { lastInsured, jobsLost: lastInsured, excess: lastInsured, silentMonths: run, threshold: cfg.minJobs }, {
      threshold: `参保 ≥ ${cfg.minJobs} 人的单位连续 ${cfg.silentMonths} 个月未报参保数据`,
      source,
      summary: `参保 ${people(lastInsured)} 人的单位已连续 ${run} 个月未报参保数据，疑似关停（阈值 ${cfg.minJobs} 人）`,
    }),
  ];
}

/** transferMatched: an excess that would have been a statutory layoff, taken up by a new code in the same city — noted, not a layoff. */
export function transferMatchedRule(v: EmployerView, h: EmployerHistory, m: number, t: Thresholds): RuleHit | null {
  const moved = h.transfer[m];
  const b = h.baseline[m];
  if (!moved || b === undefined || m === v.firstPresent) return null;
  const paired = h.transfer[m - 1] === moved;
  const from = paired ? m - 1 : m;
  const prev = paired ? h.baseline[m - 1] : undefined;
  const excess = b.excess + (prev?.excess ?? 0);
  const band = prev ? noiseBand(b.expected + prev.expected, 0, t, prev.dispersion) : b.band;
  if (!meetsStatutoryLine(excess, prev?.workforce ?? b.workforce, band, t)) return null;
  return makeHit('transferMatched', periodOf(v, m), windowOf(v, from, m), {
    excess, intakeInsured: moved.intake.insured, intakeHired: moved.intake.hired, tolerance: t.transfer.tolerance,
  }, {
    threshold: `同市新参保单位（本月或次月）首月参保或增员人数与超出基线的减员相差不超过 ${percent(t.transfer.tolerance)}`,
    source: '参保关系转移不计为裁员（攀枝花 2023-03 误报）',
    summary: `减员较基线多 ${people(excess)} 人，与同市新参保单位 ${moved.intake.uscc} 首月参保 ${people(moved.intake.insured)} 人相符，按参保关系转移处理，未计为裁员`,
  });
}

/** All layoff findings of month m, most serious first. */
export function layoffRules(v: EmployerView, h: EmployerHistory, ctx: ScoringContext, m: number, t: Thresholds): RuleHit[] {
  const hits: RuleHit[] = [];
  const push = (hit: RuleHit | null): void => {
    if (hit) hits.push(hit);
  };
  hits.push(...closure600Rule(v, h, ctx, m, t));
  push(cut300of600Rule(v, h, m, t));
  push(concentrated200Rule(v, h, m, t));
  push(unreportedRule(v, h, m, t));
  push(law41Rule(v, h, m, t));
  push(cumulative12Rule(v, h, m, t));
  push(transferMatchedRule(v, h, m, t));
  return hits;
}
