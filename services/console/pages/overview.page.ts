import type { CityKeyGroupMonth } from '../keygroups.repository.js';
import type { ConsoleService } from '../console.service.js';
import { can } from '../../domain/access.js';
import { LEVELS } from '../../domain/level.js';
import { about, count, feedName, hours, levelBadge, numeral, time } from './format.js';
import { html, type Html } from './html.js';
import { page, tableWrap, type Assets, type Viewer } from './layout.js';

/**
 * The province overview: the 21 cities as a grid of tiles, each coloured by
 * its systemic level, with its open alerts by level, how many Ⅰ–Ⅲ alerts
 * were acknowledged in time, how fresh its data is, and the key groups
 * (农民工, 高校毕业生) among the month's separations and jobs at stake.
 */

export type Overview = Awaited<ReturnType<ConsoleService['overview']>>;
type CityTile = Overview['cities'][number];

/** The key groups of the overview's month (or the latest month there is). */
export function latestGroups(groups: readonly CityKeyGroupMonth[], period: string | null): CityKeyGroupMonth | undefined {
  return groups.find((g) => g.period === period) ?? groups[groups.length - 1];
}

export function keyGroupLines(g: CityKeyGroupMonth | undefined): Html {
  if (g === undefined) return html`<p class="kg muted">重点群体：暂无数据</p>`;
  return html`<p class="kg"><span class="kg-label">减员</span> ${count(g.separated)}<span class="muted">（农民工 ${count(g.separatedMigrant)} · 高校毕业生 ${count(g.separatedGraduate)}）</span></p>
<p class="kg"><span class="kg-label">涉及岗位</span> ${count(g.jobsAtStake)}<span class="muted">（农民工 ${about(g.jobsAtStakeMigrant)} · 高校毕业生 ${about(g.jobsAtStakeGraduate)}）</span></p>`;
}

export function ackLine(a: CityTile['ack']): Html {
  if (a.opened === 0) return html`<p class="ack muted">近90天无Ⅰ–Ⅲ级预警</p>`;
  const waiting = a.opened - a.acknowledged - a.overdue;
  return html`<p class="ack"><span class="kg-label">按时确认</span> <b>${a.inTime}</b>/${a.opened}${
    a.overdue > 0 ? html` · <span class="overdue">超时未确认 ${a.overdue}</span>` : ''
  }${waiting > 0 ? html` · 待确认 ${waiting}` : ''}${a.medianHours === null ? '' : html` · <span class="muted">中位 ${hours(a.medianHours)}</span>`}</p>`;
}

function openCounts(c: CityTile, linkable: boolean): Html {
  const cells = LEVELS.map((l) => {
    const n = c.openAlerts[l];
    const label = html`<span class="n">${n}</span><span class="l">${numeral(l)}</span>`;
    return linkable && n > 0
      ? html`<a class="oc oc${l}" href="/alerts?city=${c.cityCode}&amp;level=${l}&amp;status=active" title="${numeral(l)}级进行中预警">${label}</a>`
      : html`<span class="oc oc${l}${n === 0 ? ' zero' : ''}">${label}</span>`;
  });
  return html`<div class="open-counts" aria-label="进行中预警（按等级）">${cells}</div>`;
}

function tile(c: CityTile, period: string | null, linkAlerts: boolean): Html {
  const level = typeof c.level === 'number' ? c.level : 0;
  const missing = c.dataMissing === true;
  const fresh = c.regionalLatest === null ? '未报送' : c.regionalLatest;
  const stale = period !== null && c.regionalLatest !== null && c.regionalLatest < period;
  return html`<article class="city lvl-${missing ? 'x' : level}" data-city="${c.cityCode}">
<a class="city-head" href="/cities/${c.cityCode}"><span class="city-name">${c.cityName}</span>${missing ? html`<span class="lv lvx">数据缺失</span>` : levelBadge(c.level, '无系统性风险')}</a>
${openCounts(c, linkAlerts)}
${ackLine(c.ack)}
${keyGroupLines(latestGroups(c.keyGroups, period))}
<p class="fresh${stale || missing ? ' stale' : ''}"><span class="kg-label">数据</span> 地区指标 ${fresh}${
    missing && c.missingFeeds.length > 0 ? html` · 缺 ${c.missingFeeds.map(feedName).join('、')}` : ''
  }</p>
</article>`;
}

