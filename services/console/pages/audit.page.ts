import type { AuthService } from '../../access/auth.service.js';
import { cityName } from '../../domain/region.js';
import { query, time } from './format.js';
import { html, type Html } from './html.js';
import { page, tableWrap, type Assets, type Viewer } from './layout.js';

/** The append-only audit log (province only): newest first, pages by "before this entry". */

export type AuditRows = Awaited<ReturnType<AuthService['accounts']['auditLog']>>;

export const AUDIT_ACTIONS: Readonly<Record<string, string>> = {
  login: '登录',
  'login.failed': '登录失败',
  'account.locked': '账号锁定',
  logout: '退出',
  'alert.acknowledge': '确认预警',
  'alert.resolve': '处置预警',
  'alerts.export': '导出预警',
  'account.add': '新增账号',
  'account.disable': '停用账号',
  'account.enable': '启用账号',
  'account.reset': '重置密码',
  'token.create': '创建令牌',
  'token.revoke': '吊销令牌',
};

function target(t: string | null): Html {
  if (t === null) return html`—`;
  const m = /^alert:(\d+)$/.exec(t);
  return m === null ? html`<span class="code">${t}</span>` : html`<a href="/alerts/${m[1]}">预警 #${m[1]}</a>`;
}

function detail(d: unknown): string {
  if (d === null || d === undefined) return '';
  const text = JSON.stringify(d);
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

export function auditPage(assets: Assets, v: Viewer, rows: AuditRows, opts: { action?: string; before?: number; more: boolean }): Html {
  const actions = Object.entries(AUDIT_ACTIONS);
  const known = opts.action === undefined || AUDIT_ACTIONS[opts.action] !== undefined;
  const form = html`<form method="get" action="/audit" class="filters"><label>动作<select name="action"><option value="">全部</option>${actions.map(
    ([k, label]) => html`<option value="${k}"${k === opts.action ? html` selected` : ''}>${label}</option>`,
  )}${known ? '' : html`<option value="${opts.action}" selected>${opts.action}</option>`}</select></label><div class="buttons"><button type="submit">筛选</button></div></form>`;
  const table = rows.length === 0
    ? html`<p class="empty">没有记录。</p>`
    : tableWrap(html`<table class="data audit"><thead><tr><th>#</th><th>时间</th><th>操作人</th><th>动作</th><th>对象</th><th>市州</th><th>来源地址</th><th>详情</th></tr></thead><tbody>${rows.map(
      (r) => html`<tr><td class="num muted">${r.audit_id}</td><td class="t">${time(r.at)}</td><td>${r.actor}</td><td>${AUDIT_ACTIONS[r.action] ?? r.action}</td><td>${target(r.target)}</td>
<td>${r.city_code === null ? '—' : cityName(r.city_code)}</td><td class="code small">${r.ip ?? ''}</td><td class="code small">${detail(r.detail)}</td></tr>`,
    )}</tbody></table>`);
  const last = rows[rows.length - 1];
  const next = opts.more && last !== undefined ? html`<a href="/audit${query({ action: opts.action, before: last.audit_id })}" rel="next">更早的记录 ›</a>` : html`<span class="off">更早的记录 ›</span>`;
  const first = opts.before === undefined ? '' : html`<a href="/audit${query({ action: opts.action })}">‹ 最新</a>`;
  const body = html`<h1>审计日志 <span class="sub">登录、确认、处置、导出等操作，只增不改</span></h1>
${form}
${table}
<nav class="pager">${first}${next}</nav>`;
  return page(assets, v, { title: '审计日志', active: 'audit', body });
}
