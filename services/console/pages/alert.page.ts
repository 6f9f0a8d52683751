import { can } from '../../domain/access.js';
import { monthRange } from '../../domain/period.js';
import { DISPOSITIONS } from '../../alerts/lifecycle.js';
import type { AlertItem, ConsoleService } from '../console.service.js';
import { alertTable } from './alerts.page.js';
import { cityChartData } from './city.page.js';
import { readCityEvidence, readEmployerEvidence, type KeyGroupEvidence } from './evidence.js';
import { about, actionName, actor, count, districtText, fixed, industryText, kindName, levelBadge, numeral, percent, ruleName, statusBadge, time } from './format.js';
import { html, jsonBlock, type Html } from './html.js';
import { flash, page, tableWrap, type Assets, type Viewer } from './layout.js';

/**
 * One alert, the page every alert e-mail links to: what it is, why (the
 * rules and signals behind its level), the employer's 24 months as an
 * interactive chart, the history, the e-mails sent, and, for those who may
 * act, the acknowledge and resolve forms.
 */

export type AlertDetail = NonNullable<Awaited<ReturnType<ConsoleService['alertDetail']>>>;
type Employer = NonNullable<AlertDetail['employer']>;
type Month = Employer['months'][number];

/** Comments are kept up to this many characters (services/alerts/alert.repository.ts MAX_COMMENT). */
export const COMMENT_MAX = 4_000;
/** History rows shown before "show all". */
export const HISTORY_SHOWN = 50;

/** What the page says after a form: the codes in ?done= and ?error= (fixed texts, never the query's own words). */
export const FLASHES = {
  done: {
    acknowledged: '已确认签收。请跟进核实后填写处置结果。',
    resolved: '已记录处置结果，预警已解除。',
  },
  error: {
    conflict: '操作未完成：该预警的状态已经变化（可能已由他人确认或处置，或仍待模型确认），请查看下方最新状态。',
    'comment-required': '处置结果选择“其他”时，请在说明中写明核实情况。',
  },
} as const;

const EMAIL_KINDS: Record<string, string> = { immediate: '即时预警', digest: '每日汇总', reminder: '未确认提醒', escalation: '超期未确认上报', summary: '全省日报' };
const EMAIL_STATUS: Record<string, string> = { pending: '待发送', sending: '发送中', sent: '已发送', failed: '发送失败' };

