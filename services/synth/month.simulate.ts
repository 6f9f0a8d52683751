import type { BatchWriter } from './batch.writer.js';
import { CITY_PROFILES } from './city.profile.js';
import type { DefectInjector } from './defects.inject.js';
import { FLAG_CHRONIC_ARREARS, FLAG_REPORTS_DISPATCHED, FLAG_REPORTS_FURLOUGH, FLAG_TRANSFER_TARGET } from './employer.population.js';
import type { Population } from './employer.population.js';
import type { EmployerState } from './employer.state.js';
import { shockIntensity, SIG_ARREARS, SIG_CLAIMS, SIG_FREEZE, SIG_FURLOUGH, SIG_PLANNED, SIG_WAGE } from './event.model.js';
import type { LossReason, PlannedEvent } from './event.model.js';
import type { EventPlan } from './events.plan.js';
import type { FilingCollector } from './filings.collect.js';
import { formatYuan } from './csv.format.js';
import { SEASON_RATES, SECTION_INDEX } from './industry.profile.js';
import type { Rng } from './random.js';
import { dispersedMean } from './realism.js';
import type { RegionalModel } from './regional.simulate.js';
import type { SeasonCalendar } from './season.calendar.js';

/**
 * One month of the province, employer by employer: normal churn with its
 * seasons, then whatever planned event is under way (precursor signals, a
 * layoff, a closure, a restructuring), the regional shock, and the rows
 * that result in the social-insurance and headcount feeds.
 */
export const SI_HEADER =
  'uscc,name,region_code,industry_code,period,insured,hired,separated,arrears_months,wage_base_total,ui_claims,separated_transfer,separated_natural,separated_migrant,separated_graduate';
export const HC_HEADER = 'uscc,period,jobs_begin,jobs_end,jobs_lost,loss_reason,planned_layoffs,furloughed,dispatched';
/** Legacy GBK exports carry 单位名称 as an extra column. */
export const HC_HEADER_NAMED = 'uscc,name,period,jobs_begin,jobs_end,jobs_lost,loss_reason,planned_layoffs,furloughed,dispatched';

const C = SECTION_INDEX.get('C') ?? 2;
/** Share of migrant staff who go home for the Spring Festival and leave their job. */
const SF_LEAVE = 0.12;
/** Share of them who come back to the same employer. */
const SF_RETURN = 0.88;
/** Share of ordinary leavers who were dismissed and claim unemployment insurance. */
const NORMAL_CLAIM = 0.03;
/** Pull towards the employer's trend size, per month. */
const REVERT = 0.06;

const NORMAL_LOSS: readonly LossReason[] = [
  'other', 'other', 'other', 'other', 'other', 'other', 'other', 'other', 'other', 'other', 'other', 'other', 'other', 'other', 'other',
  'orders', 'orders', 'difficulty', 'relocation', 'restructuring',
];

/** What events and the shock do to one employer in one month. */
class Effects {
  hireMult = 1;
  wageMult = 1;
  arrearsUp = false;
  /** Arrears paid back this month (intermittent arrears of distress under separability). */
  arrearsPaid = false;
  /** Share of hires that still happen under a hiring freeze; −1 = no freeze. */
  freeze = -1;
  furlough = 0;
  planned = 0;
  /** Extra involuntary separations (share of staff) whose leavers claim. */
  invol = 0;
  layoff = 0;
  closing = false;
  closeSep = 0;
  lastMonth = false;
  transfer = 0;
  transferReported = false;
  loss: LossReason | '' = '';
  claimRate = 0;
  /** Events whose precursor signals were applied this month, and which signals. */
  readonly sigEvents: PlannedEvent[] = [];
  readonly sigBits: number[] = [];

  reset(): void {
    this.sigEvents.length = 0;
    this.sigBits.length = 0;
    this.hireMult = 1;
    this.wageMult = 1;
    this.arrearsUp = false;
    this.arrearsPaid = false;
    this.freeze = -1;
    this.furlough = 0;
    this.planned = 0;
    this.invol = 0;
    this.layoff = 0;
    this.closing = false;
    this.closeSep = 0;
    this.lastMonth = false;
    this.transfer = 0;
    this.transferReported = false;
    this.loss = '';
    this.claimRate = 0;
  }
}

export interface MonthFiles {
  readonly si: BatchWriter;
  readonly siFile: string;
  readonly hc: BatchWriter;
  readonly hcNamed: boolean;
}

/** Over-dispersed ordinary quits (realism.ts): dispersion 0 keeps them Poisson and draws nothing from `rng`. */
export interface ChurnDispersion {
  readonly dispersion: number;
  readonly rng: Rng;
}

