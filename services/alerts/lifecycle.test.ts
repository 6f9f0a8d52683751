import { describe, expect, it } from 'vitest';
import { alertsSchema } from '../../config/notify.schema.js';
import { acknowledge, AlertTransitionError, raise, resolveByOfficial, signalsAt, withoutSignal, withSignal, type AlertState, type Signal, type Step } from './lifecycle.js';

const cfg = alertsSchema.parse({});
const now = new Date('2026-11-03T02:00:00Z');
const later = new Date('2026-11-04T02:00:00Z');

const signal = (over: Partial<Signal> = {}): Signal => ({
  subjectType: 'employer', subject: '91510100MA61234567', kind: 'layoff', cityCode: '510100', name: '某公司', level: 3, modelOnly: false, evidence: {}, ...over,
});

function run(state: AlertState, signals: (Signal | null)[], periods: string[]): AlertState {
  let s = state;
  signals.forEach((sig, i) => {
    s = sig ? withSignal(s, sig, periods[i] as string, later, cfg).next : withoutSignal(s, periods[i] as string, later, cfg).next;
  });
  return s;
}

/** Runs in the order given, each 'YYYY-MM' with a model-only signal or '-YYYY-MM' without one; every step, starting with the raise. */
function months(runs: string[], sig: Signal = signal({ modelOnly: true })): Step[] {
  const [head, ...rest] = runs;
  const steps: Step[] = [raise(sig, head as string, now, cfg)];
  for (const r of rest) {
    const prev = (steps[steps.length - 1] as Step).next;
    steps.push(r.startsWith('-') ? withoutSignal(prev, r.slice(1), later, cfg) : withSignal(prev, sig, r, later, cfg));
  }
  return steps;
}
const last = (steps: Step[]): Step => steps[steps.length - 1] as Step;

