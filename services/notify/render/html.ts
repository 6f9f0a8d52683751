/**
 * The HTML part: inline styles only, tables for layout, at most 640 px wide,
 * long values broken anywhere. Every payload value goes through `h` (control
 * characters removed, `& < > " '` escaped).
 */
import type { CityAlertView, CitySummaryRow, EmployerAlertView } from '../notification.types.js';
import { html as h, num } from './escape.js';
import {
  CHART_CAP_NOTE,
  unlistedNote,
  FOOTER,
  failedNotice,
  intro,
  missingNotice,
  nightNotices,
  nextSteps,
  type ChartState,
  type Prepared,
} from './content.js';
import { alertKindName, changeWithPrevious, industryText, keyGroupText, levelColours, levelName, levelShort, regionText } from './labels.js';
import { alertUrl, claimsRatio, count, percent, rulesOf, shortName, summaryTotals } from './model.js';

const FONT = "-apple-system,'PingFang SC','Hiragino Sans GB','Microsoft YaHei','Noto Sans CJK SC',sans-serif";
const BREAK = 'word-break:break-all;';
const CARD = 'width:100%;border-collapse:collapse;table-layout:fixed;margin:0 0 12px;border:1px solid #dddddd;';
const LABEL = 'color:#666;font-size:13px;';
/** Cards pad their cells with the cellpadding attribute (smaller than a style per cell). */
const CARD_TABLE = 'role="presentation" width="100%" cellpadding="4" cellspacing="0" border="0"';
const H2 = 'font-size:16px;margin:18px 0 8px;padding:0 0 4px;border-bottom:2px solid #1a56b0;color:#1a56b0;';
const LINK = 'color:#0b57d0;text-decoration:underline;';

function link(url: string | null, content: string): string {
  return url === null ? content : `<a href="${h(url)}" style="${LINK}">${content}</a>`;
}

/** A label/value row; `value` is already HTML. Values that may be long break anywhere. */
function row(label: string, value: string, long = false): string {
  return `<tr valign="top"><td style="${LABEL}">${label}</td><td${long ? ` style="${BREAK}"` : ''}>${value}</td></tr>`;
}

/** The first row of a card: fixes the column widths (table-layout: fixed). */
function firstRow(label: string, value: string, bg: string): string {
  return `<tr valign="top" style="background:${bg};"><td style="${LABEL}width:104px;">${label}</td><td style="${BREAK}font-weight:bold;">${value}</td></tr>`;
}

function badge(level: number): string {
  return `<span style="color:${levelColours(level).fg};font-weight:bold;">${levelName(level)}</span>`;
}

function chartHtml(e: EmployerAlertView, chart: ChartState | undefined): string {
  if (chart === undefined) return '';
  let inner: string;
  if (chart.state === 'shown') {
    const alt = `${shortName(e.name)} 近24个月参保人数与减员人数`;
    inner = `<img src="cid:${h(chart.cid)}" width="560" alt="${h(alt)}" style="display:block;width:100%;max-width:560px;height:auto;border:0;">`;
  } else {
    inner = `<span style="color:#999999;font-size:12px;">${chart.state === 'capped' ? CHART_CAP_NOTE : '图表生成失败'}</span>`;
  }
  return `<tr><td colspan="2">${inner}</td></tr>`;
}

function employerCard(x: Prepared, e: EmployerAlertView): string {
  const { bg, fg } = levelColours(e.level);
  const rules = rulesOf(e);
  const rows = [
    firstRow('企业名称', link(alertUrl(x.base, e.alertId), h(e.name)), bg),
    row('等级', `${badge(e.level)} · ${h(alertKindName(e.kind))}`),
    row('变化', h(changeWithPrevious(e.change, e.previousLevel))),
    row('统一社会信用代码', h(e.uscc), true),
    row('区县', h(regionText(e.regionCode)), true),
    row('行业', h(industryText(e.industryCode)), true),
    row('参保人数', num(e.insured)),
    row('超基线减员', num(e.excessSeparations)),
    row('农民工', h(keyGroupText(e.migrant))),
    row('高校毕业生', h(keyGroupText(e.graduate))),
    row('模型概率', percent(e.probability)),
    row('触发规则', rules.items.length === 0 ? '—' : rules.items.map(h).join(rules.summaries ? '<br>' : '、'), true),
  ];
  if (e.unacknowledgedDays !== null) rows.push(row('未确认天数', `<b style="color:#b00020;">${num(e.unacknowledgedDays)}天</b>`));
  rows.push(row('首次预警', h(e.openedPeriod)));
  return `<table ${CARD_TABLE} style="${CARD}border-left:4px solid ${fg};">${rows.join('')}${chartHtml(e, x.charts.get(e))}</table>`;
}

