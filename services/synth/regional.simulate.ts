import { CITY_PROFILES } from './city.profile.js';
import type { Rng } from './random.js';

/**
 * 区域就业失业指标 for the 21 cities, built from what the employers did
 * this month plus the part of each city's labour market outside the
 * synthetic register (background). Registered unemployment is a stock fed
 * by new claims; the surveyed rate moves with it, the calendar and the
 * shock, and is not published for the plateau prefectures.
 */
export class RegionalModel {
  readonly claims = new Float64Array(CITY_PROFILES.length);
  readonly hires = new Float64Array(CITY_PROFILES.length);
  readonly insured = new Float64Array(CITY_PROFILES.length);
  /** Claims of former staff of employers that have closed, due next month. */
  readonly orphanNext = new Float64Array(CITY_PROFILES.length);
  private readonly orphanNow = new Float64Array(CITY_PROFILES.length);
  private readonly registered = new Float64Array(CITY_PROFILES.length);
  private readonly baseRegistered = new Float64Array(CITY_PROFILES.length);
  private readonly labour = new Float64Array(CITY_PROFILES.length);
  private readonly claimWeight = new Float64Array(CITY_PROFILES.length);
  private started = false;

  constructor(private readonly rng: Rng) {}

  beginMonth(): void {
    this.claims.fill(0);
    this.hires.fill(0);
    this.insured.fill(0);
    this.orphanNow.set(this.orphanNext);
    this.orphanNext.fill(0);
  }

  /** JSON Lines rows for the month; `shock(city)` is the downturn's intensity there. */
  rows(period: string, moy: number, shock: (city: number) => number): string[] {
    if (!this.started) this.start();
    const out: string[] = [];
    CITY_PROFILES.forEach((cp, c) => {
      const labour = this.labour[c] ?? 1;
      const intensity = shock(c);
      const claims = Math.round((this.claims[c] ?? 0) + (this.orphanNow[c] ?? 0)) + this.rng.poisson(labour * 0.0004 * (1 + 0.5 * intensity));
      const base = this.baseRegistered[c] ?? 0;
      const seasonal = moy === 6 || moy === 7 ? 1.15 : moy === 1 || moy === 2 ? 1.06 : 1;
      // Exits of 7% a month; the background inflow holds the stock near its base level in calm times.
      const inflow = base * 0.07 * 0.6 * seasonal * (1 + 0.03 * this.rng.normal()) + (this.claimWeight[c] ?? 1) * claims;
      const registered = Math.max(0, Math.round((this.registered[c] ?? 0) * 0.93 + inflow));
      this.registered[c] = registered;
      const jobs = Math.max(0, Math.round((this.hires[c] ?? 0) * 0.3 + this.rng.poisson(labour * 0.002)));
      let rate: number | null = null;
      if (cp.surveyed) {
        const calendar = moy === 1 ? 0.3 : moy === 2 ? 0.2 : moy === 6 ? 0.3 : moy === 7 ? 0.2 : moy === 11 ? -0.1 : 0;
        const pressure = base > 0 ? 0.8 * (registered / base - 1) : 0;
        const r = cp.unemploymentRate + calendar + pressure + 0.9 * intensity + 0.07 * this.rng.normal();
        rate = Math.round(Math.min(9.5, Math.max(2.5, r)) * 10) / 10;
      }
      out.push(JSON.stringify({ region_code: cp.code, period, registered_unemployed: registered, ui_new_claims: claims, urban_new_jobs: jobs, surveyed_unemployment_rate: rate }));
    });
    return out;
  }

  /** Sizes each city's labour market from the first month's insured staff. */
  private start(): void {
    this.started = true;
    CITY_PROFILES.forEach((_, c) => {
      const labour = Math.max(500, this.insured[c] ?? 0);
      this.labour[c] = labour;
      const base = Math.round(labour * this.rng.range(0.028, 0.04));
      this.baseRegistered[c] = base;
      this.registered[c] = base;
      // Calm-month claims (employers' and background) run near 0.16% of insured staff; they supply the rest of the inflow.
      this.claimWeight[c] = (base * 0.07 * 0.4) / Math.max(1, labour * 0.0016);
    });
  }
}