describe('alert lifecycle', () => {
  it('a rule hit opens at once and is news; the same level next night is not news', () => {
    const first = raise(signal(), '2026-10', now, cfg);
    expect(first.next.status).toBe('open');
    expect(first.change).toBe('new');
    const again = withSignal(first.next, signal(), '2026-10', later, cfg);
    expect(again.change).toBeNull();
    expect(again.events).toEqual([]);
  });

  it('a model-only alert waits until a second month within three flags it, then opens', () => {
    const steps = months(['2026-10', '-2026-11', '2026-12']);
    expect(steps[0]?.next.status).toBe('pending');
    expect(steps[0]?.change).toBeNull();
    expect(steps[1]?.next.status).toBe('pending');
    expect(steps[1]?.events).toEqual([]);
    expect(last(steps).next).toMatchObject({ status: 'open', lastPeriod: '2026-12', recentSignals: 0b101 });
    expect(last(steps).change).toBe('new');
    expect(last(steps).events.map((e) => e.action)).toEqual(['confirmed']);
    // Two months in a row confirm as well.
    expect(last(months(['2026-10', '2026-11'])).change).toBe('new');
  });

  it('the same month scored again does not confirm, changes nothing and is not news', () => {
    const first = raise(signal({ modelOnly: true }), '2026-10', now, cfg);
    let s = first.next;
    for (let i = 0; i < 4; i++) {
      const again = withSignal(s, signal({ modelOnly: true }), '2026-10', later, cfg);
      expect(again).toMatchObject({ events: [], change: null });
      expect(again.next).toEqual(first.next);
      const quiet = withoutSignal(again.next, '2026-10', later, cfg);
      expect(quiet).toMatchObject({ events: [], change: null });
      s = quiet.next;
    }
    expect(s).toEqual(first.next);
    // … and the next month confirms it as if the reruns had not been.
    expect(withSignal(s, signal({ modelOnly: true }), '2026-11', later, cfg)).toMatchObject({ change: 'new', next: { status: 'open' } });
    // An open alert's month scored again at the same level: nothing, not even a history line.
    const open = raise(signal(), '2026-10', now, cfg).next;
    const rerun = withSignal(open, signal(), '2026-10', later, cfg);
    expect(rerun).toMatchObject({ events: [], change: null });
    expect(rerun.next).toEqual(open);
  });

  it('a rescore of the same month that differs is news as on any run: a rule hit opens, a higher level escalates', () => {
    const pending = raise(signal({ modelOnly: true, level: 3 }), '2026-10', now, cfg).next;
    expect(withSignal(pending, signal({ level: 3 }), '2026-10', later, cfg)).toMatchObject({ change: 'new', next: { status: 'open' } });
    const open = raise(signal({ level: 3 }), '2026-10', now, cfg).next;
    expect(withSignal(open, signal({ level: 2 }), '2026-10', later, cfg)).toMatchObject({ change: 'escalated', next: { level: 2 } });
  });

  it('a gap month counts: a month between two flagged ones is quiet, three months apart is too far', () => {
    // Flagged in October and December: 2 of the 3 months October–December.
    expect(last(months(['2026-10', '2026-12'])).change).toBe('new');
    // No run at all in November counts the same as a run without a signal.
    expect(last(months(['2026-10', '-2026-11', '2026-12'])).next.status).toBe('open');
    // October and January are 4 months: January alone is in the window, so it waits again (October never lapsed: no run without a signal ended it).
    const jan = last(months(['2026-10', '2027-01']));
    expect(jan).toMatchObject({ events: [], change: null, next: { status: 'pending', lastPeriod: '2027-01', recentSignals: 1, reopenCount: 0 } });
    // October and February: as in order, October's alert lapsed in January, and February reopens it, pending.
    const far = last(months(['2026-10', '2027-02']));
    expect(far.next).toMatchObject({ status: 'pending', lastPeriod: '2027-02', recentSignals: 1, reopenCount: 1 });
    expect(far.events.map((e) => e.action)).toEqual(['lapsed', 'reopened']);
    expect(far.change).toBeNull();
    expect(signalsAt(far.next, '2027-03', cfg)).toBe(0b10);
  });

  it('a model-only alert with no flagged month left in the window lapses without a word, counted in months not runs', () => {
    const steps = months(['2026-10', '-2026-10', '-2026-11', '-2026-11', '-2026-12', '-2026-12']);
    expect(steps.slice(1).every((s) => s.next.status === 'pending' && s.events.length === 0 && s.next === steps[0]?.next)).toBe(true);
    const step = withoutSignal(last(steps).next, '2027-01', later, cfg);
    expect(step.next.status).toBe('resolved');
    expect(step.events[0]?.action).toBe('lapsed');
    expect(step.change).toBeNull();
    // A month skipped altogether: the next run ends it all the same.
    expect(withoutSignal(steps[0]!.next, '2027-03', later, cfg).events.map((e) => e.action)).toEqual(['lapsed']);
  });

  it('an older month after a newer one changes nothing: the window does not move back and nothing opens', () => {
    // December flagged; a backfill of October (which in order would have been before it) comes after.
    const dec = raise(signal({ modelOnly: true }), '2026-12', now, cfg);
    const oct = withSignal(dec.next, signal({ modelOnly: true }), '2026-10', later, cfg);
    expect(oct).toMatchObject({ events: [], change: null, ignored: true });
    expect(oct.next).toEqual(dec.next);
    expect(withoutSignal(dec.next, '2026-11', later, cfg).next).toEqual(dec.next);
    // Only December counts (in order, October then December would have opened it; a late October opens nothing): January is the second month.
    expect(withSignal(oct.next, signal({ modelOnly: true }), '2027-01', later, cfg).change).toBe('new');
    expect(signalsAt(oct.next, '2027-01', cfg)).toBe(0b10);
    // An open alert is not escalated, resolved or given older evidence by an older month.
    const open = raise(signal({ level: 3 }), '2026-12', now, cfg).next;
    expect(withSignal(open, signal({ level: 1 }), '2026-11', later, cfg)).toMatchObject({ change: null, events: [], ignored: true, next: open });
    expect(withoutSignal(open, '2026-06', later, cfg)).toMatchObject({ change: null, events: [], next: open });
  });

  it('a resolved alert is not reopened by the month it was resolved in, only by a later one', () => {
    const opened = raise(signal({ level: 2 }), '2026-10', now, cfg).next;
    const resolved = resolveByOfficial(opened, '张科长', now, '误报', null).next;
    expect(withSignal(resolved, signal({ level: 2 }), '2026-10', later, cfg)).toMatchObject({ change: null, events: [], ignored: true, next: resolved });
    expect(withSignal(resolved, signal({ level: 2 }), '2026-11', later, cfg)).toMatchObject({ change: 'reopened', next: { status: 'open', reopenCount: 1 } });
  });

  it('a higher level escalates and re-triggers an acknowledged alert at Ⅱ; a lower one is recorded quietly', () => {
    const opened = raise(signal({ level: 3 }), '2026-09', now, cfg).next;
    const acked = acknowledge(opened, '张科长', now, null).next;
    const up = withSignal(acked, signal({ level: 2 }), '2026-10', later, cfg);
    expect(up.change).toBe('escalated');
    expect(up.next).toMatchObject({ status: 'open', level: 2, peakLevel: 2, acknowledgedBy: null, firstNotifiedAt: null });
    const down = withSignal(up.next, signal({ level: 4 }), '2026-11', later, cfg);
    expect(down.change).toBe('updated');
    expect(down.next).toMatchObject({ level: 4, peakLevel: 2 });
    expect(down.events[0]?.action).toBe('deescalated');
  });

  it('resolves after the configured quiet months (months, not runs), and a new signal reopens the same alert', () => {
    const opened = raise(signal(), '2026-06', now, cfg).next;
    const stillOpen = run(opened, [null, null, null, null], ['2026-07', '2026-07', '2026-08', '2026-08']);
    expect(stillOpen).toEqual(opened);
    const resolved = withoutSignal(stillOpen, '2026-09', later, cfg);
    expect(resolved.next).toMatchObject({ status: 'resolved', resolvedBy: 'system' });
    expect(resolved.change).toBe('resolved');
    const back = withSignal(resolved.next, signal({ level: 2 }), '2026-10', later, cfg);
    expect(back.next).toMatchObject({ status: 'open', level: 2, reopenCount: 1, resolvedAt: null, disposition: null });
    expect(back.change).toBe('reopened');
    expect(back.events[0]).toMatchObject({ action: 'reopened', fromStatus: 'resolved', toStatus: 'open' });
  });

  it('quiet months no run saw count: a signal after them ends the alert where it would have ended, then reopens it', () => {
    const opened = raise(signal({ level: 2 }), '2026-06', now, cfg).next;
    // Within the quiet months: the same alert goes on.
    expect(withSignal(opened, signal({ level: 2 }), '2026-09', later, cfg)).toMatchObject({ change: null, next: { status: 'open', lastPeriod: '2026-09' } });
    const back = withSignal(opened, signal({ level: 2 }), '2026-10', later, cfg);
    expect(back.events.map((e) => [e.action, e.disposition ?? null])).toEqual([['resolved', '连续 3 个月无预警信号，系统自动解除'], ['reopened', null]]);
    expect(back).toMatchObject({ change: 'reopened', next: { status: 'open', reopenCount: 1, lastPeriod: '2026-10' } });
  });

  it('officials acknowledge and resolve with a disposition; wrong moves are refused with the reason', () => {
    const opened = raise(signal(), '2026-10', now, cfg).next;
    const acked = acknowledge(opened, '张科长', now, '已电话联系企业').next;
    expect(() => acknowledge(acked, '李四', now, null)).toThrow('already acknowledged by 张科长');
    expect(() => resolveByOfficial(acked, '张科长', now, '其他', null)).toThrow(AlertTransitionError);
    const done = resolveByOfficial(acked, '张科长', now, '已采取稳岗措施', null);
    expect(done.next).toMatchObject({ status: 'resolved', resolvedBy: '张科长', disposition: '已采取稳岗措施', comment: '已电话联系企业' });
    expect(() => resolveByOfficial(done.next, '李四', now, '误报', null)).toThrow('already resolved by 张科长');
    const pending = raise(signal({ modelOnly: true }), '2026-10', now, cfg).next;
    expect(() => acknowledge(pending, '张科长', now, null)).toThrow(/not open yet/);
  });
});
