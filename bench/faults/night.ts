import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue, type ConnectionOptions } from 'bullmq';
import pg from 'pg';
import { QUEUE_NAMES } from '../../workers/jobs.catalog.js';
import type { SmtpFaults } from '../../test/harness/smtp.js';
import { compareDatabases, compareMail, type MailDiff, type TableDiff } from './compare.js';
import { sleep, startRedis, startRole, waitFor, type RedisPersistence, type RedisServer, type RoleProcess } from './processes.js';
import { NIGHT_DATE, QUEUE_PREFIX, type Setting } from './setting.js';

/**
 * One night of the matrix: a fresh database cloned from the template, a
 * fresh redis-server, the scheduler and worker(s) as child processes, the
 * night started as the scheduler starts it (a `nightly` job for the date),
 * the fault injected at a point found from real state (the database, the
 * queues, the SMTP server), then a wait until the night is complete (the
 * alerts processed and every e-mail of the outbox sent) or stuck (nothing
 * left to run, or no worker alive) or past its deadline.
 */

export type Stage = 'ingest' | 'score' | 'send' | 'accepting';

export interface NightContext {
  readonly setting: Setting;
  readonly redis: RedisServer;
  readonly workers: RoleProcess[];
  readonly schedulers: RoleProcess[];
  /** Waits until the night is in the middle of a stage; returns what was seen. */
  until(stage: Stage): Promise<string>;
  startWorker(): RoleProcess;
  startScheduler(): RoleProcess;
  /** SIGKILL every worker started so far. */
  killWorkers(): Promise<void>;
  /** Adds a `nightly` job for the night's date (as a scheduler's firing, or an operator, would). */
  addNight(jobId: string, reason?: 'schedule' | 'manual'): Promise<void>;
  /** Recovery is timed from here (default: when inject returns). */
  injected(): void;
  note(s: string): void;
  /** Notify jobs that have used every attempt (failed for good). */
  notifyFailed(): Promise<number>;
  /** Adds a notify-sweep job, as the scheduler's 10-minute timer would. */
  sweep(): Promise<void>;
  notifications(): Promise<{ total: number; unsent: number }>;
}

export interface FaultSpec {
  name: string;
  /** One line: what is done to the night. */
  what: string;
  workers?: number;
  schedulers?: number;
  redis?: RedisPersistence;
  smtp?: SmtpFaults;
  /** Faults for the HTTP feed server before the night starts. */
  feed?: (setting: Setting) => void;
  inject?: (night: NightContext) => Promise<void>;
  /** Extra time allowed beyond the default deadline. */
  extraMs?: number;
}

export interface NightOutcome {
  name: string;
  recovered: boolean;
  /** Seconds from the injection (clean: from the start) to the night complete. */
  seconds: number | null;
  /** The whole night, start to complete (or to giving up). */
  nightSeconds: number;
  lost: number;
  doubled: number;
  differing: number;
  identical: boolean;
  tables: TableDiff[];
  mail: MailDiff | null;
  notes: string[];
  evidence: string[];
  messageIds: string[];
  databaseUrl: string;
  database: string;
  why?: string;
}

export interface NightOptions {
  index: number;
  /** The clean night to compare with; undefined: this is the clean night. */
  clean?: { databaseUrl: string; messageIds: readonly string[]; notifications: number };
  deadlineMs: number;
  /** Where to keep the logs of a night that is not identical. */
  keepLogs?: string;
  say: (s: string) => void;
}

