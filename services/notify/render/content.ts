/** Fixed wording shared by the HTML and the text part. */
import type { EmployerAlertView, NightIssues, NotificationKind, NotificationPayload } from '../notification.types.js';
import { cleanText } from './escape.js';
import { feedName, kindName } from './labels.js';
import { consoleBase, isResolved, MAX_CHARTS, sortEmployers } from './model.js';

export const TITLE = '规模裁员预警';
export const FOOTER = '本邮件由规模裁员和失业风险预警系统自动发送，请勿直接回复。邮件仅含企业信息，不含个人信息。';
export const CHART_CAP_NOTE = `图表仅显示前${MAX_CHARTS}家`;

export function intro(kind: NotificationKind): string {
  switch (kind) {
    case 'immediate':
      return '本次评分运行发现以下企业出现Ⅰ/Ⅱ级规模裁员预警，请立即核实处置。';
    case 'digest':
      return '以下为本市本期预警变化汇总（新增、变化与解除）。';
    case 'reminder':
      return '以下Ⅰ/Ⅱ级预警发出后至今尚未确认，请尽快核实并在系统中确认。';
    case 'escalation':
      return '以下Ⅰ/Ⅱ级预警超过规定时限仍未确认，现报请督办。';
    case 'summary':
      return '全省各市（州）规模裁员预警情况汇总如下。';
  }
}

/** The 规模裁员应对预案 steps, in full for Ⅰ/Ⅱ e-mails, shorter for digests, none for the summary. */
export function nextSteps(kind: NotificationKind): string[] {
  switch (kind) {
    case 'immediate':
    case 'reminder':
    case 'escalation':
      return [
        '2小时内联系企业核实裁员情况和人数；',
        '核查是否已按劳动合同法第四十一条提前30日向工会或全体职工说明情况并向劳动行政部门报告裁员方案；',
        '指导企业依法制定裁员方案、足额支付经济补偿、妥善处理社保关系转移；',
        '落实稳岗返还、以工代训等稳岗政策，对接再就业服务；',
        '在系统中确认（ack）并填写处置结果。',
      ];
    case 'digest':
      return [
        'Ⅰ/Ⅱ级预警按规模裁员应对预案2小时内联系企业核实；',
        'Ⅲ/Ⅳ级预警及时了解企业用工变化，跟踪是否达到规模裁员标准，必要时指导企业依法履行劳动合同法第四十一条程序；',
        '在系统中确认（ack）并填写处置结果。',
      ];
    case 'summary':
      return [];
  }
}

/** '数据缺失：成都市 的 社保参保、裁员备案 数据未按时报送，该市风险等级无法判定（不代表无风险）' (raw, not escaped). */
export function missingNotice(m: { cityName: string; feeds: string[] }): string {
  const feeds = m.feeds.map((f) => feedName(cleanText(f).trim())).filter((f) => f !== '');
  return `数据缺失：${m.cityName} 的 ${feeds.length > 0 ? feeds.join('、') : '部分'} 数据未按时报送，该市风险等级无法判定（不代表无风险）`;
}

export function failedNotice(n: number): string {
  return `有 ${n} 封邮件投递失败，请运维处理`;
}

const STAGE_NAMES: Readonly<Record<string, string>> = { ingest: '数据载入', score: '评分', alerts: '预警生成' };

/** The night's problems ops must know of, one line each (raw, not escaped): batches not loaded, stalls re-driven. */
export function nightNotices(issues: NightIssues | null | undefined): string[] {
  if (issues === null || issues === undefined) return [];
  const out = issues.missingBatches.map(
    (b) => `数据批次未能载入：${cleanText(b.source)}/${cleanText(b.file)}（${feedName(cleanText(b.feed))} ${cleanText(b.period)}，状态 ${cleanText(b.status)}）；所涉市（州）按“数据缺失”评分，下次轮询将重试`,
  );
  if (issues.stalledAt.length > 0) {
    const stages = [...new Set(issues.stalledAt.map((s) => STAGE_NAMES[s] ?? cleanText(s)))].join('、');
    const redriven = issues.redrives > 0 ? `，调度程序已自动重新驱动 ${issues.redrives} 次` : '';
    out.push(`本次夜间运行曾 ${issues.stalledAt.length} 次长时间无进展（${stages}阶段）${redriven}，请运维查看日志`);
  }
  return out;
}

/** What both parts are built from. */
export interface Prepared {
  p: NotificationPayload;
  heading: string;
  /** Open / acknowledged alerts, most severe first (at most MAX_LISTED of them). */
  active: EmployerAlertView[];
  resolved: EmployerAlertView[];
  /** How many there are in all (a night of 2,000 alerts lists the most severe and says how many more). */
  activeTotal: number;
  resolvedTotal: number;
  /** Console base URL, or null when not http(s) (then no links). */
  base: string | null;
  charts: Map<EmployerAlertView, ChartState>;
  /** True when some employers had a chart left out by the cap. */
  capped: boolean;
}

export type ChartState = { state: 'shown'; cid: string } | { state: 'capped' } | { state: 'failed' };

/** Employers listed per section: enough to act on from a phone, small enough to arrive whole. */
export const MAX_LISTED = 100;

export function prepare(p: NotificationPayload): Omit<Prepared, 'charts' | 'capped'> {
  const active = sortEmployers(p.employers.filter((e) => !isResolved(e)));
  const resolved = sortEmployers(p.employers.filter(isResolved));
  return {
    p,
    heading: `${TITLE} · ${kindName(p.kind)}`,
    active: active.slice(0, MAX_LISTED),
    resolved: resolved.slice(0, MAX_LISTED),
    activeTotal: active.length,
    resolvedTotal: resolved.length,
    base: consoleBase(p),
  };
}

/** '另有 850 家未列出（按等级与超基线减员排序，仅列前 100 家），请登录系统查看全部' */
export function unlistedNote(total: number, listed: number): string | null {
  return total > listed ? `另有 ${total - listed} 家未列出（按等级与超基线减员排序，仅列前 ${listed} 家），请登录系统查看全部` : null;
}