const num = (m: Month, key: string): number | null => {
  const v = m[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};
const list = (m: Month, key: string): string[] => {
  const v = m[key];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
};

/** The employer's chart (console.js: employer): every month of the range, null where nothing was reported. */
export function employerChartData(e: Employer) {
  const byPeriod = new Map(e.months.map((m) => [String(m['period']), m]));
  const periods = monthRange(e.from, e.to);
  const col = (key: string) => periods.map((p) => {
    const m = byPeriod.get(p);
    return m === undefined ? null : num(m, key);
  });
  return {
    periods,
    insured: col('insured'),
    separated: col('separated'),
    migrant: col('separatedMigrant'),
    graduate: col('separatedGraduate'),
    probability: col('probability'),
    level: col('level'),
  };
}

function keyGroupText(g: KeyGroupEvidence | null): string {
  if (g === null || (g.separated === null && g.jobsAtStake === null)) return '—';
  return `减员 ${count(g.separated)} · 涉及岗位 ${about(g.jobsAtStake)}`;
}

function row(label: string, value: Html | string): Html {
  return html`<div class="kv"><dt>${label}</dt><dd>${value}</dd></div>`;
}

function summary(d: AlertDetail): Html {
  const a = d.alert;
  const rows = [
    row('当前等级', html`${levelBadge(a.level)}${a.peakLevel !== a.level ? html` <span class="muted">（最高 ${numeral(a.peakLevel)}级）</span>` : ''}`),
    row('类别', html`${kindName(a.kind)}${a.modelOnly ? html` <span class="tag">仅模型判定</span>` : ''}`),
    row('状态', statusBadge(a.status)),
    row('信号月份', a.firstPeriod === a.lastPeriod ? a.firstPeriod : `${a.firstPeriod} 至 ${a.lastPeriod}`),
    row('开启时间', time(a.openedAt)),
  ];
  if (a.firstNotifiedAt !== null) rows.push(row('即时通知', time(a.firstNotifiedAt)));
  if (a.lastRemindedAt !== null) rows.push(row('最近提醒', time(a.lastRemindedAt)));
  if (a.escalatedAt !== null) rows.push(row('上报省厅', time(a.escalatedAt)));
  if (a.acknowledgedAt !== null) rows.push(row('确认', `${actor(a.acknowledgedBy)} · ${time(a.acknowledgedAt)}`));
  if (a.status === 'resolved') rows.push(row('处置结果', html`<b>${a.disposition ?? '—'}</b> · ${actor(a.resolvedBy)} · ${time(a.resolvedAt)}`));
  if (a.comment !== null && a.comment !== '') rows.push(row('说明', html`<span class="pre">${a.comment}</span>`));
  if (a.reopenCount > 0) rows.push(row('重新开启', `${a.reopenCount} 次`));
  return html`<dl class="kvs">${rows}</dl>`;
}

function employerFacts(d: AlertDetail): Html {
  const e = d.employer;
  const ev = readEmployerEvidence(d.alert.evidence);
  const region = e?.regionCode ?? ev.regionCode;
  const industry = e?.industryCode ?? ev.industryCode;
  return html`<dl class="kvs">
${row('统一社会信用代码', html`<span class="code">${d.alert.subject}</span>`)}
${row('所在市州', d.alert.cityName)}
${row('区县', districtText(region))}
${row('行业', industryText(industry))}
</dl>`;
}

function employerEvidence(d: AlertDetail): Html {
  const ev = readEmployerEvidence(d.alert.evidence);
  const rules = ev.rules.length === 0
    ? html`<p class="muted">无规则命中：等级来自模型对未来3个月裁员的预测${ev.probability === null ? '' : `（概率 ${percent(ev.probability)}）`}。</p>`
    : html`<ul class="rules">${ev.rules.map((r) => {
        const found = d.explanation?.rules.find((x) => x.rule === r.rule);
        return html`<li><b>${ruleName(r.rule)}</b> <span class="muted code">${r.rule}</span>${r.summary === '' ? '' : html`<br>${r.summary}`}${
          found === undefined || (found.threshold === '' && found.source === '') ? '' : html`<br><span class="muted">阈值：${found.threshold || '—'}；依据：${found.source || '—'}</span>`
        }</li>`;
      })}</ul>`;
  const why = d.explanation;
  const reasons = why === null || why.reasons.length === 0 ? '' : html`<p><b>定级理由</b></p><ul class="rules">${why.reasons.map((r) => html`<li>${r}</li>`)}</ul>`;
  const drivers =
    why?.model == null || why.model.drivers.length === 0
      ? ''
      : html`<details><summary>模型依据（与训练时普通企业相比最突出的特征${why.model.version === null ? '' : `，模型 ${why.model.version}`}）</summary><ul class="rules">${why.model.drivers.map(
          (m) => html`<li><span class="code">${m.feature}</span> = ${Number.isInteger(m.value) ? m.value : m.value.toFixed(2)}（${m.z >= 0 ? '高于' : '低于'}参照 ${Math.abs(m.z).toFixed(1)} 个标准差）</li>`,
        )}</ul></details>`;
  return html`<section class="panel"><h2>预警依据 <span class="sub">${ev.period === null ? '' : `${ev.period} 月评分`}</span></h2>
${reasons}${rules}${drivers}
<dl class="kvs">
${row('参保人数', count(ev.insured))}
${row('超出自身基线的减员', count(ev.excessSeparations))}
${row('模型裁员概率（3个月内）', percent(ev.probability))}
${row('农民工', keyGroupText(ev.migrant))}
${row('高校毕业生', keyGroupText(ev.graduate))}
</dl></section>`;
}

function cityEvidence(d: AlertDetail): Html {
  const ev = readCityEvidence(d.alert.evidence);
  return html`<section class="panel"><h2>预警依据 <span class="sub">${ev.period === null ? '' : `${ev.period} 月评分`}</span></h2>
${ev.reasons.length === 0 ? html`<p class="muted">未记录触发信号。</p>` : html`<ul class="rules">${ev.reasons.map((r) => html`<li>${r}</li>`)}</ul>`}
<dl class="kvs">
${row('预计失业人数', about(ev.expectedJobLosses))}
${row('发生裁员的企业', count(ev.observedLayoffs))}
${row('失业保险新增申领（较往年同期）', ev.uiClaimsRatio === null ? '—' : `${fixed(ev.uiClaimsRatio, 2)} 倍`)}
${row('城镇调查失业率', ev.surveyedRate === null ? '未报送' : `${fixed(ev.surveyedRate, 1)}%`)}
</dl></section>`;
}

function actions(v: Viewer, d: AlertDetail): Html {
  const a = d.alert;
  if (!can(v.principal, 'alerts:act')) return html`<p class="note">只读账号：可查看预警，不能确认或处置。</p>`;
  if (a.status === 'pending') return html`<p class="note">该预警仅由模型判定，须后续月份确认后开启，暂不能确认或处置。</p>`;
  if (a.status === 'resolved') return html``;
  const csrf = v.csrfToken === undefined ? '' : html`<input type="hidden" name="_csrf" value="${v.csrfToken}">`;
  const ack = a.status === 'open'
    ? html`<form method="post" action="/alerts/${a.id}/acknowledge" class="act" id="ack-form"><h3>确认签收</h3>
<p class="muted small">表示已收到预警、正在核实（Ⅰ/Ⅱ级应在2小时内、Ⅲ级12小时内确认），确认后不再提醒和上报。</p>
${csrf}<label>说明（可选）<textarea name="comment" maxlength="${COMMENT_MAX}" rows="2" placeholder="如：已联系企业人事负责人"></textarea></label>
<button type="submit">确认签收</button></form>`
    : '';
  const resolve = html`<form method="post" action="/alerts/${a.id}/resolve" class="act" id="resolve-form"><h3>填写处置结果</h3>
<p class="muted small">核实并处置后填写，预警随即解除。“误报”与“核实为规模裁员”将作为模型训练的标注。</p>
${csrf}<label>处置结果<select name="disposition" required><option value="">请选择…</option>${DISPOSITIONS.map((x) => html`<option value="${x}">${x}</option>`)}</select></label>
<label>说明<textarea name="comment" maxlength="${COMMENT_MAX}" rows="3" placeholder="核实情况、采取的措施（选择“其他”时必填），最多 ${COMMENT_MAX} 字"></textarea></label>
<button type="submit">提交处置结果</button></form>`;
  return html`<section class="panel actions" id="act"><h2>处理</h2><div class="forms">${ack}${resolve}</div></section>`;
}

function monthsTable(e: Employer): Html {
  const rows = [...e.months].reverse().map(
    (m) => html`<tr><td>${String(m['period'])}</td><td class="num">${count(num(m, 'insured'))}</td><td class="num">${count(num(m, 'hired'))}</td><td class="num">${count(num(m, 'separated'))}</td>
<td class="num">${count(num(m, 'separatedMigrant'))}</td><td class="num">${count(num(m, 'separatedGraduate'))}</td><td class="num">${count(num(m, 'separatedTransfer'))} / ${count(num(m, 'separatedNatural'))}</td>
<td class="num">${count(num(m, 'arrearsMonths'))}</td><td class="num">${count(num(m, 'uiClaims'))}</td><td class="num">${count(num(m, 'jobsLost'))}</td>
<td>${m['level'] === undefined ? '' : levelBadge(m['level'], '—')}</td><td class="num">${percent(num(m, 'probability'))}</td><td class="num">${count(num(m, 'jobsAtStake'))}</td>
<td>${list(m, 'rules').map(ruleName).join('；')}</td></tr>`,
  );
  return tableWrap(html`<table class="data months"><thead><tr><th>月份</th><th>参保</th><th>新增</th><th>减员</th><th>其中农民工</th><th>其中高校毕业生</th><th>转移/自然减员</th><th>欠缴月数</th><th>失业金申领</th><th>监测减员</th><th>等级</th><th>模型概率</th><th>涉及岗位</th><th>命中规则</th></tr></thead><tbody>${rows}</tbody></table>`);
}

function filings(e: Employer): Html {
  if (e.filings.length === 0) return html`<p class="muted">无裁员方案报告（劳动合同法第41条）记录。</p>`;
  return tableWrap(html`<table class="data"><thead><tr><th>报告日期</th><th>生效日期</th><th>计划裁减</th><th>职工总数</th><th>原因</th></tr></thead><tbody>${e.filings.map(
    (f) => html`<tr><td>${String(f.filedOn).slice(0, 10)}</td><td>${String(f.effectiveOn).slice(0, 10)}</td><td class="num">${count(f.plannedCount)}</td><td class="num">${count(f.staffTotal)}</td><td>${f.reason ?? '—'}</td></tr>`,
  )}</tbody></table>`);
}

function employerSection(d: AlertDetail): Html {
  const e = d.employer;
  if (e === null) return html`<section class="panel"><h2>近24个月</h2><p class="muted">暂无该企业的月度数据。</p></section>`;
  return html`${jsonBlock('employer-data', employerChartData(e))}
<section class="panel"><h2>近24个月 <span class="sub">${e.from} 至 ${e.to}</span></h2>
<div class="chart tall" data-chart="employer" data-source="employer-data" role="img" aria-label="参保人数、减员（农民工、高校毕业生）、模型概率与预警等级，按月"></div>
<details><summary>按月明细</summary>${monthsTable(e)}</details></section>
<section class="panel"><h2>裁员方案报告</h2>${filings(e)}</section>`;
}

function citySection(d: AlertDetail): Html {
  const c = d.city;
  if (c === null || c.months.length === 0) return html``;
  return html`${jsonBlock('city-data', cityChartData(c))}
<section class="panel"><h2>系统性风险等级（按月）</h2><div class="chart" data-chart="city-level" data-source="city-data" role="img" aria-label="系统性风险等级与预计失业人数，按月"></div></section>
<section class="panel"><h2>重点群体（按月）</h2><div class="chart" data-chart="city-groups" data-source="city-data" role="img" aria-label="重点群体减员与涉及岗位，按月"></div></section>`;
}

function history(d: AlertDetail, all: boolean): Html {
  const events = [...d.history].reverse();
  const shown = all ? events : events.slice(0, HISTORY_SHOWN);
  const rows = shown.map(
    (h) => html`<tr><td class="t">${time(h.at)}</td><td>${actionName(h.action)}</td>
<td>${h.fromLevel !== null && h.fromLevel !== h.toLevel ? html`${numeral(h.fromLevel)} → ` : ''}${numeral(h.toLevel)}</td>
<td>${h.period ?? '—'}</td><td>${actor(h.actor)}</td>
<td>${h.disposition ?? ''}${h.comment === null || h.comment === '' ? '' : html`${h.disposition === null ? '' : html`<br>`}<span class="pre">${h.comment}</span>`}</td></tr>`,
  );
  const more = !all && events.length > HISTORY_SHOWN ? html`<p><a href="?history=all#history">显示全部 ${events.length} 条记录</a></p>` : '';
  return html`<section class="panel" id="history"><h2>处理记录 <span class="sub">${events.length} 条，最新在前</span></h2>
${tableWrap(html`<table class="data history"><thead><tr><th>时间</th><th>事项</th><th>等级</th><th>评分月份</th><th>操作人</th><th>处置结果 / 说明</th></tr></thead><tbody>${rows}</tbody></table>`)}${more}</section>`;
}

function emails(d: AlertDetail): Html {
  if (d.emails.length === 0) return html`<section class="panel"><h2>邮件通知</h2><p class="muted">尚未发送邮件。</p></section>`;
  return html`<section class="panel"><h2>邮件通知 <span class="sub">${d.emails.length} 封</span></h2>
${tableWrap(html`<table class="data"><thead><tr><th>类型</th><th>收件人</th><th>状态</th><th>生成</th><th>发送</th></tr></thead><tbody>${d.emails.map(
  (e) => html`<tr><td>${EMAIL_KINDS[e.kind] ?? e.kind}</td><td>${e.recipient}</td><td>${EMAIL_STATUS[e.status] ?? e.status}${e.attempts > 1 ? html` <span class="muted">（${e.attempts} 次）</span>` : ''}</td><td class="t">${time(e.createdAt)}</td><td class="t">${time(e.sentAt)}</td></tr>`,
)}</tbody></table>`)}</section>`;
}

export interface AlertPageOptions {
  done?: keyof typeof FLASHES.done;
  error?: keyof typeof FLASHES.error;
  allHistory?: boolean;
  /** The employer's other alerts (an unreported layoff beside its layoff risk, a data cross-check). */
  related?: readonly AlertItem[];
}

function related(items: readonly AlertItem[] | undefined, kind: string): Html {
  if (items === undefined || items.length === 0) return html``;
  const kinds = new Set([kind, ...items.map((a) => a.kind)]);
  // routing.ts lists an employer once per e-mail: its unreported-layoff alert carries its layoff-risk alert.
  const note = kinds.has('layoff') && kinds.has('unreported') ? html`<p class="muted small">邮件中，企业的“疑似未报告裁员”预警与“疑似规模裁员”预警只列一次（列在前者名下）。</p>` : '';
  return html`<section class="panel"><h2>同一企业的其他预警</h2>${note}${alertTable(items, { showCity: false })}</section>`;
}

export function alertPage(assets: Assets, v: Viewer, d: AlertDetail, opts: AlertPageOptions = {}): Html {
  const a = d.alert;
  const isEmployer = a.subjectType === 'employer';
  const notices = [opts.done === undefined ? '' : flash('ok', FLASHES.done[opts.done]), opts.error === undefined ? '' : flash('error', FLASHES.error[opts.error])];
  const body = html`${notices}
<p class="crumbs"><a href="/alerts">预警列表</a> › #${a.id}</p>
<h1 class="alert-title">${a.name}</h1>
<p class="badges">${levelBadge(a.level)} ${statusBadge(a.status)} <span class="kind">${kindName(a.kind)}</span> <span class="muted">${a.cityName}</span></p>
<div class="cols">
<section class="panel"><h2>概况</h2>${summary(d)}</section>
<section class="panel"><h2>${isEmployer ? '企业' : '市州'}</h2>${isEmployer ? employerFacts(d) : html`<dl class="kvs">${row('市州', `${a.cityName}（${a.cityCode}）`)}</dl><p><a href="/cities/${a.cityCode}">查看${a.cityName}概览 ›</a></p>`}</section>
</div>
${actions(v, d)}
${isEmployer ? employerEvidence(d) : cityEvidence(d)}
${isEmployer ? employerSection(d) : citySection(d)}
${related(opts.related, a.kind)}
${history(d, opts.allHistory === true)}
${emails(d)}`;
  const charts = (isEmployer && d.employer !== null) || (!isEmployer && d.city !== null && d.city.months.length > 0);
  return page(assets, v, { title: `预警 #${a.id}`, active: 'alerts', body, charts, scripts: true });
}
