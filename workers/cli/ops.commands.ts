import { cityName } from '../../services/domain/region.js';
import { runNightInline, type InlineNight } from '../../services/nightly/nightly.service.js';
import { addMonths, isPeriod } from '../../services/domain/period.js';
import { QUEUE_NAMES, type QueueName } from '../jobs.catalog.js';
import { redisConnection } from '../redis.js';
import { ROLES, serve, type Role } from '../serve.js';
import { openQueues } from '../worker.js';
import type { CliContext } from './context.js';
import { intOption, printJson, printTable, UsageError, printLine } from './output.js';
import { stageLine } from './progress.js';
import { openModel } from './scoring.commands.js';
import { nightShortfalls, type Shortfall } from './shortfall.js';

/** `ews serve`: runs until SIGTERM/SIGINT, then shuts down gracefully. */
export async function serveCommand(ctx: CliContext, opts: { role: string }): Promise<void> {
  const wanted = opts.role === 'all' ? [...ROLES] : opts.role.split(',').map((r) => r.trim());
  for (const r of wanted) if (!(ROLES as readonly string[]).includes(r)) throw new UsageError(`--role must be api, worker, scheduler or all (or a comma-separated list), got "${r}"`);
  const service = await serve(ctx.config, ctx.log, new Set(wanted as Role[]));
  if (service.port !== null) process.stderr.write(`ews: serving ${wanted.join(', ')}; API on port ${service.port}\n`);
  await new Promise<void>((done) => {
    const stop = (signal: string): void => {
      ctx.log.info({ signal }, 'shutting down');
      service.stop().then(done, done);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/**
 * `ews nightly`: the night's stages inline (reruns, backfills, the embedded
 * default). Returns what did not get done (exit code 3; see nightShortfalls).
 */
export async function nightlyCommand(ctx: CliContext, opts: { period?: string; from?: string; to?: string; json?: boolean }): Promise<Shortfall[]> {
  for (const [name, v] of [['period', opts.period], ['from', opts.from], ['to', opts.to]] as const) {
    if (v !== undefined && !isPeriod(v)) throw new UsageError(`--${name} must be a month YYYY-MM, got "${v}"`);
  }
  if ((opts.from === undefined) !== (opts.to === undefined)) throw new UsageError('--from and --to go together (a backfill of months from … to …)');
  if (opts.period !== undefined && opts.from !== undefined) throw new UsageError('pass either --period or --from/--to');
  if (opts.from !== undefined && opts.to !== undefined && opts.from > opts.to) throw new UsageError(`--from ${opts.from} is after --to ${opts.to}`);
  const database = await ctx.db();
  const setup = await openModel(ctx);
  const periods: (string | undefined)[] = [];
  if (opts.from !== undefined && opts.to !== undefined) for (let p = opts.from; p <= opts.to; p = addMonths(p, 1)) periods.push(p);
  else periods.push(opts.period);
  const nights: InlineNight[] = [];
  for (const period of periods) {
    const line = stageLine(period !== undefined ? `nightly ${period}` : 'nightly', { json: opts.json });
    const night = await runNightInline({ config: ctx.config, database, log: ctx.log }, setup, {
      ...(period !== undefined ? { period } : {}),
      onStage: (s) => line.stage(s),
    });
    line.stop();
    nights.push(night);
  }
  if (opts.json) printJson(nights.map(({ ingested, ...n }) => ({ ...n, ingested: ingested.length, alerts: n.alerts && { ...n.alerts, notifications: n.alerts.notifications.length } })));
  else for (const n of nights) printNight(ctx, n);
  return nights.flatMap((n, i) => nightShortfalls(n, nights.length > 1 ? `night ${periods[i] ?? n.period ?? ''}` : undefined));
}

export function printNight(ctx: CliContext, n: InlineNight): void {
  const loaded = n.ingested.filter((b) => b.status === 'loaded').length;
  const rejected = n.ingested.filter((b) => b.status === 'rejected').length;
  printLine(`ingest: ${loaded} batches loaded, ${rejected} rejected${n.unreadable.length > 0 ? `, ${n.unreadable.length} could not be read (${n.unreadable.map((u) => u.source).join(', ')})` : ''}`);
  if (n.period === null) {
    printLine('nothing to score: no social-insurance month loaded yet');
    return;
  }
  printLine(`scored ${n.employers} employers for ${n.period} (run ${n.runId}): Ⅰ ${n.levels['1']}  Ⅱ ${n.levels['2']}  Ⅲ ${n.levels['3']}  Ⅳ ${n.levels['4']}`);
  if (n.dataMissing.length > 0) printLine(`data missing (scored without them, marked so): ${n.dataMissing.map(cityName).join('、')}`);
  if (n.alerts) {
    printLine(
      n.alerts.alreadyProcessed
        ? `alerts: run ${n.runId} was already processed`
        : `alerts: ${n.alerts.opened} opened, ${n.alerts.escalated} escalated, ${n.alerts.resolved} resolved, ${n.alerts.pending} waiting for the model's confirmation`,
    );
  }
  const where = ctx.config.notify.smtpUrl !== undefined ? 'sent over SMTP' : `written to ${ctx.config.notify.outboxDir}/`;
  printLine(`e-mails: ${n.emails.sent} ${where}, ${n.emails.failed} failed, ${n.emails.deferred} deferred for a retry`);
}

/** `ews queues`: counts per queue and the failed jobs, for ops. */
export async function queuesCommand(ctx: CliContext, opts: { failed: string; json?: boolean }): Promise<void> {
  const limit = intOption('failed', opts.failed, 0, 1000);
  const queues = openQueues(redisConnection(ctx.config.redis.url), ctx.config.redis.queuePrefix);
  try {
    const out = [];
    for (const name of QUEUE_NAMES) {
      const q = queues.queues[name];
      const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed');
      const failed = limit > 0 ? await q.getFailed(0, limit - 1) : [];
      out.push({
        queue: name,
        ...counts,
        failedJobs: failed.map((j) => ({ id: j.id, name: j.name, attempts: j.attemptsMade, reason: (j.failedReason ?? '').slice(0, 300), at: j.finishedOn ? new Date(j.finishedOn).toISOString() : null })),
      });
    }
    if (opts.json) {
      printJson(out);
      return;
    }
    printTable(out, ['queue', 'waiting', 'prioritized', 'waiting-children', 'active', 'delayed', 'failed', 'completed']);
    for (const q of out) {
      if (q.failedJobs.length === 0) continue;
      printLine('');
      printLine(`failed in ${q.queue}:`);
      printTable(q.failedJobs, ['id', 'name', 'attempts', 'at', 'reason']);
    }
  } finally {
    await queues.close();
  }
}

/** `ews retry --queue q`: every failed job of a queue back to waiting. */
export async function retryCommand(ctx: CliContext, opts: { queue?: string; json?: boolean }): Promise<void> {
  if (opts.queue === undefined || !(QUEUE_NAMES as readonly string[]).includes(opts.queue)) {
    throw new UsageError(`--queue must be one of ${QUEUE_NAMES.join(', ')}, got ${opts.queue === undefined ? 'nothing' : `"${opts.queue}"`}`);
  }
  const queues = openQueues(redisConnection(ctx.config.redis.url), ctx.config.redis.queuePrefix);
  try {
    const q = queues.queues[opts.queue as QueueName];
    const failed = await q.getJobCountByTypes('failed');
    await q.retryJobs({ state: 'failed', count: 1000 });
    if (opts.json) printJson({ queue: opts.queue, retried: failed });
    else printLine(`${opts.queue}: ${failed} failed job(s) back to waiting`);
  } finally {
    await queues.close();
  }
}
