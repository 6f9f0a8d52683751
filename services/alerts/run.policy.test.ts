import { describe, expect, it } from 'vitest';
import { alertsSchema } from '../../config/notify.schema.js';
import type { EmployerExplanation } from '../domain/explanation.js';
import type { StoredAlert } from './alert.row.js';
import type { AlertState, Signal } from './lifecycle.js';
import { chartedEmployers, runNews, summaryRows } from './run.news.js';
import { alertEvents, alertKey, applySignals, calendarDay, changesToTell, dueFollowUps, markNotified, runCounts, type WorkingAlert } from './run.policy.js';
import { citySignal, dataMissing, employerSignals, type CityRiskSignalRow, type EmployerRiskSignalRow } from './run.signals.js';

/** The run policy without a database: alerts in hand, a run's signals, a clock. */

const cfg = alertsSchema.parse({}); // resolve after 3 quiet months, model 2 of 3, remind every 24 h, escalate after 3 days
const HOUR = 3_600_000;
const now = new Date('2026-11-05T02:00:00Z');
const ago = (hours: number): Date => new Date(now.getTime() - hours * HOUR);

const USCC_A = '91510100MA00000011';
const USCC_B = '91510700MA00000022';
const USCC_C = '91510100MA00000033';

const signal = (over: Partial<Signal> = {}): Signal => ({
  subjectType: 'employer', subject: USCC_A, kind: 'layoff', cityCode: '510100', name: '甲公司', level: 2, modelOnly: false, evidence: { bucket: 7, uscc: USCC_A, period: '2026-10' }, ...over,
});

const state = (over: Partial<AlertState> = {}): AlertState => ({
  status: 'open', level: 2, peakLevel: 2, modelOnly: false, recentSignals: 1, firstPeriod: '2026-09', lastPeriod: '2026-09', reopenCount: 0,
  firstNotifiedAt: null, acknowledgedAt: null, acknowledgedBy: null, resolvedAt: null, resolvedBy: null, disposition: null, comment: null,
  openedAt: ago(24 * 30), escalatedAt: null, lastRemindedAt: null, ...over,
});

const stored = (alertId: number, over: Partial<StoredAlert> = {}, s: Partial<AlertState> = {}): StoredAlert => ({
  alertId, subjectType: 'employer', subject: USCC_A, kind: 'layoff', cityCode: '510100', name: '甲公司', state: state(s), evidence: { bucket: 7, uscc: USCC_A, period: '2026-09' }, ...over,
});

const only = <T>(rows: ReadonlyMap<string, T>): T => {
  expect(rows.size).toBe(1);
  return [...rows.values()][0] as T;
};

