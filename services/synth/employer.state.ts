import type { Population } from './employer.population.js';
import type { Rng } from './random.js';

/** What changes month to month for every employer, as columns. */
export class EmployerState {
  /** 参保人数 at the end of the last simulated month. */
  readonly insured: Int32Array;
  /** 岗位数 at the end of the last month (headcount feed). */
  readonly jobs: Int32Array;
  /** Size the employer drifts towards (its trend); a layoff or transfer lowers it for good. */
  readonly target: Float64Array;
  readonly arrears: Int16Array;
  /** Unemployment claims of this month's leavers that will be filed next month. */
  readonly claimCarry: Int32Array;
  /** Migrant workers gone home for this Spring Festival, some of whom come back. */
  readonly sfAway: Float32Array;
  /** Staff handed over by a restructuring (transfer targets, in their first month). */
  readonly transferIn: Int32Array;

  constructor(pop: Population, rng: Rng) {
    const n = pop.capacity;
    this.insured = new Int32Array(n);
    this.jobs = new Int32Array(n);
    this.target = new Float64Array(n);
    this.arrears = new Int16Array(n);
    this.claimCarry = new Int32Array(n);
    this.sfAway = new Float32Array(n);
    this.transferIn = new Int32Array(n);
    for (let e = 0; e < pop.count; e++) {
      const size = pop.baseSize[e] ?? 0;
      this.target[e] = size;
      if ((pop.firstMonth[e] ?? 0) > 0) continue;
      const insured = Math.max(1, Math.round(size * rng.range(0.96, 1.04)));
      this.insured[e] = insured;
      this.jobs[e] = Math.round(insured * (pop.jobsRatio[e] ?? 1));
    }
  }
}
