import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CITIES } from '../config/cities.js';
import { configSchema, type Config } from '../config/config.schema.js';
import { AlertRepository } from '../services/alerts/alert.repository.js';
import { deliverPending } from '../services/notify/deliver.js';
import { openTransport } from '../services/notify/transport.js';
import { processRun } from '../services/alerts/alert.service.js';
import type { Database } from '../services/db/database.js';
import { resetAlertTables, seedHistory, seedRun, sendOutbox, type SeedEmployer } from './harness/alerts.js';
import { createTestDatabase } from './harness/db.js';
import { uscc } from './harness/feed-source.js';
import { captureLogger } from './harness/log.js';
import { startSmtpSink, type SmtpSink } from './harness/smtp.js';

let database: Database;
let sink: SmtpSink;
let config: Config;
const log = captureLogger().log;

const dept = (code: string): string => `dept-${code}@city.example`;
const DIGEST_READER = 'digest-reader@chengdu.example';
const PROVINCE = 'office@province.example';

beforeAll(async () => {
  database = await createTestDatabase();
  sink = await startSmtpSink();
  config = configSchema.parse({
    notify: {
      smtpUrl: sink.url,
      consoleUrl: 'https://ews.example.gov.cn',
      cities: Object.fromEntries(
        CITIES.map((c) => [c.code, [{ email: dept(c.code) }, ...(c.code === '510100' ? [{ email: DIGEST_READER, mode: 'digest' }] : [])]]),
      ),
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

const send = (leaseMs = 120_000) => sendOutbox(database, config.notify, log, leaseMs);

const notifications = () => database.db.selectFrom('notification').selectAll().orderBy('notification_id').execute();

describe('alerts from a scoring run', () => {
  it('one alert per employer and kind; processing the same run again raises and sends nothing more', async () => {
    const run = await seedRun(database, '2026-10', [
      { serial: 1, level: 2, kinds: ['layoff', 'unreported'], rules: ['law41', 'unreported'] },
      { serial: 2, level: 3 },
      { serial: 3, level: 4, kinds: ['distress'], rules: ['arrears'] },
      { serial: 4, level: null, kinds: ['crosscheck'], rules: ['crosscheck'] },
      { serial: 5, level: null },
    ]);
    const first = await processRun(deps(), run);
    expect(first).toMatchObject({ alreadyProcessed: false, opened: 5 });
    const alerts = await database.db.selectFrom('alert').select(['subject', 'kind', 'status', 'level']).orderBy('subject').orderBy('kind').execute();
    expect(alerts).toEqual([
      { subject: uscc(1), kind: 'layoff', status: 'open', level: 2 },
      { subject: uscc(1), kind: 'unreported', status: 'open', level: 2 },
      { subject: uscc(2), kind: 'layoff', status: 'open', level: 3 },
      { subject: uscc(3), kind: 'layoff', status: 'open', level: 4 },
      { subject: uscc(4), kind: 'crosscheck', status: 'open', level: 4 },
    ]);
    const again = await processRun(deps(), run);
    expect(again.alreadyProcessed).toBe(true);
    expect(await database.db.selectFrom('alert').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).toEqual({ n: 5 });
    expect((await notifications()).length).toBe(first.notifications.length);
  });

  it('the history is append-only', async () => {
    const run = await seedRun(database, '2026-10', [{ serial: 1, level: 3 }]);
    await processRun(deps(), run);
    await expect(sql`UPDATE alert_event SET actor = 'someone else'`.execute(database.db)).rejects.toThrow('alert_event is append-only: UPDATE refused');
    await expect(sql`DELETE FROM alert_event`.execute(database.db)).rejects.toThrow('alert_event is append-only: DELETE refused');
  });

  it('ack and resolve record who and why; the next run reports the resolution in the digest', async () => {
    const run = await seedRun(database, '2026-10', [{ serial: 1, level: 3 }, { serial: 2, level: 3 }]);
    await processRun(deps(), run);
    const repo = new AlertRepository(database);
    const [a] = await repo.list({ status: 'open', limit: 1 });
    await repo.acknowledge(a!.alert_id, '张科长', '已联系企业');
    await expect(repo.resolve(a!.alert_id, '张科长', '没有这种处置', null)).rejects.toThrow(/--disposition must be one of 核实为规模裁员/);
    await repo.resolve(a!.alert_id, '张科长', '已采取稳岗措施', '落实稳岗返还');
    const shown = await repo.show(a!.alert_id);
    expect(shown?.history.map((h) => [h.action, h.actor])).toEqual([['raised', 'system'], ['acknowledged', '张科长'], ['resolved', '张科长']]);

    await send();
    sink.received.length = 0;
    const next = await seedRun(database, '2026-10', [{ serial: 2, level: 3 }]);
    await processRun(deps(), next);
    const digests = (await notifications()).filter((n) => n.run_id === next && n.kind === 'digest' && n.recipient === dept('510100'));
    expect(digests).toHaveLength(1);
    const payload = digests[0]!.payload as { employers: { alertId: number; change: string; disposition: string | null; resolvedBy: string | null }[] };
    expect(payload.employers).toEqual([expect.objectContaining({ alertId: a!.alert_id, change: 'resolved', disposition: '已采取稳岗措施', resolvedBy: '张科长' })]);
  });
});

describe('e-mail over a real SMTP server', () => {
  it('Ⅰ/Ⅱ go at once, one e-mail per recipient and city, with the chart inline; Ⅲ/Ⅳ in one digest; nothing twice', async () => {
    await seedHistory(database, 1, '2026-10');
    const run = await seedRun(
      database,
      '2026-10',
      [
        { serial: 1, level: 2, kinds: ['layoff', 'unreported'], rules: ['law41', 'unreported'], name: '<script>alert(1)</script>成都某厂' },
        { serial: 2, level: 2, name: `恶意\r\nBcc: evil@example.com${'长'.repeat(200)}` },
        { serial: 3, level: 3 },
        { serial: 4, level: 3, city: '510700' },
      ],
      [{ code: '511900', level: null, dataMissing: true }],
    );
    const raised = await processRun(deps(), run);
    const rows = await notifications();
    expect(rows.map((r) => `${r.kind} ${r.city_code ?? '-'} ${r.recipient}`).sort()).toEqual(
      [
        `immediate 510100 ${dept('510100')}`,
        `immediate 510100 ${PROVINCE}`,
        `digest 510100 ${dept('510100')}`,
        `digest 510100 ${DIGEST_READER}`,
        `digest 510700 ${dept('510700')}`,
        `digest 511900 ${dept('511900')}`,
        `summary - ${PROVINCE}`,
      ].sort(),
    );
    expect(raised.notifications).toHaveLength(rows.length);

    const out = await send();
    expect(out).toEqual({ sent: rows.length, failed: 0, deferred: 0 });
    const mails = await sink.waitFor(rows.length);
    expect(new Set(mails.map((m) => m.messageId)).size).toBe(rows.length);
    expect(mails.map((m) => m.messageId).sort()).toEqual(rows.map((r) => r.message_id).sort());

    const urgent = mails.find((m) => m.envelopeTo.includes(dept('510100')) && m.subject?.includes('Ⅱ级'));
    expect(urgent?.subject).toBe('【规模裁员预警·Ⅱ级】成都市：2家企业');
    expect(urgent?.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;成都某厂');
    expect(urgent?.html).not.toContain('<script>');
    expect(urgent?.text).toContain(uscc(2));
    expect(urgent?.headers.get('bcc')).toBeUndefined();
    expect(urgent?.envelopeTo).toEqual([dept('510100')]);
    // The employer with history gets a chart: a PNG inline, referenced by cid.
    const chart = urgent?.attachments.find((a) => a.contentType === 'image/png');
    expect(chart?.content.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(urgent?.html).toContain(`cid:${chart?.cid}`);

    const missing = mails.find((m) => m.envelopeTo.includes(dept('511900')));
    expect(missing?.text).toContain('数据缺失');

    expect(await send()).toEqual({ sent: 0, failed: 0, deferred: 0 });
    expect(sink.received).toHaveLength(rows.length);
  });

  it('one bad recipient fails alone, marked for ops; the others are delivered', async () => {
    sink.faults = { rejectRecipients: [PROVINCE] };
    const run = await seedRun(database, '2026-10', [{ serial: 1, level: 1 }]);
    await processRun(deps(), run);
    const out = await send();
    const rows = await notifications();
    expect(out.failed).toBe(2); // the province's immediate e-mail and its summary
    expect(out.sent).toBe(rows.length - 2);
    const failed = rows.filter((r) => r.status === 'failed');
    expect(failed.map((r) => r.recipient)).toEqual([PROVINCE, PROVINCE]);
    expect(failed[0]?.last_error).toMatch(/^SMTP 550: /);
    expect(sink.received.every((m) => !m.envelopeTo.includes(PROVINCE))).toBe(true);
    expect(await send()).toEqual({ sent: 0, failed: 0, deferred: 0 });
  });

  it('the server down during the run and back later: every e-mail delivered exactly once', async () => {
    const run = await seedRun(database, '2026-10', [{ serial: 1, level: 2 }, { serial: 2, level: 3, city: '510700' }]);
    await processRun(deps(), run);
    const count = (await notifications()).length;
    await sink.stop();
    const down = await send();
    expect(down).toEqual({ sent: 0, failed: 0, deferred: count });
    expect((await notifications()).every((n) => n.status === 'pending' && n.attempts === 1 && n.last_error !== null)).toBe(true);
    await sink.start();
    expect(await send()).toEqual({ sent: count, failed: 0, deferred: 0 });
    expect(sink.received).toHaveLength(count);
    expect(new Set(sink.received.map((m) => m.messageId)).size).toBe(count);
  });

  it('2,000 alerts in one night for one city: one digest per recipient, not 2,000 e-mails', async () => {
    const employers: SeedEmployer[] = Array.from({ length: 2000 }, (_, i) => ({ serial: 10_000 + i, level: i % 2 === 0 ? 3 : 4 }));
    const run = await seedRun(database, '2026-10', employers);
    const result = await processRun(deps(), run);
    expect(result.opened).toBe(2000);
    const rows = await notifications();
    expect(rows.map((r) => `${r.kind} ${r.recipient}`).sort()).toEqual([`digest ${DIGEST_READER}`, `digest ${dept('510100')}`, `summary ${PROVINCE}`].sort());
    await send();
    const digest = sink.received.find((m) => m.envelopeTo.includes(dept('510100')));
    expect(digest?.subject).toBe('【规模裁员预警·日报】成都市 2026-10：Ⅲ级 1000家、Ⅳ级 1000家');
  });
});

describe('reminders, escalation and confirmation across runs', () => {
  it('an unacknowledged Ⅱ alert is re-sent a day later and escalated to the province after the configured days', async () => {
    const t0 = new Date('2026-11-03T02:00:00Z');
    const hours = (h: number): Date => new Date(t0.getTime() + h * 3_600_000);
    await processRun(deps(), await seedRun(database, '2026-10', [{ serial: 1, level: 2 }]), { now: t0 });
    const kinds = async (run: number) => (await notifications()).filter((n) => n.run_id === run).map((n) => `${n.kind} ${n.recipient}`).sort();

    // The same month again the same day (t0 is 10:00 in Sichuan): nothing due, nothing new, not even the summary.
    const night2 = await seedRun(database, '2026-10', [{ serial: 1, level: 2 }]);
    await processRun(deps(), night2, { now: hours(12) });
    expect(await kinds(night2)).toEqual([]);

    const night3 = await seedRun(database, '2026-10', [{ serial: 1, level: 2 }]);
    await processRun(deps(), night3, { now: hours(25) });
    expect(await kinds(night3)).toEqual([`reminder ${DIGEST_READER}`, `reminder ${dept('510100')}`, `summary ${PROVINCE}`].sort());

    const night4 = await seedRun(database, '2026-10', [{ serial: 1, level: 2 }]);
    await processRun(deps(), night4, { now: hours(73) });
    expect(await kinds(night4)).toEqual([`escalation ${PROVINCE}`, `reminder ${DIGEST_READER}`, `reminder ${dept('510100')}`, `summary ${PROVINCE}`].sort());
    const night5 = await seedRun(database, '2026-10', [{ serial: 1, level: 2 }]);
    await processRun(deps(), night5, { now: hours(80) });
    // Escalated once only; no reminder within the day; the day's summary went with night 4.
    expect(await kinds(night5)).toEqual([]);

    // Acknowledged: no more reminders.
    const [a] = await new AlertRepository(database).list({ status: 'open' });
    await new AlertRepository(database).acknowledge(a!.alert_id, '王处长', null);
    const night6 = await seedRun(database, '2026-10', [{ serial: 1, level: 2 }]);
    await processRun(deps(), night6, { now: hours(110) });
    expect(await kinds(night6)).toEqual([`summary ${PROVINCE}`]);
    const history = (await new AlertRepository(database).show(a!.alert_id))?.history.map((h) => h.action);
    expect(history).toEqual(['raised', 'reminded', 'reminded', 'escalated_to_province', 'acknowledged']);
  });

  it('a model-only Ⅱ alert is sent only once a second month confirms it, not a second run of the same month', async () => {
    const modelOnly = { serial: 1, level: 2 as const, ruleLevel: null, kinds: [], rules: [], probability: 0.86 };
    const r1 = await processRun(deps(), await seedRun(database, '2026-10', [modelOnly]));
    expect(r1).toMatchObject({ opened: 0, pending: 1 });
    expect((await notifications()).filter((n) => n.kind === 'immediate')).toEqual([]);
    const r2 = await processRun(deps(), await seedRun(database, '2026-10', [modelOnly]));
    expect(r2).toMatchObject({ opened: 0, pending: 1 });
    expect((await notifications()).filter((n) => n.kind === 'immediate')).toEqual([]);
    const r3 = await processRun(deps(), await seedRun(database, '2026-11', [modelOnly]));
    expect(r3).toMatchObject({ opened: 1, pending: 0 });
    expect((await notifications()).filter((n) => n.kind === 'immediate').map((n) => n.recipient).sort()).toEqual([PROVINCE, dept('510100')].sort());
  });

  it('quiet months resolve an alert; firing again reopens the same alert with its history', async () => {
    await processRun(deps(), await seedRun(database, '2026-06', [{ serial: 1, level: 3 }]));
    for (const p of ['2026-07', '2026-08']) await processRun(deps(), await seedRun(database, p, []));
    expect((await new AlertRepository(database).list())[0]?.status).toBe('open');
    await processRun(deps(), await seedRun(database, '2026-09', []));
    const [resolved] = await new AlertRepository(database).list();
    expect(resolved).toMatchObject({ status: 'resolved', resolved_by: 'system' });
    await processRun(deps(), await seedRun(database, '2026-10', [{ serial: 1, level: 2 }]));
    const [back] = await new AlertRepository(database).list();
    expect(back).toMatchObject({ alert_id: resolved!.alert_id, status: 'open', level: 2, reopen_count: 1 });
    expect((await new AlertRepository(database).show(back!.alert_id))?.history.map((h) => h.action)).toEqual(['raised', 'resolved', 'reopened']);
  });
});

describe('without SMTP_URL', () => {
  it('writes each e-mail once as <Message-ID>.eml under the outbox, through the same delivery code', async () => {
    const outboxDir = mkdtempSync(join(tmpdir(), 'ews-outbox-'));
    const fileConfig = configSchema.parse({ notify: { ...config.notify, smtpUrl: undefined, outboxDir } });
    await processRun({ database, alerts: fileConfig.alerts, notify: fileConfig.notify, log }, await seedRun(database, '2026-10', [{ serial: 1, level: 2 }]));
    const transport = openTransport(fileConfig.notify);
    expect(transport.kind).toBe('file');
    const out = await deliverPending({ database, transport, log, leaseMs: 60_000 });
    const rows = await notifications();
    expect(out).toEqual({ sent: rows.length, failed: 0, deferred: 0 });
    const files = readdirSync(outboxDir).sort();
    expect(files).toEqual(rows.map((r) => `${r.message_id.replace(/[<>]/g, '')}.eml`).sort());
    const parsed = await simpleParser(readFileSync(join(outboxDir, files.find((f) => rows.find((r) => r.kind === 'immediate' && f.startsWith(r.message_id.slice(1, 20))))!)));
    expect(parsed.subject).toBe('【规模裁员预警·Ⅱ级】成都市：1家企业');
    expect(parsed.text).toContain(uscc(1));
    expect(await deliverPending({ database, transport, log, leaseMs: 60_000 })).toEqual({ sent: 0, failed: 0, deferred: 0 });
    expect(readdirSync(outboxDir)).toHaveLength(rows.length);
    transport.close();
  });
});