describe('applySignals', () => {
  it('opens a new alert for a rule hit: raised, told as new, with no id until it is inserted', () => {
    const rows = applySignals([], [signal()], '2026-10', now, cfg);
    const a = only(rows);
    expect(a).toMatchObject({ alertId: null, subjectType: 'employer', subject: USCC_A, kind: 'layoff', cityCode: '510100', name: '甲公司', touched: true, extraEvents: [] });
    expect(a.state).toMatchObject({ status: 'open', level: 2, peakLevel: 2, firstPeriod: '2026-10', lastPeriod: '2026-10', openedAt: now, firstNotifiedAt: null });
    expect(a.step?.change).toBe('new');
    expect(a.step?.events).toEqual([{ action: 'raised', fromStatus: null, toStatus: 'open', fromLevel: null, toLevel: 2 }]);
    expect(a.evidence).toEqual({ bucket: 7, uscc: USCC_A, period: '2026-10' });
    expect([...rows.keys()]).toEqual([`employer/${USCC_A}/layoff`]);
  });

  it('holds a model-only level pending, told to nobody', () => {
    const a = only(applySignals([], [signal({ modelOnly: true })], '2026-10', now, cfg));
    expect(a.state.status).toBe('pending');
    expect(a.step?.change).toBeNull();
    expect(changesToTell(new Map([['k', a]]), [])).toEqual([]);
    expect(runCounts(1, [a])).toEqual({ signals: 1, raised: 1, opened: 0, escalated: 0, resolved: 0, pending: 1 });
  });

  it('escalates an open alert to a more severe level, with the new evidence, and forgets its old notices', () => {
    const before = stored(5, {}, { level: 3, peakLevel: 3, firstNotifiedAt: ago(50), lastRemindedAt: ago(10) });
    const a = only(applySignals([before], [signal({ level: 1, name: '甲公司（新名）' })], '2026-10', now, cfg));
    expect(a.alertId).toBe(5);
    expect(a.touched).toBe(true);
    expect(a.name).toBe('甲公司（新名）');
    expect(a.evidence).toEqual({ bucket: 7, uscc: USCC_A, period: '2026-10' });
    expect(a.step?.change).toBe('escalated');
    expect(a.step?.previousLevel).toBe(3);
    expect(a.state).toMatchObject({ status: 'open', level: 1, peakLevel: 1, lastPeriod: '2026-10', firstNotifiedAt: null, lastRemindedAt: null, escalatedAt: null });
    expect(a.step?.events).toEqual([{ action: 'escalated', fromStatus: 'open', toStatus: 'open', fromLevel: 3, toLevel: 1 }]);
    // The stored alert is left as it was.
    expect(before.state.level).toBe(3);
  });

  it('resolves an open alert after three quiet months; an alert still within them is untouched', () => {
    const quiet = stored(1, {}, { lastPeriod: '2026-07' });
    const recent = stored(2, { subject: USCC_B, cityCode: '510700' }, { lastPeriod: '2026-08' });
    const rows = applySignals([quiet, recent], [], '2026-10', now, cfg);
    const [a, b] = [...rows.values()] as [WorkingAlert, WorkingAlert];
    expect(a.step?.change).toBe('resolved');
    expect(a.state).toMatchObject({ status: 'resolved', resolvedAt: now, resolvedBy: 'system', disposition: '连续 3 个月无预警信号，系统自动解除' });
    expect(a.touched).toBe(true);
    expect(b.step?.change).toBeNull();
    expect(b.touched).toBe(false);
    expect(b.state).toBe(recent.state);
    expect(runCounts(0, [a, b])).toEqual({ signals: 0, raised: 0, opened: 0, escalated: 0, resolved: 1, pending: 0 });
  });

  it('keeps the stored alerts first, then the new ones in signal order, and takes one signal per alert', () => {
    const rows = applySignals(
      [stored(9, { subject: USCC_B, cityCode: '510700' })],
      [signal({ kind: 'crosscheck', level: 4 }), signal({ level: 1 }), signal({ level: 3 })],
      '2026-10',
      now,
      cfg,
    );
    expect([...rows.keys()]).toEqual([`employer/${USCC_B}/layoff`, `employer/${USCC_A}/crosscheck`, `employer/${USCC_A}/layoff`]);
    expect(rows.get(`employer/${USCC_A}/layoff`)?.state.level).toBe(1);
  });

  it('leaves even the evidence of an alert as it was when the signal is for a month it has moved past', () => {
    const before = stored(3, {}, { lastPeriod: '2026-11' });
    const a = only(applySignals([before], [signal({ level: 1 })], '2026-10', now, cfg));
    expect(a.step?.ignored).toBe(true);
    expect(a.touched).toBe(false);
    expect(a.state).toBe(before.state);
    expect(a.evidence).toBe(before.evidence);
  });
});

describe('changesToTell', () => {
  it('tells what an official resolved since the last run, unless this run reopened it', () => {
    const resolved = (id: number, subject: string): StoredAlert =>
      stored(id, { subject }, { status: 'resolved', resolvedAt: ago(5), resolvedBy: '张三', disposition: '误报', lastPeriod: '2026-09' });
    const reopened = resolved(1, USCC_A);
    const quiet = resolved(2, USCC_B);
    const rows = applySignals([reopened], [signal()], '2026-10', now, cfg);
    const changed = changesToTell(rows, [reopened, quiet]);
    expect(changed.map((r) => [r.alertId, r.step?.change])).toEqual([
      [1, 'reopened'],
      [2, 'resolved'],
    ]);
    expect(changed[1]).toMatchObject({ touched: false, extraEvents: [], step: { next: quiet.state, events: [], change: 'resolved', previousLevel: 2 } });
  });
});

