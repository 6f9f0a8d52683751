import type { LevelKey, Thresholds } from '../../../config/thresholds.schema.js';
import type { RuleHit, RuleId } from './rule.types.js';
import { people } from './rule.types.js';
import { LEVEL_NAMES, LEVEL_SEVERITY, type Level } from '../../domain/level.js';

/**
 * Warning levels in the convention of Chinese emergency warnings: Ⅰ 红色
 * 特别严重, Ⅱ 橙色 严重, Ⅲ 黄色 较重, Ⅳ 蓝色 一般. A level is reached by a
 * rule hit listed for it, by jobs at stake with a layoff hit (size path), or
 * by the model's probability with enough jobs at stake (model path); the most
 * serious level reached wins. Data-quality (crosscheck) hits never raise a
 * level. With no model (probability null) only the rules count.
 */
export { LEVEL_NAMES, LEVEL_SEVERITY };

const LEVEL_KEYS: readonly (readonly [Level, LevelKey])[] = [
  [1, 'I'],
  [2, 'II'],
  [3, 'III'],
  [4, 'IV'],
];

const num = (hit: RuleHit, key: string): number => hit.numbers[key] ?? 0;

/** A short phrase per rule for the explanation of a level. */
const REASON: { readonly [R in RuleId]: (hit: RuleHit) => string } = {
  law41: (h) => `达到法定裁员规模（超出基线 ${people(num(h, 'excess'))} 人）`,
  cumulative12: (h) => `12 个月内累计裁员 ${people(num(h, 'cumulativeExcess'))} 人`,
  closure600: (h) => `600 人以上单位关停（${people(num(h, 'jobsLost'))} 人）`,
  cut300of600: (h) => `600 人以上单位一次裁员 ${people(num(h, 'excess'))} 人`,
  concentrated200: (h) => `集中裁员 ${people(num(h, 'excess'))} 人`,
  unreported: (h) => `未报告经济性裁员（${people(num(h, 'excess'))} 人）`,
  uiClaimsSurge: (h) => `前职工失业保险申领激增（${people(num(h, 'claims'))} 人）`,
  arrears: (h) => `社保持续欠缴 ${people(num(h, 'arrearsMonths'))} 个月`,
  plannedLayoffs: (h) => `报告下期计划裁员 ${people(num(h, 'plannedLayoffs'))} 人`,
  distressSignals: (h) => `经营困难信号 ${people(num(h, 'signals'))} 项同现`,
  crosscheck: () => '数据不一致',
  transferMatched: () => '参保关系转移',
  reportGap: () => '缺报参保数据',
};

const isLayoff = (hit: RuleHit): boolean => hit.kind === 'layoff' || hit.kind === 'unreported';

export function employerLevel(
  hits: readonly RuleHit[],
  probability: number | null,
  jobsAtStake: number,
  t: Thresholds,
): { level: Level | null; reasons: string[] } {
  const p = probability !== null && Number.isFinite(probability) ? probability : null;
  const jobs = Number.isFinite(jobsAtStake) ? Math.max(0, jobsAtStake) : 0;
  const layoff = hits.some(isLayoff);
  for (const [level, key] of LEVEL_KEYS) {
    const cfg = t.levels[key];
    const reasons: string[] = [];
    for (const hit of hits) {
      if (hit.kind !== 'crosscheck' && cfg.rules.includes(hit.rule) && jobs >= cfg.ruleJobs) reasons.push(REASON[hit.rule](hit));
    }
    if (cfg.layoffJobs !== null && layoff && jobs >= cfg.layoffJobs) reasons.push(`涉及岗位 ${people(jobs)} 个（≥ ${cfg.layoffJobs}）且有裁员`);
    if (p !== null && cfg.probability !== null && p >= cfg.probability && jobs >= cfg.minJobs && p * jobs >= cfg.minExpectedJobs) {
      reasons.push(`模型裁员概率 ${p.toFixed(2)}（≥ ${cfg.probability}），涉及岗位 ${people(jobs)} 个，预计减员 ${people(Math.round(p * jobs))} 人`);
    }
    if (reasons.length > 0) {
      const unique = [...new Set(reasons)];
      if (p === null) unique.push('模型不可用，仅按规则判定');
      // 规模: below the minimum, whatever reached a higher level is a watch, not a warning.
      if (level < 4 && jobs < t.scale.minJobs) {
        unique.push(`涉及岗位 ${people(jobs)} 个，低于规模下限 ${t.scale.minJobs} 个，列为Ⅳ级关注`);
        return { level: 4, reasons: unique };
      }
      return { level, reasons: unique };
    }
  }
  return { level: null, reasons: [] };
}
