import { afterAll, describe, expect, it } from 'vitest';
import { formatMatrix, runMatrix, summaryLine, type MatrixResult } from '../bench/faults/matrix.js';
import { killEverything } from '../bench/faults/processes.js';

/**
 * The short fault matrix (`npm run faults -- --short`), through the same
 * module: a province of 2,000 employers, a clean night, then a worker
 * SIGKILLed mid-score, Redis restarted mid-flow with its AOF and without persistence,
 * PostgreSQL restarted mid-send and the same night started twice — each in
 * a PostgreSQL cluster, redis-server and worker processes of its own, each
 * night compared row for row and e-mail for e-mail with the clean one.
 * Every process it started is stopped by runMatrix itself, by afterAll, and
 * by the exit hooks bench/faults/processes.ts installs, whatever happens.
 */

let result: MatrixResult | undefined;

afterAll(() => {
  killEverything();
});

describe('the fault matrix (short)', () => {
  it('every faulted night ends identical to the clean one: nothing lost, nothing doubled', async () => {
    const lines: string[] = [];
    result = await runMatrix({ employers: 2000, short: true, say: (s) => void lines.push(s) });
    const table = `${formatMatrix(result)}\n${summaryLine(result)}`;
    expect(result.faults, table).toBe(5);
    expect({ identical: result.identical, lost: result.lost, doubled: result.doubled }, table).toEqual({ identical: result.faults, lost: 0, doubled: 0 });
  }, 300_000);
});
