import { cityName } from '../../services/domain/region.js';
import { type ActionAudit, AlertRepository } from '../../services/alerts/alert.repository.js';
import { processRun } from '../../services/alerts/alert.service.js';
import { AlertTransitionError, DISPOSITIONS } from '../../services/alerts/lifecycle.js';
import { ALL_CITIES } from '../../services/domain/access.js';
import { maskPii } from '../../services/domain/pii.js';
import { sendOutbox } from '../../services/notify/deliver.js';
import { NotificationRepository } from '../../services/notify/notification.repository.js';
import { isPeriod, periodOf } from '../../services/domain/period.js';
import { levelName } from '../../services/domain/level.js';
import type { AlertStatus } from '../../services/domain/alert.js';
import type { NotificationStatus } from '../../sql/schema.js';
import type { CliContext } from './context.js';
import { intOption, printJson, printTable, UsageError, printLine } from './output.js';
import { undelivered, type Shortfall } from './shortfall.js';

const STATUSES = ['pending', 'open', 'acknowledged', 'resolved', 'active'] as const;
const KIND_NAMES: Record<string, string> = { layoff: '规模裁员风险', unreported: '未报告裁员', crosscheck: '数据核查', systemic: '系统性失业风险' };


export async function alertsListCommand(ctx: CliContext, opts: { city?: string; level?: string; status?: string; limit: string; json?: boolean }): Promise<void> {
  const status = opts.status;
  if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) throw new UsageError(`--status must be one of ${STATUSES.join(', ')}, got "${status}"`);
  const level = opts.level !== undefined ? intOption('level', opts.level, 1, 4) : undefined;
  const limit = intOption('limit', opts.limit, 1, 100_000);
  const rows = await new AlertRepository(await ctx.db()).list({
    ...(opts.city !== undefined ? { city: opts.city } : {}),
    ...(level !== undefined ? { maxLevel: level } : {}),
    ...(status !== undefined ? { status: status as AlertStatus | 'active' } : {}),
    limit,
  });
  if (opts.json) {
    printJson(rows);
    return;
  }
  printTable(
    rows.map((r) => ({
      id: r.alert_id,
      level: levelName(r.level),
      status: r.status,
      kind: KIND_NAMES[r.kind] ?? r.kind,
      city: cityName(r.city_code),
      subject: r.subject,
      name: r.name.length > 24 ? `${r.name.slice(0, 24)}…` : r.name,
      since: periodOf(r.first_period),
      last: periodOf(r.last_period),
      by: r.resolved_by ?? r.acknowledged_by ?? '',
    })),
    ['id', 'level', 'status', 'kind', 'city', 'subject', 'name', 'since', 'last', 'by'],
  );
}

export async function alertsShowCommand(ctx: CliContext, id: string, opts: { json?: boolean }): Promise<void> {
  const alertId = intOption('id', id, 1);
  const found = await new AlertRepository(await ctx.db()).show(alertId);
  if (!found) throw new UsageError(`no alert ${alertId} (see \`ews alerts list\`)`);
  if (opts.json) {
    printJson(found);
    return;
  }
  const a = found.alert;
  printLine(`alert ${a.alert_id}: ${KIND_NAMES[a.kind] ?? a.kind} · ${levelName(a.level)} (peak ${levelName(a.peak_level)}) · ${a.status}${a.model_only ? ' · model only' : ''}`);
  printLine(`${a.subject_type === 'employer' ? `employer ${a.subject} ${a.name}` : `city ${a.name}`} · ${cityName(a.city_code)} · since ${periodOf(a.first_period)}, last signal ${periodOf(a.last_period)}${a.reopen_count > 0 ? ` · reopened ${a.reopen_count}×` : ''}`);
  if (a.acknowledged_by) printLine(`acknowledged by ${a.acknowledged_by} at ${a.acknowledged_at?.toISOString() ?? ''}`);
  if (a.status === 'resolved') printLine(`resolved by ${a.resolved_by ?? ''} at ${a.resolved_at?.toISOString() ?? ''}: ${a.disposition ?? ''}${a.comment ? ` — ${a.comment}` : ''}`);
  printLine('evidence:');
  printLine(JSON.stringify(a.evidence, null, 2));
  printLine('');
  printLine('history:');
  printTable(
    found.history.map((e) => ({
      at: e.at,
      action: e.action,
      status: `${e.from_status ?? ''}→${e.to_status ?? ''}`,
      level: e.from_level !== null && e.from_level !== e.to_level ? `${e.from_level}→${e.to_level}` : (e.to_level ?? ''),
      period: e.period !== null ? periodOf(e.period) : '',
      by: e.actor,
      disposition: e.disposition ?? '',
      comment: e.comment ?? '',
    })),
    ['at', 'action', 'status', 'level', 'period', 'by', 'disposition', 'comment'],
  );
  printLine('');
  printLine('notifications:');
  printTable(found.notifications, ['notification_id', 'kind', 'status', 'attempts', 'created_at', 'sent_at']);
}