export class ProvinceSimulator {
  private readonly fx = new Effects();

  constructor(
    private readonly pop: Population,
    private readonly plan: EventPlan,
    private readonly state: EmployerState,
    private readonly cal: SeasonCalendar,
    private readonly rng: Rng,
    private readonly defects: DefectInjector,
    private readonly regional: RegionalModel,
    private readonly filings: FilingCollector,
    private readonly churn?: ChurnDispersion,
  ) {}

  async month(t: number, files: MonthFiles): Promise<void> {
    const { pop, state, plan, cal, rng, fx, defects, regional } = this;
    const { si, hc } = files;
    const period = cal.period[t] ?? '';
    const moy = cal.moy[t] ?? 0;
    const depart = cal.depart[t] ?? 0;
    const ret = cal.ret[t] ?? 0;
    const resetAway = cal.reset[t] === 1;
    const returnsEnd = cal.returnEnd[t] === 1;
    const shockI = shockIntensity(plan.shock, t);
    const shockCity = plan.shock.city;
    const july = moy === 6;
    const restateMonth = t === defects.restateMonth;
    regional.beginMonth();

    for (let e = 0; e < pop.count; e++) {
      const first = pop.firstMonth[e] ?? 0;
      if (t < first || t >= (pop.endMonth[e] ?? 0)) continue;
      const isNew = first > 0 && t === first;
      const n0 = isNew ? 0 : (state.insured[e] ?? 0);
      const city = pop.city[e] ?? 0;
      const flags = pop.flags[e] ?? 0;
      fx.reset();
      if ((plan.head[e] ?? -1) >= 0) this.applyEvents(e, t, n0);
      const shockHere = shockI > 0 && city === shockCity && pop.section[e] === C;
      if (shockHere) {
        fx.hireMult *= 1 - 0.35 * shockI;
        fx.invol += 0.003 * shockI;
        fx.wageMult *= 1 - 0.03 * shockI;
        fx.furlough += 0.04 * shockI;
      }

      let hired = 0;
      let sepTransfer = 0;
      let sepLayoff = 0;
      let sepNatural = 0;
      let sepInvol = 0;
      let sepSf = 0;
      let sepQuit = 0;
      let seasonalSep = 0;
      let expectedHires = 0;
      if (isNew) {
        if ((flags & FLAG_TRANSFER_TARGET) !== 0) {
          const block = state.transferIn[e] ?? 0;
          hired = block + rng.poisson(block * 0.01);
          state.target[e] = Math.max(1, block);
          pop.baseSize[e] = block;
          pop.monitored[e] = block >= 300 && rng.chance(0.5) ? 1 : 0;
        } else {
          hired = Math.max(1, Math.round((pop.baseSize[e] ?? 1) * rng.range(0.3, 0.8)));
        }
      } else if (fx.closing) {
        sepLayoff = Math.min(fx.closeSep, n0);
      } else {
        const churn = pop.churn[e] ?? 0.02;
        const natural = pop.natural[e] ?? 0.002;
        const rates = SEASON_RATES[pop.season[e] ?? 0];
        const amp = pop.seasonAmp[e] ?? 1;
        const target = (state.target[e] ?? 0) * (1 + (pop.trend[e] ?? 0));
        state.target[e] = target;
        const gap = target - n0;
        let hireRate = n0 * (churn + amp * (rates?.hire[moy] ?? 0)) + (gap > 0 ? gap * REVERT : 0);
        if (july) hireRate += n0 * (pop.graduate[e] ?? 0) * 0.08;
        expectedHires = hireRate * fx.hireMult;
        hired = rng.poisson(expectedHires);
        let away = state.sfAway[e] ?? 0;
        if (resetAway) away = 0;
        if (ret > 0 && away > 0) {
          expectedHires += away * SF_RETURN * ret;
          hired += rng.poisson(away * SF_RETURN * ret);
        }
        if (fx.freeze >= 0) hired = rng.binomial(hired, fx.freeze);

        let avail = n0;
        sepTransfer = Math.min(fx.transfer, avail);
        avail -= sepTransfer;
        sepLayoff = Math.min(fx.layoff, avail);
        avail -= sepLayoff;
        sepNatural = Math.min(rng.poisson(n0 * natural), avail);
        avail -= sepNatural;
        if (fx.invol > 0) {
          sepInvol = Math.min(rng.poisson(n0 * fx.invol), avail);
          avail -= sepInvol;
        }
        if (depart > 0) {
          sepSf = Math.min(rng.poisson(n0 * (pop.migrant[e] ?? 0) * SF_LEAVE * depart), avail);
          avail -= sepSf;
          away += sepSf;
        }
        seasonalSep = n0 * amp * (rates?.sep[moy] ?? 0);
        let quitMean = n0 * (churn - natural) + seasonalSep + (gap < 0 ? -gap * REVERT : 0);
        if (this.churn) quitMean = dispersedMean(quitMean, this.churn.dispersion, this.churn.rng);
        sepQuit = Math.min(rng.poisson(quitMean), avail);
        state.sfAway[e] = returnsEnd ? 0 : away;
        if (sepLayoff > 0 || sepTransfer > 0) state.target[e] = Math.max(1, target - sepLayoff - sepTransfer);
      }

      // Unemployment-insurance claims: a few dismissed among ordinary leavers, most of a layoff, spread over two months.
      let claims = state.claimCarry[e] ?? 0;
      state.claimCarry[e] = 0;
      if (sepQuit > 0) claims += rng.binomial(sepQuit, NORMAL_CLAIM);
      if (sepInvol > 0) claims += rng.binomial(sepInvol, 0.6);
      if (sepLayoff > 0) {
        const c = rng.binomial(sepLayoff, fx.claimRate);
        const now = rng.binomial(c, 0.6);
        claims += now;
        if (fx.lastMonth) regional.orphanNext[city] = (regional.orphanNext[city] ?? 0) + c - now;
        else state.claimCarry[e] = c - now;
      }

      const leavers = sepQuit + sepInvol + sepLayoff;
      const migrant = pop.migrant[e] ?? 0;
      const sepMigrant = (leavers > 0 ? rng.binomial(leavers, migrant) : 0) + sepSf;
      const sepGraduate = leavers > 0 ? rng.binomial(leavers, Math.min(0.9, (pop.graduate[e] ?? 0) * 1.6)) : 0;
      const separated = sepTransfer + sepLayoff + sepNatural + sepInvol + sepSf + sepQuit;
      const insured = n0 + hired - separated;
      state.insured[e] = insured;

      // Arrears: rising during distress (paid back some months of a recovering one under separability),
      // paid back after, and a few small firms that are always a little late.
      let arrears = state.arrears[e] ?? 0;
      if (fx.arrearsUp || (fx.closing && arrears > 0)) arrears = Math.min(arrears + 1, 60);
      else if (fx.arrearsPaid) arrears = 0;
      else if ((flags & FLAG_CHRONIC_ARREARS) !== 0) arrears = arrears === 0 ? (rng.chance(0.12) ? 1 : 0) : rng.chance(0.5) ? 0 : Math.min(arrears + 1, 3);
      else if (arrears > 0 && rng.chance(0.6)) arrears = 0;
      state.arrears[e] = arrears;

      // Contribution bases are reset every July.
      let wage = pop.wage[e] ?? 5000;
      if (july && !isNew) {
        wage = Math.min(15_000, wage * (1 + Math.min(0.1, Math.max(-0.01, 0.04 + 0.02 * rng.normal()))));
        pop.wage[e] = wage;
      }
      const wageTotal = insured > 0 ? insured * wage * fx.wageMult * (1 + 0.006 * rng.normal()) : 0;

      regional.claims[city] = (regional.claims[city] ?? 0) + claims;
      regional.hires[city] = (regional.hires[city] ?? 0) + hired;
      regional.insured[city] = (regional.insured[city] ?? 0) + insured;

      const cp = CITY_PROFILES[city];
      const uscc = pop.uscc[e] ?? '';
      if (!defects.missing(uscc)) {
        const reports = cp?.reports;
        const transferText = sepTransfer > 0 && fx.transferReported ? String(sepTransfer) : cp?.transferZero ? '0' : '';
        const tail = `,${reports?.uiClaims ? claims : ''},${transferText},${reports?.natural ? sepNatural : ''},${reports?.migrant ? sepMigrant : ''},${reports?.graduate ? sepGraduate : ''}`;
        const restated = restateMonth && defects.restate(t);
        if (restated) {
          const wrong = defects.perturb(insured, wageTotal);
          defects.writeRow(si, e, uscc, `${period},${wrong.insured},${hired},${separated},${arrears},${formatYuan(wrong.wageTotal)}${tail}`, true);
          defects.keepRestated({ employer: e, tail: `${period},${insured},${hired},${separated},${arrears},${formatYuan(wageTotal)}${tail}`, uscc, originalLine: si.lines });
        } else {
          defects.writeRow(si, e, uscc, `${period},${insured},${hired},${separated},${arrears},${formatYuan(wageTotal)}${tail}`, false);
        }
      }

      // A signal counts as emitted only where the data could show it.
      let visible = SIG_ARREARS | SIG_WAGE | SIG_PLANNED;
      if (expectedHires >= 0.5) visible |= SIG_FREEZE;
      if (sepInvol > 0) visible |= SIG_CLAIMS;

      if (pop.monitored[e] === 1) {
        const ratio = pop.jobsRatio[e] ?? 1;
        const begin = isNew ? 0 : (state.jobs[e] ?? 0);
        let lost = Math.min(begin, Math.round(separated * ratio));
        let gained = Math.round(hired * ratio);
        if (fx.closing && fx.lastMonth) {
          lost = begin;
          gained = 0;
        }
        const end = begin - lost + gained;
        state.jobs[e] = end;
        let reason: string = '';
        if (lost > 0) {
          if (fx.loss !== '') reason = fx.loss;
          else if (shockHere && rng.chance(0.5)) reason = 'orders';
          else if (sepSf + seasonalSep > 0.5 * (sepQuit + sepNatural) && rng.chance(0.7)) reason = 'seasonal';
          else reason = rng.pick(NORMAL_LOSS);
        }
        let planned = fx.planned;
        if (planned === 0 && rng.chance(0.003)) planned = Math.max(1, Math.round(end * rng.range(0.01, 0.04)));
        let furloughed = '';
        if ((flags & FLAG_REPORTS_FURLOUGH) !== 0) {
          const share = (pop.furloughBase[e] ?? 0) * rng.range(0.7, 1.3) + fx.furlough;
          const n = Math.min(end, Math.round(end * share));
          furloughed = String(n);
          if (fx.furlough > 0) this.notePeakFurlough(e, t, n);
          if (n > 0) visible |= SIG_FURLOUGH;
        }
        const dispatched = (flags & FLAG_REPORTS_DISPATCHED) !== 0 ? String(Math.max(0, Math.round(end * (pop.dispatchShare[e] ?? 0) * (1 + 0.05 * rng.normal())))) : '';
        const name = files.hcNamed ? `,${pop.nameField(e)}` : '';
        if (hc.row(`${uscc}${name},${period},${begin},${end},${lost},${reason},${planned},${furloughed},${dispatched}`)) await hc.flush();
      }
      for (let i = 0; i < fx.sigEvents.length; i++) {
        const ev = fx.sigEvents[i] as PlannedEvent;
        ev.emitted |= (fx.sigBits[i] ?? 0) & visible;
      }
      if (si.needsFlush) await si.flush();
    }
    defects.endSocialInsurance(si);
  }