export async function runNight(setting: Setting, fault: FaultSpec, options: NightOptions): Promise<NightOutcome> {
  const { say } = options;
  const database = `night_${String(options.index).padStart(2, '0')}_${fault.name.replace(/[^a-z0-9]/g, '_')}`;
  const nightDir = join(setting.dir, 'nights', database);
  mkdirSync(nightDir, { recursive: true });
  const tSetup = Date.now();
  const databaseUrl = await setting.cloneDatabase(database);
  const redis = await startRedis(join(nightDir, 'redis'), fault.redis ?? 'aof');
  const connection: ConnectionOptions = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: 1, retryStrategy: (n: number) => Math.min(n * 100, 1000) };
  const queues = Object.fromEntries(QUEUE_NAMES.map((q) => [q, new Queue(q, { connection, prefix: QUEUE_PREFIX })])) as Record<string, Queue>;
  for (const q of Object.values(queues)) q.on('error', () => undefined);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  pool.on('error', () => undefined);
  const query = async <T extends pg.QueryResultRow>(text: string): Promise<T[]> => (await pool.query<T>(text)).rows;

  setting.sink.received.length = 0;
  setting.sink.faults = { ...(fault.smtp ?? {}) };
  setting.http.clear();
  fault.feed?.(setting);

  const notes: string[] = [];
  const evidence: string[] = [];
  const workers: RoleProcess[] = [];
  const schedulers: RoleProcess[] = [];
  let roleCount = 0;
  const role = (kind: 'worker' | 'scheduler'): RoleProcess => {
    roleCount++;
    const name = `${kind}-${roleCount}`;
    const p = startRole(setting.bin, name, kind, setting.roleEnv(databaseUrl, redis.url, join(nightDir, `data-${name}`)), join(nightDir, `${name}.log`));
    (kind === 'worker' ? workers : schedulers).push(p);
    return p;
  };

  let injectedAt: number | undefined;
  let receivedAtFault: number | undefined;

  const ctx: NightContext = {
    setting,
    redis,
    workers,
    schedulers,
    startWorker: () => role('worker'),
    startScheduler: () => role('scheduler'),
    async killWorkers() {
      await Promise.all(workers.map((w) => w.kill()));
    },
    async addNight(jobId, reason = 'schedule') {
      await queues['nightly']!.add('nightly', { date: NIGHT_DATE, reason }, { jobId, attempts: 4, backoff: { type: 'exponential', delay: 300 } });
    },
    injected() {
      injectedAt = Date.now();
      receivedAtFault = setting.sink.received.length;
    },
    note: (s) => void notes.push(s),
    async until(stage) {
      let gone = false;
      const seen = await waitFor(async () => {
        refusedToStart();
        if (!workers.some((w) => w.alive())) {
          gone = true;
          return true;
        }
        switch (stage) {
          case 'ingest': {
            const [r] = await query<{ loaded: number; loading: number }>(
              `SELECT count(*) FILTER (WHERE status = 'loaded')::int AS loaded, count(*) FILTER (WHERE status = 'loading')::int AS loading FROM batch WHERE source = 'exchange'`,
            );
            return (r?.loaded ?? 0) >= 1 && (r?.loading ?? 0) >= 1;
          }
          case 'score':
            return (await query(`SELECT 1 FROM employer_risk LIMIT 1`)).length > 0;
          case 'send':
            return setting.sink.received.length >= 1;
          case 'accepting':
            return setting.sink.received.length >= 1 && setting.sink.accepting >= 1;
        }
      }, 240_000, 25);
      const state = await describeState();
      if (!seen) notes.push(`mid-${stage} never seen: injected anyway (${state})`);
      else if (gone) notes.push(`no worker alive while waiting for mid-${stage}: injected anyway (${state})`);
      return state;
    },
    async notifyFailed() {
      const counts = await queues['notify']!.getJobCounts('failed');
      return counts['failed'] ?? 0;
    },
    async sweep() {
      await queues['notify']!.add('notify-sweep', {}, { jobId: `sweep.by-harness.${Date.now()}` });
    },
    async notifications() {
      const [r] = await query<{ total: number; unsent: number }>(`SELECT count(*)::int AS total, count(*) FILTER (WHERE status IN ('pending', 'sending'))::int AS unsent FROM notification`);
      return { total: r?.total ?? 0, unsent: r?.unsent ?? 0 };
    },
  };

  async function describeState(): Promise<string> {
    try {
      const [b] = await query<{ loaded: number; loading: number }>(`SELECT count(*) FILTER (WHERE status = 'loaded')::int AS loaded, count(*) FILTER (WHERE status = 'loading')::int AS loading FROM batch WHERE source = 'exchange'`);
      const [s] = await query<{ n: number }>(`SELECT count(*)::int AS n FROM employer_risk`);
      const [n] = await query<{ total: number; sent: number }>(`SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'sent')::int AS sent FROM notification`);
      return `batches ${b?.loaded ?? 0}/${setting.nightEntries.length} loaded, ${b?.loading ?? 0} loading; ${s?.n ?? 0} employers scored; e-mails ${n?.sent ?? 0}/${n?.total ?? 0} sent, ${setting.sink.received.length} received`;
    } catch (err) {
      return `state unreadable: ${(err as Error).message}`;
    }
  }

  /** A role that will not start at all (its configuration refused, the schema changed under the run) is the harness's problem, not a fault's result. */
  const refusedToStart = (): void => {
    for (const w of [...workers, ...schedulers]) {
      if (w.alive() || w.killedByHarness) continue;
      const line = w.tail(20).split('\n').find((l) => /invalid configuration|migration .* changed after it was applied|Cannot find module|SyntaxError/.test(l));
      if (line !== undefined) throw new Error(`${w.name} refused to start (${w.ended() ?? '?'}): ${line.slice(0, 400)}`);
    }
  };

  /** The night is complete: its run done, alerts processed, and nothing left in the outbox. */
  const complete = async (): Promise<boolean> => {
    const [r] = await query<{ alerted: number; open: number; runs: number; total: number; unsent: number }>(
      `SELECT (SELECT count(*) FROM alert_run)::int AS alerted,
              (SELECT count(*) FROM score_run WHERE status <> 'done')::int AS open,
              (SELECT count(*) FROM score_run)::int AS runs,
              (SELECT count(*) FROM notification)::int AS total,
              (SELECT count(*) FROM notification WHERE status IN ('pending', 'sending'))::int AS unsent`,
    );
    if (r === undefined) return false;
    const wantMail = options.clean === undefined ? 0 : Math.min(1, options.clean.notifications);
    return r.runs >= 1 && r.alerted >= 1 && r.open === 0 && r.unsent === 0 && r.total >= wantMail;
  };

  /** Jobs that can still run (waiting, active, delayed by a backoff, prioritized), besides the schedulers' own. */
  const runnable = async (): Promise<number> => {
    let n = 0;
    for (const q of Object.values(queues)) {
      const c = await q.getJobCounts('wait', 'active', 'prioritized');
      n += (c['wait'] ?? 0) + (c['active'] ?? 0) + (c['prioritized'] ?? 0) + (await delayedNonRepeat(q));
    }
    return n;
  };

  const t0 = Date.now();
  let recovered = false;
  let why: string | undefined;
  let completedAt: number | undefined;
  try {
    for (let i = 0; i < (fault.schedulers ?? 1); i++) role('scheduler');
    for (let i = 0; i < (fault.workers ?? 1); i++) role('worker');
    await ctx.addNight(`nightly.${NIGHT_DATE}`);
    if (fault.inject !== undefined) {
      await fault.inject(ctx);
      injectedAt ??= Date.now();
    }
    const from = injectedAt ?? t0;
    const deadline = from + options.deadlineMs + (fault.extraMs ?? 0);
    let idleSince: number | undefined;
    // With a watch for stalled nights (NIGHT_STALL_MS), a night is stuck only once the watch had its chance.
    const idleMs = setting.stallMs !== undefined ? Math.max(8_000, setting.stallMs * 2.5) : 8_000;
    let noWorkerSince: number | undefined;
    for (;;) {
      refusedToStart();
      if (await complete().catch(() => false)) {
        completedAt = Date.now();
        recovered = true;
        break;
      }
      const now = Date.now();
      if (now > deadline) {
        why = `not complete after ${Math.round((now - from) / 1000)} s`;
        break;
      }
      const alive = workers.some((w) => w.alive());
      noWorkerSince = alive ? undefined : (noWorkerSince ?? now);
      if (noWorkerSince !== undefined && now - noWorkerSince > 3_000) {
        why = 'no worker process left alive';
        break;
      }
      const left = await runnable().catch(() => 1);
      idleSince = left > 0 ? undefined : (idleSince ?? now);
      if (idleSince !== undefined && now - idleSince > idleMs) {
        why = `stuck: no job left to run (waiting, active, delayed) for ${Math.round(idleMs / 1000)} s and the night not complete`;
        break;
      }
      await sleep(100);
    }
    if (recovered) {
      // Settle: whatever is still queued (a second send after a lease, a duplicate night) gets to show.
      await waitFor(async () => (await runnable()) === 0, 10_000, 200);
      await sleep(500);
    } else {
      evidence.push(`state: ${await describeState()}`);
    }
  } finally {
    for (const w of [...workers, ...schedulers]) {
      const end = w.ended();
      if (end !== undefined && !w.killedByHarness) {
        const all = w.tail(60).split('\n').filter((l) => l.trim() !== '');
        const errors = all.filter((l) => /error|fatal|unhandled|throw|exception|invalid/i.test(l));
        const lines = (errors.length > 0 ? errors : all).slice(-4);
        evidence.push(`${w.name} ended on its own (${end}): ${lines.map((l) => summariseLine(l)).join(' ⏎ ') || '(no output)'}`);
      }
    }
    await Promise.all([...workers, ...schedulers].map((w) => w.kill()));
  }
  const nightSeconds = (Date.now() - t0) / 1000;

  // Evidence from the queues and the database.
  try {
    const nights = (await queues['nightly']!.getJobs(['completed', 'failed'], 0, 50)).filter((j) => j.name === 'nightly');
    if (nights.length > 1) {
      const said = nights.map((j) => {
        const r = (j.returnvalue ?? {}) as { started?: boolean; reason?: string };
        return `${j.id ?? '?'} → ${j.failedReason !== undefined && j.failedReason !== '' ? `failed: ${j.failedReason}` : r.started === true ? 'started the night' : `did nothing${typeof r.reason === 'string' ? ` (${r.reason})` : ''}`}`;
      });
      notes.push(`nightly jobs: ${said.join('; ')}`);
    }
  } catch {
    // queues unreadable: said below
  }
  try {
    for (const [name, q] of Object.entries(queues)) {
      const failed = await q.getJobs(['failed'], 0, 50);
      const reasons = new Map<string, number>();
      for (const j of failed) {
        const key = `${j.name}: ${(j.failedReason ?? '').slice(0, 160)}`;
        reasons.set(key, (reasons.get(key) ?? 0) + 1);
      }
      for (const [r, n] of reasons) evidence.push(`failed job in ${name} (${n}×) ${r}`);
      if (!recovered) {
        const c = await q.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed');
        const busy = Object.entries(c).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`);
        if (busy.length > 0) evidence.push(`queue ${name}: ${busy.join(', ')}`);
      }
    }
  } catch (err) {
    evidence.push(`queues unreadable: ${(err as Error).message}`);
  }
  try {
    const runs = await query<{ run_id: string; status: string; night_key: string | null; employers: number | null }>(`SELECT run_id::text, status, night_key, employers FROM score_run ORDER BY run_id`);
    if (!recovered || runs.length !== 1) evidence.push(`score_run: ${runs.map((r) => `#${r.run_id} ${r.status} ${r.night_key ?? '-'} ${r.employers ?? '-'}`).join('; ') || 'none'}`);
    const notif = await query<{ status: string; n: number; attempts: number }>(`SELECT status, count(*)::int AS n, max(attempts)::int AS attempts FROM notification GROUP BY 1 ORDER BY 1`);
    if (notif.some((n) => n.status !== 'sent' || n.attempts > 1)) evidence.push(`notification: ${notif.map((n) => `${n.status} ${n.n} (max attempts ${n.attempts})`).join('; ')}`);
    const batches = await query<{ status: string; n: number; reason: string | null }>(`SELECT status, count(*)::int AS n, max(coalesce(reason, last_error)) AS reason FROM batch WHERE source = 'exchange' GROUP BY 1 ORDER BY 1`);
    if (batches.some((b) => b.status !== 'loaded')) evidence.push(`night's batches: ${batches.map((b) => `${b.status} ${b.n}${b.reason ? ` (${b.reason.slice(0, 160)})` : ''}`).join('; ')}`);
  } catch (err) {
    evidence.push(`database unreadable: ${(err as Error).message}`);
  }

  try {
    const issues = await query<{ issues: string }>(`SELECT DISTINCT (payload->'nightIssues')::text AS issues FROM notification WHERE payload ? 'nightIssues' AND payload->'nightIssues' <> 'null'::jsonb`);
    for (const i of issues) notes.push(`the province summary reports nightIssues ${i.issues} (not compared)`);
  } catch {
    // no summary in this version
  }

  const messageIds = setting.sink.received.map((m) => m.messageId ?? '(none)');
  const tCompare = Date.now();
  let tables: TableDiff[] = [];
  let mail: MailDiff | null = null;
  if (options.clean !== undefined) {
    tables = await compareDatabases(options.clean.databaseUrl, databaseUrl);
    mail = compareMail(options.clean.messageIds, messageIds);
  } else {
    mail = compareMail(messageIds, messageIds);
  }
  const lost = tables.reduce((s, t) => s + t.lost, 0) + (mail?.lost ?? 0);
  const doubled = tables.reduce((s, t) => s + t.doubled, 0) + (mail?.doubled ?? 0);
  const differing = tables.reduce((s, t) => s + t.differing, 0) + (options.clean !== undefined ? (mail?.differing ?? 0) : 0);
  const identical = recovered && lost === 0 && doubled === 0 && differing === 0;
  for (const t of tables) {
    if (t.lost + t.doubled + t.differing > 0) evidence.push(`${t.table}: ${t.rows} rows vs ${t.cleanRows} clean; lost ${t.lost}, doubled ${t.doubled}, differing ${t.differing}${t.examples.length > 0 ? ` — ${t.examples.join(' | ')}` : ''}`);
  }
  if (mail !== null && (mail.lost + mail.doubled + (options.clean !== undefined ? mail.differing : 0) > 0)) {
    evidence.push(`e-mails: received ${mail.received}, distinct ${mail.distinct}; ${mail.examples.join(' | ')}`);
    // Each e-mail received twice: when each copy arrived, and what its outbox row says.
    const seenAt = new Map<string, number[]>();
    messageIds.forEach((m, i) => seenAt.set(m, [...(seenAt.get(m) ?? []), i + 1]));
    for (const [m, at] of [...seenAt].filter(([, at]) => at.length > 1).slice(0, 5)) {
      const row = await pool
        .query<{ notification_id: string; dedupe_key: string; status: string; attempts: number }>(`SELECT notification_id::text, dedupe_key, status, attempts FROM notification WHERE message_id = $1`, [m])
        .then((r) => r.rows[0])
        .catch(() => undefined);
      evidence.push(
        `e-mail ${m} arrived as message ${at.join(' and ')} of ${messageIds.length}${receivedAtFault !== undefined ? ` (${receivedAtFault} had arrived when the fault was injected)` : ''}; outbox row ${row ? `#${row.notification_id} ${row.dedupe_key}: ${row.status}, ${row.attempts} attempts` : 'not found'}`,
      );
    }
  }

  await Promise.all(Object.values(queues).map((q) => q.close().catch(() => undefined)));
  await pool.end().catch(() => undefined);
  await redis.stop();
  setting.http.clear();
  setting.sink.faults = {};
  if (setting.sink.port !== 0) await setting.sink.start().catch(() => undefined);

  if (!identical && options.keepLogs !== undefined) {
    const keep = join(options.keepLogs, fault.name);
    mkdirSync(keep, { recursive: true });
    for (const w of [...workers, ...schedulers]) copyFileSync(w.log, join(keep, `${w.name}.log`));
    try {
      copyFileSync(setting.pg.log, join(keep, 'postgres.log'));
    } catch {
      // no server log
    }
  }
  const slow = tables.filter((t) => t.ms >= 1000).map((t) => `${t.table} ${(t.ms / 1000).toFixed(1)} s`);
  const timing = `setup ${((t0 - tSetup) / 1000).toFixed(1)} s, compare ${((Date.now() - tCompare) / 1000).toFixed(1)} s${slow.length > 0 ? `: ${slow.join(', ')}` : ''}`;
  say(`  ${fault.name}: ${recovered ? `complete ${((completedAt! - (injectedAt ?? t0)) / 1000).toFixed(1)} s after ${injectedAt !== undefined ? 'the fault' : 'the start'}` : `NOT complete (${why ?? '?'})`}; night ${nightSeconds.toFixed(1)} s (${timing}); lost ${lost}, doubled ${doubled}, differing ${differing}`);

  return {
    name: fault.name,
    recovered,
    seconds: recovered ? (completedAt! - (injectedAt ?? t0)) / 1000 : null,
    nightSeconds,
    lost,
    doubled,
    differing,
    identical: options.clean === undefined ? recovered : identical,
    tables,
    mail,
    notes,
    evidence,
    messageIds,
    databaseUrl,
    database,
    ...(why !== undefined ? { why } : {}),
  };
}

async function delayedNonRepeat(q: Queue): Promise<number> {
  const delayed = await q.getJobs(['delayed'], 0, 1000);
  return delayed.filter((j) => j.repeatJobKey === undefined && !String(j.id ?? '').startsWith('repeat:')).length;
}

/** One log line (pino JSON or plain text) in a few words. */
function summariseLine(line: string): string {
  try {
    const o = JSON.parse(line) as { msg?: string; err?: { message?: string; type?: string } };
    return `${o.msg ?? ''}${o.err?.message ? `: ${o.err.message}` : ''}`.slice(0, 240);
  } catch {
    return line.slice(0, 240);
  }
}

export function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