export async function alertsTransitionCommand(
  ctx: CliContext,
  action: 'ack' | 'resolve',
  id: string,
  opts: { by?: string; disposition?: string; comment?: string; json?: boolean },
): Promise<void> {
  const alertId = intOption('id', id, 1);
  if (opts.by === undefined) throw new UsageError('--by <name> is required: every transition records who did it');
  if (action === 'resolve' && opts.disposition === undefined) throw new UsageError(`--disposition is required to resolve: one of ${DISPOSITIONS.join(' / ')}`);
  const database = await ctx.db();
  const repo = new AlertRepository(database);
  try {
    const out =
      action === 'ack'
        ? await repo.acknowledge(alertId, opts.by, opts.comment ?? null, ALL_CITIES, cliAudit(opts.by))
        : await repo.resolve(alertId, opts.by, opts.disposition as string, opts.comment ?? null, ALL_CITIES, cliAudit(opts.by));
    if (opts.json) printJson(out);
    else printLine(`alert ${out.alertId} ${out.status} by ${out.by}${out.disposition ? ` (${out.disposition})` : ''}`);
  } catch (err) {
    if (err instanceof AlertTransitionError) throw new UsageError(`alert ${alertId}: ${err.message}`);
    throw err;
  }
}

/** The CLI's actions go to the console's audit log too. */
function cliAudit(by: string): ActionAudit {
  return { actor: `cli: ${maskPii(by)}`, accountId: null, ip: null, via: 'cli' };
}

/** `ews alerts raise`: alert changes and notifications for a finished scoring run (the nightly job does this itself). */
export async function alertsRaiseCommand(ctx: CliContext, opts: { run?: string; period?: string; send?: boolean; json?: boolean }): Promise<Shortfall[]> {
  const database = await ctx.db();
  let runId: number;
  if (opts.run !== undefined) runId = intOption('run', opts.run, 1);
  else if (opts.period !== undefined) {
    if (!isPeriod(opts.period)) throw new UsageError(`--period must be a month YYYY-MM, got "${opts.period}"`);
    const run = await new AlertRepository(database).latestFinishedRun(opts.period);
    if (run === undefined) throw new UsageError(`no finished scoring run for ${opts.period}: run \`ews score --period ${opts.period}\` first`);
    runId = run;
  } else throw new UsageError('pass --run <id> or --period YYYY-MM');
  const result = await processRun({ database, alerts: ctx.config.alerts, notify: ctx.config.notify, log: ctx.log }, runId);
  const sent = opts.send === false ? null : await sendNow(ctx);
  if (opts.json) printJson({ ...result, notifications: result.notifications.length, delivery: sent });
  else {
    printLine(
      result.alreadyProcessed
        ? `run ${runId} was already processed: nothing raised twice`
        : `run ${runId} (${result.period}): ${result.opened} opened, ${result.escalated} escalated, ${result.resolved} resolved, ${result.pending} waiting for confirmation; ${result.notifications.length} e-mails queued`,
    );
    if (sent) printLine(describeDelivery(ctx, sent));
  }
  return sent !== null ? undelivered(sent) : [];
}

/** `ews notify send`: every e-mail waiting; those refused or deferred are what did not get done (exit code 3). */
export async function notifySendCommand(ctx: CliContext, opts: { json?: boolean }): Promise<Shortfall[]> {
  const out = await sendNow(ctx);
  if (opts.json) printJson(out);
  else printLine(describeDelivery(ctx, out));
  return undelivered(out);
}

export async function notifyListCommand(ctx: CliContext, opts: { status?: string; limit: string; json?: boolean }): Promise<void> {
  const limit = intOption('limit', opts.limit, 1, 100_000);
  const statuses: readonly NotificationStatus[] = ['pending', 'sending', 'sent', 'failed'];
  if (opts.status !== undefined && !(statuses as readonly string[]).includes(opts.status)) throw new UsageError(`--status must be one of ${statuses.join(', ')}, got "${opts.status}"`);
  const rows = await new NotificationRepository(await ctx.db()).list({ limit, ...(opts.status !== undefined ? { status: opts.status as NotificationStatus } : {}) });
  if (opts.json) printJson(rows);
  else printTable(rows.map((r) => ({ ...r, city: r.city_code ? cityName(r.city_code) : '全省', last_error: r.last_error?.slice(0, 60) ?? '' })), ['notification_id', 'kind', 'city', 'recipient', 'status', 'attempts', 'created_at', 'sent_at', 'last_error']);
}

async function sendNow(ctx: CliContext): Promise<{ sent: number; failed: number; deferred: number }> {
  return sendOutbox(await ctx.db(), ctx.config.notify, ctx.log);
}

function describeDelivery(ctx: CliContext, d: { sent: number; failed: number; deferred: number }): string {
  const where = ctx.config.notify.smtpUrl !== undefined ? 'sent over SMTP' : `written to ${ctx.config.notify.outboxDir}`;
  return `e-mails: ${d.sent} ${where}, ${d.failed} failed (see \`ews notify list --status failed\`), ${d.deferred} deferred for a retry`;
}