  private notePeakFurlough(e: number, t: number, n: number): void {
    const { events, head } = this.plan;
    for (let i = head[e] ?? -1; i >= 0 && i < events.length; i++) {
      const ev = events[i] as PlannedEvent;
      if (ev.employer !== e) break;
      if (t >= ev.start && t <= ev.end && n > ev.peakFurloughed) ev.peakFurloughed = n;
    }
  }

  /** Applies every event of employer `e` that is under way in month `t`. */
  private applyEvents(e: number, t: number, n0: number): void {
    const { events, head } = this.plan;
    const fx = this.fx;
    for (let i = head[e] ?? -1; i >= 0 && i < events.length; i++) {
      const ev = events[i] as PlannedEvent;
      if (ev.employer !== e) break;
      if (t < ev.first || t > ev.last) continue;
      if (ev.filed && t === ev.filedMonth) this.file(ev, e, n0);
      if (!ev.sudden && t >= ev.start) {
        const sigEnd = ev.kind === 'distress' ? ev.end : ev.effective - 1;
        if (t <= sigEnd) this.signals(ev, t, n0, sigEnd);
      }
      switch (ev.kind) {
        case 'layoff':
          if (t === ev.effective) this.startLayoff(ev, n0);
          if (t >= ev.effective && t <= ev.end) {
            const remaining = ev.intended - ev.size;
            const part = Math.min(n0, t === ev.end ? remaining : Math.round(ev.intended * ev.firstShare));
            fx.layoff += part;
            ev.size += part;
            fx.claimRate = ev.claimRate;
            fx.loss = ev.lossReason;
            fx.hireMult *= 0.3;
          } else if (t > ev.end) {
            fx.hireMult *= 0.6;
          }
          break;
        case 'closure':
          if (t >= ev.effective) {
            if (t === ev.effective) ev.workforce = n0;
            const left = ev.end - t + 1;
            const part = left <= 1 ? n0 : Math.round(n0 / left);
            fx.closing = true;
            fx.lastMonth = t === ev.end;
            fx.closeSep = part;
            ev.size += Math.min(part, n0);
            fx.claimRate = ev.claimRate;
            fx.loss = ev.lossReason;
          }
          break;
        case 'transfer':
          if (t === ev.effective) {
            const block = n0 >= 12 ? Math.min(n0 - 1, Math.max(10, Math.round(ev.fraction * n0))) : n0 >= 2 ? 1 : 0;
            fx.transfer = block;
            fx.transferReported = ev.reportTransfer;
            fx.loss = ev.lossReason;
            ev.workforce = n0;
            ev.size = block;
            if (ev.target >= 0) this.state.transferIn[ev.target] = block;
          }
          break;
        case 'distress':
          if (t === ev.start) ev.workforce = n0;
          break;
        default:
          ev.kind satisfies never;
      }
    }
  }

