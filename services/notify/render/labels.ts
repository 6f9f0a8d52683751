/** Chinese labels for levels, changes, feeds, e-mail kinds, places, industries and key groups. */
import type { AlertChange } from '../../domain/alert.js';
import { isLevel, LEVEL_COLOUR, LEVEL_NUMERAL, type Level } from '../../domain/level.js';
import { industryName, regionLabel } from '../../domain/names.js';
import type { EmployerAlertView, KeyGroupView, NotificationKind } from '../notification.types.js';

/** Text colour and a light background per level, for badges. */
export const LEVEL_COLOURS: Record<Level, { fg: string; bg: string }> = {
  1: { fg: '#b00020', bg: '#fdecea' },
  2: { fg: '#c25e00', bg: '#fff1e0' },
  3: { fg: '#8a6d00', bg: '#fff8d6' },
  4: { fg: '#1a56b0', bg: '#e8f0fc' },
};


export function levelColours(level: number): { fg: string; bg: string } {
  return isLevel(level) ? LEVEL_COLOURS[level] : { fg: '#333333', bg: '#f2f2f2' };
}

/** 'Ⅱ' for 2. */
export function numeral(level: number): string {
  return isLevel(level) ? LEVEL_NUMERAL[level] : String(level);
}

/** 'Ⅱ级' for 2. */
export function levelShort(level: number): string {
  return `${numeral(level)}级`;
}

/** 'Ⅱ级（橙色）' for 2. */
export function levelName(level: number): string {
  return isLevel(level) ? `${LEVEL_NUMERAL[level]}级（${LEVEL_COLOUR[level]}）` : levelShort(level);
}

const CHANGES: Record<AlertChange, string> = {
  new: '新增',
  escalated: '升级',
  reopened: '重新开启',
  updated: '更新',
  unacknowledged: '未确认',
  resolved: '已解除',
};

export function changeName(change: AlertChange): string {
  return CHANGES[change] ?? String(change);
}

/** '升级（原Ⅲ级）' when the previous level is known. */
export function changeWithPrevious(change: AlertChange, previousLevel: Level | null): string {
  const name = changeName(change);
  return change === 'escalated' && previousLevel !== null ? `${name}（原${levelShort(previousLevel)}）` : name;
}

const ALERT_KINDS: Record<EmployerAlertView['kind'], string> = {
  layoff: '疑似规模裁员',
  unreported: '疑似未报告裁员',
  crosscheck: '数据交叉核验异常',
};

export function alertKindName(kind: EmployerAlertView['kind']): string {
  return ALERT_KINDS[kind] ?? String(kind);
}

const FEEDS: Record<string, string> = {
  social_insurance: '社保参保',
  headcount: '企业用工监测',
  regional: '地区失业指标',
  layoff_filings: '裁员备案',
};

/** Chinese feed name, or the (uncleaned) id itself when unknown. */
export function feedName(feed: string): string {
  return Object.prototype.hasOwnProperty.call(FEEDS, feed) ? (FEEDS[feed] ?? feed) : feed;
}

const KINDS: Record<NotificationKind, string> = {
  immediate: '即时预警',
  digest: '每日汇总',
  reminder: '未确认提醒',
  escalation: '超期未确认升级通报',
  summary: '全省日报',
};

export function kindName(kind: NotificationKind): string {
  return KINDS[kind] ?? String(kind);
}

/** '青羊区' for 510105; the code itself when it is not one of Sichuan's (raw, not escaped). */
export function regionText(code: string): string {
  return regionLabel(code.trim());
}

/** '纺织服装、服饰业（C18）'; the code alone when GB/T 4754-2017 does not have it (raw, not escaped). */
export function industryText(code: string): string {
  const c = code.trim();
  const name = industryName(c);
  return name === undefined ? c : `${name}（${c}）`;
}

/** A count of people from a payload, or '—'. */
function people(v: number | null): string {
  return typeof v !== 'number' || !Number.isFinite(v) || v < 0 ? '—' : String(Math.round(v));
}

/**
 * One key group of an employer: '减员 12 / 涉及岗位约 30' (this month's
 * separations among it, and the estimated jobs at stake among it); '—'
 * when neither is known, as in e-mails queued before key groups were carried.
 */
export function keyGroupText(g: KeyGroupView | undefined): string {
  // A frozen payload is JSON from an older release: anything but the object this code writes is "not known".
  if (typeof g !== 'object' || g === null || (g.separated === null && g.jobsAtStake === null)) return '—';
  const jobs = g.jobsAtStake;
  const stake = typeof jobs !== 'number' || !Number.isFinite(jobs) || jobs < 0 ? ' —' : jobs === 0 ? ' 0' : jobs < 0.5 ? '不足 1 人' : `约 ${Math.round(jobs)}`;
  return `减员 ${people(g.separated)} / 涉及岗位${stake}`;
}
