import { describe, expect, it } from 'vitest';
import { defaultThresholds as t } from '../../../config/thresholds.schema.js';
import { meetsStatutoryLine, statutoryLine } from './statutory.line.js';

describe('meetsStatutoryLine', () => {
  it('answers as statutoryLine(...).fires does, across sizes, counts and noise bands', () => {
    let fired = 0;
    let checked = 0;
    for (const workforce of [0, 1, 3, 9, 10, 19, 50, 150, 199, 200, 201, 1000, 12_000, Number.NaN]) {
      for (const band of [0, 0.5, 2.5, 7, 19.99, 20, 31, Number.POSITIVE_INFINITY, Number.NaN]) {
        for (const count of [0, 1, 2, 2.999, 3, 5, 9.5, 10, 19, 19.9999999999, 20, 25, 40, 500]) {
          const full = statutoryLine(count, workforce, band, t);
          expect(meetsStatutoryLine(count, workforce, band, t), `count ${count}, workforce ${workforce}, band ${band}`).toBe(full.fires);
          checked++;
          if (full.fires) fired++;
        }
      }
    }
    // Both outcomes occur in the grid, so the agreement says something.
    expect(fired).toBeGreaterThan(100);
    expect(checked - fired).toBeGreaterThan(100);
  });

  it('never fires without staff on the books, whatever the count', () => {
    expect(meetsStatutoryLine(1000, 0, 0, t)).toBe(false);
    expect(statutoryLine(1000, 0, 0, t)).toMatchObject({ fires: false, branch: 'absolute' });
  });
});
