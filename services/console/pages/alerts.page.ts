import { CITIES } from '../../../config/cities.js';
import { can, inScope, scopeOf } from '../../domain/access.js';
import { LEVEL_NUMERAL, LEVELS } from '../../domain/level.js';
import type { AlertSort } from '../console.repository.js';
import type { AlertItem, ConsoleService } from '../console.service.js';
import { actor, ALERT_KIND_OPTIONS, ALERT_STATUS_OPTIONS, kindName, levelBadge, query, statusBadge, time } from './format.js';
import { html, type Html } from './html.js';
import { page, pager, type Assets, type Viewer } from './layout.js';

/**
 * The alert list: filters (city, level, kind, status, months, search), sort,
 * pages, and an export link to /api/v1/alerts.csv with the same filters.
 * The filters are the API's (alertListQuerySchema), so a page URL and an
 * export URL mean the same alerts.
 */

export type AlertList = Awaited<ReturnType<ConsoleService['listAlerts']>>;

/** The filters as the API's schema parsed them (services/api/v1.ts alertListQuerySchema). */
export interface AlertFilters {
  city?: string[] | undefined;
  level?: string[] | undefined;
  kind?: string[] | undefined;
  status?: string[] | undefined;
  from?: string | undefined;
  to?: string | undefined;
  q?: string | undefined;
  sort?: AlertSort | undefined;
  order?: 'asc' | 'desc' | undefined;
}

const SORT_NAMES: Record<AlertSort, string> = {
  updated: '最近更新',
  level: '等级',
  opened: '开启时间',
  first_period: '首次信号月份',
  last_period: '最近信号月份',
  city: '市州',
  name: '名称',
  id: '编号',
};

const SORTS = Object.keys(SORT_NAMES) as AlertSort[];

export function filterQuery(f: AlertFilters): Record<string, string | readonly string[] | undefined> {
  return { city: f.city, level: f.level, kind: f.kind, status: f.status, from: f.from, to: f.to, q: f.q, sort: f.sort, order: f.order };
}

function periods(a: AlertItem): string {
  return a.firstPeriod === a.lastPeriod ? a.firstPeriod : `${a.firstPeriod} – ${a.lastPeriod}`;
}

function handled(a: AlertItem): Html {
  if (a.status === 'resolved') return html`${a.disposition ?? '—'}<br><span class="muted">${actor(a.resolvedBy)} ${time(a.resolvedAt)}</span>`;
  if (a.status === 'acknowledged') return html`已确认<br><span class="muted">${actor(a.acknowledgedBy)} ${time(a.acknowledgedAt)}</span>`;
  return html`<span class="muted">—</span>`;
}

