import type { Thresholds } from '../../../config/thresholds.schema.js';
import type { EmployerView } from './employer.view.js';
import { periodOf } from './employer.view.js';
import { silence } from './layoff.rules.js';
import type { RuleHit } from './rule.types.js';
import { makeHit, people, percent } from './rule.types.js';

/**
 * Data-quality findings (kind 'crosscheck'), kept apart from layoff risk:
 * they never raise a warning level, but an official should know that the
 * two feeds disagree or that a large employer's row is missing ("no data"
 * must not read as "no layoffs").
 */

/** crosscheck: social-insurance insured and the headcount report's jobs_end disagree by more than max(10, 15%). */
export function crosscheckRule(v: EmployerView, m: number, t: Thresholds): RuleHit | null {
  if (v.present[m] !== 1 || v.reported[m] !== 1) return null;
  const insured = v.insured[m] ?? 0;
  const jobs = v.jobsEnd[m] ?? 0;
  const gap = Math.abs(insured - jobs);
  const allowed = Math.max(t.crosscheck.minGap, t.crosscheck.share * Math.max(insured, jobs));
  if (gap <= allowed) return null;
  return makeHit('crosscheck', periodOf(v, m), { from: periodOf(v, m), to: periodOf(v, m) }, { insured, jobsEnd: jobs, gap, threshold: allowed }, {
    threshold: `社保参保人数与用工监测期末岗位数相差 > max(${t.crosscheck.minGap} 人, ${percent(t.crosscheck.share)})`,
    source: '数据核对（社保参保月度数据 × 企业用工监测），本系统设定',
    summary: `本月社保参保 ${people(insured)} 人，用工监测期末岗位 ${people(jobs)} 个，相差 ${people(gap)}（允许 ${people(allowed)}），请核实数据`,
  });
}

/** reportGap: a large employer (closure size) has no social-insurance row this month, short of the months that count as a closure. */
export function reportGapRule(v: EmployerView, m: number, t: Thresholds): RuleHit | null {
  if (v.present[m] === 1) return null;
  const { run, last } = silence(v, m);
  if (last < 0 || run >= t.closure600.silentMonths) return null;
  const lastInsured = v.insured[last] ?? 0;
  if (lastInsured < t.closure600.minJobs) return null;
  return makeHit('reportGap', periodOf(v, m), { from: periodOf(v, last + 1), to: periodOf(v, m) }, { lastInsured, missingMonths: run, threshold: t.closure600.minJobs }, {
    threshold: `参保 ≥ ${t.closure600.minJobs} 人的单位缺报当月参保数据（连续 ${t.closure600.silentMonths} 个月缺报按疑似关停处理）`,
    source: '数据完整性核对，本系统设定',
    summary: `参保 ${people(lastInsured)} 人的单位本月未报参保数据，无数据不等于无裁员，请核实`,
  });
}

export function crosscheckRules(v: EmployerView, m: number, t: Thresholds): RuleHit[] {
  const hits: RuleHit[] = [];
  for (const hit of [crosscheckRule(v, m, t), reportGapRule(v, m, t)]) if (hit) hits.push(hit);
  return hits;
}
