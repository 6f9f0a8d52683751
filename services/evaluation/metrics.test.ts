import { describe, expect, it } from 'vitest';
import { evaluateMethods, precisionRecall, visibleEpisodes, withPrecursorOracle, type ReplayMonth, type TruthEvent } from './metrics.js';

const PERIODS = ['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06', '2026-07', '2026-08', '2026-09', '2026-10'];
const EMPLOYERS = ['A', 'B', 'C', 'D'];

function layoff(uscc: string, period: string, sudden: boolean): TruthEvent {
  return { type: 'layoff', uscc, period, end_period: period, statutory: true, sudden };
}

/** alerts: employer → months (indexes into PERIODS) with an alert; scores follow alerts. */
function replay(alerts: Record<string, number[]>): ReplayMonth[] {
  return PERIODS.map((period, t) => {
    const alert = new Uint8Array(EMPLOYERS.map((u) => (alerts[u]?.includes(t) ? 1 : 0)));
    return { period, uscc: EMPLOYERS, methods: { m: { alert, score: Float64Array.from(alert, (a) => a) } } };
  });
}

describe('evaluateMethods', () => {
  it('counts a warning 2 months ahead as caught with lead 2, a late one with lead 0, and a miss', () => {
    const events = [layoff('A', '2026-06', false), layoff('B', '2026-07', true), layoff('C', '2026-08', false)];
    // A warned from 2026-04 (index 3), B only in its layoff month (index 6), C never.
    const [r] = evaluateMethods(replay({ A: [3, 4, 5], B: [6] }), events, ['m']);
    expect(r).toMatchObject({ layoffs: 3, caught: 2, recall: 2 / 3, medianLeadMonths: 1, medianLeadPrecursor: 2, recallSudden: 1, recallPrecursor: 0.5 });
    // Onsets: A at 2026-04 (true), B at 2026-07 (true).
    expect(r).toMatchObject({ onsets: 2, trueOnsets: 2, precision: 1, falseAlertsPer1000: 0, transferAlerts: 0 });
  });

  it('an alert with no layoff ahead is false; on a transfer it is counted as such', () => {
    const events: TruthEvent[] = [{ type: 'transfer', uscc: 'D', period: '2026-05', end_period: '2026-05', statutory: false, sudden: null }];
    const [r] = evaluateMethods(replay({ C: [2], D: [4] }), events, ['m']);
    expect(r).toMatchObject({ onsets: 2, trueOnsets: 0, precision: 0, transferAlerts: 1, recall: null });
    // Judged months: 2026-02 … 2026-07 (the last 3 have no 3 months ahead), 4 employers each.
    expect(r?.falseAlertsPer1000).toBeCloseTo((2 / 24) * 1000, 6);
  });

  it('judges the first Ⅳ+ warning apart from Ⅲ+, recall ahead of the layoff, and alert months beside onsets', () => {
    const events = [layoff('A', '2026-06', false), layoff('C', '2026-07', false)];
    const months = replay({ A: [4, 5], C: [6], D: [2, 3] }).map((m, t) => {
      const said = m.methods['m'];
      if (!said) throw new Error('no method');
      // A watched from 2026-03 (index 2), C from 2026-05 (index 4).
      const warn = Uint8Array.from(said.alert, (a, i) => (a === 1 || (i === 0 && t >= 2) || (i === 2 && t >= 4) ? 1 : 0));
      return { ...m, workforce: [40, 3, 2000, 4], methods: { m: { ...said, warn } } };
    });
    const [r] = evaluateMethods(months, events, ['m']);
    // Ⅲ+: A one month ahead, C in its month; Ⅳ+: A 3 months, C 2 months ahead.
    expect(r).toMatchObject({ medianLeadPrecursor: 0.5, medianLeadWarnPrecursor: 2.5, recallAhead: 0.5 });
    // Alert months judged (to 2026-07): A 2 true, C 1 true, D 2 false.
    expect(r?.monthPrecision).toBeCloseTo(3 / 5, 6);
    // D's false onset is in the ≤5 band; the others were true.
    expect(r?.falseBySize['≤5']).toEqual({ falseOnsets: 1, employerMonths: 12, per1000: (1 / 12) * 1000 });
    expect(r?.falseBySize['1000+']).toMatchObject({ falseOnsets: 0, employerMonths: 6 });
  });

  it('judges recall on layoffs of at least the 规模 minimum only', () => {
    const small = { ...layoff('A', '2026-06', false), size: 4 };
    const big = { ...layoff('C', '2026-07', false), size: 40 };
    const [r] = evaluateMethods(replay({ C: [6] }), [small, big], ['m'], { minJobs: 10 });
    expect(r).toMatchObject({ layoffs: 1, caught: 1, recall: 1 });
    const [all] = evaluateMethods(replay({ C: [6] }), [small, big], ['m']);
    expect(all).toMatchObject({ layoffs: 2, caught: 1 });
  });

  it('a standing alert opens once: later months are not new onsets', () => {
    const [r] = evaluateMethods(replay({ A: [1, 2, 3, 4, 5, 6] }), [layoff('A', '2026-05', false)], ['m']);
    expect(r?.onsets).toBe(1);
    expect(r?.medianLeadMonths).toBe(3);
  });
});