/** Alerts as a table (cards on a phone); shared by the list and the city page. */
export function alertTable(items: readonly AlertItem[], opts: { showCity: boolean }): Html {
  if (items.length === 0) return html`<p class="empty">没有符合条件的预警。</p>`;
  const rows = items.map(
    (a) => html`<tr class="lvl-row-${a.level}">
<td data-label="等级">${levelBadge(a.level)}</td>
<td data-label="对象" class="name"><a href="/alerts/${a.id}">${a.name}</a><br><span class="muted code">${a.subjectType === 'employer' ? a.subject : '市州整体'}</span></td>
${opts.showCity ? html`<td data-label="市州">${a.cityName}</td>` : ''}
<td data-label="类别" class="kind-cell">${kindName(a.kind)}${a.modelOnly ? html` <span class="tag" title="仅由模型判定，无规则命中">模型</span>` : ''}</td>
<td data-label="状态">${statusBadge(a.status)}</td>
<td data-label="信号月份">${periods(a)}</td>
<td data-label="开启" class="t">${time(a.openedAt)}</td>
<td data-label="处理">${handled(a)}</td>
<td data-label="编号" class="num muted">#${a.id}</td>
</tr>`,
  );
  return html`<div class="table-wrap"><table class="data list"><thead><tr><th>等级</th><th>对象</th>${opts.showCity ? html`<th>市州</th>` : ''}<th>类别</th><th>状态</th><th>信号月份</th><th>开启</th><th>处理</th><th>编号</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function option(value: string, label: string, selected: boolean): Html {
  return html`<option value="${value}"${selected ? html` selected` : ''}>${label}</option>`;
}

/** A select for a list filter; a combination typed into the URL (level=1,2) is kept as its own option. */
function select(name: string, label: string, current: readonly string[] | undefined, options: readonly { value: string; label: string }[]): Html {
  const value = (current ?? []).join(',');
  const known = value === '' || options.some((o) => o.value === value);
  return html`<label>${label}<select name="${name}">${option('', '全部', value === '')}${options.map((o) => option(o.value, o.label, o.value === value))}${
    known ? '' : option(value, value, true)
  }</select></label>`;
}

function filterForm(v: Viewer, f: AlertFilters, pageSize: number): Html {
  const scope = scopeOf(v.principal);
  const cities = CITIES.filter((c) => inScope(scope, c.code));
  const levels = [
    ...LEVELS.map((l) => ({ value: String(l), label: `${LEVEL_NUMERAL[l]}级` })),
    { value: '1,2', label: 'Ⅰ–Ⅱ级' },
    { value: '1,2,3', label: 'Ⅰ–Ⅲ级' },
  ];
  return html`<form method="get" action="/alerts" class="filters" role="search">
${cities.length > 1 ? select('city', '市州', f.city, cities.map((c) => ({ value: c.code, label: c.name }))) : ''}
${select('level', '等级', f.level, levels)}
${select('kind', '类别', f.kind, ALERT_KIND_OPTIONS)}
${select('status', '状态', f.status, ALERT_STATUS_OPTIONS)}
<label>信号月份自<input type="month" name="from" value="${f.from ?? ''}" min="2000-01" max="2100-12"></label>
<label>至<input type="month" name="to" value="${f.to ?? ''}" min="2000-01" max="2100-12"></label>
<label class="wide">搜索<input type="search" name="q" value="${f.q ?? ''}" maxlength="100" placeholder="企业名称或统一社会信用代码"></label>
<label>排序<select name="sort">${option('', '默认（最近更新）', f.sort === undefined)}${SORTS.map((s) => option(s, SORT_NAMES[s], f.sort === s))}</select></label>
<label>顺序<select name="order">${option('', '默认', f.order === undefined)}${option('desc', '降序', f.order === 'desc')}${option('asc', '升序', f.order === 'asc')}</select></label>
<label>每页<select name="pageSize">${[20, 50, 100, 200].map((n) => option(String(n), `${n} 条`, n === pageSize))}</select></label>
<div class="buttons"><button type="submit">筛选</button><a href="/alerts" class="button secondary">清除</a></div>
</form>`;
}

export function alertsPage(assets: Assets, v: Viewer, f: AlertFilters, list: AlertList): Html {
  const filters = filterQuery(f);
  const href = (p: number) => `/alerts${query({ ...filters, page: p, pageSize: list.pageSize === 50 ? undefined : list.pageSize })}`;
  const exportLink = can(v.principal, 'alerts:export')
    ? html`<a class="button secondary export" href="/api/v1/alerts.csv${query(filters)}" download>导出 CSV（${list.total.toLocaleString('en-US')} 条）</a>`
    : '';
  const beyond = list.items.length === 0 && list.total > 0 ? html`<p class="empty">第 ${list.page.toLocaleString('en-US')} 页没有内容：共 ${list.total} 条。<a href="${href(1)}">回到第 1 页</a></p>` : '';
  const body = html`<h1>预警列表 <span class="sub">共 ${list.total.toLocaleString('en-US')} 条</span></h1>
${filterForm(v, f, list.pageSize)}
<div class="toolbar">${exportLink}</div>
${beyond === '' ? alertTable(list.items, { showCity: v.principal.role !== 'city' }) : beyond}
${list.total > list.pageSize || list.page > 1 ? pager(list.page, list.pageSize, list.total, href) : ''}`;
  return page(assets, v, { title: '预警列表', active: 'alerts', body });
}