describe('dueFollowUps', () => {
  const alerts = (list: StoredAlert[]): WorkingAlert[] => [...applySignals(list, [], '2026-09', now, cfg).values()];

  it('reminds an open Ⅰ/Ⅱ alert a day after its first e-mail, and escalates it to the province after three days', () => {
    const all = alerts([
      stored(1, { subject: 'A' }, { firstNotifiedAt: ago(24) }), // due a reminder, not an escalation
      stored(2, { subject: 'B' }, { firstNotifiedAt: ago(23) }), // not yet
      stored(3, { subject: 'C' }, { firstNotifiedAt: ago(72), lastRemindedAt: ago(2) }), // reminded lately; escalation due
      stored(4, { subject: 'D' }, { firstNotifiedAt: ago(100), lastRemindedAt: ago(30), escalatedAt: ago(28) }), // reminder due; escalated once already
    ]);
    const { toRemind, toEscalate } = dueFollowUps(all, [], now, cfg);
    expect(toRemind.map((r) => r.alertId)).toEqual([1, 4]);
    expect(toEscalate.map((r) => r.alertId)).toEqual([3]);
  });

  it('leaves out what is not an open, sent Ⅰ/Ⅱ employer alert, and what this run tells afresh', () => {
    const old = ago(24 * 10);
    const all = alerts([
      stored(1, { subject: 'A' }, { firstNotifiedAt: old, level: 3, peakLevel: 3 }),
      stored(2, { subject: 'B' }, { firstNotifiedAt: old, status: 'acknowledged', acknowledgedAt: old, acknowledgedBy: '李四' }),
      stored(3, { subject: 'C' }, { firstNotifiedAt: null }),
      stored(4, { subjectType: 'city', subject: '510100', kind: 'systemic' }, { firstNotifiedAt: old }),
      stored(5, { subject: 'E' }, { firstNotifiedAt: old }),
      stored(6, { subject: 'F' }, { firstNotifiedAt: old }),
    ]);
    const e = all.find((r) => r.alertId === 5) as WorkingAlert;
    const escalatedNow = { ...e, step: { next: e.state, events: [], change: 'escalated' as const, previousLevel: 3 as const } };
    const { toRemind, toEscalate } = dueFollowUps(all, [escalatedNow], now, cfg);
    expect(toRemind.map((r) => r.alertId)).toEqual([6]);
    expect(toEscalate.map((r) => r.alertId)).toEqual([6]);
  });
});

describe('markNotified and alertEvents', () => {
  it('stamps the first immediate e-mail, the reminder and the escalation, and writes their history without evidence', () => {
    const rows = applySignals([stored(1, {}, { firstNotifiedAt: ago(80) })], [signal({ subject: USCC_B, cityCode: '510700' })], '2026-10', now, cfg);
    const all = [...rows.values()];
    const [old, fresh] = all as [WorkingAlert, WorkingAlert];
    fresh.alertId = 2;
    const { toRemind, toEscalate } = dueFollowUps(all, changesToTell(rows, []), now, cfg);
    expect(toRemind).toEqual([old]);
    expect(toEscalate).toEqual([old]);
    markNotified(all, new Set([2]), toRemind, toEscalate, now);
    expect(fresh.state.firstNotifiedAt).toBe(now);
    expect(fresh.touched).toBe(true);
    expect(old.state).toMatchObject({ firstNotifiedAt: ago(80), lastRemindedAt: now, escalatedAt: now });
    expect(old.touched).toBe(true);
    expect(alertEvents(all)).toEqual([
      { alertId: 1, action: 'reminded', fromStatus: 'open', toStatus: 'open', fromLevel: 2, toLevel: 2, disposition: null, evidence: null },
      { alertId: 1, action: 'escalated_to_province', fromStatus: 'open', toStatus: 'open', fromLevel: 2, toLevel: 2, disposition: null, evidence: null },
      { alertId: 2, action: 'raised', fromStatus: null, toStatus: 'open', fromLevel: null, toLevel: 2, disposition: null, evidence: fresh.evidence },
    ]);
  });

  it('does not stamp an alert already notified, and keeps a resolution’s disposition on its history row', () => {
    const rows = applySignals([stored(1, {}, { lastPeriod: '2026-06', firstNotifiedAt: ago(500), lastRemindedAt: ago(1) })], [], '2026-10', now, cfg);
    const all = [...rows.values()];
    markNotified(all, new Set([1]), [], [], now);
    const [a] = all as [WorkingAlert];
    expect(a.state.firstNotifiedAt).toEqual(ago(500));
    expect(alertEvents(all)).toEqual([
      { alertId: 1, action: 'resolved', fromStatus: 'open', toStatus: 'resolved', fromLevel: 2, toLevel: 2, disposition: '连续 4 个月无预警信号，系统自动解除', evidence: a.evidence },
    ]);
  });
});