function resolvedBy(by: string | null): string {
  if (by === null || by.trim() === '') return '—';
  return by === 'system' ? '系统自动解除（连续平稳）' : h(by);
}

function resolvedCard(x: Prepared, e: EmployerAlertView): string {
  const rows = [
    firstRow('企业名称', link(alertUrl(x.base, e.alertId), h(e.name)), '#f2f7f2'),
    row('统一社会信用代码', h(e.uscc), true),
    row('区县', h(regionText(e.regionCode)), true),
    row('行业', h(industryText(e.industryCode)), true),
    row('解除前等级', badge(e.level)),
    row('变化', h(changeWithPrevious(e.change, e.previousLevel))),
    row('处置结果', e.disposition === null || e.disposition.trim() === '' ? '—' : h(e.disposition), true),
    row('解除人', resolvedBy(e.resolvedBy), true),
  ];
  return `<table ${CARD_TABLE} style="${CARD}border-left:4px solid #2e7d32;">${rows.join('')}${chartHtml(e, x.charts.get(e))}</table>`;
}

function cityCard(c: CityAlertView): string {
  const { bg, fg } = levelColours(c.level);
  const rows = [
    firstRow('风险等级', badge(c.level), bg),
    row('变化', h(changeWithPrevious(c.change, c.previousLevel))),
    row('预计失业人数', num(c.expectedJobLosses)),
    row('已发生裁员人数', num(c.observedLayoffs)),
    row('失业保险新增申领', claimsRatio(c.uiClaimsRatio)),
    row('城镇调查失业率', c.surveyedRate === null ? '未报送' : `${num(c.surveyedRate)}%`),
    row('原因', c.reasons.length === 0 ? '—' : c.reasons.map(h).join('<br>'), true),
  ];
  return `<table ${CARD_TABLE} style="${CARD}border-left:4px solid ${fg};">${rows.join('')}</table>`;
}

function summaryTable(rows: readonly CitySummaryRow[]): string {
  const th = 'padding:4px 3px;border:1px solid #dddddd;background:#f2f5fa;font-weight:bold;text-align:center;';
  const td = 'padding:4px 3px;border:1px solid #dddddd;text-align:center;';
  const head = ['市（州）', `${levelShort(1)}`, `${levelShort(2)}`, `${levelShort(3)}`, `${levelShort(4)}`, '未确认', '今日新增', '系统性风险', '数据缺失'];
  const body = rows.map((r) => {
    const cells = [
      `<td style="${td}text-align:left;${BREAK}">${h(r.cityName)}</td>`,
      ...(['1', '2', '3', '4'] as const).map((l) => {
        const c = count(r.levels[l]);
        const colour = c > 0 && (l === '1' || l === '2') ? `color:${levelColours(Number(l)).fg};font-weight:bold;` : '';
        return `<td style="${td}${colour}">${c}</td>`;
      }),
      `<td style="${td}${count(r.unacknowledged) > 0 ? 'color:#b00020;font-weight:bold;' : ''}">${count(r.unacknowledged)}</td>`,
      `<td style="${td}">${count(r.newToday)}</td>`,
      `<td style="${td}">${r.systemicLevel === null ? '—' : `<b style="color:${levelColours(r.systemicLevel).fg};">${levelShort(r.systemicLevel)}</b>`}</td>`,
      `<td style="${td}">${r.dataMissing ? '<b style="color:#b00020;">缺失</b>' : '—'}</td>`,
    ];
    return `<tr>${cells.join('')}</tr>`;
  });
  const totals = summaryTotals(rows);
  const total = [
    `<td style="${th}text-align:left;">合计</td>`,
    ...totals.map((t) => `<td style="${th}">${t.count}</td>`),
    `<td style="${th}">${rows.reduce((s, r) => s + count(r.unacknowledged), 0)}</td>`,
    `<td style="${th}">${rows.reduce((s, r) => s + count(r.newToday), 0)}</td>`,
    `<td style="${th}">${rows.filter((r) => r.systemicLevel !== null).length}市</td>`,
    `<td style="${th}">${rows.filter((r) => r.dataMissing).length}市</td>`,
  ];
  return (
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;border-collapse:collapse;font-size:12px;line-height:1.4;margin:0 0 12px;">` +
    `<tr>${head.map((c) => `<td style="${th}">${c}</td>`).join('')}</tr>${body.join('')}<tr>${total.join('')}</tr></table>`
  );
}

