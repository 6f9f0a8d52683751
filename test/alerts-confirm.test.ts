import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CITIES } from '../config/cities.js';
import { configSchema, type Config } from '../config/config.schema.js';
import { AlertRepository } from '../services/alerts/alert.repository.js';
import { processRun } from '../services/alerts/alert.service.js';
import type { Database } from '../services/db/database.js';
import { resetAlertTables, seedRun, sendOutbox, type SeedEmployer } from './harness/alerts.js';
import { createTestDatabase } from './harness/db.js';
import { uscc } from './harness/feed-source.js';
import { captureLogger } from './harness/log.js';
import { startSmtpSink, type SmtpSink } from './harness/smtp.js';

/**
 * Confirmation counts months, not runs: the nightly job scores the same
 * month every night until the next month's feeds land, and `ews nightly
 * --period` reruns one. Each of those is a new scoring run; none of them
 * may confirm a model-only alert, change an alert or queue an e-mail.
 */

let database: Database;
let sink: SmtpSink;
let config: Config;
const log = captureLogger().log;

const dept = (code: string): string => `dept-${code}@city.example`;
const PROVINCE = 'office@province.example';

/** 10:00 in Sichuan; the reruns below are within the same day there. */
const t0 = new Date('2026-11-03T02:00:00Z');
const at = (hours: number): Date => new Date(t0.getTime() + hours * 3_600_000);

beforeAll(async () => {
  database = await createTestDatabase();
  sink = await startSmtpSink();
  config = configSchema.parse({
    notify: {
      smtpUrl: sink.url,
      cities: Object.fromEntries(CITIES.map((c) => [c.code, [{ email: dept(c.code) }]])),
      province: [{ email: PROVINCE, levels: [1, 2] }],
    },
  });
});

afterAll(async () => {
  await sink.close();
  await database.close();
});

beforeEach(async () => {
  await resetAlertTables(database);
  sink.received.length = 0;
  sink.faults = {};
});

const deps = () => ({ database, alerts: config.alerts, notify: config.notify, log });

