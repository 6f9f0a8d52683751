import { describe, expect, it } from 'vitest';
import { alertsSchema } from '../../config/notify.schema.js';
import { acknowledge, AlertTransitionError, raise, resolveByOfficial, withoutSignal, withSignal, type AlertState, type Signal } from './lifecycle.js';

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

describe('alert lifecycle', () => {
  it('a rule hit opens at once and is news; the same level next night is not news', () => {
    const first = raise(signal(), '2026-10', now, cfg);
    expect(first.next.status).toBe('open');
    expect(first.change).toBe('new');
    const again = withSignal(first.next, signal(), '2026-10', later, cfg);
    expect(again.change).toBeNull();
    expect(again.events).toEqual([]);
  });

  it('a model-only alert waits for a second hit within three runs, then opens', () => {
    const first = raise(signal({ modelOnly: true }), '2026-10', now, cfg);
    expect(first.next.status).toBe('pending');
    expect(first.change).toBeNull();
    const quiet = withoutSignal(first.next, '2026-10', later, cfg);
    expect(quiet.next.status).toBe('pending');
    const second = withSignal(quiet.next, signal({ modelOnly: true }), '2026-10', later, cfg);
    expect(second.next.status).toBe('open');
    expect(second.change).toBe('new');
    expect(second.events[0]?.action).toBe('confirmed');
  });

  it('a model-only alert not confirmed within the window lapses without a word', () => {
    let s = raise(signal({ modelOnly: true }), '2026-10', now, cfg).next;
    s = withoutSignal(s, '2026-10', later, cfg).next;
    s = withoutSignal(s, '2026-10', later, cfg).next;
    const step = withoutSignal(s, '2026-10', later, cfg);
    expect(step.next.status).toBe('resolved');
    expect(step.events[0]?.action).toBe('lapsed');
    expect(step.change).toBeNull();
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

  it('resolves after the configured quiet months, and a new signal reopens the same alert', () => {
    const opened = raise(signal(), '2026-06', now, cfg).next;
    const stillOpen = run(opened, [null, null], ['2026-07', '2026-08']);
    expect(stillOpen.status).toBe('open');
    const resolved = withoutSignal(stillOpen, '2026-09', later, cfg);
    expect(resolved.next).toMatchObject({ status: 'resolved', resolvedBy: 'system' });
    expect(resolved.change).toBe('resolved');
    const back = withSignal(resolved.next, signal({ level: 2 }), '2026-10', later, cfg);
    expect(back.next).toMatchObject({ status: 'open', level: 2, reopenCount: 1, resolvedAt: null, disposition: null });
    expect(back.change).toBe('reopened');
    expect(back.events[0]).toMatchObject({ action: 'reopened', fromStatus: 'resolved', toStatus: 'open' });
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