describe('withPrecursorOracle', () => {
  it('alerts through every visible run-up and distress episode on top of the base method, and is judged like any method', () => {
    const events: TruthEvent[] = [
      // A: a layoff in 2026-07 whose signals showed from 2026-04; the base method only sees the layoff month.
      { ...layoff('A', '2026-07', false), precursor_start: '2026-04', precursor_visible: true },
      // B: a run-up nobody could see (no signal showed) stays as the base method had it.
      { ...layoff('B', '2026-07', false), precursor_start: '2026-05', precursor_visible: false },
      // C: distress from 2026-03 to 2026-04 that ended without a layoff: the oracle cannot tell, and alerts falsely.
      { type: 'distress', uscc: 'C', period: '2026-03', end_period: '2026-04', statutory: false, sudden: false, precursor_start: '2026-03', precursor_visible: true },
    ];
    const months = withPrecursorOracle(replay({ A: [6], B: [6] }), events, 'm', 'oracle');
    const alertsOf = (u: string): string[] => months.filter((m) => m.methods['oracle']?.alert[EMPLOYERS.indexOf(u)] === 1).map((m) => m.period);
    expect(alertsOf('A')).toEqual(['2026-04', '2026-05', '2026-06', '2026-07']);
    expect(alertsOf('B')).toEqual(['2026-07']);
    expect(alertsOf('C')).toEqual(['2026-03', '2026-04']);
    // The base method is left as it was.
    expect(months.filter((m) => m.methods['m']?.alert[0] === 1).map((m) => m.period)).toEqual(['2026-07']);
    const [base, oracle] = evaluateMethods(months, events, ['m', 'oracle']);
    expect(base).toMatchObject({ medianLeadMonths: 0, onsets: 2, trueOnsets: 2 });
    expect(oracle).toMatchObject({ caught: 2, onsets: 3, trueOnsets: 2, medianLeadPrecursor: 1.5 });
  });

  it('counts the run-ups and distress episodes with visible signals that overlap the replayed months', () => {
    const events: TruthEvent[] = [
      { ...layoff('A', '2026-07', false), precursor_start: '2026-04', precursor_visible: true },
      { ...layoff('B', '2026-07', false), precursor_start: '2026-05', precursor_visible: false },
      { ...layoff('E', '2026-01', true), precursor_start: null, precursor_visible: false },
      { type: 'distress', uscc: 'C', period: '2026-03', end_period: '2026-04', statutory: false, sudden: false, precursor_start: '2026-03', precursor_visible: true },
      { type: 'distress', uscc: 'D', period: '2025-06', end_period: '2025-08', statutory: false, sudden: false, precursor_start: '2025-06', precursor_visible: true },
    ];
    expect(visibleEpisodes(events, '2026-01', '2026-10')).toEqual({ runUps: 1, distress: 1 });
    // A's run-up ends in 2026-06, the month before its layoff.
    expect(visibleEpisodes(events, '2026-07', '2026-10')).toEqual({ runUps: 0, distress: 0 });
  });

  it('refuses a base method the replay does not have', () => {
    expect(() => withPrecursorOracle(replay({}), [], 'nope', 'oracle')).toThrow(/method "nope" missing/);
  });
});

describe('precisionRecall', () => {
  it('is 1 for a perfect ranking and the base rate for a constant score', () => {
    const perfect = [{ score: 0.9, label: 1 }, { score: 0.8, label: 1 }, { score: 0.1, label: 0 }, { score: 0.05, label: 0 }];
    expect(precisionRecall(perfect).auc).toBeCloseTo(1, 9);
    const flat = perfect.map((r) => ({ ...r, score: 0.5 }));
    expect(precisionRecall(flat).auc).toBeCloseTo(0.5, 9);
    expect(precisionRecall([{ score: 1, label: 0 }]).auc).toBeNull();
  });

  it('scores a worst ranking below a random one', () => {
    const worst = [{ score: 0.9, label: 0 }, { score: 0.8, label: 0 }, { score: 0.2, label: 1 }, { score: 0.1, label: 1 }];
    expect(precisionRecall(worst).auc).toBeCloseTo((0.5 * 1) / 3 + (0.5 * 2) / 4, 9);
  });
});