async function counts(): Promise<{ alerts: number; events: number; notifications: number }> {
  const n = async (table: 'alert' | 'alert_event' | 'notification'): Promise<number> =>
    (await database.db.selectFrom(table).select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n;
  return { alerts: await n('alert'), events: await n('alert_event'), notifications: await n('notification') };
}

/** Every alert row as stored, last_run_id and updated_at included. */
const alertRows = () => database.db.selectFrom('alert').selectAll().orderBy('alert_id').execute();

const queued = async (runId: number): Promise<string[]> =>
  (await database.db.selectFrom('notification').select(['kind', 'city_code', 'recipient']).where('run_id', '=', runId).execute())
    .map((n) => `${n.kind} ${n.city_code ?? '-'} ${n.recipient}`)
    .sort();

const send = () => sendOutbox(database, config.notify, log, 60_000);

const modelOnly: SeedEmployer = { serial: 1, level: 2, ruleLevel: null, kinds: [], rules: [], probability: 0.86 };
const ruleHit: SeedEmployer = { serial: 2, level: 3 };

describe('model-only confirmation counts months', () => {
  it('two runs of the same month: the second changes no alert, writes no history and queues no e-mail; the next month confirms', async () => {
    const first = await processRun(deps(), await seedRun(database, '2026-10', [modelOnly, ruleHit]), { now: at(0) });
    expect(first).toMatchObject({ alreadyProcessed: false, raised: 2, opened: 1, pending: 1 });
    const afterFirst = await counts();
    expect(afterFirst).toEqual({ alerts: 2, events: 2, notifications: 2 }); // the Ⅲ digest and the province summary
    const rowsAfterFirst = await alertRows();
    expect(await send()).toEqual({ sent: 2, failed: 0, deferred: 0 });

    // `ews nightly --period 2026-10` again: a new scoring run of the same month, the same results.
    const rerun = await seedRun(database, '2026-10', [modelOnly, ruleHit]);
    const second = await processRun(deps(), rerun, { now: at(1) });
    expect(second).toMatchObject({ runId: rerun, alreadyProcessed: false, raised: 0, opened: 0, escalated: 0, resolved: 0, pending: 1, notifications: [] });
    expect(await counts()).toEqual(afterFirst);
    expect(await queued(rerun)).toEqual([]);
    expect(await alertRows()).toEqual(rowsAfterFirst);
    expect(await send()).toEqual({ sent: 0, failed: 0, deferred: 0 });
    expect(sink.received).toHaveLength(2);

    // And a third time, later the same day: still nothing.
    const third = await processRun(deps(), await seedRun(database, '2026-10', [modelOnly, ruleHit]), { now: at(5) });
    expect(third.notifications).toEqual([]);
    expect(await counts()).toEqual(afterFirst);
    expect(await alertRows()).toEqual(rowsAfterFirst);

    // November flags it again: 2 of the last 3 months. It opens, and exactly its Ⅱ e-mails go (and the day's summary of November).
    const november = await seedRun(database, '2026-11', [modelOnly]);
    const confirmed = await processRun(deps(), november, { now: at(6) });
    expect(confirmed).toMatchObject({ opened: 1, pending: 0, raised: 0, resolved: 0 });
    expect(await queued(november)).toEqual([`immediate 510100 ${dept('510100')}`, `immediate 510100 ${PROVINCE}`, `summary - ${PROVINCE}`].sort());
    expect(confirmed.notifications).toHaveLength(3);
    expect(await counts()).toEqual({ alerts: 2, events: 3, notifications: 5 });
    const [pendingThenOpen] = await new AlertRepository(database).list({ status: 'open', maxLevel: 2 });
    expect(pendingThenOpen).toMatchObject({ subject: uscc(1), first_period: '2026-10-01', last_period: '2026-11-01', model_only: true });
    expect((await new AlertRepository(database).show(pendingThenOpen!.alert_id))?.history.map((h) => [h.action, h.period])).toEqual([
      ['raised', '2026-10-01'],
      ['confirmed', '2026-11-01'],
    ]);
    expect(await send()).toEqual({ sent: 3, failed: 0, deferred: 0 });
    expect(sink.received).toHaveLength(5);

    // November scored again the same day: the confirmed alert is not news twice.
    const again = await processRun(deps(), await seedRun(database, '2026-11', [modelOnly]), { now: at(7) });
    expect(again.notifications).toEqual([]);
    expect(await counts()).toEqual({ alerts: 2, events: 3, notifications: 5 });
  });

  it('a month with no run between two flagged months is quiet, and 2 of those 3 months confirm', async () => {
    await processRun(deps(), await seedRun(database, '2026-09', [modelOnly]), { now: at(0) });
    for (let i = 1; i <= 3; i++) await processRun(deps(), await seedRun(database, '2026-09', []), { now: at(i) });
    expect((await alertRows()).map((a) => a.status)).toEqual(['pending']);
    const november = await seedRun(database, '2026-11', [modelOnly]);
    expect(await processRun(deps(), november, { now: at(24) })).toMatchObject({ opened: 1 });
    expect(await queued(november)).toEqual([`immediate 510100 ${dept('510100')}`, `immediate 510100 ${PROVINCE}`, `summary - ${PROVINCE}`].sort());
  });

  it('a rescore of an older month after a newer one raises, opens and sends nothing', async () => {
    await processRun(deps(), await seedRun(database, '2026-11', [modelOnly]), { now: at(0) });
    const before = await counts();
    const rowsBefore = await alertRows();
    const october = await seedRun(database, '2026-10', [modelOnly, { serial: 3, level: 1 }]);
    expect(await processRun(deps(), october, { now: at(1) })).toMatchObject({ raised: 0, opened: 0, pending: 0, notifications: [] });
    expect(await counts()).toEqual(before);
    expect(await alertRows()).toEqual(rowsBefore);
    // November is still the only month counted: December is its second.
    expect(await processRun(deps(), await seedRun(database, '2026-12', [modelOnly]), { now: at(2) })).toMatchObject({ opened: 1 });
  });

  it('an alert an official resolved is not reopened by its month scored again, only by the next month', async () => {
    const rule: SeedEmployer = { serial: 4, level: 2 };
    await processRun(deps(), await seedRun(database, '2026-10', [rule]), { now: at(0) });
    const repo = new AlertRepository(database);
    const [a] = await repo.list({ status: 'open' });
    await repo.resolve(a!.alert_id, '张科长', '误报', '核实为正常人员流动');
    const sameMonth = await seedRun(database, '2026-10', [rule]);
    await processRun(deps(), sameMonth, { now: at(30) });
    expect((await alertRows()).map((r) => [r.status, r.disposition])).toEqual([['resolved', '误报']]);
    // The official's resolution is reported once (the digest); nothing reopens.
    expect(await queued(sameMonth)).toEqual([`digest 510100 ${dept('510100')}`, `summary - ${PROVINCE}`].sort());
    const november = await seedRun(database, '2026-11', [rule]);
    expect(await processRun(deps(), november, { now: at(31) })).toMatchObject({ opened: 1 });
    expect((await repo.show(a!.alert_id))?.history.map((h) => h.action)).toEqual(['raised', 'resolved', 'reopened']);
  });
});
