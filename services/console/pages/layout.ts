import { can, maskedEmail, ROLE_NAMES, type Principal } from '../../domain/access.js';
import { cityName } from '../../domain/region.js';
import { html, type Html } from './html.js';

/**
 * The frame of every signed-in page: the header with the navigation the
 * caller's role may use, the account (masked) and the logout form. Page
 * scripts come from this server only (the CSP says script-src 'self'): data
 * travels in <script type="application/json"> blocks.
 */

export interface Viewer {
  principal: Principal;
  /** Set for session callers (a bearer token has no logout form). */
  csrfToken?: string;
}

/** Versioned URLs of the static files, set once by the router (long-cached, so a new file needs a new URL). */
export interface Assets {
  css: string;
  js: string;
  echarts: string;
}

export type NavKey = 'overview' | 'alerts' | 'ops' | 'audit' | 'none';

interface NavItem {
  key: NavKey;
  href: string;
  label: string;
}

export function navItems(p: Principal): NavItem[] {
  const items: NavItem[] = [];
  if (p.role === 'city' && p.cityCode !== null) items.push({ key: 'overview', href: `/cities/${p.cityCode}`, label: '本市概览' });
  else if (can(p, 'cities:read')) items.push({ key: 'overview', href: '/', label: '全省概览' });
  if (can(p, 'alerts:read')) items.push({ key: 'alerts', href: '/alerts', label: '预警列表' });
  if (can(p, 'runs:read')) items.push({ key: 'ops', href: '/ops', label: '数据与运行' });
  if (can(p, 'audit:read')) items.push({ key: 'audit', href: '/audit', label: '审计日志' });
  if (can(p, 'queues')) items.push({ key: 'none', href: '/admin/queues', label: '任务队列' });
  return items;
}

function account(v: Viewer): Html {
  const p = v.principal;
  const where = p.role === 'city' && p.cityCode !== null ? `${cityName(p.cityCode)} · ` : '';
  const logout =
    v.csrfToken === undefined
      ? ''
      : html`<form method="post" action="/logout" class="logout"><input type="hidden" name="_csrf" value="${v.csrfToken}"><button type="submit">退出</button></form>`;
  return html`<div class="account"><span class="who" title="${ROLE_NAMES[p.role]}账号">${where}${ROLE_NAMES[p.role]} · ${maskedEmail(p.email)}</span>${logout}</div>`;
}

export function page(
  assets: Assets,
  v: Viewer,
  opts: { title: string; active: NavKey; body: Html; charts?: boolean; scripts?: boolean },
): Html {
  const nav = navItems(v.principal).map(
    (i) => html`<a href="${i.href}"${i.key === opts.active && i.key !== 'none' ? html` class="active" aria-current="page"` : ''}>${i.label}</a>`,
  );
  const scripts = opts.charts === true
    ? html`<script src="${assets.echarts}" defer></script><script src="${assets.js}" defer></script>`
    : opts.scripts === true
      ? html`<script src="${assets.js}" defer></script>`
      : '';
  return html`<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${opts.title} · 规模裁员预警</title><link rel="stylesheet" href="${assets.css}">${scripts}</head>
<body><header class="top"><a class="brand" href="${navItems(v.principal)[0]?.href ?? '/'}">规模裁员预警</a><nav>${nav}</nav>${account(v)}</header>
<main>${opts.body}</main>
<footer class="foot">四川省人力资源和社会保障厅 · 规模裁员和失业风险预警系统 · 页面不含个人信息</footer></body></html>`;
}

/** A notice at the top of a page: 'ok' after an action, 'error' when it did not happen. */
export function flash(kind: 'ok' | 'error', text: string): Html {
  return html`<p class="flash flash-${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${text}</p>`;
}

/** Previous / next links and where we are: 第 3 / 12 页（共 580 条）. */
export function pager(pageNo: number, pageSize: number, total: number, href: (page: number) => string): Html {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const prev = pageNo > 1 ? html`<a href="${href(Math.min(pageNo - 1, pages))}" rel="prev">‹ 上一页</a>` : html`<span class="off">‹ 上一页</span>`;
  const next = pageNo < pages ? html`<a href="${href(pageNo + 1)}" rel="next">下一页 ›</a>` : html`<span class="off">下一页 ›</span>`;
  const first = pageNo > 2 ? html`<a href="${href(1)}">首页</a>` : '';
  const last = pageNo < pages - 1 ? html`<a href="${href(pages)}">末页</a>` : '';
  return html`<nav class="pager" aria-label="分页">${first}${prev}<span class="where">第 ${pageNo.toLocaleString('en-US')} / ${pages.toLocaleString('en-US')} 页（共 ${total.toLocaleString('en-US')} 条）</span>${next}${last}</nav>`;
}

/** A table that scrolls sideways inside itself on a phone instead of widening the page. */
export function tableWrap(table: Html): Html {
  return html`<div class="table-wrap">${table}</div>`;
}
