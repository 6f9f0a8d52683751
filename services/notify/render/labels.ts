/** Chinese labels for levels, changes, feeds and e-mail kinds. */
import type { AlertChange } from '../../domain/alert.js';
import { isLevel, LEVEL_COLOUR, LEVEL_NUMERAL, type Level } from '../../domain/level.js';
import type { EmployerAlertView, NotificationKind } from '../notification.types.js';

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
