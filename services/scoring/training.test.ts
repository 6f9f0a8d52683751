import { describe, expect, it } from 'vitest';
import { MIN_HISTORY_MONTHS, overrideFor, overridesByEmployer, trainingWindow } from './training.js';

describe('trainingWindow', () => {
  it('trains from 16 months of history: 3 of baseline, 10 example months, 3 of labels', () => {
    expect(MIN_HISTORY_MONTHS).toBe(16);
    expect(trainingWindow('2025-01', '2026-04')).toEqual({ from: '2025-04', to: '2026-01' });
  });

  it('refuses fewer months with the minimum stated', () => {
    const r = trainingWindow('2025-10', '2026-10');
    expect(r).toEqual({ refused: expect.stringContaining('at least 16 months') as unknown });
    expect('refused' in r && r.refused).toContain('the database has 13 (2025-10..2026-10)');
  });

  it('refuses a window outside the history, naming the months that can be used', () => {
    expect(trainingWindow('2023-11', '2026-10', '2023-12', '2026-07')).toEqual({
      refused: 'the training window 2023-12..2026-07 needs history the database lacks: with data 2023-11..2026-10, months 2024-02..2026-07 can be used',
    });
    expect(trainingWindow('2023-11', '2026-10', '2025-01', '2025-12')).toEqual({ from: '2025-01', to: '2025-12' });
  });
});

describe('overrideFor', () => {
  const list = [
    { uscc: 'A', from: '2026-05', to: '2026-06', layoff: true },
    { uscc: 'B', from: '2026-05', to: '2026-07', layoff: false },
    { uscc: 'B', from: '2026-08', to: '2026-08', layoff: true },
  ];
  const overrides = overridesByEmployer(list);

  it("decides the alert's own months and the 3 before them, whose horizon reaches into it", () => {
    expect(overrideFor(overrides, 'A', '2026-01')).toBe(null);
    expect(overrideFor(overrides, 'A', '2026-02')).toBe(true);
    expect(overrideFor(overrides, 'A', '2026-05')).toBe(true);
    expect(overrideFor(overrides, 'A', '2026-06')).toBe(true);
    expect(overrideFor(overrides, 'A', '2026-07')).toBe(null);
    expect(overrideFor(overrides, 'B', '2026-03')).toBe(false);
    expect(overrideFor(overrides, 'C', '2026-03')).toBe(null);
    expect(overrideFor(overridesByEmployer(undefined), 'A', '2026-03')).toBe(null);
  });

  it('a verified layoff wins over a false alarm whose months overlap', () => {
    expect(overrideFor(overrides, 'B', '2026-05')).toBe(true);
    expect(overrideFor(overrides, 'B', '2026-04')).toBe(false);
  });
});