describe('run signals', () => {
  const explanation: EmployerExplanation = {
    reasons: [],
    model: null,
    rules: [
      { rule: 'law41', kind: 'layoff', summary: '本月减员 50 人', window: { from: '2026-10', to: '2026-10' }, numbers: {}, threshold: '', source: '' },
      { rule: 'unreported', kind: 'unreported', summary: '未报告', window: { from: '2026-10', to: '2026-10' }, numbers: {}, threshold: '', source: '' },
      { rule: 'arrears', kind: 'distress', summary: '欠缴', window: { from: '2026-10', to: '2026-10' }, numbers: {}, threshold: '', source: '' },
      { rule: 'headcount_gap', kind: 'crosscheck', summary: '人数不符', window: { from: '2026-10', to: '2026-10' }, numbers: {}, threshold: '', source: '' },
    ],
  };
  const row: EmployerRiskSignalRow = {
    bucket: 7, uscc: USCC_A, name: '甲公司', cityCode: '510100', regionCode: '510104', industryCode: 'C39', workforce: 300, level: 2, ruleLevel: null,
    probability: 0.8, excessSeparations: 45, kinds: ['layoff', 'unreported', 'crosscheck'], explanation,
    separatedMigrant: 12, separatedGraduate: null, jobsAtStakeMigrant: 30.4, jobsAtStakeGraduate: 2,
  };

  it('an employer raises layoff risk, an unreported layoff and a data cross-check, each citing its own findings', () => {
    const out = employerSignals(row, '2026-10');
    expect(out.map((s) => [s.kind, s.level, s.modelOnly])).toEqual([
      ['layoff', 2, true],
      ['unreported', 2, false],
      ['crosscheck', 4, false],
    ]);
    expect(out[0]?.evidence).toEqual({
      bucket: 7, uscc: USCC_A, name: '甲公司', regionCode: '510104', industryCode: 'C39', insured: 300, excessSeparations: 45, probability: 0.8,
      rules: ['law41', 'unreported', 'arrears'], ruleSummaries: ['本月减员 50 人', '未报告', '欠缴'], period: '2026-10',
      migrant: { separated: 12, jobsAtStake: 30.4 }, graduate: { separated: null, jobsAtStake: 2 },
    });
    expect((out[1]?.evidence as { rules: string[] }).rules).toEqual(['law41', 'unreported']);
    expect((out[2]?.evidence as { rules: string[] }).rules).toEqual(['headcount_gap']);
    expect(employerSignals({ ...row, level: null, kinds: ['crosscheck'] }, '2026-10').map((s) => s.kind)).toEqual(['crosscheck']);
  });

  it('a city with a level raises systemic risk with its reasons; one lacking data raises nothing and is reported missing', () => {
    const city: CityRiskSignalRow = {
      cityCode: '510100', level: 2, dataMissing: false, missingFeeds: [], expectedJobLosses: 500, observedLayoffs: 3, uiClaimsRatio: 1.6, surveyedRate: 5.8,
      explanation: { signals: [{ name: 'ui_claims_ratio', value: 1.6, level: 2 }, { name: 'surveyed_rate', value: 5.8, level: null }, { name: 'job_losses', value: null, level: 3 }], missing: [] },
    };
    expect(citySignal(city, '2026-10')).toEqual({
      subjectType: 'city', subject: '510100', kind: 'systemic', cityCode: '510100', name: '成都市', level: 2, modelOnly: false,
      evidence: { expectedJobLosses: 500, observedLayoffs: 3, uiClaimsRatio: 1.6, surveyedRate: 5.8, reasons: ['失业保险新增申领较往年同期：1.6（触发 Ⅱ级）', '预计及已发生失岗：—（触发 Ⅲ级）'], period: '2026-10' },
    });
    const missing = { ...city, cityCode: '510700', dataMissing: true, missingFeeds: ['headcount'] };
    expect(citySignal(missing, '2026-10')).toBeNull();
    expect(citySignal({ ...city, level: null }, '2026-10')).toBeNull();
    expect(dataMissing([city, missing])).toEqual([{ cityCode: '510700', cityName: '绵阳市', feeds: ['headcount'] }]);
  });
});