  /** An Art. 41 report, received 30–60 days before the layoff. */
  private file(ev: PlannedEvent, e: number, n0: number): void {
    if (n0 < 2) {
      ev.filed = false;
      return;
    }
    ev.intended = Math.max(1, Math.min(n0 - 1, Math.round(ev.fraction * n0)));
    ev.plannedCount = Math.max(1, Math.min(n0, Math.round(ev.intended * this.rng.range(0.92, 1.08))));
    ev.staffAtFiling = n0;
    ev.filingInFeed = true;
    this.filings.add(ev, this.pop.uscc[e] ?? '', this.pop.cityCode(e));
  }

  private startLayoff(ev: PlannedEvent, n0: number): void {
    ev.workforce = n0;
    let size = ev.intended > 0 ? ev.intended : Math.round(ev.fraction * n0);
    if (ev.filed && !ev.filingInFeed) {
      // Filed before the window opened: the report exists but is not in the feed.
      ev.plannedCount = Math.max(1, size);
      ev.staffAtFiling = Math.max(n0, ev.plannedCount);
    }
    if (ev.smaller > 0) size = Math.round(size * ev.smaller);
    size = Math.min(size, n0 - 1);
    if (size < 1) size = n0 >= 2 ? 1 : 0;
    ev.intended = size;
    ev.size = 0;
  }