function notice(text: string): string {
  return `<div style="margin:8px 0;padding:8px 10px;border:2px solid #b00020;background:#fdecea;color:#b00020;font-weight:bold;${BREAK}">${text}</div>`;
}

export function renderHtml(x: Prepared, subject: string): string {
  const { p } = x;
  const out: string[] = [];
  out.push(
    '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    `<title>${h(subject)}</title></head>`,
    `<body style="margin:0;padding:0;background:#f4f5f7;">`,
    `<div style="max-width:640px;margin:0 auto;padding:12px;background:#ffffff;font-family:${FONT};font-size:14px;line-height:1.6;color:#222222;${BREAK}">`,
    `<div style="font-size:18px;font-weight:bold;line-height:1.4;">${h(x.heading)}</div>`,
    `<div style="font-size:13px;color:#666666;margin:2px 0 8px;">${h(p.cityName)} ｜ 期间 ${h(p.period)} ｜ 运行编号 ${h(String(p.runId))}</div>`,
  );
  if (p.recipient.name !== null && p.recipient.name.trim() !== '') out.push(`<p style="margin:8px 0;">${h(p.recipient.name)}：您好！</p>`);
  out.push(`<p style="margin:8px 0;">${h(intro(p.kind))}</p>`);

  for (const m of p.dataMissing) out.push(notice(h(missingNotice(m))));
  if (p.failedDeliveries > 0) out.push(notice(h(failedNotice(count(p.failedDeliveries)))));
  for (const n of nightNotices(p.nightIssues)) out.push(notice(h(n)));

  if (p.summary !== null && p.summary.length > 0) {
    out.push(`<h2 style="${H2}">各市（州）预警情况</h2>`, summaryTable(p.summary));
  }

  if (p.city !== null) {
    out.push(`<h2 style="${H2}">${h(p.cityName)}系统性失业风险</h2>`, cityCard(p.city));
  }

  if (x.active.length > 0) {
    out.push(`<h2 style="${H2}">预警企业（${x.activeTotal}家）</h2>`);
    if (x.capped) out.push(`<p style="margin:4px 0 8px;color:#666666;font-size:12px;">${CHART_CAP_NOTE}</p>`);
    for (const e of x.active) out.push(employerCard(x, e));
    const more = unlistedNote(x.activeTotal, x.active.length);
    if (more !== null) out.push(`<p style="color:#555">${h(more)}</p>`);
  }

  if (x.resolved.length > 0) {
    out.push(`<h2 style="${H2.replaceAll('#1a56b0', '#2e7d32')}">已解除预警（${x.resolvedTotal}家）</h2>`);
    for (const e of x.resolved) out.push(resolvedCard(x, e));
    const more = unlistedNote(x.resolvedTotal, x.resolved.length);
    if (more !== null) out.push(`<p style="color:#555">${h(more)}</p>`);
  }

  const steps = nextSteps(p.kind);
  if (steps.length > 0) {
    out.push(`<h2 style="${H2}">下一步工作</h2>`);
    steps.forEach((s, i) => out.push(`<div style="margin:0 0 4px;padding-left:2.4em;text-indent:-2.4em;">（${i + 1}）${h(s)}</div>`));
  }

  out.push(
    `<div style="margin:20px 0 0;padding:8px 0 0;border-top:1px solid #dddddd;font-size:12px;color:#888888;">`,
    `${h(FOOTER)}`,
    x.base === null ? '' : `<br>预警系统：${link(x.base, h(x.base))}`,
    '</div></div></body></html>',
  );
  return out.join('');
}
