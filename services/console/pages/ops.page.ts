import { can } from '../../domain/access.js';
import type { ConsoleService } from '../console.service.js';
import { count, feedName, query, time } from './format.js';
import { html, type Html } from './html.js';
import { page, tableWrap, type Assets, type Viewer } from './layout.js';

/**
 * Feeds and runs for ops (and the province and viewers): how fresh each
 * feed is, the scoring runs with the nights that opened them and what
 * their alerts came to, and the latest batches with why one was refused.
 */

export type Runs = Awaited<ReturnType<ConsoleService['runs']>>;
type Run = Runs['runs'][number];

const RUN_STATUS: Record<string, string> = { running: '运行中', done: '完成', failed: '失败' };
const BATCH_STATUS: Record<string, string> = { pending: '待载入', loading: '载入中', loaded: '已载入', rejected: '已拒收' };
const STAGES: Record<string, string> = { poll: '轮询', ingest: '数据载入', score: '评分', alerts: '预警生成', notify: '邮件发送', done: '完成' };
const REASONS: Record<string, string> = { schedule: '定时', manual: '手动', 'catch-up': '补跑' };

const record = (v: unknown): Record<string, unknown> | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null);
const length = (v: unknown): number => (Array.isArray(v) ? v.length : 0);

function duration(from: Date | null, to: Date | null): string {
  if (from === null || to === null) return '—';
  const s = Math.max(0, Math.round((new Date(to).getTime() - new Date(from).getTime()) / 1000));
  return s < 90 ? `${s} 秒` : s < 5400 ? `${Math.round(s / 60)} 分钟` : `${(s / 3600).toFixed(1)} 小时`;
}

function alertsOf(r: Run): Html {
  const s = record(r.alerts);
  if (s === null) return html`<span class="muted">未处理</span>`;
  if (typeof s['skipped'] === 'string') return html`<span class="muted" title="${s['skipped']}">跳过（已有更新月份）</span>`;
  const n = (k: string): number => {
    const v = s[k];
    return typeof v === 'number' ? v : 0;
  };
  return html`新开 ${n('opened')} · 升级 ${n('escalated')} · 解除 ${n('resolved')}<br><span class="muted">邮件 ${n('notifications')}</span>`;
}

function nightOf(r: Run): Html {
  const n = r.night;
  if (n === null) return html`<span class="muted">命令行</span>`;
  const issues = length(n.missingBatches) + length(n.incidents);
  return html`${n.key} <span class="muted">${REASONS[n.reason ?? ''] ?? n.reason ?? ''}</span><br>${STAGES[n.stage ?? ''] ?? n.stage ?? '—'}${
    (n.redrives ?? 0) > 0 ? html` · <span class="overdue">重新驱动 ${n.redrives}</span>` : ''
  }${issues > 0 ? html` · <span class="overdue">缺批次 ${length(n.missingBatches)}，停滞 ${length(n.incidents)}</span>` : ''}`;
}

function runsTable(runs: Runs['runs']): Html {
  if (runs.length === 0) return html`<p class="muted">尚无评分运行。</p>`;
  return tableWrap(html`<table class="data"><thead><tr><th>运行</th><th>月份</th><th>状态</th><th>开始</th><th>用时</th><th>企业</th><th>模型</th><th>夜间运行</th><th>预警</th></tr></thead><tbody>${runs.map(
    (r) => html`<tr class="run-${r.status}"><td class="num">#${r.runId}</td><td>${r.period}</td><td><span class="st st-run-${r.status}">${RUN_STATUS[r.status] ?? r.status}</span></td>
<td class="t">${time(r.startedAt)}</td><td>${duration(r.startedAt, r.finishedAt)}</td><td class="num">${count(r.employers)}${r.shards === null ? '' : html`<br><span class="muted">${r.shards} 分片</span>`}</td>
<td>${r.modelVersion ?? '仅规则'}${r.modelNote === null ? '' : html`<br><span class="muted small">${r.modelNote}</span>`}</td><td>${nightOf(r)}</td><td>${alertsOf(r)}</td></tr>`,
  )}</tbody></table>`);
}

function batchesTable(batches: Runs['batches']): Html {
  if (batches.length === 0) return html`<p class="muted">尚无数据批次。</p>`;
  return tableWrap(html`<table class="data"><thead><tr><th>批次</th><th>数据</th><th>月份</th><th>状态</th><th>行数（读/载/隔离）</th><th>完成</th><th>来源 / 文件</th><th>原因</th></tr></thead><tbody>${batches.map(
    (b) => html`<tr class="batch-${b.status}"><td class="num">#${b.id}</td><td>${feedName(b.feed)}</td><td>${b.period}</td><td><span class="st st-batch-${b.status}">${BATCH_STATUS[b.status] ?? b.status}</span></td>
<td class="num">${count(b.rowsRead)} / ${count(b.rowsLoaded)} / ${count(b.rowsQuarantined)}</td><td class="t">${time(b.finishedAt)}</td><td class="code small">${b.source}/${b.file}</td><td class="small">${b.reason ?? b.lastError ?? ''}</td></tr>`,
  )}</tbody></table>`);
}

function feedsTable(feeds: Runs['feeds']): Html {
  if (feeds.length === 0) return html`<p class="muted">尚未载入任何数据。</p>`;
  return tableWrap(html`<table class="data"><thead><tr><th>数据</th><th>最新月份</th><th>最近载入</th><th>已载入批次</th><th>拒收批次</th></tr></thead><tbody>${feeds.map(
    (f) => html`<tr><td>${feedName(f.feed)}</td><td>${f.latestPeriod ?? '—'}</td><td class="t">${time(f.loadedAt)}</td><td class="num">${f.batches}</td><td class="num${f.rejected > 0 ? ' overdue' : ''}">${f.rejected}</td></tr>`,
  )}</tbody></table>`);
}

export function opsPage(assets: Assets, v: Viewer, data: Runs, limit: number): Html {
  const queues = can(v.principal, 'queues') ? html`<a class="button secondary" href="/admin/queues">任务队列面板 ›</a>` : '';
  const more = data.runs.length >= limit && limit < 200 ? html`<p><a href="/ops${query({ limit: Math.min(200, limit * 2) })}">显示更多运行</a></p>` : '';
  const body = html`<h1>数据与运行</h1>
<div class="toolbar">${queues}</div>
<section class="panel"><h2>数据新鲜度</h2>${feedsTable(data.feeds)}</section>
<section class="panel"><h2>评分运行与夜间运行 <span class="sub">最近 ${data.runs.length} 次</span></h2>${runsTable(data.runs)}${more}</section>
<section class="panel"><h2>最近的数据批次 <span class="sub">${data.batches.length} 个</span></h2>${batchesTable(data.batches)}</section>`;
  return page(assets, v, { title: '数据与运行', active: 'ops', body });
}