  private signals(ev: PlannedEvent, t: number, n0: number, sigEnd: number): void {
    const { fx, rng } = this;
    const bits = ev.signals;
    const on = ev.onset;
    const progress = (t - ev.start + 1) / (sigEnd - ev.start + 1);
    let emitted = 0;
    if ((bits & SIG_ARREARS) !== 0 && t >= (on[0] ?? 0)) {
      const k = t - ev.start;
      if (k < 32 && ((ev.arrearsPaid >>> k) & 1) !== 0) fx.arrearsPaid = true;
      else {
        fx.arrearsUp = true;
        emitted |= SIG_ARREARS;
      }
    }
    if ((bits & SIG_FREEZE) !== 0 && t >= (on[1] ?? 0)) {
      fx.freeze = fx.freeze < 0 ? ev.freezeResidual : Math.min(fx.freeze, ev.freezeResidual);
      emitted |= SIG_FREEZE;
    }
    if ((bits & SIG_WAGE) !== 0 && t >= (on[2] ?? 0)) {
      const from = on[2] ?? 0;
      fx.wageMult *= 1 - ev.wageDrop * ((t - from + 1) / (sigEnd - from + 1));
      emitted |= SIG_WAGE;
    }
    if ((bits & SIG_FURLOUGH) !== 0 && t >= (on[3] ?? 0)) {
      fx.furlough += ev.furloughShare * (0.5 + 0.5 * progress);
      emitted |= SIG_FURLOUGH;
    }
    if ((bits & SIG_PLANNED) !== 0 && t >= (on[4] ?? 0)) {
      // A distress episode's plan is dropped after a month or two; a real one stands until it happens.
      const live = ev.kind !== 'distress' || t <= (on[4] ?? 0) + 1;
      if (live) {
        const expected = ev.kind === 'closure' ? n0 : ev.kind === 'distress' ? n0 * rng.range(0.05, 0.2) : ev.intended > 0 ? ev.intended : ev.fraction * n0;
        fx.planned += Math.max(1, Math.round(expected * rng.range(0.7, 1.3)));
        emitted |= SIG_PLANNED;
      }
    }
    if ((bits & SIG_CLAIMS) !== 0 && t >= (on[5] ?? 0)) {
      fx.invol += ev.involRate;
      emitted |= SIG_CLAIMS;
    }
    if (emitted !== 0) {
      fx.sigEvents.push(ev);
      fx.sigBits.push(emitted);
    }
    if (fx.loss === '' && ev.kind !== 'distress' && (bits & SIG_CLAIMS) !== 0 && rng.chance(0.3)) fx.loss = 'difficulty';
  }
}