function totals(o: Overview): Html {
  const open = LEVELS.map((l) => o.cities.reduce((s, c) => s + c.openAlerts[l], 0));
  const systemic = LEVELS.map((l) => o.cities.filter((c) => c.level === l).length);
  const sum = (f: (g: CityKeyGroupMonth) => number | null) =>
    o.cities.reduce((s, c) => {
      const v = latestGroups(c.keyGroups, o.period);
      const x = v === undefined ? null : f(v);
      return typeof x === 'number' ? s + x : s;
    }, 0);
  const ack = o.cities.reduce((s, c) => ({ opened: s.opened + c.ack.opened, inTime: s.inTime + c.ack.inTime, overdue: s.overdue + c.ack.overdue }), { opened: 0, inTime: 0, overdue: 0 });
  return html`<section class="summary">
<div class="stat"><span class="k">进行中预警</span><span class="v">${LEVELS.map((l, i) => html`<span class="lv lv${l}">${numeral(l)} ${open[i]}</span> `)}</span></div>
<div class="stat"><span class="k">系统性风险市州</span><span class="v">${LEVELS.map((l, i) => html`<span class="lv lv${l}">${numeral(l)} ${systemic[i]}</span> `)}</span></div>
<div class="stat"><span class="k">按时确认（近90天Ⅰ–Ⅲ级）</span><span class="v"><b>${ack.inTime}</b>/${ack.opened}${ack.overdue > 0 ? html` · <span class="overdue">超时未确认 ${ack.overdue}</span>` : ''}</span></div>
<div class="stat"><span class="k">本月重点群体减员</span><span class="v">农民工 ${count(sum((g) => g.separatedMigrant))} · 高校毕业生 ${count(sum((g) => g.separatedGraduate))}</span></div>
</section>`;
}

function feeds(o: Overview): Html {
  if (o.feeds.length === 0) return html`<p class="muted">尚未载入任何数据批次。</p>`;
  return tableWrap(html`<table class="data"><thead><tr><th>数据</th><th>最新月份</th><th>载入时间</th><th>已载入批次</th><th>拒收批次</th></tr></thead><tbody>${o.feeds.map(
    (f) => html`<tr><td>${feedName(f.feed)}</td><td>${f.latestPeriod ?? '—'}</td><td class="t">${time(f.loadedAt)}</td><td class="num">${f.batches}</td><td class="num${f.rejected > 0 ? ' overdue' : ''}">${f.rejected}</td></tr>`,
  )}</tbody></table>`);
}

export function overviewPage(assets: Assets, v: Viewer, o: Overview): Html {
  const linkAlerts = can(v.principal, 'alerts:read');
  const body = html`<h1>全省概览 <span class="sub">${o.period === null ? '尚无评分结果' : `${o.period} 月`}</span></h1>
${totals(o)}
<p class="legend">系统性风险等级：${LEVELS.map((l) => html`${levelBadge(l)} `)}${levelBadge(null, '无')} · 按时确认：Ⅰ/Ⅱ级 ${o.ackHours.urgent} 小时内、Ⅲ级 ${o.ackHours.level3} 小时内 · 涉及岗位为估计值</p>
<section class="cities" aria-label="21个市州">${o.cities.map((c) => tile(c, o.period, linkAlerts))}</section>
<h2>数据新鲜度</h2>
${feeds(o)}`;
  return page(assets, v, { title: '全省概览', active: 'overview', body });
}
