import type { Thresholds } from '../../../config/thresholds.schema.js';
import type { EmployerView } from './employer.view.js';
import { median, periodOf } from './employer.view.js';
import type { RuleHit } from './rule.types.js';
import { atLeast, makeHit, people, percent } from './rule.types.js';
import { statutoryLine } from './statutory.line.js';

/**
 * Leading signs of distress before a layoff (kind 'distress'): former staff
 * claiming unemployment insurance, social-insurance arrears, planned layoffs
 * reported by monitored enterprises, and a hiring freeze, falling wage base
 * and furloughs together. Event-like signals (a claims surge) are reported
 * in the month they start; states (arrears, a plan, the combination) in
 * every month they hold.
 */

/** Former staff's new UI claims in the window ending at j, against the employer's own claims before it. */
export interface ClaimsWindow {
  readonly claims: number;
  readonly baseline: number;
  readonly threshold: number;
  readonly meets: boolean;
}

export function claimsWindow(v: EmployerView, j: number, t: Thresholds): ClaimsWindow | null {
  const cfg = t.uiClaims;
  if (j < 0 || v.present[j] !== 1 || (v.uiClaims[j] ?? -1) < 0) return null;
  let claims = 0;
  for (let i = Math.max(0, j - cfg.windowMonths + 1); i <= j; i++) {
    const c = v.uiClaims[i] ?? -1;
    if (v.present[i] === 1 && c >= 0) claims += c;
  }
  const before: number[] = [];
  for (let i = j - cfg.windowMonths; i >= 0 && i > j - cfg.windowMonths - cfg.baselineMonths; i--) {
    const c = v.uiClaims[i] ?? -1;
    if (v.present[i] === 1 && c >= 0) before.push(c);
  }
  const baseline = median(before) * cfg.windowMonths;
  const threshold = Math.max(cfg.minClaims, cfg.minRatio * baseline);
  // "Well above its own baseline" needs a baseline: a few months of claims before the window.
  return { claims, baseline, threshold, meets: atLeast(claims, threshold) && before.length >= t.baseline.minHistoryMonths };
}

/** uiClaimsSurge: 30+ new claims in 2 months and at least twice the usual (US BLS MLS used 50 in 5 weeks). */
export function uiClaimsSurgeRule(v: EmployerView, m: number, t: Thresholds): RuleHit | null {
  const now = claimsWindow(v, m, t);
  if (!now?.meets) return null;
  if (claimsWindow(v, m - 1, t)?.meets === true) return null;
  const cfg = t.uiClaims;
  return makeHit('uiClaimsSurge', periodOf(v, m), { from: periodOf(v, m - cfg.windowMonths + 1), to: periodOf(v, m) }, {
    claims: now.claims, baseline: now.baseline, excess: Math.max(0, now.claims - now.baseline), threshold: now.threshold, months: cfg.windowMonths,
  }, {
    threshold: `${cfg.windowMonths} 个月内前职工新申领失业保险金 ≥ ${cfg.minClaims} 人，且 ≥ 自身常态的 ${cfg.minRatio} 倍`,
    source: '社会保险法第四十五条（非因本人意愿中断就业方可申领）；参照美国 BLS 大规模裁员统计（5 周内 50 人申领）',
    summary: `近 ${cfg.windowMonths} 个月前职工新申领失业保险金 ${people(now.claims)} 人，常态约 ${people(now.baseline)} 人（阈值 ${people(Math.ceil(now.threshold))} 人）`,
  });
}

/** arrears: 社保欠缴 of 2+ months that has not come down for 2 months. */
export function arrearsRule(v: EmployerView, m: number, t: Thresholds): RuleHit | null {
  const cfg = t.arrears;
  const from = m - cfg.steadyMonths;
  if (from < 0) return null;
  for (let j = from; j <= m; j++) if (v.present[j] !== 1) return null;
  const now = v.arrears[m] ?? 0;
  if (now < cfg.minMonths) return null;
  for (let j = from + 1; j <= m; j++) if ((v.arrears[j] ?? 0) < (v.arrears[j - 1] ?? 0)) return null;
  return makeHit('arrears', periodOf(v, m), { from: periodOf(v, from), to: periodOf(v, m) }, {
    arrearsMonths: now, arrearsMonthsBefore: v.arrears[from] ?? 0, threshold: cfg.minMonths, steadyMonths: cfg.steadyMonths,
  }, {
    threshold: `累计欠缴 ≥ ${cfg.minMonths} 个月，且连续 ${cfg.steadyMonths} 个月未减少`,
    source: '社会保险法第八十六条（欠缴社会保险费，按日加收万分之五滞纳金）',
    summary: `社会保险费累计欠缴 ${people(now)} 个月，连续 ${cfg.steadyMonths} 个月未减少（阈值 ${cfg.minMonths} 个月）`,
  });
}

/** plannedLayoffs: a monitored enterprise reports a layoff plan of statutory size for next month. */
export function plannedLayoffsRule(v: EmployerView, m: number, t: Thresholds): RuleHit | null {
  if (v.reported[m] !== 1) return null;
  const planned = v.plannedLayoffs[m] ?? 0;
  if (planned <= 0) return null;
  const jobs = (v.jobsBegin[m] ?? 0) > 0 ? (v.jobsBegin[m] ?? 0) : (v.workforce[m] ?? 0);
  const test = statutoryLine(planned, jobs, 0, t);
  if (!test.fires) return null;
  return makeHit('plannedLayoffs', periodOf(v, m), { from: periodOf(v, m), to: periodOf(v, m + 1) }, {
    plannedLayoffs: planned, jobsBegin: jobs, threshold: test.threshold,
  }, {
    threshold: `下期计划裁员 ${test.text}`,
    source: '劳动合同法第四十一条（法定裁员规模）；企业用工监测 下期计划裁员人数',
    summary: `监测企业报告下期计划裁员 ${people(planned)} 人，期初岗位 ${people(jobs)} 个（阈值 ${people(Math.ceil(test.threshold))} 人）`,
  });
}

