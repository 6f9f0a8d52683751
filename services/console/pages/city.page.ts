import type { ConsoleService } from '../console.service.js';
import type { CityKeyGroupMonth } from '../keygroups.repository.js';
import { about, count, feedName, fixed, levelBadge, numeral, query } from './format.js';
import { html, jsonBlock, type Html } from './html.js';
import { alertTable, type AlertList } from './alerts.page.js';
import { page, tableWrap, type Assets, type Viewer } from './layout.js';
import { ackLine, keyGroupLines, latestGroups, type Overview } from './overview.page.js';

/**
 * A city: its systemic level by month (ECharts), the key groups by month,
 * acknowledgement and data freshness, and its open alerts.
 */

export type CityData = NonNullable<Awaited<ReturnType<ConsoleService['city']>>>;
type CityMonth = CityData['months'][number];

/** What the charts of a city read (console.js: city-level, city-groups). */
export function cityChartData(c: CityData) {
  return {
    periods: c.months.map((m) => m.period),
    level: c.months.map((m) => m.level),
    dataMissing: c.months.map((m) => m.dataMissing),
    expectedJobLosses: c.months.map((m) => Math.round(m.expectedJobLosses)),
    groups: {
      periods: c.keyGroups.map((g) => g.period),
      separated: c.keyGroups.map((g) => g.separated),
      migrant: c.keyGroups.map((g) => g.separatedMigrant),
      graduate: c.keyGroups.map((g) => g.separatedGraduate),
      jobsAtStake: c.keyGroups.map((g) => g.jobsAtStake),
      jobsAtStakeMigrant: c.keyGroups.map((g) => (g.jobsAtStakeMigrant === null ? null : Math.round(g.jobsAtStakeMigrant * 10) / 10)),
      jobsAtStakeGraduate: c.keyGroups.map((g) => (g.jobsAtStakeGraduate === null ? null : Math.round(g.jobsAtStakeGraduate * 10) / 10)),
    },
    hasGroups: c.keyGroups.length > 0,
  };
}

function monthRow(m: CityMonth, g: CityKeyGroupMonth | undefined): Html {
  return html`<tr>
<td>${m.period}</td>
<td>${m.dataMissing ? html`<span class="lv lvx" title="${m.missingFeeds.map(feedName).join('、')}">数据缺失</span>` : levelBadge(m.level, '无')}</td>
<td class="num">${about(m.expectedJobLosses)}</td>
<td class="num">${count(m.observedLayoffs)} / ${count(m.observedJobLosses)}</td>
<td class="num">${fixed(m.uiClaimsRatio, 2)}</td>
<td class="num">${m.surveyedUnemploymentRate === null ? '—' : `${fixed(m.surveyedUnemploymentRate, 1)}%`}</td>
<td class="num">${count(g?.separated)}</td>
<td class="num">${count(g?.separatedMigrant)}</td>
<td class="num">${count(g?.separatedGraduate)}</td>
<td class="num">${count(g?.jobsAtStake)}</td>
<td class="num">${about(g?.jobsAtStakeMigrant)}</td>
<td class="num">${about(g?.jobsAtStakeGraduate)}</td>
</tr>`;
}

function monthsTable(c: CityData): Html {
  const groups = new Map(c.keyGroups.map((g) => [g.period, g]));
  const rows = [...c.months].reverse().map((m) => monthRow(m, groups.get(m.period)));
  return tableWrap(html`<table class="data months"><thead><tr><th>月份</th><th>系统性风险</th><th>预计失业</th><th>发生裁员（家/人）</th><th>失业保险申领（较往年）</th><th>调查失业率</th><th>减员</th><th>其中农民工</th><th>其中高校毕业生</th><th>涉及岗位</th><th>其中农民工</th><th>其中高校毕业生</th></tr></thead><tbody>${rows}</tbody></table>`);
}

export function cityPage(assets: Assets, v: Viewer, c: CityData, tile: Overview['cities'][number] | undefined, alerts: AlertList | null): Html {
  const latest = c.months[c.months.length - 1];
  const period = latest?.period ?? null;
  const headline = latest === undefined
    ? html`<p class="muted">尚无该市州的评分结果。</p>`
    : html`<section class="summary">
<div class="stat"><span class="k">${latest.period} 系统性风险</span><span class="v">${latest.dataMissing ? html`<span class="lv lvx">数据缺失</span>` : levelBadge(latest.level, '无系统性风险')}</span></div>
<div class="stat"><span class="k">预计失业人数</span><span class="v">${about(latest.expectedJobLosses)}</span></div>
<div class="stat"><span class="k">失业保险新增申领（较往年同期）</span><span class="v">${latest.uiClaimsRatio === null ? '—' : `${fixed(latest.uiClaimsRatio, 2)} 倍`}</span></div>
<div class="stat"><span class="k">确认及时性</span><span class="v">${tile === undefined ? '—' : ackLine(tile.ack)}</span></div>
<div class="stat"><span class="k">重点群体（${period}）</span><span class="v">${keyGroupLines(latestGroups(c.keyGroups, period))}</span></div>
<div class="stat"><span class="k">地区指标最新月份</span><span class="v">${tile?.regionalLatest ?? '—'}${latest.dataMissing ? html` · <span class="overdue">缺 ${latest.missingFeeds.map(feedName).join('、')}</span>` : ''}</span></div>
</section>`;
  const data = cityChartData(c);
  const charts = c.months.length === 0
    ? ''
    : html`${jsonBlock('city-data', data)}
<section class="panel"><h2>系统性风险等级（按月）</h2><div class="chart" data-chart="city-level" data-source="city-data" role="img" aria-label="${c.cityName}系统性风险等级与预计失业人数，按月"></div></section>
<section class="panel"><h2>重点群体（按月）</h2><p class="muted small">减员中农民工、高校毕业生人数（按报送企业合计），涉及岗位中两类人群为按各企业减员构成估算。</p>
${data.hasGroups ? html`<div class="chart" data-chart="city-groups" data-source="city-data" role="img" aria-label="${c.cityName}重点群体减员与涉及岗位，按月"></div>` : html`<p class="muted">暂无重点群体数据。</p>`}</section>`;
  const open = alerts === null
    ? ''
    : html`<section class="panel"><h2>进行中的预警 <span class="sub">${alerts.total} 条</span></h2>
${alertTable(alerts.items, { showCity: false })}
${alerts.total > alerts.items.length ? html`<p><a href="/alerts${query({ city: c.cityCode, status: 'active', sort: 'level' })}">查看全部 ${alerts.total} 条 ›</a></p>` : ''}
</section>`;
  const body = html`<h1>${c.cityName} <span class="sub">${c.cityCode}${period === null ? '' : ` · ${period} 月`}</span></h1>
${headline}
${open}
${charts}
${c.months.length === 0 ? '' : html`<details class="panel"><summary>按月明细（${c.months.length} 个月）</summary>${monthsTable(c)}</details>`}
<p class="legend">等级：${[1, 2, 3, 4].map((l) => html`${levelBadge(l)} `)} · 图中柱高表示严重程度（${numeral(1)}级最高）</p>`;
  return page(assets, v, { title: c.cityName, active: 'overview', body, charts: c.months.length > 0 });
}
