/**
 * The plain-text part: the same content as the HTML, one value per line
 * where it matters. Every payload value goes through `line` (control
 * characters, CR and LF become spaces) so a value can never start a new line.
 */
import type { CityAlertView, CitySummaryRow, EmployerAlertView } from '../notification.types.js';
import { line, num } from './escape.js';
import { CHART_CAP_NOTE, FOOTER, failedNotice, intro, missingNotice, nextSteps, nightNotices, unlistedNote, type Prepared } from './content.js';
import { alertKindName, changeWithPrevious, industryText, keyGroupText, levelName, levelShort, regionText } from './labels.js';
import { alertUrl, claimsRatio, count, percent, rulesOf, shortName, summaryTotals } from './model.js';

const RULE = '────────────────────';
const INDENT = '   ';
/** Ideographic space between values on one line. */
const SP = '\u3000';

function section(out: string[], title: string): void {
  out.push('', `【${title}】`, RULE);
}

function employerLines(x: Prepared, e: EmployerAlertView, i: number): string[] {
  const rules = rulesOf(e);
  const url = alertUrl(x.base, e.alertId);
  const lines = [
    `${i + 1}. 企业名称：${shortName(e.name)}`,
    `${INDENT}等级：${levelName(e.level)} · ${alertKindName(e.kind)}${SP}变化：${changeWithPrevious(e.change, e.previousLevel)}`,
    `${INDENT}统一社会信用代码：${line(e.uscc)}`,
    `${INDENT}区县：${line(regionText(e.regionCode))}${SP}行业：${line(industryText(e.industryCode))}`,
    `${INDENT}参保人数：${num(e.insured)}${SP}超基线减员：${num(e.excessSeparations)}${SP}模型概率：${percent(e.probability)}`,
    `${INDENT}农民工：${keyGroupText(e.migrant)}${SP}高校毕业生：${keyGroupText(e.graduate)}`,
    `${INDENT}触发规则：${rules.items.length === 0 ? '—' : rules.items.map((r) => line(r)).join(rules.summaries ? '；' : '、')}`,
  ];
  if (e.unacknowledgedDays !== null) lines.push(`${INDENT}未确认天数：${num(e.unacknowledgedDays)}天`);
  lines.push(`${INDENT}首次预警：${line(e.openedPeriod)}`);
  if (url !== null) lines.push(`${INDENT}详情：${url}`);
  return lines;
}

function resolvedLines(x: Prepared, e: EmployerAlertView, i: number): string[] {
  const url = alertUrl(x.base, e.alertId);
  const by = e.resolvedBy === null || e.resolvedBy.trim() === '' ? '—' : e.resolvedBy === 'system' ? '系统自动解除（连续平稳）' : line(e.resolvedBy);
  const lines = [
    `${i + 1}. 企业名称：${shortName(e.name)}`,
    `${INDENT}统一社会信用代码：${line(e.uscc)}${SP}区县：${line(regionText(e.regionCode))}${SP}行业：${line(industryText(e.industryCode))}`,
    `${INDENT}解除前等级：${levelName(e.level)}${SP}变化：${changeWithPrevious(e.change, e.previousLevel)}`,
    `${INDENT}处置结果：${e.disposition === null || e.disposition.trim() === '' ? '—' : line(e.disposition)}`,
    `${INDENT}解除人：${by}`,
  ];
  if (url !== null) lines.push(`${INDENT}详情：${url}`);
  return lines;
}

function cityLines(c: CityAlertView): string[] {
  return [
    `风险等级：${levelName(c.level)}${SP}变化：${changeWithPrevious(c.change, c.previousLevel)}`,
    `预计失业人数：${num(c.expectedJobLosses)}${SP}已发生裁员人数：${num(c.observedLayoffs)}`,
    `失业保险新增申领：${claimsRatio(c.uiClaimsRatio)}`,
    `城镇调查失业率：${c.surveyedRate === null ? '未报送' : `${num(c.surveyedRate)}%`}`,
    `原因：${c.reasons.length === 0 ? '—' : c.reasons.map((r) => line(r)).join('；')}`,
  ];
}

function summaryLines(rows: readonly CitySummaryRow[]): string[] {
  const lines = rows.map((r) => {
    const levels = (['1', '2', '3', '4'] as const).map((l) => `${levelShort(Number(l))} ${count(r.levels[l])}`).join(SP);
    const systemic = r.systemicLevel === null ? '—' : levelShort(r.systemicLevel);
    return `${line(r.cityName)}：${levels}${SP}未确认 ${count(r.unacknowledged)}${SP}今日新增 ${count(r.newToday)}${SP}系统性风险 ${systemic}${r.dataMissing ? `${SP}【数据缺失】` : ''}`;
  });
  const totals = summaryTotals(rows)
    .map((t) => `${levelShort(t.level)} ${t.count}`)
    .join(SP);
  lines.push(
    `合计：${totals}${SP}未确认 ${rows.reduce((s, r) => s + count(r.unacknowledged), 0)}${SP}今日新增 ${rows.reduce((s, r) => s + count(r.newToday), 0)}`,
  );
  return lines;
}

export function renderText(x: Prepared): string {
  const { p } = x;
  const out: string[] = [line(x.heading), `${line(p.cityName)} ｜ 期间 ${line(p.period)} ｜ 运行编号 ${line(String(p.runId))}`, ''];
  if (p.recipient.name !== null && p.recipient.name.trim() !== '') out.push(`${line(p.recipient.name)}：您好！`);
  out.push(intro(p.kind));

  const night = nightNotices(p.nightIssues);
  if (p.dataMissing.length > 0 || p.failedDeliveries > 0 || night.length > 0) out.push('');
  for (const m of p.dataMissing) out.push(`！！${line(missingNotice(m))}`);
  if (p.failedDeliveries > 0) out.push(`！！${failedNotice(count(p.failedDeliveries))}`);
  for (const n of night) out.push(`！！${line(n)}`);

  if (p.summary !== null && p.summary.length > 0) {
    section(out, '各市（州）预警情况');
    out.push(...summaryLines(p.summary));
  }
  if (p.city !== null) {
    section(out, `${line(p.cityName)}系统性失业风险`);
    out.push(...cityLines(p.city));
  }
  if (x.active.length > 0) {
    section(out, `预警企业（${x.activeTotal}家）`);
    if (x.charts.size > 0) out.push(`（趋势图见HTML版本${x.capped ? `，${CHART_CAP_NOTE}` : ''}）`);
    x.active.forEach((e, i) => out.push(...employerLines(x, e, i), ''));
    const more = unlistedNote(x.activeTotal, x.active.length);
    if (more !== null) out.push(more, '');
    out.pop();
  }
  if (x.resolved.length > 0) {
    section(out, `已解除预警（${x.resolvedTotal}家）`);
    x.resolved.forEach((e, i) => out.push(...resolvedLines(x, e, i), ''));
    const moreResolved = unlistedNote(x.resolvedTotal, x.resolved.length);
    if (moreResolved !== null) out.push(moreResolved, '');
    out.pop();
  }
  const steps = nextSteps(p.kind);
  if (steps.length > 0) {
    section(out, '下一步工作');
    steps.forEach((s, i) => out.push(`（${i + 1}）${s}`));
  }
  out.push('', RULE, FOOTER);
  if (x.base !== null) out.push(`预警系统：${x.base}`);
  return `${out.join('\n')}\n`;
}