/** The three co-occurring signals of distressSignals, each with its figures. */
export interface DistressSignals {
  readonly freeze: boolean;
  readonly hiredNow: number;
  readonly normalHires: number;
  readonly wageDrop: boolean;
  readonly wagePerHead: number;
  readonly wageMedian: number;
  readonly furlough: boolean;
  readonly furloughed: number;
  readonly jobs: number;
  readonly count: number;
}

export function distressSignals(v: EmployerView, m: number, t: Thresholds): DistressSignals {
  const cfg = t.distress;

  // Hiring freeze: hires near zero for freezeMonths by an employer that normally hires.
  const usual: number[] = [];
  const freezeFrom = m - cfg.freezeMonths + 1;
  for (let j = freezeFrom - 1; j >= 0 && j > freezeFrom - 1 - 12; j--) {
    if (v.present[j] === 1 && j !== v.firstPresent) usual.push(v.hired[j] ?? 0);
  }
  const normalHires = median(usual);
  let freeze = freezeFrom >= 0 && usual.length >= t.baseline.minHistoryMonths && normalHires >= cfg.freezeMinNormalHires;
  const allowed = Math.floor(cfg.freezeMaxShare * normalHires);
  for (let j = Math.max(0, freezeFrom); j <= m && freeze; j++) {
    if (v.present[j] !== 1 || (v.hired[j] ?? 0) > allowed) freeze = false;
  }

  // Wage base per head down against its own median.
  const perHead = v.present[m] === 1 ? (v.wagePerHead[m] ?? -1) : -1;
  const before: number[] = [];
  for (let j = m - 1; j >= 0 && before.length < cfg.wageMonths; j--) {
    const w = v.wagePerHead[j] ?? -1;
    if (v.present[j] === 1 && w > 0) before.push(w);
  }
  const wageMedian = median(before);
  const wageDrop = perHead >= 0 && wageMedian > 0 && before.length >= Math.min(3, cfg.wageMonths) && atLeast(1 - perHead / wageMedian, cfg.wageDropShare);

  // Furloughs (停工待岗) as a share of jobs.
  const furloughed = v.reported[m] === 1 ? (v.furloughed[m] ?? -1) : -1;
  const jobs = v.reported[m] === 1 ? ((v.jobsEnd[m] ?? 0) > 0 ? (v.jobsEnd[m] ?? 0) : (v.jobsBegin[m] ?? 0)) : 0;
  const furlough = furloughed >= cfg.furloughFloor && jobs > 0 && atLeast(furloughed, cfg.furloughShare * jobs);

  return {
    freeze,
    hiredNow: v.present[m] === 1 ? (v.hired[m] ?? 0) : 0,
    normalHires,
    wageDrop,
    wagePerHead: Math.max(0, perHead),
    wageMedian,
    furlough,
    furloughed: Math.max(0, furloughed),
    jobs,
    count: (freeze ? 1 : 0) + (wageDrop ? 1 : 0) + (furlough ? 1 : 0),
  };
}

/** distressSignals: at least two of hiring freeze, wage-base drop and furlough in the same month. */
export function distressSignalsRule(v: EmployerView, m: number, t: Thresholds): RuleHit | null {
  const s = distressSignals(v, m, t);
  const cfg = t.distress;
  if (s.count < cfg.minSignals) return null;
  const parts: string[] = [];
  if (s.freeze) parts.push(`连续 ${cfg.freezeMonths} 个月基本停止增员（本月增员 ${people(s.hiredNow)} 人，常态 ${people(s.normalHires)} 人）`);
  if (s.wageDrop) parts.push(`人均缴费基数较近 ${cfg.wageMonths} 个月中位数下降 ${percent(1 - s.wagePerHead / s.wageMedian)}`);
  if (s.furlough) parts.push(`停工待岗 ${people(s.furloughed)} 人，占岗位 ${percent(s.furloughed / s.jobs)}`);
  return makeHit('distressSignals', periodOf(v, m), { from: periodOf(v, m - Math.max(cfg.freezeMonths, 1) + 1), to: periodOf(v, m) }, {
    signals: s.count,
    hiringFreeze: s.freeze ? 1 : 0,
    hired: s.hiredNow,
    normalHires: s.normalHires,
    wageDrop: s.wageDrop ? 1 : 0,
    wagePerHead: s.wagePerHead,
    wageMedian: s.wageMedian,
    furlough: s.furlough ? 1 : 0,
    furloughed: s.furloughed,
    jobs: s.jobs,
  }, {
    threshold: `停止增员、人均缴费基数下降 ≥ ${percent(cfg.wageDropShare)}、停工待岗 ≥ ${percent(cfg.furloughShare)} 三者中至少 ${cfg.minSignals} 项同时出现`,
    source: '经营困难先行信号（停止增员、缴费基数下降、停工待岗），本系统设定',
    summary: `${parts.join('；')}`,
  });
}

/** All distress findings of month m. */
export function distressRules(v: EmployerView, m: number, t: Thresholds): RuleHit[] {
  const hits: RuleHit[] = [];
  for (const hit of [uiClaimsSurgeRule(v, m, t), arrearsRule(v, m, t), plannedLayoffsRule(v, m, t), distressSignalsRule(v, m, t)]) {
    if (hit) hits.push(hit);
  }
  return hits;
}