describe('run news', () => {
  it('counts open employer alerts per city for the province summary and groups reminders by city', () => {
    const rows = applySignals(
      [stored(1, {}, { firstNotifiedAt: ago(30) }), stored(2, { subject: USCC_B, cityCode: '510700' }, { status: 'acknowledged', level: 3, peakLevel: 3 })],
      [signal({ subject: USCC_C, level: 1, evidence: { bucket: 9, uscc: USCC_C, period: '2026-09' } }), signal({ subjectType: 'city', subject: '510100', kind: 'systemic', level: 3, evidence: { reasons: [] } })],
      '2026-09',
      now,
      cfg,
    );
    let id = 10;
    for (const r of rows.values()) r.alertId ??= id++;
    const all = [...rows.values()];
    const changed = changesToTell(rows, []);
    const { toRemind, toEscalate } = dueFollowUps(all, changed, now, cfg);
    expect(chartedEmployers([changed, toRemind, toEscalate])).toEqual([
      { bucket: 9, uscc: USCC_C },
      { bucket: 7, uscc: USCC_A },
    ]);
    const news = runNews({ runId: 4, period: '2026-09', day: '2026-11-05', now, all, changed, toRemind, toEscalate, series: new Map(), dataMissing: [], failedDeliveries: 2 });
    expect(news.employers.map((e) => [e.alertId, e.change, e.level])).toEqual([[10, 'new', 1]]);
    expect(news.cities.map((c) => [c.alertId, c.change, c.level])).toEqual([[11, 'new', 3]]);
    expect(news.cityCodes).toEqual(['510100']);
    expect(news.reminders).toEqual([{ cityCode: '510100', alerts: [expect.objectContaining({ alertId: 1, change: 'unacknowledged', unacknowledgedDays: 1 })] }]);
    expect(news.escalations).toEqual([]);
    expect(news.failedDeliveries).toBe(2);
    const chengdu = summaryRows(all, changed.filter((r) => r.subjectType === 'employer'), ['510700']).filter((r) => r.cityCode === '510100' || r.cityCode === '510700');
    expect(chengdu).toEqual([
      { cityCode: '510100', cityName: '成都市', levels: { '1': 1, '2': 1, '3': 0, '4': 0 }, unacknowledged: 2, newToday: 1, systemicLevel: 3, dataMissing: false },
      { cityCode: '510700', cityName: '绵阳市', levels: { '1': 0, '2': 0, '3': 1, '4': 0 }, unacknowledged: 0, newToday: 0, systemicLevel: null, dataMissing: true },
    ]);
  });

  it('keys the once-a-day e-mails by the calendar day in the configured time zone', () => {
    expect(calendarDay(new Date('2026-11-04T17:00:00Z'), 'Asia/Shanghai')).toBe('2026-11-05');
    expect(calendarDay(new Date('2026-11-04T15:59:59Z'), 'Asia/Shanghai')).toBe('2026-11-04');
    expect(alertKey({ subjectType: 'city', subject: '510100', kind: 'systemic' })).toBe('city/510100/systemic');
  });
});
