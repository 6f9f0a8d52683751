import type { RULE_IDS } from '../../../config/thresholds.schema.js';
import type { AlertAction, AlertKind, AlertStatus } from '../../domain/alert.js';
import { isLevel, LEVEL_COLOUR, LEVEL_NUMERAL } from '../../domain/level.js';
import { industryName, regionLabel } from '../../domain/names.js';
import { html, type Html } from './html.js';

/** Chinese names and number formats the console's pages share; every value still goes through html``. */

export const TIME_ZONE = 'Asia/Shanghai';

const KIND_NAMES: Record<AlertKind, string> = {
  layoff: '疑似规模裁员',
  unreported: '疑似未报告裁员',
  crosscheck: '数据交叉核验异常',
  systemic: '系统性失业风险',
};

const STATUS_NAMES: Record<AlertStatus, string> = {
  pending: '待模型确认',
  open: '待确认',
  acknowledged: '已确认',
  resolved: '已解除',
};

const ACTION_NAMES: Record<AlertAction, string> = {
  raised: '发出预警',
  confirmed: '模型连续信号，预警开启',
  updated: '新月份信号',
  escalated: '等级上升',
  deescalated: '等级下降',
  acknowledged: '确认签收',
  resolved: '解除',
  reopened: '重新开启',
  lapsed: '未获确认，撤销',
  reminded: '未确认提醒',
  escalated_to_province: '超时上报省厅',
};

type RuleId = (typeof RULE_IDS)[number];

/** What each rule looks for, in the words of the rule's own threshold text (services/scoring/rules/). */
const RULE_NAMES: Record<RuleId, string> = {
  law41: '达到法定裁员规模（劳动合同法第41条）',
  cumulative12: '12个月内累计减员',
  closure600: '停业或停报参保',
  cut300of600: '大型企业一次性裁员',
  concentrated200: '单月集中裁员200人以上',
  unreported: '达到法定规模但未报告裁员方案',
  uiClaimsSurge: '前职工失业保险金申领激增',
  arrears: '社保费持续欠缴',
  plannedLayoffs: '用工监测报告计划裁员',
  distressSignals: '经营困难信号',
  crosscheck: '社保与用工监测数据不一致',
  transferMatched: '参保关系整体转移（不计为裁员）',
  reportGap: '连续未报送参保数据',
};

export const FEED_NAMES: Readonly<Record<string, string>> = {
  social_insurance: '社保参保',
  headcount: '企业用工监测',
  regional: '地区失业指标',
  layoff_filings: '裁员备案',
};

const KIND_LIST = Object.keys(KIND_NAMES) as AlertKind[];
const STATUS_LIST = Object.keys(STATUS_NAMES) as AlertStatus[];

export const ALERT_KIND_OPTIONS = KIND_LIST.map((k) => ({ value: k, label: KIND_NAMES[k] }));
export const ALERT_STATUS_OPTIONS = [{ value: 'active', label: '进行中（待确认和已确认）' }, ...STATUS_LIST.map((s) => ({ value: s, label: STATUS_NAMES[s] }))];

const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

export function kindName(kind: string): string {
  return has(KIND_NAMES, kind) ? KIND_NAMES[kind as AlertKind] : kind;
}

export function statusName(status: string): string {
  return has(STATUS_NAMES, status) ? STATUS_NAMES[status as AlertStatus] : status;
}

export function actionName(action: string): string {
  return has(ACTION_NAMES, action) ? ACTION_NAMES[action as AlertAction] : action;
}

export function ruleName(rule: string): string {
  return has(RULE_NAMES, rule) ? RULE_NAMES[rule as RuleId] : rule;
}

export function feedName(feed: string): string {
  return FEED_NAMES[feed] ?? feed;
}

/** 'Ⅱ' for 2, '—' for anything that is no level. */
export function numeral(level: unknown): string {
  return isLevel(level) ? LEVEL_NUMERAL[level] : '—';
}

/** A badge coloured by level: Ⅰ 红 Ⅱ 橙 Ⅲ 黄 Ⅳ 蓝; `none` names the absence of a level. */
export function levelBadge(level: unknown, none = '无预警'): Html {
  if (!isLevel(level)) return html`<span class="lv lv0">${none}</span>`;
  return html`<span class="lv lv${level}">${LEVEL_NUMERAL[level]}级 ${LEVEL_COLOUR[level].slice(0, 1)}</span>`;
}

export function statusBadge(status: string): Html {
  return html`<span class="st st-${status}">${statusName(status)}</span>`;
}

/** '青羊区（510105）', or the code alone when it is not one of Sichuan's. */
export function districtText(code: string | null | undefined): string {
  if (code === null || code === undefined || code.trim() === '') return '—';
  const c = code.trim();
  const name = regionLabel(c);
  return name === c ? c : `${name}（${c}）`;
}

/** '纺织服装、服饰业（C18）', or the code alone when GB/T 4754-2017 does not have it. */
export function industryText(code: string | null | undefined): string {
  if (code === null || code === undefined || code.trim() === '') return '—';
  const c = code.trim();
  const name = industryName(c);
  return name === undefined ? c : `${name}（${c}）`;
}

const TIME = new Intl.DateTimeFormat('sv-SE', { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });

/** '2026-11-03 02:30' in Beijing time, or '—'. */
export function time(value: Date | string | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? '—' : TIME.format(d);
}

/** A count with thousands separators, or '—' when unknown. */
export function count(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '—';
}

/** An estimate: '约 12', or '—'. */
export function about(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? `约 ${count(value)}` : '—';
}

export function percent(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? `${(value * 100).toFixed(value < 0.1 ? 1 : 0)}%` : '—';
}

export function fixed(value: unknown, digits: number): string {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '—';
}

/** 1.5 → '1.5 小时', 0.2 → '12 分钟'. */
export function hours(value: unknown): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
  if (value < 1) return `${Math.max(1, Math.round(value * 60))} 分钟`;
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} 小时`;
}

/** Who acted, as alerts record it: 'system' for the lifecycle itself. */
export function actor(by: string | null | undefined): string {
  if (by === null || by === undefined || by === '') return '—';
  return by === 'system' ? '系统' : by;
}

/** A query string from the given pairs, leaving out empty values. */
export function query(params: Record<string, string | number | readonly string[] | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) {
      if (v.length > 0) q.set(k, v.join(','));
    } else q.set(k, String(v));
  }
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}
